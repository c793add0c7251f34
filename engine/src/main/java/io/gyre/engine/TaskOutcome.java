package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * The outcome of one submission, as an {@link OutcomeListener} sees it: a reusable view, valid only
 * during the callback.
 */
public final class TaskOutcome
{
    private static final byte[] EMPTY = new byte[0];

    private final UnsafeBuffer output = new UnsafeBuffer(EMPTY);
    private long correlationId;
    private long taskId;
    private TaskState state;
    private RejectReason rejectReason;
    private int attempts;
    private boolean duplicate;
    private int outputOffset;
    private int outputLength;
    private String error;
    private long submittedAt;
    private long startedAt;
    private long finishedAt;
    private long queueNanos;
    private long executionNanos;

    TaskOutcome reset(final long correlationId, final long taskId)
    {
        this.correlationId = correlationId;
        this.taskId = taskId;
        state = null;
        rejectReason = null;
        attempts = 0;
        duplicate = false;
        output.wrap(EMPTY);
        outputOffset = 0;
        outputLength = 0;
        error = null;
        submittedAt = 0;
        startedAt = 0;
        finishedAt = 0;
        queueNanos = 0;
        executionNanos = 0;
        return this;
    }

    TaskOutcome rejected(final RejectReason reason)
    {
        rejectReason = reason;
        return this;
    }

    TaskOutcome completed(final TaskState state, final int attempts, final boolean duplicate)
    {
        this.state = state;
        this.attempts = attempts;
        this.duplicate = duplicate;
        return this;
    }

    TaskOutcome output(final DirectBuffer buffer, final int offset, final int length)
    {
        output.wrap(buffer);
        outputOffset = offset;
        outputLength = length;
        return this;
    }

    TaskOutcome error(final String message)
    {
        error = message;
        return this;
    }

    TaskOutcome times(final long submittedAt, final long startedAt, final long finishedAt)
    {
        this.submittedAt = submittedAt;
        this.startedAt = startedAt;
        this.finishedAt = finishedAt;
        return this;
    }

    TaskOutcome accounting(final long queueNanos, final long executionNanos)
    {
        this.queueNanos = queueNanos;
        this.executionNanos = executionNanos;
        return this;
    }

    /** @return the correlation id the request carried. */
    public long correlationId()
    {
        return correlationId;
    }

    /** @return the task's id, or 0 when the submission was rejected before it got one. */
    public long taskId()
    {
        return taskId;
    }

    /** @return true when the submission was refused; then {@link #state()} is null. */
    public boolean rejected()
    {
        return rejectReason != null;
    }

    public RejectReason rejectReason()
    {
        return rejectReason;
    }

    /**
     * @return the task's terminal state; null when rejected; when {@link #unfinished()}, the state the task was
     *     left in (PENDING, RUNNING or RETRY_WAIT).
     */
    public TaskState state()
    {
        return state;
    }

    /**
     * @return true when the engine stopped before the task finished: no outcome, but the task is journaled and
     *     carries on after the engine's next open (where submitting the key again joins it or returns its
     *     outcome). {@link #state()} is where it was left, never terminal; {@link #error()} says so. The last
     *     answer this engine gives the submission.
     */
    public boolean unfinished()
    {
        return state != null && !state.terminal();
    }

    /** @return how many attempts ran. */
    public int attempts()
    {
        return attempts;
    }

    /** @return true when this answers a resubmitted key with the outcome recorded earlier. */
    public boolean duplicate()
    {
        return duplicate;
    }

    /** @return the buffer holding the output, at {@link #outputOffset()} for {@link #outputLength()} bytes. */
    public DirectBuffer outputBuffer()
    {
        return output;
    }

    public int outputOffset()
    {
        return outputOffset;
    }

    public int outputLength()
    {
        return outputLength;
    }

    /** @return a copy of the output. */
    public byte[] output()
    {
        final byte[] bytes = new byte[outputLength];
        output.getBytes(outputOffset, bytes);
        return bytes;
    }

    public String outputAsString()
    {
        return new String(output(), StandardCharsets.UTF_8);
    }

    /**
     * @return why the task did not succeed; for a refused submission, what the engine says beyond the
     *     {@link #rejectReason() reason} (for JOURNAL_UNAVAILABLE, the journal's error); for an
     *     {@link #unfinished()} one, that the engine stopped first; or null.
     */
    public String error()
    {
        return error;
    }

    /** @return when the task was accepted (epoch nanoseconds). */
    public long submittedAt()
    {
        return submittedAt;
    }

    /** @return when the last attempt started (epoch nanoseconds), or 0. */
    public long startedAt()
    {
        return startedAt;
    }

    /** @return when the task reached its outcome (epoch nanoseconds), or 0. */
    public long finishedAt()
    {
        return finishedAt;
    }

    /**
     * @return how long the task waited: from its acceptance (or its last redrive) to its first attempt's start, or
     *     to its outcome when no attempt started; 0 when rejected.
     */
    public long queueNanos()
    {
        return queueNanos;
    }

    /**
     * @return how long its attempts ran, added up: each from its start to its result, its timeout or its
     *     cancellation (since the last redrive); 0 when rejected or none started.
     */
    public long executionNanos()
    {
        return executionNanos;
    }

    /** @return an immutable copy. */
    public Outcome toOutcome()
    {
        return new Outcome(correlationId, taskId, state, rejectReason, attempts, duplicate, output(), error,
            submittedAt, startedAt, finishedAt, queueNanos, executionNanos);
    }

    @Override
    public String toString()
    {
        return toOutcome().toString();
    }
}
