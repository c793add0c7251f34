package io.gyre.engine;

import io.gyre.journal.RecordType;

import java.util.Arrays;

/**
 * What the sequence stage decided while handling one event, for the stages after it: attempts to
 * dispatch, derived records to journal, running attempts to stop, and replies to send. Written only by
 * the sequence stage; read by the execute and publish stages.
 * <p>
 * Each entry is a stride of longs in one array (one or two cache lines per entry, however many fields),
 * because three stages on two cores touch it per event. Arrays grow on demand and are kept, so a steady
 * state allocates nothing.
 */
final class Effects
{
    // replies
    static final int REPLY_ACCEPTED = 1;
    static final int REPLY_OUTCOME = 2;
    static final int REPLY_REJECTED = 3;
    static final int REPLY_STATUS = 4;
    static final int REPLY_STARTED = 5;
    /** A dead-letter query's entries are written to its target (a {@link Sequencer.DeadLetterRows}): answer it. */
    static final int REPLY_DEAD_LETTERS = 6;
    /** The answer to a redrive: reason is the {@link RedriveOutcome} code, the task's fields its status. */
    static final int REPLY_REDRIVE = 7;
    /** The answer to a purge: see {@link #replyPurged}. */
    static final int REPLY_PURGED = 8;

    // where a reply's output or error comes from
    static final int SOURCE_NONE = 0;
    static final int SOURCE_THIS_EVENT = 1;
    static final int SOURCE_JOURNAL = 2;

    private static final RecordType[] TYPES = RecordType.values();

    private static final int DISPATCH_STRIDE = 5;
    private static final int DERIVED_STRIDE = 3;
    private static final int STOP_STRIDE = 2;
    private static final int REPLY_STRIDE = 11;

    // reply fields
    private static final int R_KIND = 0;          // kind | source << 8 | state+1 << 16 | duplicate << 24 | reason << 32
    private static final int R_CORRELATION = 1;
    private static final int R_TASK_ID = 2;
    private static final int R_ATTEMPTS = 3;      // attempts | maxAttempts << 32
    private static final int R_DOCUMENT = 4;
    private static final int R_OFFSET = 5;        // offset | timeoutMillis << 32
    private static final int R_SUBMITTED_AT = 6;
    private static final int R_STARTED_AT = 7;
    private static final int R_FINISHED_AT = 8;
    private static final int R_QUEUE_NANOS = 9;
    private static final int R_EXECUTION_NANOS = 10;

    int dispatchCount;
    int derivedCount;
    int stopCount;
    int replyCount;

    private long[] dispatches = new long[DISPATCH_STRIDE * 2];
    private long[] derived = new long[DERIVED_STRIDE * 2];
    private long[] stops = new long[STOP_STRIDE * 2];
    private long[] replies = new long[REPLY_STRIDE * 2];
    private Object[] replyTargets = new Object[2];

    void reset()
    {
        dispatchCount = 0;
        derivedCount = 0;
        stopCount = 0;
        if (replyCount > 0)
        {
            Arrays.fill(replyTargets, 0, replyCount, null);
            replyCount = 0;
        }
    }

    // ---------------------------------------------------------------------------------------- dispatches

    void dispatch(
        final long taskId,
        final int attempt,
        final int handler,
        final int mode,
        final int priority,
        final boolean payloadInEvent,
        final long submitDocument,
        final int submitOffset,
        final long submittedAt)
    {
        if ((dispatchCount + 1) * DISPATCH_STRIDE > dispatches.length)
        {
            dispatches = Arrays.copyOf(dispatches, dispatches.length * 2);
        }
        final int base = dispatchCount++ * DISPATCH_STRIDE;
        dispatches[base] = taskId;
        dispatches[base + 1] = (attempt & 0xFFFF_FFFFL) | ((long)(handler & 0xFFFF) << 32) | ((long)(mode & 0xFF) << 48) |
            (payloadInEvent ? 1L << 56 : 0) | (long)(priority & 3) << 58;
        dispatches[base + 2] = submitDocument;
        dispatches[base + 3] = submitOffset;
        dispatches[base + 4] = submittedAt;
    }

    /**
     * Mark a dispatch as carried out already (an inline attempt run on the journal's thread): the execute
     * stage skips it.
     */
    void consumeDispatch(final int i)
    {
        dispatches[i * DISPATCH_STRIDE + 1] |= 1L << 57;
    }

    boolean dispatchConsumed(final int i)
    {
        return (dispatches[i * DISPATCH_STRIDE + 1] >>> 57 & 1) != 0;
    }

    long dispatchSubmittedAt(final int i)
    {
        return dispatches[i * DISPATCH_STRIDE + 4];
    }

    long dispatchTaskId(final int i)
    {
        return dispatches[i * DISPATCH_STRIDE];
    }

    int dispatchAttempt(final int i)
    {
        return (int)dispatches[i * DISPATCH_STRIDE + 1];
    }

