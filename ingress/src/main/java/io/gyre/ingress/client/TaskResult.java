package io.gyre.ingress.client;

import io.gyre.engine.TaskState;
import io.gyre.ingress.protocol.RejectCode;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What became of one submission: its outcome (a RESULT frame), or its refusal (a REJECTED frame).
 *
 * @param key the key submitted.
 * @param taskId the task's id, 0 when refused.
 * @param state the terminal state, null when refused.
 * @param rejectCode why it was refused, null when it was not; {@code rejectCode.code()} may be unknown to
 *     this client, see {@code rawRejectCode}.
 * @param rawRejectCode the reason code as received (0 when not refused).
 * @param attempts attempts run.
 * @param duplicate the key's outcome was already recorded; this submission ran nothing. Not set for the outcome of
 *     the task this submission was itself accepted as: when the client sent it again after a reconnect and the task
 *     had finished meanwhile, the server answers the resend as a duplicate (same task id as its first ACCEPTED), and
 *     the client reports it as this submission's own outcome. A submission sent again before any ACCEPTED of it
 *     arrived keeps the server's answer as it is (the client cannot tell whether the first try was journaled).
 * @param output the output when SUCCEEDED, else empty.
 * @param error why it did not succeed (or the refusal's message), else null.
 * @param submittedAt when the task was accepted, epoch nanoseconds (0 unknown).
 * @param startedAt when its last attempt started, epoch nanoseconds (0 unknown).
 * @param finishedAt when it ended, epoch nanoseconds (0 unknown).
 * @param queueNanos how long the task waited before its first attempt (since its last redrive), 0 when refused.
 * @param executionNanos how long its attempts ran, added up, 0 when refused or none ran.
 */
public record TaskResult(
    String key,
    long taskId,
    TaskState state,
    RejectCode rejectCode,
    int rawRejectCode,
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
        return rawRejectCode != 0;
    }

    public boolean succeeded()
    {
        return state == TaskState.SUCCEEDED;
    }

    public String outputAsString()
    {
        return new String(output, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof TaskResult r && taskId == r.taskId && state == r.state && rawRejectCode == r.rawRejectCode &&
            attempts == r.attempts && duplicate == r.duplicate && Arrays.equals(output, r.output) &&
            java.util.Objects.equals(key, r.key) && java.util.Objects.equals(error, r.error) &&
            submittedAt == r.submittedAt && startedAt == r.startedAt && finishedAt == r.finishedAt &&
            queueNanos == r.queueNanos && executionNanos == r.executionNanos;
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
            "TaskResult{key=" + key + ", rejected=" + (rejectCode != null ? rejectCode : rawRejectCode) + ", error=" + error + "}" :
            "TaskResult{key=" + key + ", taskId=" + taskId + ", state=" + state + ", attempts=" + attempts +
                (duplicate ? ", duplicate" : "") + ", output=" + output.length + " bytes" + (error != null ? ", error=" + error : "") + "}";
    }
}
