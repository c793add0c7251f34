package io.gyre.journal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.file.Path;

/**
 * A writer that dies mid-document: it appends {@code goodBatches} batches of ticks through the journal,
 * then opens one more document, copies {@code tornRecords} whole records and half of another into it, and
 * halts the JVM without closing anything (what SIGKILL leaves behind).
 */
public final class TornWriterMain
{
    public static void main(final String[] args)
    {
        final Path directory = Path.of(args[0]);
        final int goodBatches = Integer.parseInt(args[1]);
        final int tornRecords = Integer.parseInt(args[2]);
        final Journal journal = Journal.openForAppend(JournalConfig.of(directory));
        final JournalWriter writer = journal.writer();
        long timestamp = 1_000_000_000L;
        for (int batch = 0; batch < goodBatches; batch++)
        {
            for (int i = 0; i < 3; i++)
            {
                writer.claim(RecordDescriptor.HEADER_LENGTH);
                writer.commit(RecordType.TICK, 0, timestamp++, RecordDescriptor.HEADER_LENGTH);
            }
            writer.flush();
        }
        final long nextEventId = writer.nextEventId();
        journal.close();

        final SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(directory.toFile()).build();
        final ExcerptAppender appender = queue.createAppender();
        final DocumentContext dc = appender.writingDocument();
        final byte[] record = Records.tick(nextEventId, timestamp);
        for (int i = 0; i < tornRecords; i++)
        {
            dc.wire().bytes().write(Records.tick(nextEventId + i, timestamp + i));
        }
        dc.wire().bytes().write(record, 0, record.length / 2);
        System.out.println("halting with a document open");
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }
}
