package io.gyre.engine;

import java.nio.file.Path;

/**
 * A snapshot of an engine's state, written to its journal directory.
 *
 * @param file the snapshot file.
 * @param eventId the last journal record its state includes: recovery replays only the records after it.
 * @param bytes the file's size.
 * @param captureNanos how long copying the state paused the sequence stage (writing the file does not).
 * @param journalFilesDeleted journal cycle files that retention deleted after it was written.
 */
public record SnapshotInfo(Path file, long eventId, long bytes, long captureNanos, int journalFilesDeleted)
{
}
