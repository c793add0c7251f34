package io.gyre.engine;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable outcome of one submission.
 *
 * @param correlationId the correlation id the request carried.
 * @param taskId the task's id, or 0 when rejected before it got one.
 * @param state the terminal state; null when rejected; when {@link #unfinished()}, the state the task was left in
 *     (PENDING, RUNNING or RETRY_WAIT).
 * @param rejectReason why it was refused, or null.
 * @param attempts how many attempts ran.
 * @param duplicate whether this is the recorded outcome of an earlier submission of the same key.
 * @param output the output (empty unless SUCCEEDED).
 * @param error why it did not succeed (when unfinished: that the engine stopped first), or null.
 * @param submittedAt when the task was accepted (epoch nanoseconds).
 * @param startedAt when its last attempt started, or 0.
 * @param finishedAt when it reached its outcome, or 0.
 * @param queueNanos how long it waited: from acceptance (or its last redrive) to its first attempt's start, or to
 *     its outcome when none started.
 * @param executionNanos how long its attempts ran, added up (since its last redrive).
 */
public record Outcome(
    long correlationId,
    long taskId,
    TaskState state,
    RejectReason rejectReason,
    int attempts,
    boolean duplicate,
    byte[] output,
    String error,
    long submittedAt,
    long startedAt,
    long finishedAt,
    long queueNanos,
    long executionNanos)
{
    public boolean rejected()
    {
        return rejectReason != null;
    }

    /**
     * @return true when the engine stopped before the task finished: not an outcome of the task, which is
     *     journaled and carries on after the engine's next open (see {@link TaskOutcome#unfinished()}).
     */
    public boolean unfinished()
    {
        return state != null && !state.terminal();
    }

    public String outputAsString()
    {
        return new String(output, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Outcome other && correlationId == other.correlationId && taskId == other.taskId &&
            state == other.state && rejectReason == other.rejectReason && attempts == other.attempts &&
            duplicate == other.duplicate && Arrays.equals(output, other.output) && java.util.Objects.equals(error, other.error) &&
            submittedAt == other.submittedAt && startedAt == other.startedAt && finishedAt == other.finishedAt &&
            queueNanos == other.queueNanos && executionNanos == other.executionNanos;
    }

    @Override
    public int hashCode()
    {
        return Long.hashCode(taskId) * 31 + Arrays.hashCode(output);
    }

    @Override
    public String toString()
    {
        return rejected() ?
            "Outcome[rejected " + rejectReason + "]" :
            unfinished() ? "Outcome[task " + taskId + " unfinished (" + state + ") when the engine stopped, after " + attempts +
                " attempt(s)" + (duplicate ? ", duplicate" : "") + "]" :
            "Outcome[task " + taskId + " " + state + " after " + attempts + " attempt(s)" + (duplicate ? ", duplicate" : "") +
            (error != null ? ", error: " + error : "") + ", output " + output.length + " bytes]";
    }
}
