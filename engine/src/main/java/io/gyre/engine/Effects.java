package io.gyre.engine;

import io.gyre.journal.RecordType;

import java.util.Arrays;

/**
 * What the sequence stage decided while handling one event, for the stages after it: attempts to
 * dispatch, derived records to journal, running attempts to stop, and replies to send. Written only by
 * the sequence stage; read by the execute and publish stages. Arrays grow on demand and are kept, so a
 * steady state allocates nothing.
 */
final class Effects
{
    // replies
    static final int REPLY_ACCEPTED = 1;
    static final int REPLY_OUTCOME = 2;
    static final int REPLY_REJECTED = 3;
    static final int REPLY_STATUS = 4;
    static final int REPLY_STARTED = 5;

    // where a reply's output or error comes from
    static final int SOURCE_NONE = 0;
    static final int SOURCE_THIS_EVENT = 1;
    static final int SOURCE_JOURNAL = 2;

    int dispatchCount;
    long[] dispatchTaskId = new long[4];
    int[] dispatchAttempt = new int[4];
    int[] dispatchHandler = new int[4];
    int[] dispatchMode = new int[4];
    boolean[] dispatchPayloadInEvent = new boolean[4];
    long[] dispatchSubmitDocument = new long[4];
    int[] dispatchSubmitOffset = new int[4];

    int derivedCount;
    RecordType[] derivedType = new RecordType[4];
    long[] derivedTaskId = new long[4];
    int[] derivedAttempt = new int[4];
    int[] derivedReason = new int[4];
    long[] derivedTime = new long[4];

    int stopCount;
    long[] stopTaskId = new long[4];
    int[] stopAttempt = new int[4];

    int replyCount;
    int[] replyKind = new int[4];
    Object[] replyTarget = new Object[4];
    long[] replyCorrelation = new long[4];
    long[] replyTaskId = new long[4];
    TaskState[] replyState = new TaskState[4];
    int[] replyAttempts = new int[4];
    int[] replyMaxAttempts = new int[4];
    boolean[] replyDuplicate = new boolean[4];
    int[] replySource = new int[4];
    long[] replyDocument = new long[4];
    int[] replyOffset = new int[4];
    int[] replyReason = new int[4];
    int[] replyTimeoutMillis = new int[4];
    long[] replySubmittedAt = new long[4];
    long[] replyStartedAt = new long[4];
    long[] replyFinishedAt = new long[4];

    void reset()
    {
        dispatchCount = 0;
        derivedCount = 0;
        stopCount = 0;
        if (replyCount > 0)
        {
            Arrays.fill(replyTarget, 0, replyCount, null);
            replyCount = 0;
        }
    }

    boolean isEmpty()
    {
        return dispatchCount == 0 && derivedCount == 0 && stopCount == 0 && replyCount == 0;
    }

    void dispatch(
        final long taskId,
        final int attempt,
        final int handler,
        final int mode,
        final boolean payloadInEvent,
        final long submitDocument,
        final int submitOffset)
    {
        if (dispatchCount == dispatchTaskId.length)
        {
            final int n = dispatchCount * 2;
            dispatchTaskId = Arrays.copyOf(dispatchTaskId, n);
            dispatchAttempt = Arrays.copyOf(dispatchAttempt, n);
            dispatchHandler = Arrays.copyOf(dispatchHandler, n);
            dispatchMode = Arrays.copyOf(dispatchMode, n);
            dispatchPayloadInEvent = Arrays.copyOf(dispatchPayloadInEvent, n);
            dispatchSubmitDocument = Arrays.copyOf(dispatchSubmitDocument, n);
            dispatchSubmitOffset = Arrays.copyOf(dispatchSubmitOffset, n);
        }
        final int i = dispatchCount++;
        dispatchTaskId[i] = taskId;
        dispatchAttempt[i] = attempt;
        dispatchHandler[i] = handler;
        dispatchMode[i] = mode;
        dispatchPayloadInEvent[i] = payloadInEvent;
        dispatchSubmitDocument[i] = submitDocument;
        dispatchSubmitOffset[i] = submitOffset;
    }

    void derived(final RecordType type, final long taskId, final int attempt, final int reason, final long time)
    {
        if (derivedCount == derivedType.length)
        {
            final int n = derivedCount * 2;
            derivedType = Arrays.copyOf(derivedType, n);
            derivedTaskId = Arrays.copyOf(derivedTaskId, n);
            derivedAttempt = Arrays.copyOf(derivedAttempt, n);
            derivedReason = Arrays.copyOf(derivedReason, n);
            derivedTime = Arrays.copyOf(derivedTime, n);
        }
        final int i = derivedCount++;
        derivedType[i] = type;
        derivedTaskId[i] = taskId;
        derivedAttempt[i] = attempt;
        derivedReason[i] = reason;
        derivedTime[i] = time;
    }

    void stop(final long taskId, final int attempt)
    {
        if (stopCount == stopTaskId.length)
        {
            stopTaskId = Arrays.copyOf(stopTaskId, stopCount * 2);
            stopAttempt = Arrays.copyOf(stopAttempt, stopCount * 2);
        }
        stopTaskId[stopCount] = taskId;
        stopAttempt[stopCount] = attempt;
        stopCount++;
    }

    /**
     * Add a reply; fill its details with the setters below on the returned index.
     */
    int reply(final int kind, final Object target, final long correlation, final long taskId)
    {
        if (replyCount == replyKind.length)
        {
            growReplies(replyCount * 2);
        }
        final int i = replyCount++;
        replyKind[i] = kind;
        replyTarget[i] = target;
        replyCorrelation[i] = correlation;
        replyTaskId[i] = taskId;
        replyState[i] = null;
        replyAttempts[i] = 0;
        replyMaxAttempts[i] = 0;
        replyDuplicate[i] = false;
        replySource[i] = SOURCE_NONE;
        replyDocument[i] = -1;
        replyOffset[i] = 0;
        replyReason[i] = 0;
        replyTimeoutMillis[i] = 0;
        replySubmittedAt[i] = 0;
        replyStartedAt[i] = 0;
        replyFinishedAt[i] = 0;
        return i;
    }

    private void growReplies(final int n)
    {
        replyKind = Arrays.copyOf(replyKind, n);
        replyTarget = Arrays.copyOf(replyTarget, n);
        replyCorrelation = Arrays.copyOf(replyCorrelation, n);
        replyTaskId = Arrays.copyOf(replyTaskId, n);
        replyState = Arrays.copyOf(replyState, n);
        replyAttempts = Arrays.copyOf(replyAttempts, n);
        replyMaxAttempts = Arrays.copyOf(replyMaxAttempts, n);
        replyDuplicate = Arrays.copyOf(replyDuplicate, n);
        replySource = Arrays.copyOf(replySource, n);
        replyDocument = Arrays.copyOf(replyDocument, n);
        replyOffset = Arrays.copyOf(replyOffset, n);
        replyReason = Arrays.copyOf(replyReason, n);
        replyTimeoutMillis = Arrays.copyOf(replyTimeoutMillis, n);
        replySubmittedAt = Arrays.copyOf(replySubmittedAt, n);
        replyStartedAt = Arrays.copyOf(replyStartedAt, n);
        replyFinishedAt = Arrays.copyOf(replyFinishedAt, n);
    }
}
