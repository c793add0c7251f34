package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;

/**
 * Reads a task's idempotency key back from its journaled submission, for a log line that names the task. The
 * threads that log about an attempt (the execute stage, the pools, whatever thread an async handler reports on)
 * know the task by its id, and every attempt already carries its submission's journal position (to read its payload
 * back); the key is in that record. So keeping the key costs the hot path nothing: no copy, no lookup, two numbers
 * the attempt had anyway; the journal is read only when a line is actually logged, which is rare (a handler bug, a
 * stop action that threw, a stop).
 * <p>
 * Any thread: one reader, opened on first use, taken in turn under this object's lock and handed from thread to
 * thread with {@link JournalReader#transferOwnership()}. After {@link #close()} (the engine closes it just before its
 * journal) it answers null.
 */
final class SubmissionKeys implements RecordHandler, AutoCloseable
{
    private final Journal journal;
    private JournalReader reader;
    private String key;
    private boolean closed;

    /**
     * @param journal the engine's journal; null for none (every key is then unknown).
     */
    SubmissionKeys(final Journal journal)
    {
        this.journal = journal;
    }

    /**
     * @return the key of the submission journaled at this position, or null when there is none to read there (no
     *     position, a record that is not a submission, the journal closed or unreadable).
     */
    synchronized String keyAt(final long document, final int offset)
    {
        if (closed || journal == null || document < 0)
        {
            return null;
        }
        key = null;
        try
        {
            if (reader == null)
            {
                reader = journal.newReader();
            }
            reader.transferOwnership();
            reader.readRecordAt(document, offset, this);
        }
        catch (final RuntimeException ex)
        {
            // a log line must not fail what it describes: the key is then left out of it
            return null;
        }
        return key;
    }

    @Override
    public void onRecord(final RecordView record)
    {
        if (record.type() == RecordType.SUBMITTED)
        {
            key = record.submitted().key();
        }
    }

    @Override
    public synchronized void close()
    {
        closed = true;
        if (reader != null)
        {
            reader.transferOwnership();
            reader.close();
            reader = null;
        }
    }
}
