package io.gyre.engine;

/**
 * What the sequence stage keeps of one task, live or finished (for deduplication). Small on purpose: the
 * key and payload stay in the journal, found again by the submission's position.
 */
final class TaskRecord
{
    long taskId;
    long keyHash;
    /** The next task in its {@link TasksByKey} bucket. */
    TaskRecord nextByKey;

    TaskState state;
    int attempt;
    /** The last attempt this task may make (its submission's max attempts, plus {@link #attemptBase}). */
    int maxAttempts;
    /** Attempts made before the task was last redriven (0 for one never redriven): backoff counts from here. */
    int attemptBase;
    /** This engine's handler of the task's type, or {@link HandlerRegistry#UNKNOWN} when it has none. */
    int handlerId;
    /**
     * The task's type in the state machine's per-type counters (its concurrency limit): named by the journal, not by
     * whether this engine has a handler for it, so that a type whose handler is gone is limited in replay as when
     * its tasks ran (see Sequencer#typeSlot).
     */
    int typeSlot;
    /** {@link ExecutionMode#code()}: a byte, like the next two, to keep a live task's record small (a million pending waits). */
    byte mode;
    byte priority;
    int taskFlags;
    int timeoutMillis;
    int backoffInitialMillis;
    int backoffMaxMillis;
    float backoffMultiplier;
    float backoffJitter;

    /** The submission's tenant, as a {@link TenantIndex} id. */
    int tenant;

    long submittedAt;
    long startedAt;
    long finishedAt;
    /** When this run was queued: its acceptance, or its last redrive. */
    long queuedAt;
    /**
     * When this run's first attempt started (0 until it does): dispatched by the sequence stage, then, once its
     * result comes, the start its handler reported. Its queue time ends there.
     */
    long firstStartedAt;
    /** The attempts' run times added up, as their results (or their timeouts, or a cancel) ended them. */
    long executionNanos;
    long submitDocument;
    int submitOffset;
    /** Position of the record holding the outcome's output or error (SUCCEEDED or FAILED), or -1. */
    long outcomeDocument = -1;
    int outcomeOffset;
    /** For outcomes without such a record (timed out, cancelled): the derived record's reason code. */
    byte outcomeReason;
    /** When this RUNNING task's journaled, held outcome is released (epoch nanos); 0 when none is held. */
    long heldUntil;

    int waiterHead = -1;
    int waiterCount;

    TaskRecord pendingPrev;
    TaskRecord pendingNext;
    boolean inPendingQueue;
    TaskRecord nextFree;

    /**
     * @return from acceptance (or the last redrive) to the first attempt's start since, or to the outcome when none started.
     */
    long queueNanos()
    {
        final long end = firstStartedAt != 0 ? firstStartedAt : finishedAt;
        return end == 0 ? 0 : Math.max(0, end - queuedAt);
    }

    void reset()
    {
        taskId = 0;
        keyHash = 0;
        nextByKey = null;
        state = null;
        attempt = 0;
        maxAttempts = 0;
        attemptBase = 0;
        handlerId = HandlerRegistry.UNKNOWN;
        typeSlot = -1;
        mode = 0;
        priority = 0;
        taskFlags = 0;
        timeoutMillis = 0;
        backoffInitialMillis = 0;
        backoffMaxMillis = 0;
        backoffMultiplier = 0;
        backoffJitter = 0;
        tenant = 0;
        submittedAt = 0;
        startedAt = 0;
        finishedAt = 0;
        queuedAt = 0;
        firstStartedAt = 0;
        executionNanos = 0;
        submitDocument = -1;
        submitOffset = 0;
        outcomeDocument = -1;
        outcomeOffset = 0;
        outcomeReason = 0;
        heldUntil = 0;
        waiterHead = -1;
        waiterCount = 0;
        pendingPrev = null;
        pendingNext = null;
        inPendingQueue = false;
        nextFree = null;
    }
}