    int dispatchHandler(final int i)
    {
        return (short)(dispatches[i * DISPATCH_STRIDE + 1] >>> 32);
    }

    int dispatchMode(final int i)
    {
        return (int)(dispatches[i * DISPATCH_STRIDE + 1] >>> 48) & 0xFF;
    }

    /** @return the dispatched task's priority code ({@link Priority#code()}). */
    int dispatchPriority(final int i)
    {
        return (int)(dispatches[i * DISPATCH_STRIDE + 1] >>> 58) & 3;
    }

    boolean dispatchPayloadInEvent(final int i)
    {
        return (dispatches[i * DISPATCH_STRIDE + 1] >>> 56 & 1) != 0;
    }

    long dispatchSubmitDocument(final int i)
    {
        return dispatches[i * DISPATCH_STRIDE + 2];
    }

    int dispatchSubmitOffset(final int i)
    {
        return (int)dispatches[i * DISPATCH_STRIDE + 3];
    }

    // ------------------------------------------------------------------------------------------- derived

    void derived(final RecordType type, final long taskId, final int attempt, final int reason, final long time)
    {
        if ((derivedCount + 1) * DERIVED_STRIDE > derived.length)
        {
            derived = Arrays.copyOf(derived, derived.length * 2);
        }
        final int base = derivedCount++ * DERIVED_STRIDE;
        derived[base] = type.ordinal() | ((long)(reason & 0xFF) << 8) | ((long)attempt << 32);
        derived[base + 1] = taskId;
        derived[base + 2] = time;
    }

    RecordType derivedType(final int i)
    {
        return TYPES[(int)derived[i * DERIVED_STRIDE] & 0xFF];
    }

    int derivedReason(final int i)
    {
        return (int)(derived[i * DERIVED_STRIDE] >>> 8) & 0xFF;
    }

    int derivedAttempt(final int i)
    {
        return (int)(derived[i * DERIVED_STRIDE] >>> 32);
    }

    long derivedTaskId(final int i)
    {
        return derived[i * DERIVED_STRIDE + 1];
    }

    long derivedTime(final int i)
    {
        return derived[i * DERIVED_STRIDE + 2];
    }

    // --------------------------------------------------------------------------------------------- stops

    void stop(final long taskId, final int attempt)
    {
        if ((stopCount + 1) * STOP_STRIDE > stops.length)
        {
            stops = Arrays.copyOf(stops, stops.length * 2);
        }
        stops[stopCount * STOP_STRIDE] = taskId;
        stops[stopCount * STOP_STRIDE + 1] = attempt;
        stopCount++;
    }

    long stopTaskId(final int i)
    {
        return stops[i * STOP_STRIDE];
    }

    int stopAttempt(final int i)
    {
        return (int)stops[i * STOP_STRIDE + 1];
    }

    // ------------------------------------------------------------------------------------------- replies

    /**
     * Add a reply; fill its details with the setters below on the returned index.
     */
    int reply(final int kind, final Object target, final long correlation, final long taskId)
    {
        if (replyCount == replyTargets.length)
        {
            replyTargets = Arrays.copyOf(replyTargets, replyCount * 2);
            replies = Arrays.copyOf(replies, replyCount * 2 * REPLY_STRIDE);
        }
        final int i = replyCount++;
        final int base = i * REPLY_STRIDE;
        replyTargets[i] = target;
        replies[base + R_KIND] = kind;
        replies[base + R_CORRELATION] = correlation;
        replies[base + R_TASK_ID] = taskId;
        replies[base + R_ATTEMPTS] = 0;
        replies[base + R_DOCUMENT] = -1;
        replies[base + R_OFFSET] = 0;
        replies[base + R_SUBMITTED_AT] = 0;
        replies[base + R_STARTED_AT] = 0;
        replies[base + R_FINISHED_AT] = 0;
        replies[base + R_QUEUE_NANOS] = 0;
        replies[base + R_EXECUTION_NANOS] = 0;
        return i;
    }

    /**
     * Fill a reply's task details.
     */
    void replyTask(
        final int i,
        final TaskState state,
        final int attempts,
        final int maxAttempts,
        final long document,
        final int offset,
        final int reason,
        final int timeoutMillis,
        final long submittedAt,
        final long startedAt,
        final long finishedAt)
    {
        final int base = i * REPLY_STRIDE;
        replies[base + R_KIND] = (replies[base + R_KIND] & 0xFFFF) | ((long)(state.code() + 1) << 16) | ((long)(reason & 0xFF) << 32);
        replies[base + R_ATTEMPTS] = (attempts & 0xFFFF_FFFFL) | ((long)maxAttempts << 32);
        replies[base + R_DOCUMENT] = document;
        replies[base + R_OFFSET] = (offset & 0xFFFF_FFFFL) | ((long)timeoutMillis << 32);
        replies[base + R_SUBMITTED_AT] = submittedAt;
        replies[base + R_STARTED_AT] = startedAt;
        replies[base + R_FINISHED_AT] = finishedAt;
    }

