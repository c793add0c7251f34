package io.gyre.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reading a journal its writer is appending to (gyre replay while an engine has it open): a read that reaches the end
 * while the writer commits the next document is at the end of what was written then, not at damage, and what it found
 * there unfinished was a document being written. An outside check saw {@code gyre replay --verify} call a live journal
 * corrupted in about half its runs.
 */
class LiveJournalReadTest
{
    @TempDir
    Path dir;

    @Test
    void shouldFindNoProblemInAJournalReadWhileItsWriterAppends() throws Exception
    {
        final JournalConfig config = JournalConfig.of(dir);
        final AtomicBoolean writing = new AtomicBoolean(true);
        final AtomicLong committed = new AtomicLong();
        try (Journal journal = Journal.openForAppend(config))
        {
            final JournalWriter writer = journal.writer();
            final Thread appender = new Thread(() ->
            {
                long time = 1;
                while (writing.get())
                {
                    for (int i = 0; i < 1 + (int)(time % 7); i++)
                    {
                        writer.claim(RecordDescriptor.HEADER_LENGTH);
                        writer.commit(RecordType.TICK, 0, time, RecordDescriptor.HEADER_LENGTH);
                    }
                    writer.flush();
                    committed.set(writer.nextEventId() - 1);
                    time++;
                    if (time % 16 == 0)
                    {
                        java.util.concurrent.locks.LockSupport.parkNanos(200_000);   // some 50 k documents a second
                    }
                }
            }, "appender");
            appender.start();
            final List<String> problems = new ArrayList<>();
            try (Journal reading = Journal.openReadOnly(config))
            {
                final long until = System.nanoTime() + 5_000_000_000L;
                for (int round = 0; round < 400 && problems.isEmpty() && System.nanoTime() < until; round++)
                {
                    try (JournalReader reader = reading.newReader())
                    {
                        final long before = committed.get();
                        final long[] records = {0};
                        reader.readToEnd(record -> records[0]++);
                        // the document being written may be seen unfinished (a torn tail, as gyre replay reports it), but a
                        // reader must never take the end of what was written for damage
                        reader.problems().stream().filter(p -> p.kind() == JournalProblem.Kind.CORRUPTION)
                            .forEach(p -> problems.add(p.kind() + ": " + p.reason()));
                        assertThat(records[0]).as("records read: at least those committed before the read began").isGreaterThanOrEqualTo(before);
                    }
                }
            }
            finally
            {
                writing.set(false);
                appender.join();
            }
            assertThat(problems).isEmpty();
        }
        try (Journal journal = Journal.openReadOnly(config); JournalReader reader = journal.newReader())
        {
            final long[] records = {0};
            reader.readToEnd(record -> records[0]++);
            assertThat(reader.problems()).isEmpty();
            assertThat(records[0]).isEqualTo(committed.get());
        }
    }
}
