package io.gyre.journal;

/**
 * Something wrong found while reading the journal.
 *
 * @param kind whether it is a torn tail (expected after a crash) or corruption.
 * @param documentIndex the Chronicle Queue index of the document, or -1 for a document that was never finished.
 * @param offsetInDocument where in the document the bad bytes start.
 * @param bytes how many bytes were skipped.
 * @param reason what was wrong, for people.
 */
public record JournalProblem(Kind kind, long documentIndex, int offsetInDocument, long bytes, String reason)
{
    public enum Kind
    {
        /** The last write before a crash: detected, skipped, and not an error. */
        TORN_TAIL,
        /** A torn tail an earlier recovery already discarded (a {@link RecordType#JOURNAL_RECOVERED} record says so). */
        RECOVERED_TORN_TAIL,
        /** Bad bytes before the tail, a gap in event ids, or an unreadable record: the journal is damaged. */
        CORRUPTION
    }

    @Override
    public String toString()
    {
        return kind + " at document " + (documentIndex < 0 ? "(unfinished)" : "0x" + Long.toHexString(documentIndex)) +
            " offset " + offsetInDocument + ", " + bytes + " bytes: " + reason;
    }
}
