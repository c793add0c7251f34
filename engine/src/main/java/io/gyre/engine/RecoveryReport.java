package io.gyre.engine;

import io.gyre.journal.JournalProblem;

import java.util.List;

/**
 * What opening an engine found in its journal.
 *
 * @param recordsReplayed records read back to rebuild the state.
 * @param replayNanos how long that took.
 * @param repairedTail a torn tail the journal discarded on opening (empty after a clean shutdown).
 * @param liveTasks tasks not yet finished after replay (as the journal left them: counted before this engine ran anything).
 * @param requeued attempts that were running when the previous engine stopped, queued to run again (those
 *     its stop record listed as interrupted, and, after a crash, every one running).
 * @param derivedVerified derived records that replay re-derived identically.
 * @param derivedRepublished derived records a crash kept from the journal, journaled now.
 * @param previousStop how the previous engine on this journal ended.
 * @param snapshot the snapshot the state was loaded from before replaying the journal after it, or null when
 *     the whole journal was replayed.
 * @param snapshotLoadNanos how long loading and checking that snapshot took.
 * @param snapshotsSkipped snapshots found damaged or unusable (newer than the one used), each with why.
 */
public record RecoveryReport(
    long recordsReplayed,
    long replayNanos,
    List<JournalProblem> repairedTail,
    int liveTasks,
    long requeued,
    long derivedVerified,
    long derivedRepublished,
    PreviousStop previousStop,
    SnapshotInfo snapshot,
    long snapshotLoadNanos,
    List<String> snapshotsSkipped)
{
    public RecoveryReport
    {
        repairedTail = List.copyOf(repairedTail);
        snapshotsSkipped = List.copyOf(snapshotsSkipped);
    }

    /**
     * How the previous engine on a journal ended.
     */
    public enum PreviousStop
    {
        /** No engine ran on this journal before. */
        NONE,
        /** It stopped cleanly: its ENGINE_STOP record, saying what it left, is the last thing it wrote. */
        CLEAN,
        /** It ended without a stop record: killed, crashed, or its stop could not be recorded. */
        CRASH
    }
}
