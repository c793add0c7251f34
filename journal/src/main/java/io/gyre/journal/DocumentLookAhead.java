package io.gyre.journal;

import org.agrona.DirectBuffer;

/**
 * Work a replay can do on a whole document before its records are applied, run on the thread that checks
 * the journal's checksums ahead of the reader ({@link JournalReader#checkChecksumsAhead(DocumentLookAhead)}),
 * so that the replaying thread, the one a recovery waits for, does not: hashing the keys the document's records
 * will look up, say.
 * <p>
 * The checking thread calls {@link #lookAhead} only for a document whose every record's checksum matched, and
 * only with a slot the reader is done with; the reader then hands the same slot to
 * {@link RecordHandler#onDocument(DirectBuffer, long, int)} when it reaches that document, after which what was
 * written into the slot is visible to it. A document the checker did not reach, or found damaged, comes with
 * no slot: the handler does the work itself.
 */
@FunctionalInterface
public interface DocumentLookAhead
{
    /** Slots there are: a slot is in [0, SLOTS). */
    int SLOTS = 256;

    /**
     * On the checking thread: look at a document whose checksums all match, and leave what the reader will use
     * in {@code slot}, which is not in use by the reader until the document reaches it.
     *
     * @param document the document's bytes, valid only until this method returns.
     * @param documentIndex its index.
     * @param slot where to leave the results, in [0, {@link #SLOTS}).
     */
    void lookAhead(DirectBuffer document, long documentIndex, int slot);
}
