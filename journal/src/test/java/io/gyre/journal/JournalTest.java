package io.gyre.journal;

import net.openhft.chronicle.core.time.SetTimeProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JournalTest
{
    @TempDir
    Path dir;

    @Test
    void shouldAllowOnlyOneAppenderPerJournal()
    {
        try (Journal first = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(first.writer()).isNotNull();
            assertThatThrownBy(() -> Journal.openForAppend(JournalConfig.of(dir)))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("already open for append");
        }
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(journal.lastEventIdAtOpen()).isEqualTo(-1);
        }
    }

    /**
     * A refused second open in the same process must leave the first one's lock alone: on Linux closing any channel
     * to the lock file releases the process's lock on it, and another process could then append to the journal too.
     */
    @Test
    void shouldKeepTheLockHeldWhenASecondOpenInTheSameProcessIsRefused() throws Exception
    {
        try (Journal first = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(otherProcessCanLock()).as("locked while open").isFalse();
            for (int i = 0; i < 2; i++)
            {
                assertThatThrownBy(() -> Journal.openForAppend(JournalConfig.of(dir)))
                    .isInstanceOf(JournalException.class)
                    .hasMessageContaining("already open for append in this process");
            }
            assertThat(otherProcessCanLock()).as("still locked after refused opens").isFalse();
            assertThat(first.writer()).isNotNull();
        }
        assertThat(otherProcessCanLock()).as("unlocked once closed").isTrue();
    }

    /**
     * @return whether another process could lock the journal's lock file now.
     */
    private boolean otherProcessCanLock() throws Exception
    {
        final Process probe = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"),
            LockProbeMain.class.getName(),
            dir.resolve(Journal.LOCK_FILE).toString())
            .inheritIO()
            .start();
        final int status = probe.waitFor();
        assertThat(status).as("probe exit status").isIn(0, 3);
        return status == 0;
    }

    @Test
    void shouldStopWritingIntoAJournalFileDeletedUnderIt() throws Exception
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            for (int i = 0; i < 2; i++)
            {
                writer.claim(RecordDescriptor.HEADER_LENGTH);
                writer.commit(RecordType.TICK, 0, i, RecordDescriptor.HEADER_LENGTH);
                writer.flush();
                Thread.sleep(JournalWriter.CHECK_INTERVAL_MILLIS + 50);
            }
            try (Stream<Path> files = Files.list(dir))
            {
                for (final Path file : files.filter(f -> f.toString().endsWith(".cq4")).toList())
                {
                    Files.delete(file);
                }
            }
            assertThatThrownBy(() ->
            {
                writer.claim(RecordDescriptor.HEADER_LENGTH);
                writer.commit(RecordType.TICK, 0, 2, RecordDescriptor.HEADER_LENGTH);
                writer.flush();
            })
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("was deleted while this engine was writing it");
            assertThatThrownBy(() -> writer.claim(RecordDescriptor.HEADER_LENGTH))
                .as("at once again, not only after the next periodic check")
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("was deleted");
        }
    }

    @Test
    void shouldRollFilesByTheConfiguredCycleAndReadAcrossThem() throws IOException
    {
        final SetTimeProvider clock = new SetTimeProvider("2026-11-23T10:00:00");
        final List<Long> documents = new ArrayList<>();
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir).withRollCycle("TEST_SECONDLY"), clock))
        {
            final JournalWriter writer = journal.writer();
            for (int cycle = 0; cycle < 3; cycle++)
            {
                for (int i = 0; i < 2; i++)
                {
                    writer.claim(RecordDescriptor.HEADER_LENGTH);
                    writer.commit(RecordType.TICK, 0, cycle, RecordDescriptor.HEADER_LENGTH);
                }
                documents.add(writer.documentIndex());
                writer.flush();
                clock.advanceMillis(1000);
            }
        }
        try (Stream<Path> files = Files.list(dir))
        {
            assertThat(files.filter(p -> p.toString().endsWith(".cq4"))).hasSize(3);
        }
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir).withRollCycle("TEST_SECONDLY"));
             JournalReader reader = journal.newReader())
        {
            final List<Long> ids = new ArrayList<>();
            reader.readToEnd(r -> ids.add(r.eventId()));
            assertThat(ids).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(reader.problems()).isEmpty();

            assertThat(reader.moveToIndex(documents.get(1))).isTrue();
            final List<Long> fromSecond = new ArrayList<>();
            reader.readToEnd(r -> fromSecond.add(r.eventId()));
            assertThat(fromSecond).containsExactly(3L, 4L, 5L, 6L);
            assertThat(journal.firstIndex()).isEqualTo(documents.get(0));
            assertThat(journal.lastIndex()).isEqualTo(documents.get(2));
        }
    }

    @Test
    void shouldRejectBadConfigurationNamingTheValue()
    {
        assertThatThrownBy(() -> JournalConfig.of(dir).withRollCycle("EVERY_TUESDAY"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rollCycle=EVERY_TUESDAY");
        assertThatThrownBy(() -> JournalConfig.of(dir).withMaxDocumentBytes(10))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxDocumentBytes=10");
        assertThatThrownBy(() -> Journal.openReadOnly(JournalConfig.of(dir.resolve("absent"))))
            .isInstanceOf(JournalException.class).hasMessageContaining("no journal at");
        assertThatThrownBy(() -> Journal.openReadOnly(JournalConfig.of(dir)))
            .isInstanceOf(JournalException.class).hasMessageContaining("holds no Chronicle Queue files");
    }

    @Test
    void shouldRefuseRecordsThatCouldNeverFitADocument()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            assertThatThrownBy(() -> writer.claim(RecordDescriptor.MAX_FRAME_LENGTH + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxFrameLength=");
            writer.claim(64);
            assertThatThrownBy(() -> writer.commit(RecordType.TICK, 0, 0, 65))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frameLength=65");
        }
    }

    @Test
    void shouldRollBackAnOpenDocumentAndReuseItsEventIds()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, 0, RecordDescriptor.HEADER_LENGTH);
            writer.flush();
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, 0, RecordDescriptor.HEADER_LENGTH);
            writer.rollback();
            assertThat(writer.nextEventId()).isEqualTo(2);
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, 0, RecordDescriptor.HEADER_LENGTH);
            writer.flush();
            try (JournalReader reader = journal.newReader())
            {
                final List<Long> ids = new ArrayList<>();
                reader.readToEnd(r -> ids.add(r.eventId()));
                assertThat(ids).containsExactly(1L, 2L);
                assertThat(reader.problems()).isEmpty();
            }
        }
    }
}
