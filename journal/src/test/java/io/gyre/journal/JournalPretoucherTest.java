package io.gyre.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The pretoucher reads ahead of the writer and nothing else: the journal reads back exactly what was
 * written, its thread goes away with the journal, and with pretouching off no page is touched.
 */
class JournalPretoucherTest
{
    @TempDir
    Path dir;

    @Test
    void shouldTouchPagesAheadOfTheWriterWithoutChangingWhatIsJournaled() throws java.io.IOException
    {
        final String type = java.nio.file.Files.getFileStore(dir).type();
        org.junit.jupiter.api.Assumptions.assumeFalse("tmpfs".equals(type) || "ramfs".equals(type),
            "the temporary directory is on " + type + ", where the journal does not pretouch (reading a page there allocates it)");
        final int records = 50_000;
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir).withPretouchAheadBytes(8L << 20)))
        {
            appendTicks(journal.writer(), records);
            await().atMost(Duration.ofSeconds(10)).until(() -> journal.pagesPretouched() > 0);
            appendTicks(journal.writer(), records);
        }
        assertThat(pretouchThreads()).isEmpty();

        final List<Long> eventIds = new ArrayList<>();
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir));
             JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record -> eventIds.add(record.eventId()));
            assertThat(reader.problems()).isEmpty();
        }
        assertThat(eventIds).hasSize(2 * records);
        for (int i = 0; i < eventIds.size(); i++)
        {
            assertThat(eventIds.get(i)).isEqualTo(i + 1L);
        }
    }

    @Test
    void shouldTopUpItsLeadInStepsRatherThanAfterEveryFlush() throws java.io.IOException
    {
        final String type = java.nio.file.Files.getFileStore(dir).type();
        org.junit.jupiter.api.Assumptions.assumeFalse("tmpfs".equals(type) || "ramfs".equals(type),
            "the temporary directory is on " + type + ", where the journal does not pretouch");
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir).withPretouchAheadBytes(8L << 20)))
        {
            final JournalWriter writer = journal.writer();
            appendTicks(writer, 100);
            await().atMost(Duration.ofSeconds(10)).until(() -> journal.pagesPretouched() >= (6L << 20) / 4096);
            final long windows = journal.windowsPretouched();
            // 400 flushes of ~3 KiB each, slower than the pretoucher looks: about 1.3 MiB in all, less than the
            // 2 MiB step of an 8 MiB lead, so the lead needs no topping up
            for (int i = 0; i < 400; i++)
            {
                appendTicks(writer, 100);
                java.util.concurrent.locks.LockSupport.parkNanos(1_500_000);
            }
            assertThat(journal.windowsPretouched() - windows).isLessThanOrEqualTo(1);
        }
    }

    @Test
    void shouldTouchNothingWhenOff()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir).withPretouchAheadBytes(0)))
        {
            appendTicks(journal.writer(), 10_000);
            assertThat(journal.pagesPretouched()).isZero();
            assertThat(pretouchThreads()).isEmpty();
        }
    }

    /** The TICKs' timestamps, which never decrease in a journal. */
    private static long clock;

    private static void appendTicks(final JournalWriter writer, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, ++clock, RecordDescriptor.HEADER_LENGTH);
            if (i % 100 == 99)
            {
                writer.flush();
            }
        }
        writer.flush();
    }

    private static List<Thread> pretouchThreads()
    {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().equals("gyre-journal-pretouch") && t.isAlive())
            .toList();
    }
}
