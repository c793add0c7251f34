package io.gyre.journal;

import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Damage in the middle of a journal file that ends a read early (a zeroed range, a document header whose
 * length was flipped) is corruption, reported, never a quiet end of the journal with everything after it
 * lost; and reading never runs past the file (outside check: a flipped length byte crashed the JVM).
 */
class DamagedHeaderTest
{
    private static final int DOCUMENTS = 2_000;
    private static final int RECORDS_PER_DOCUMENT = 4;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"zeroed", "long header", "zeroed, checked ahead", "long header, checked ahead"})
    void shouldReportDamageThatEndsAReadEarlyAsCorruption(final String damage) throws Exception
    {
        final long headerAt = writeDocumentsAndFindHeaderOf(DOCUMENTS / 2);
        try (RandomAccessFile file = new RandomAccessFile(queueFile().toFile(), "rw"))
        {
            if (damage.startsWith("zeroed"))
            {
                file.seek(headerAt);
                file.write(new byte[4096]);
            }
            else
            {
                file.seek(headerAt + 3);
                file.write(0x0F);   // the length's high byte: about 250 MB
            }
        }
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            if (damage.endsWith("checked ahead"))
            {
                reader.checkChecksumsAhead();
            }
            final long[] records = {0};
            reader.readToEnd(r -> records[0]++);
            assertThat(records[0]).isLessThanOrEqualTo((long)DOCUMENTS / 2 * RECORDS_PER_DOCUMENT);
            assertThat(reader.corrupted()).as(reader.problems().toString()).isTrue();
            assertThat(reader.problems()).anySatisfy(p ->
            {
                assertThat(p.kind()).isEqualTo(JournalProblem.Kind.CORRUPTION);
                assertThat(p.reason()).contains("cannot be read");
            });
            assertThat(reader.tornTail()).isNull();
        }
    }

    @org.junit.jupiter.api.Test
    void shouldOpenForAppendWithoutReadingPastTheFileWhenTheLastDocumentsLengthIsDamaged() throws Exception
    {
        final long headerAt = writeDocumentsAndFindHeaderOf(DOCUMENTS - 1);
        try (RandomAccessFile file = new RandomAccessFile(queueFile().toFile(), "rw"))
        {
            file.seek(headerAt + 3);
            file.write(0x0F);
        }
        // opening looks at the last documents for a torn tail: it must not run past the file on the damaged one
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            assertThat(journal.lastEventIdAtOpen()).isEqualTo((long)(DOCUMENTS - 1) * RECORDS_PER_DOCUMENT);
            reader.readToEnd(r -> { });
            assertThat(reader.corrupted()).as(reader.problems().toString()).isTrue();
        }
    }

    @org.junit.jupiter.api.Test
    void shouldNeverLoseRecordsWrittenAfterALastDocumentMarkedUnfinishedQuietly() throws Exception
    {
        final long headerAt = writeDocumentsAndFindHeaderOf(DOCUMENTS - 1);
        try (RandomAccessFile file = new RandomAccessFile(queueFile().toFile(), "rw"))
        {
            file.seek(headerAt + 3);
            final int high = file.read();
            file.seek(headerAt + 3);
            file.write(high | 0x80);   // the "not complete" bit on a complete document
        }
        long lastEventId;
        final Journal opened;
        try
        {
            opened = Journal.openForAppend(JournalConfig.of(dir));
        }
        catch (final JournalException ex)
        {
            // refusing to start is right: nothing is acknowledged into a part of the journal no reader reaches
            assertThat(ex).hasMessageContaining("torn tail could not be repaired");
            return;
        }
        try (Journal journal = opened)
        {
            lastEventId = journal.lastEventIdAtOpen();
            final JournalWriter writer = journal.writer();
            for (int i = 0; i < 10; i++)
            {
                writer.claim(RecordDescriptor.HEADER_LENGTH);
                lastEventId = writer.commit(RecordType.TICK, 0, i, RecordDescriptor.HEADER_LENGTH);
                writer.flush();
            }
        }
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final long[] last = {-1};
            reader.readToEnd(r -> last[0] = r.eventId());
            if (last[0] != lastEventId)
            {
                assertThat(reader.corrupted()).as("records %d to %d unread, and nothing said: %s", last[0] + 1, lastEventId,
                    reader.problems()).isTrue();
            }
        }
    }

    /**
     * The journal's last pages lost (zeroed, as a power loss leaves pages never written back, or cut off, as a
     * truncated copy is), across several committed documents: more than the one unfinished document a crash
     * leaves. Readers report corruption, and opening for append refuses without changing a byte: appending would
     * put new records after the damage, where no reader reaches them (outside check: the engine opened,
     * acknowledged work, and the next open refused the journal).
     */
    @ParameterizedTest
    @ValueSource(strings = {"last three documents zeroed", "last document zeroed, header included", "cut off in the third-last document"})
    void shouldRefuseToAppendAfterLostCommittedDocuments(final String damage) throws Exception
    {
        final long thirdLast = writeDocumentsAndFindHeaderOf(DOCUMENTS - 3);
        final long last = writeDocumentsAndFindHeaderOf(DOCUMENTS - 1);
        final Path file = queueFile();
        final long end = dataEnd(file);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            switch (damage)
            {
                case "last three documents zeroed" ->
                {
                    raf.seek(thirdLast);
                    raf.write(new byte[(int)(end - thirdLast)]);
                }
                case "last document zeroed, header included" ->
                {
                    raf.seek(last);
                    raf.write(new byte[(int)(end - last)]);
                }
                default -> raf.setLength(thirdLast + 10);
            }
        }
        final byte[] before = Files.readAllBytes(file);

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final long[] records = {0};
            reader.readToEnd(r -> records[0]++);
            assertThat(records[0]).isLessThan((long)DOCUMENTS * RECORDS_PER_DOCUMENT);
            assertThat(reader.corrupted()).as(reader.problems().toString()).isTrue();
            assertThat(reader.problems()).anySatisfy(p ->
            {
                assertThat(p.kind()).isEqualTo(JournalProblem.Kind.CORRUPTION);
                assertThat(p.reason()).contains("cannot be read");
            });
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Journal.openForAppend(JournalConfig.of(dir)).close())
            .isInstanceOf(JournalException.class)
            .hasMessageContaining("cannot be appended to")
            .hasMessageContaining("Nothing was changed");
        assertThat(Files.readAllBytes(file)).as("the journal file, after the refused open").isEqualTo(before);
    }

    /**
     * A file cut off inside its last committed document (a copy taken while it was being written) lost only that
     * document's end: a torn tail, as bad bytes there are, for a reader as for the engine, which discards it (it
     * reported corruption to a reader, while the engine repaired it).
     */
    @org.junit.jupiter.api.Test
    void shouldTreatAFileCutInsideItsLastDocumentAsATornTail() throws Exception
    {
        final long last = writeDocumentsAndFindHeaderOf(DOCUMENTS - 1);
        try (RandomAccessFile raf = new RandomAccessFile(queueFile().toFile(), "rw"))
        {
            raf.setLength(last + 4 + 10);
        }
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final long[] records = {0};
            reader.readToEnd(r -> records[0]++);
            assertThat(records[0]).isEqualTo((long)(DOCUMENTS - 1) * RECORDS_PER_DOCUMENT);
            assertThat(reader.corrupted()).as(reader.problems().toString()).isFalse();
            assertThat(reader.tornTail()).isNotNull();
            assertThat(reader.tornTail().kind()).isEqualTo(JournalProblem.Kind.TORN_TAIL);
            assertThat(reader.tornTail().reason()).contains("runs past the end");
        }
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(journal.repairedTail()).hasSize(1);
            assertThat(journal.lastEventIdAtOpen()).isEqualTo((long)(DOCUMENTS - 1) * RECORDS_PER_DOCUMENT);
        }
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(r -> { });
            assertThat(reader.corrupted()).as(reader.problems().toString()).isFalse();
        }
    }

    /** @return the position after the file's last non-zero byte. */
    private static long dataEnd(final Path file) throws Exception
    {
        final byte[] bytes = Files.readAllBytes(file);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0)
        {
            end--;
        }
        return end;
    }

    private Path queueFile() throws Exception
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(f -> f.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    /** @return the file position of that document's 4-byte header. */
    private long writeDocumentsAndFindHeaderOf(final int target)
    {
        try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(dir.toFile()).build())
        {
            Records.appendTickDocuments(queue, DOCUMENTS, RECORDS_PER_DOCUMENT, -1);
            final List<Long> positions = new ArrayList<>();
            try (ExcerptTailer tailer = queue.createTailer())
            {
                while (true)
                {
                    try (DocumentContext dc = tailer.readingDocument())
                    {
                        if (!dc.isPresent())
                        {
                            break;
                        }
                        positions.add(dc.wire().bytes().readPosition() - 4);
                    }
                }
            }
            return positions.get(target);
        }
    }
}
