package io.gyre.journal;

import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reader whose checksums a second thread checks ahead reads and reports exactly what a reader alone does:
 * on a clean journal it takes the checker's verdicts, and a document with a damaged record, which the checker
 * passes over, is still checked and reported by the reader.
 */
class ChecksumsAheadTest
{
    private static final int DOCUMENTS = 3_000;
    private static final int RECORDS_PER_DOCUMENT = 4;

    @TempDir
    Path dir;

    @Test
    void shouldReadACleanJournalAsAReaderAloneDoesTakingTheCheckersVerdicts() throws Exception
    {
        writeDocuments(-1);
        final Read alone = read(false);
        final Read checked = read(true);
        assertThat(alone.ids()).hasSize(DOCUMENTS * RECORDS_PER_DOCUMENT);
        assertThat(checked.ids()).isEqualTo(alone.ids());
        assertThat(checked.problems()).isEqualTo(alone.problems()).isEmpty();
        assertThat(checked.checkedAhead()).as("documents the reader took from the checker").isPositive();
        assertThat(alone.checkedAhead()).isZero();
    }

    @Test
    void shouldStillFindAndReportADamagedRecordTheCheckerPassedOver() throws Exception
    {
        writeDocuments(DOCUMENTS / 2);
        final Read alone = read(false);
        final Read checked = read(true);
        assertThat(alone.ids()).hasSize((DOCUMENTS - 1) * RECORDS_PER_DOCUMENT + 1);
        assertThat(checked.ids()).isEqualTo(alone.ids());
        assertThat(checked.problems()).isEqualTo(alone.problems());
        assertThat(checked.problems()).anySatisfy(p -> assertThat(p).contains("CORRUPTION").contains("checksum mismatch"));
        assertThat(checked.corrupted()).isTrue();
        assertThat(checked.checkedAhead()).isPositive().isLessThan(DOCUMENTS);
    }

    @Test
    void shouldHandEachDocumentTheSlotItsLookAheadFilledAndKeepItUntilTheNextDocument() throws Exception
    {
        final int damaged = DOCUMENTS / 2;
        writeDocuments(damaged);
        // written by the checking thread: the index of the document each slot was filled for
        final long[] filledFor = new long[DocumentLookAhead.SLOTS];
        final List<String> wrong = new ArrayList<>();
        final long[] slotOfDamaged = {Long.MIN_VALUE};
        final int[] lookedAhead = {0};
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.checkChecksumsAhead((document, documentIndex, slot) -> filledFor[slot] = documentIndex);
            reader.readToEnd(new RecordHandler()
            {
                private long document = -1;
                private int slot = -1;
                private boolean paused;
                private int catchUps;

                @Override
                public void onDocument(final DirectBuffer bytes, final long documentIndex, final int lookedAheadSlot)
                {
                    document = documentIndex;
                    slot = lookedAheadSlot;
                    if (slot < 0)
                    {
                        if (lookedAhead[0] > 0 && catchUps++ < 3)
                        {
                            pause();   // the checker fell behind (a loaded machine): let it refill slots
                        }
                        return;
                    }
                    lookedAhead[0]++;
                    if (filledFor[slot] != documentIndex)
                    {
                        wrong.add("document " + documentIndex + " came with slot " + slot + ", filled for " + filledFor[slot]);
                    }
                    if (!paused)
                    {
                        paused = true;
                        pause();   // the checker fills every slot it may while this document is being read
                    }
                }

                @Override
                public void onRecord(final RecordView record)
                {
                    if (record.eventId() == (long)damaged * RECORDS_PER_DOCUMENT + 1)
                    {
                        slotOfDamaged[0] = slot;
                    }
                    if (slot >= 0 && filledFor[slot] != document)
                    {
                        wrong.add("the slot of document " + document + " was filled for " + filledFor[slot] + " while it was read");
                    }
                }
            });
            assertThat(reader.problems()).anySatisfy(p -> assertThat(p.reason()).contains("checksum mismatch"));
        }
        assertThat(wrong).isEmpty();
        assertThat(lookedAhead[0]).as("documents read with their look-ahead").isGreaterThan(DocumentLookAhead.SLOTS);
        assertThat(slotOfDamaged[0]).as("the damaged document's slot").isEqualTo(-1);
    }

    @Test
    void shouldFindADocumentsChecksumsMatchingOnlyWhenEveryRecordsDoes()
    {
        final byte[] good = concat(Records.tick(1, 10), Records.tick(2, 11));
        assertThat(ChecksumsAhead.checksumsMatch(new UnsafeBuffer(good))).isTrue();
        final byte[] flipped = good.clone();
        flipped[good.length - 1] ^= 1;
        assertThat(ChecksumsAhead.checksumsMatch(new UnsafeBuffer(flipped))).isFalse();
        final byte[] cut = java.util.Arrays.copyOf(good, good.length - 3);
        assertThat(ChecksumsAhead.checksumsMatch(new UnsafeBuffer(cut))).as("a frame longer than what is left").isFalse();
    }

    record Read(List<Long> ids, List<String> problems, boolean corrupted, long checkedAhead)
    {
    }

    private Read read(final boolean ahead) throws Exception
    {
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            if (ahead)
            {
                reader.checkChecksumsAhead();
            }
            final List<Long> ids = new ArrayList<>();
            reader.readToEnd(r ->
            {
                if (ids.isEmpty() && ahead)
                {
                    pause();   // let the checker get ahead, past the damaged document
                }
                ids.add(r.eventId());
            });
            final List<String> problems = reader.problems().stream().map(p -> p.kind() + " " + p.documentIndex() + " " + p.reason()).toList();
            return new Read(ids, problems, reader.corrupted(), reader.documentsCheckedAhead());
        }
    }

    private static void pause()
    {
        try
        {
            Thread.sleep(300);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void writeDocuments(final int damaged)
    {
        try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(dir.toFile()).build())
        {
            Records.appendTickDocuments(queue, DOCUMENTS, RECORDS_PER_DOCUMENT, damaged);
        }
    }

    private static byte[] concat(final byte[] a, final byte[] b)
    {
        final byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