    /** Fill a reply's accounting: the task's queue time and its attempts' run time, in nanoseconds. */
    void replyAccounting(final int i, final long queueNanos, final long executionNanos)
    {
        final int base = i * REPLY_STRIDE;
        replies[base + R_QUEUE_NANOS] = queueNanos;
        replies[base + R_EXECUTION_NANOS] = executionNanos;
    }

    void replySource(final int i, final int source)
    {
        final int base = i * REPLY_STRIDE;
        replies[base + R_KIND] = (replies[base + R_KIND] & ~0xFF00L) | ((long)(source & 0xFF) << 8);
    }

    void replyDuplicate(final int i, final boolean duplicate)
    {
        final int base = i * REPLY_STRIDE;
        replies[base + R_KIND] = (replies[base + R_KIND] & ~(0xFFL << 24)) | (duplicate ? 1L << 24 : 0);
    }

    void replyReason(final int i, final int reason)
    {
        final int base = i * REPLY_STRIDE;
        replies[base + R_KIND] = (replies[base + R_KIND] & ~(0xFFL << 32)) | ((long)(reason & 0xFF) << 32);
    }

    void replyState(final int i, final TaskState state)
    {
        final int base = i * REPLY_STRIDE;
        replies[base + R_KIND] = (replies[base + R_KIND] & ~(0xFFL << 16)) | ((long)(state.code() + 1) << 16);
    }

    void replyFinishedAt(final int i, final long value)
    {
        replies[i * REPLY_STRIDE + R_FINISHED_AT] = value;
    }

    /** Fill a purge's answer: entries removed, entries left. */
    void replyPurged(final int i, final int purged, final int remaining)
    {
        replies[i * REPLY_STRIDE + R_ATTEMPTS] = (purged & 0xFFFF_FFFFL) | ((long)remaining << 32);
    }

    int replyPurgedCount(final int i)
    {
        return (int)replies[i * REPLY_STRIDE + R_ATTEMPTS];
    }

    int replyRemaining(final int i)
    {
        return (int)(replies[i * REPLY_STRIDE + R_ATTEMPTS] >>> 32);
    }

    int replyKind(final int i)
    {
        return (int)replies[i * REPLY_STRIDE + R_KIND] & 0xFF;
    }

    Object replyTarget(final int i)
    {
        return replyTargets[i];
    }

    long replyCorrelation(final int i)
    {
        return replies[i * REPLY_STRIDE + R_CORRELATION];
    }

    long replyTaskId(final int i)
    {
        return replies[i * REPLY_STRIDE + R_TASK_ID];
    }

    int replySource(final int i)
    {
        return (int)(replies[i * REPLY_STRIDE + R_KIND] >>> 8) & 0xFF;
    }

    /** @return the task's state, or null when the reply carries none. */
    TaskState replyState(final int i)
    {
        final int code = (int)(replies[i * REPLY_STRIDE + R_KIND] >>> 16) & 0xFF;
        return code == 0 ? null : TaskState.fromCode(code - 1);
    }

    boolean replyDuplicate(final int i)
    {
        return (replies[i * REPLY_STRIDE + R_KIND] >>> 24 & 1) != 0;
    }

    int replyReason(final int i)
    {
        return (int)(replies[i * REPLY_STRIDE + R_KIND] >>> 32) & 0xFF;
    }

    int replyAttempts(final int i)
    {
        return (int)replies[i * REPLY_STRIDE + R_ATTEMPTS];
    }

    int replyMaxAttempts(final int i)
    {
        return (int)(replies[i * REPLY_STRIDE + R_ATTEMPTS] >>> 32);
    }

    long replyDocument(final int i)
    {
        return replies[i * REPLY_STRIDE + R_DOCUMENT];
    }

    int replyOffset(final int i)
    {
        return (int)replies[i * REPLY_STRIDE + R_OFFSET];
    }

    int replyTimeoutMillis(final int i)
    {
        return (int)(replies[i * REPLY_STRIDE + R_OFFSET] >>> 32);
    }

    long replySubmittedAt(final int i)
    {
        return replies[i * REPLY_STRIDE + R_SUBMITTED_AT];
    }

    long replyStartedAt(final int i)
    {
        return replies[i * REPLY_STRIDE + R_STARTED_AT];
    }

    long replyFinishedAt(final int i)
    {
        return replies[i * REPLY_STRIDE + R_FINISHED_AT];
    }

    long replyQueueNanos(final int i)
    {
        return replies[i * REPLY_STRIDE + R_QUEUE_NANOS];
    }

    long replyExecutionNanos(final int i)
    {
        return replies[i * REPLY_STRIDE + R_EXECUTION_NANOS];
    }
}
