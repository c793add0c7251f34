package io.gyre.journal;

import java.nio.file.Path;

/**
 * A snapshot file failed a check when loaded (or could not be read): the message names the file and the check.
 * The engine then falls back to an older snapshot, or to replaying the whole journal.
 */
public final class SnapshotCorruptedException extends JournalException
{
    private static final long serialVersionUID = 1L;

    public SnapshotCorruptedException(final Path file, final String problem)
    {
        super("snapshot " + file + " " + problem, null);
    }
}
