package io.gyre.journal;

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
}
