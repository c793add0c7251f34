package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One attempt of a task, as its handler sees it. A context is reused: it is valid only until the
 * attempt's result is reported (or, except for {@link ExecutionMode#ASYNC} handlers, until
 * {@link TaskHandler#execute} returns).
 * <p>
 * An ASYNC handler may report the result from any thread, once; the first report wins and later ones are
 * ignored. Its {@link #payload()} is valid only while {@code execute} runs: copy what is needed later.
 */
public interface TaskContext
{
    /** @return the task's id (the event id of its submission). */
    long taskId();

    /** @return the attempt number, from 1. */
    int attempt();

    /** @return the submitted payload; bytes {@code [0, payloadLength())}. */
    DirectBuffer payload();

    int payloadLength();

    /** @return when the task was submitted (journaled), epoch nanoseconds: the same for every attempt and after a restart. */
    long submittedAt();

    /**
     * Hold the outcome of this attempt, once it succeeds, until a time: the result is journaled at once,
     * with the time, and the task stays RUNNING until then, on the engine's timer (no thread, nothing but
     * the task's own record); a restart keeps the time, cancelling ends it early. A time already past
     * releases the outcome at once. Call it before reporting success; a failure is never held.
     *
     * @param epochNanos when the outcome may be released.
     */
    void holdUntil(long epochNanos);

    /** @return the task type name. */
    String taskType();

    /** @return true once the engine has asked this attempt to stop (cancelled, timed out, or shutting down). */
    boolean stopRequested();

    /**
     * Run this when the engine asks the attempt to stop (it was cancelled or timed out), on the thread that
     * asks; at once when it already has. For ASYNC handlers, to abort the work in flight. An ASYNC attempt
     * that has not reported once its stop actions have run is ended by the engine as cancelled.
     * <p>
     * An action must not block: it may run on the engine's execute stage, which a report of this very
     * attempt (on another thread) may be waiting on for room in the ring.
     */
    void onStop(Runnable action);

    /**
     * @return the most bytes an output may have (the engine's {@code maxOutputBytes}): a longer one fails the
     *     attempt permanently. A handler that builds its output piece by piece should stop, and fail, as soon as
     *     it passes this, rather than build it whole first (a small payload can describe a huge output). Contexts
     *     made outside an engine (in tests) may not limit it: {@link Integer#MAX_VALUE}.
     */
    default int maxOutputBytes()
    {
        return Integer.MAX_VALUE;
    }

    /**
     * A buffer to write the output into, then report it with {@link #succeed(int)}.
     *
     * @param capacity how many bytes the output needs at most.
     * @throws TaskFailure (permanent) when that is more than the engine's maximum output size.
     */
    MutableDirectBuffer outputBuffer(int capacity) throws TaskFailure;

    /**
     * Succeed with the first {@code length} bytes of {@link #outputBuffer}: at most the capacity this attempt last asked
     * it for (more, or more than 0 without asking, fails the attempt permanently). Bytes of it the handler did not write
     * are zeros.
     */
    void succeed(int length);

    /** Succeed with a copy of these bytes as the output. */
    void succeed(DirectBuffer output, int offset, int length);

    /** Succeed with a copy of these bytes as the output. */
    void succeed(byte[] output);

    /**
     * Fail the attempt.
     *
     * @param retryable whether another attempt could succeed.
     * @param message why, for people (at most 1,024 bytes of UTF-8 are kept: a longer one is cut at a character
     *     boundary and ends with U+2026, {@code …}); null or empty is journaled as {@code failed (the handler gave no
     *     reason)}.
     */
    void fail(boolean retryable, String message);
}
