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
}
