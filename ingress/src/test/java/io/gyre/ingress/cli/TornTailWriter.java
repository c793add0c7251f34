package io.gyre.ingress.cli;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.file.Path;

/**
 * Run in a child JVM: dies the way a crashed engine does, in the middle of writing a document. It copies
 * the bytes of the journal's last record, starts a new document, writes that record whole and half of it
 * again, and halts the JVM with the document still open (what SIGKILL leaves behind).
 */
final class TornTailWriter
{
    /** Printed just before halting, so the test knows the child got that far. */
    static final String HALTING = "halting with a document open";

    private TornTailWriter()
    {
    }

    public static void main(final String[] args)
    {
        final Path directory = Path.of(args[0]);
        final byte[][] last = new byte[1][];
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(directory)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                last[0] = new byte[record.frameLength()];
                record.buffer().getBytes(record.offset(), last[0]);
            });
        }
        final SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(directory.toFile())
            .rollCycle(JournalConfig.resolveRollCycle(JournalConfig.DEFAULT_ROLL_CYCLE))
            .build();
        final ExcerptAppender appender = queue.createAppender();
        final DocumentContext document = appender.writingDocument();
        document.wire().bytes().write(last[0]);
        document.wire().bytes().write(last[0], 0, last[0].length / 2);
        System.out.println(HALTING);
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }
}
