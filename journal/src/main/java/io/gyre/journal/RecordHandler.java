package io.gyre.journal;

import org.agrona.DirectBuffer;

/**
 * Receives the records a {@link JournalReader} reads, in journal order, on the reader's thread.
 */
@FunctionalInterface
public interface RecordHandler
{
    /**
     * @param record a validated record, valid only until this method returns.
     */
    void onRecord(RecordView record);

    /**
     * Called by {@link JournalReader#read} with each document's bytes before its records, for a handler that
     * wants to look ahead (to load the memory the records will touch, say). The bytes are not validated yet:
     * use them as hints only, and decide nothing from them.
     *
     * @param document the document's bytes, valid only until this method returns.
     * @param documentIndex its index.
     */
    default void onDocument(final DirectBuffer document, final long documentIndex)
    {
    }

    /**
     * As {@link #onDocument(DirectBuffer, long)}, with the slot in which a {@link DocumentLookAhead} given to
     * {@link JournalReader#checkChecksumsAhead(DocumentLookAhead)} left its work on this document, or -1 when it
     * did not look at it (then it does the work itself). What the slot holds stays valid until the reader moves
     * on to the next document. By default, {@link #onDocument(DirectBuffer, long)}.
     */
    default void onDocument(final DirectBuffer document, final long documentIndex, final int lookedAheadSlot)
    {
        onDocument(document, documentIndex);
    }
}
