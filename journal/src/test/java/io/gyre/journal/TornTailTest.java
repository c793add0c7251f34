package io.gyre.journal;

import io.gyre.journal.testing.ChildJvm;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A crash leaves the journal's last document unfinished (or, after power loss, finished with bad bytes at
 * its end). Readers must detect it, skip it and report it, never take it for data; opening for append must
 * discard it so that it can never resurface as data or be mistaken for corruption.
 */
class TornTailTest
{
    @TempDir
    Path dir;

    @Test
    void shouldDetectSkipAndReportADocumentAWriterDiedWriting() throws Exception
    {
        crashMidDocument(4, 5);

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final List<Long> ids = new ArrayList<>();
            reader.readToEnd(r -> ids.add(r.eventId()));
            assertThat(ids).hasSize(12).startsWith(1L).endsWith(12L);
            assertThat(reader.corrupted()).isFalse();
            final JournalProblem torn = reader.tornTail();
            assertThat(torn).isNotNull();
            assertThat(torn.kind()).isEqualTo(JournalProblem.Kind.TORN_TAIL);
            assertThat(torn.documentIndex()).isEqualTo(-1);
            // five whole tick records and half of a sixth, behind the document's header
            assertThat(torn.bytes()).isBetween(4L + 5 * RecordDescriptor.HEADER_LENGTH, 4L + 6 * RecordDescriptor.HEADER_LENGTH);
            assertThat(reader.problems()).containsExactly(torn);
        }
    }

    @Test
    void shouldDiscardAnUnfinishedDocumentWhenOpenedForAppendSoNoRemnantIsEverRead() throws Exception
    {
        crashMidDocument(2, 40);

        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(journal.lastEventIdAtOpen()).isEqualTo(6);
            assertThat(journal.repairedTail()).singleElement()
                .satisfies(p -> assertThat(p.bytes()).isGreaterThan(40L * RecordDescriptor.HEADER_LENGTH));
            // a record much smaller than the torn bytes: the recovery record's padding must cover the rest
            final JournalWriter writer = journal.writer();
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            assertThat(writer.commit(RecordType.TICK, 0, journal.lastTimestampAtOpen(), RecordDescriptor.HEADER_LENGTH)).isEqualTo(8);
            writer.flush();
        }

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final List<String> records = new ArrayList<>();
            reader.readToEnd(r -> records.add(r.eventId() + ":" + r.type()));
            assertThat(records).containsExactly(
                "1:TICK", "2:TICK", "3:TICK", "4:TICK", "5:TICK", "6:TICK", "7:JOURNAL_RECOVERED", "8:TICK");
            assertThat(reader.corrupted()).isFalse();
            assertThat(reader.tornTail()).isNull();
            assertThat(reader.problems()).singleElement()
                .satisfies(p -> assertThat(p.kind()).isEqualTo(JournalProblem.Kind.RECOVERED_TORN_TAIL));
        }

        // and opening again finds nothing left to repair
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(journal.repairedTail()).isEmpty();
            assertThat(journal.lastEventIdAtOpen()).isEqualTo(8);
        }
    }

    @Test
    void shouldTreatBadBytesAtTheEndOfTheLastDocumentAsATornTail()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            appendTicks(journal, 3);
        }
        // a complete document whose second record never reached the disk (zeros where it should be)
        appendRawDocument(Records.tick(4, 10), new byte[RecordDescriptor.HEADER_LENGTH]);

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final List<Long> ids = new ArrayList<>();
            reader.readToEnd(r -> ids.add(r.eventId()));
            assertThat(ids).containsExactly(1L, 2L, 3L, 4L);
            assertThat(reader.corrupted()).isFalse();
            assertThat(reader.tornTail()).isNotNull()
                .satisfies(p -> assertThat(p.offsetInDocument()).isEqualTo(RecordDescriptor.HEADER_LENGTH))
                .satisfies(p -> assertThat(p.documentIndex()).isNotNegative());
        }

        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            assertThat(journal.repairedTail()).hasSize(1);
            appendTicks(journal, 1);
        }

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final List<String> records = new ArrayList<>();
            reader.readToEnd(r -> records.add(r.eventId() + ":" + r.type()));
            assertThat(records).containsExactly("1:TICK", "2:TICK", "3:TICK", "4:TICK", "5:JOURNAL_RECOVERED", "6:TICK");
            assertThat(reader.corrupted()).isFalse();
            assertThat(reader.problems()).singleElement()
                .satisfies(p -> assertThat(p.kind()).isEqualTo(JournalProblem.Kind.RECOVERED_TORN_TAIL));
        }
    }

    @Test
    void shouldReportCorruptionBeforeTheTailAndKeepReadingAfterIt()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            appendTicks(journal, 2);
        }
        final byte[] flipped = Records.tick(3, 10);
        flipped[RecordDescriptor.TIMESTAMP_OFFSET] ^= 0x40;
        appendRawDocument(flipped);
        appendRawDocument(Records.tick(4, 11));

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final List<Long> ids = new ArrayList<>();
            reader.readToEnd(r -> ids.add(r.eventId()));
            assertThat(ids).containsExactly(1L, 2L, 4L);
            assertThat(reader.corrupted()).isTrue();
            assertThat(reader.tornTail()).isNull();
            assertThat(reader.problems()).extracting(JournalProblem::kind)
                .containsExactly(JournalProblem.Kind.CORRUPTION, JournalProblem.Kind.CORRUPTION);
            assertThat(reader.problems().get(0).reason()).contains("checksum mismatch");
            assertThat(reader.problems().get(1).reason()).contains("event id 4 where 3 was expected", "1 records missing");
        }
    }

    @Test
    void shouldReportAGapInEventIdsAsCorruption()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            appendTicks(journal, 2);
        }
        appendRawDocument(Records.tick(7, 10));

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(r -> { });
            assertThat(reader.recordsRead()).isEqualTo(3);
            assertThat(reader.problems()).singleElement().satisfies(p ->
            {
                assertThat(p.kind()).isEqualTo(JournalProblem.Kind.CORRUPTION);
                assertThat(p.reason()).contains("event id 7 where 3 was expected");
            });
        }
    }

    @Test
    void shouldReportUnknownTypesAndVersionsAsCorruption()
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            appendTicks(journal, 1);
        }
        appendRawDocument(reChecksum(withShort(Records.tick(2, 10), RecordDescriptor.TYPE_OFFSET, 999)));
        appendRawDocument(reChecksum(withByte(Records.tick(2, 10), RecordDescriptor.VERSION_OFFSET, 9)));
        appendRawDocument(Records.tick(2, 11));

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(r -> { });
            assertThat(reader.problems()).extracting(JournalProblem::reason)
                .anySatisfy(reason -> assertThat(reason).startsWith("unknown record type 999"))
                .anySatisfy(reason -> assertThat(reason).contains("TICK version 9 is not supported"));
        }
    }

    private void crashMidDocument(final int goodBatches, final int tornRecords) throws Exception
    {
        final Process child = ChildJvm.start(TornWriterMain.class, dir.resolveSibling(dir.getFileName() + "-child.log"), List.of(),
            dir.toString(), Integer.toString(goodBatches), Integer.toString(tornRecords));
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child finished").isTrue();
        assertThat(Files.readString(dir.resolveSibling(dir.getFileName() + "-child.log"))).contains("halting with a document open");
    }

    /** Appends TICKs timed from the journal's last record on (timestamps never decrease). */
    private static void appendTicks(final Journal journal, final int count)
    {
        final JournalWriter writer = journal.writer();
        final long from = journal.lastTimestampAtOpen() + 1;
        for (int i = 0; i < count; i++)
        {
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, from + i, RecordDescriptor.HEADER_LENGTH);
        }
        writer.flush();
    }

    private void appendRawDocument(final byte[]... records)
    {
        try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(dir.toFile()).build();
             ExcerptAppender appender = queue.createAppender();
             DocumentContext dc = appender.writingDocument())
        {
            for (final byte[] record : records)
            {
                dc.wire().bytes().write(record);
            }
        }
    }

    private static byte[] withShort(final byte[] record, final int offset, final int value)
    {
        record[offset] = (byte)value;
        record[offset + 1] = (byte)(value >>> 8);
        return record;
    }

    private static byte[] withByte(final byte[] record, final int offset, final int value)
    {
        record[offset] = (byte)value;
        return record;
    }

    private static byte[] reChecksum(final byte[] record)
    {
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(record);
        buffer.putInt(RecordDescriptor.CHECKSUM_OFFSET, RecordDescriptor.checksum(buffer, 0, record.length), RecordDescriptor.BYTE_ORDER);
        return record;
    }
}
