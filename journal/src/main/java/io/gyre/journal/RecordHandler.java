package io.gyre.journal;

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
}
