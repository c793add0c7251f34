package io.gyre.journal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Builds raw record frames for tests that write documents behind the writer's back (corruption, gaps).
 */
final class Records
{
    private Records()
    {
    }

    /**
     * @return a valid TICK record frame with the given event id.
     */
    static byte[] tick(final long eventId, final long timestamp)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(RecordDescriptor.HEADER_LENGTH));
        RecordDescriptor.writeHeader(buffer, 0, RecordType.TICK, 0, eventId, timestamp);
        buffer.putInt(RecordDescriptor.LENGTH_OFFSET, RecordDescriptor.HEADER_LENGTH, RecordDescriptor.BYTE_ORDER);
        buffer.putInt(RecordDescriptor.CHECKSUM_OFFSET,
            RecordDescriptor.checksum(buffer.addressOffset(), RecordDescriptor.HEADER_LENGTH), RecordDescriptor.BYTE_ORDER);
        final byte[] bytes = new byte[RecordDescriptor.HEADER_LENGTH];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    /**
     * Append documents of TICK records with consecutive event ids from 1, straight through Chronicle; in the
     * document numbered {@code damaged} (from 0; -1 for none) the second record has a flipped timestamp bit, so
     * its checksum fails.
     */
    static void appendTickDocuments(final SingleChronicleQueue queue, final int documents, final int recordsPerDocument, final int damaged)
    {
        try (ExcerptAppender appender = queue.createAppender())
        {
            long eventId = 1;
            for (int d = 0; d < documents; d++)
            {
                try (DocumentContext dc = appender.writingDocument())
                {
                    for (int r = 0; r < recordsPerDocument; r++)
                    {
                        final byte[] record = tick(eventId++, 1_000 + d);
                        if (d == damaged && r == 1)
                        {
                            record[RecordDescriptor.TIMESTAMP_OFFSET] ^= 0x40;
                        }
                        dc.wire().bytes().write(record);
                    }
                }
            }
        }
    }
}
