package io.gyre.engine;

import io.gyre.journal.DocumentLookAhead;
import io.gyre.journal.RecordDescriptor;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import io.gyre.journal.SnapshotStore;
import io.gyre.journal.SubmittedRecord;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Feeds a journal's records to a sequencer, for recovery and inspection: every record goes through
 * {@link Sequencer#apply}, exactly as before, so the state and every decision are the same (invariant 4).
 * What it adds is a look at each whole document first: the retained-outcome index buckets the document's
 * submissions will look up are loaded in a tight loop of loads and nothing else, so that dozens of their
 * cache misses are in flight at once; applied one record at a time, each miss would stall the sequencer in
 * turn (about 150 ns each at a million retained outcomes). The look-ahead reads bytes not yet validated, as hints: a damaged document costs a useless load,
 * never a decision.
 * <p>
 * The key hashes it computed are then handed to the sequencer with their submissions, so each key is hashed once:
 * a hash is used only for the record at the offset it was computed at, once that record has passed the reader's
 * checks (its checksum covers the bytes hashed), and only when its key has the length hashed; any other
 * submission is hashed by {@link Sequencer#apply} as usual.
 * <p>
 * Given to {@link io.gyre.journal.JournalReader#checkChecksumsAhead(DocumentLookAhead)}, the hashing moves to
 * the thread checking the checksums ahead ({@link #lookAhead}), into slots of its own: the replaying thread
 * then only loads the buckets. A document that thread did not reach is hashed here, as before.
 * <p>
 * Single-threaded: the thread replaying the journal, but for {@link #lookAhead}.
 */
final class ReplayDriver implements RecordHandler, DocumentLookAhead
{
    private static final ByteOrder ORDER = RecordDescriptor.BYTE_ORDER;
    private static final int SUBMITTED = RecordType.SUBMITTED.code();
    private static final int KEY_LENGTH_BYTES = 2;

    private final Sequencer sequencer;
    private final SnapshotStore.Position from;
    private final Effects scratch = new Effects();
    /** The look-ahead of a document the checking thread did not reach, done on this thread. */
    private final Hashes own = new Hashes();
    /** Filled by the thread checking the checksums ahead, slot by slot ({@link #lookAhead}). */
    private final Hashes[] ahead = new Hashes[DocumentLookAhead.SLOTS];
    private long[] hashes;
    /** For each of {@link #hashes}: the offset in the document of its submission, and its key's length, packed. */
    private long[] hashedAt;
    private int hashCount;
    private int nextHash;
    private long hashedDocument = -1;
    private long hashesUsed;
    private long lookedAhead;
    private long firstEventId = -1;
    private long applied;

    /**
     * @param from the position of the last record a restored state includes (those up to it are skipped), or
     *     null to apply every record.
     */
    ReplayDriver(final Sequencer sequencer, final SnapshotStore.Position from)
    {
        this.sequencer = sequencer;
        this.from = from;
    }

    @Override
    public void onDocument(final DirectBuffer document, final long documentIndex)
    {
        onDocument(document, documentIndex, -1);
    }

    @Override
    public void onDocument(final DirectBuffer document, final long documentIndex, final int lookedAheadSlot)
    {
        final Hashes look;
        if (lookedAheadSlot >= 0 && ahead[lookedAheadSlot] != null)
        {
            look = ahead[lookedAheadSlot];
            lookedAhead++;
        }
        else
        {
            look = own;
            own.scan(document);
        }
        hashes = look.hashes;
        hashedAt = look.at;
        hashCount = look.count;
        nextHash = 0;
        hashedDocument = documentIndex;
        sequencer.prefetchHashes(hashes, hashCount);
    }

    /**
     * On the thread checking the checksums ahead: hash the document's keys into the slot, for
     * {@link #onDocument(DirectBuffer, long, int)}.
     */
    @Override
    public void lookAhead(final DirectBuffer document, final long documentIndex, final int slot)
    {
        Hashes look = ahead[slot];
        if (look == null)
        {
            look = new Hashes();
            ahead[slot] = look;
        }
        look.scan(document);
    }

    @Override
    public void onRecord(final RecordView record)
    {
        if (firstEventId < 0)
        {
            firstEventId = record.eventId();
        }
        if (from != null && from.includes(record.documentIndex(), record.offsetInDocument()))
        {
            return;
        }
        scratch.reset();
        if (record.type() == RecordType.SUBMITTED)
        {
            applySubmitted(record);
        }
        else
        {
            sequencer.apply(record, scratch);
        }
        applied++;
    }

    private void applySubmitted(final RecordView record)
    {
        final long at = (long)record.offsetInDocument() << 32 | record.submitted().keyLength();
        // the look-ahead's submissions come in document order: skip those the reader did not deliver
        while (nextHash < hashCount && hashedAt[nextHash] >>> 32 < record.offsetInDocument())
        {
            nextHash++;
        }
        if (nextHash < hashCount && hashedAt[nextHash] == at && record.documentIndex() == hashedDocument)
        {
            sequencer.applySubmitted(record, hashes[nextHash++], scratch);
            hashesUsed++;
        }
        else
        {
            sequencer.apply(record, scratch);
        }
    }

    /** @return the event id of the first record read (applied or skipped), or -1 when none was. */
    long firstEventId()
    {
        return firstEventId;
    }

    /** @return how many submissions were applied with the key hash the look-ahead computed. */
    long hashesUsed()
    {
        return hashesUsed;
    }

    /** @return how many documents came with their keys hashed by the thread checking the checksums ahead. */
    long documentsLookedAhead()
    {
        return lookedAhead;
    }

    /**
     * The key hashes of one document's submissions, with where each was computed.
     */
    private static final class Hashes
    {
        long[] hashes = new long[1024];
        /** For each of {@link #hashes}: the offset in the document of its submission, and its key's length, packed. */
        long[] at = new long[1024];
        int count;

        /**
         * Hash the key of each submission in the document: its bytes are not validated yet, so the hashes are
         * hints, each used only for the record at its offset once that record has passed the reader's checks.
         */
        void scan(final DirectBuffer document)
        {
            final int length = document.capacity();
            int offset = 0;
            int keys = 0;
            while (offset <= length - RecordDescriptor.HEADER_LENGTH)
            {
                final int frame = document.getInt(offset + RecordDescriptor.LENGTH_OFFSET, ORDER);
                if (frame < RecordDescriptor.HEADER_LENGTH || frame > length - offset)
                {
                    break;
                }
                final int type = document.getShort(offset + RecordDescriptor.TYPE_OFFSET, ORDER) & 0xFFFF;
                if (type == SUBMITTED)
                {
                    final int keyAt = offset + SubmittedRecord.KEY_OFFSET;
                    final int end = offset + frame;
                    if (keyAt <= end - KEY_LENGTH_BYTES)
                    {
                        final int keyLength = document.getShort(keyAt, ORDER) & 0xFFFF;
                        if (keyLength <= end - keyAt - KEY_LENGTH_BYTES)
                        {
                            if (keys == hashes.length)
                            {
                                hashes = Arrays.copyOf(hashes, keys * 2);
                                at = Arrays.copyOf(at, keys * 2);
                            }
                            at[keys] = (long)offset << 32 | keyLength;
                            hashes[keys++] = KeyHasher.hash(document, keyAt + KEY_LENGTH_BYTES, keyLength);
                        }
                    }
                }
                offset += frame;
            }
            count = keys;
        }
    }

    /** @return how many records were applied. */
    long applied()
    {
        return applied;
    }
}
