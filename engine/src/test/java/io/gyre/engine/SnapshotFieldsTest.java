package io.gyre.engine;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A guard for snapshots: every field of the state machine and of its task records is either written by
 * {@link Sequencer#writeState} (and read back by {@link Sequencer#restoreState}) or known to be outside the
 * state replay rebuilds. A field added later fails this test until it is one or the other: a snapshot that
 * silently left it out would restore a different state than a replay builds.
 */
class SnapshotFieldsTest
{
    private static final Set<String> TASK_RECORD_SNAPSHOTTED = Set.of("taskId", "keyHash", "state", "attempt", "maxAttempts",
        "attemptBase", "handlerId", "typeSlot", "mode", "priority", "taskFlags", "timeoutMillis", "backoffInitialMillis", "backoffMaxMillis",
        "backoffMultiplier", "backoffJitter", "submittedAt", "startedAt", "finishedAt", "submitDocument", "submitOffset",
        "outcomeDocument", "outcomeOffset", "outcomeReason", "heldUntil", "tenant", "queuedAt", "firstStartedAt", "executionNanos");
    /** Links rebuilt on restore (hash chains, pending queues, the free list) and this process's waiters. */
    private static final Set<String> TASK_RECORD_NOT_SNAPSHOTTED = Set.of("nextByKey", "waiterHead", "waiterCount",
        "pendingPrev", "pendingNext", "inPendingQueue", "nextFree");

    private static final Set<String> SEQUENCER_SNAPSHOTTED = Set.of("settings", "byId", "byKey", "retained", "deadLetters",
        "deadLetterOverflows", "inPool", "timers", "due", "timersByPriority", "timersCompactAt", "pendingHead", "pendingTail", "expected", "liveCount", "pendingCount",
        "pendingInlineCount", "groupInUse", "unhandled", "typeInUse", "pendingByType", "typeLimit", "admissionLimits", "retentionCheckAt", "now", "stopping", "stopBeganAt",
        "stopDeadline", "interrupted", "engineStarts", "stoppedCleanly", "tenants", "pendingByGroup");
    /**
     * Collaborators, scratch used within one call, this process's listeners and counters of the replay itself
     * (checks of derived records, late results), which a restart rebuilds from the journal after the snapshot, and
     * what a stop in progress waits for (counted again when a stop begins, reset by the next start).
     */
    private static final Set<String> SEQUENCER_NOT_SNAPSHOTTED = Set.of("registry", "keyMatcher", "submission", "waiters",
        "observer", "live", "metrics", "derivedSink", "joinersSink", "resultSource", "free", "freeCount", "derivedVerified", "derivedMismatches", "firstMismatch",
        "lateResults", "heldDueInStop", "heldDueInStopPublished", "requeuedLast");

    @Test
    void shouldSnapshotOrKnowinglyLeaveOutEveryFieldOfATaskRecord()
    {
        assertThat(instanceFields(TaskRecord.class)).as("TaskRecord fields: add a new one to Sequencer.writeState/restoreState " +
            "(and here), or list it as left out").isEqualTo(union(TASK_RECORD_SNAPSHOTTED, TASK_RECORD_NOT_SNAPSHOTTED));
    }

    @Test
    void shouldSnapshotOrKnowinglyLeaveOutEveryFieldOfTheSequencer()
    {
        assertThat(instanceFields(Sequencer.class)).as("Sequencer fields: add a new one to writeState/restoreState " +
            "(and here), or list it as left out").isEqualTo(union(SEQUENCER_SNAPSHOTTED, SEQUENCER_NOT_SNAPSHOTTED));
    }

    private static Set<String> instanceFields(final Class<?> type)
    {
        final Set<String> names = new TreeSet<>();
        Arrays.stream(type.getDeclaredFields()).filter(f -> !Modifier.isStatic(f.getModifiers()) && !f.isSynthetic())
            .map(Field::getName).forEach(names::add);
        return names;
    }

    private static Set<String> union(final Set<String> a, final Set<String> b)
    {
        final Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
