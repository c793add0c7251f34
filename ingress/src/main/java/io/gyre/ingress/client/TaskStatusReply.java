package io.gyre.ingress.client;

import io.gyre.engine.TaskState;

import java.nio.charset.StandardCharsets;

/**
 * A STATUS_REPLY or CANCEL_REPLY: what the server knows of the task with a key.
 *
 * @param key the key asked about.
 * @param found false when no task with this key is live or remembered; the other fields are then empty.
 * @param taskId the task's id.
 * @param state its state (after the cancel, for a cancel reply).
 * @param attempts attempts started so far.
 * @param maxAttempts attempts it may have.
 * @param submittedAt when it was accepted, epoch nanoseconds.
 * @param startedAt when its last attempt started (terminal tasks only), else 0.
 * @param finishedAt when it ended (terminal tasks only), else 0.
 * @param body the output (SUCCEEDED) or the error message's UTF-8 (other terminal states), else empty.
 */
public record TaskStatusReply(
    String key,
    boolean found,
    long taskId,
    TaskState state,
    int attempts,
    int maxAttempts,
    long submittedAt,
    long startedAt,
    long finishedAt,
    byte[] body)
{
    public String bodyAsString()
    {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString()
    {
        return found ?
            "TaskStatusReply{key=" + key + ", taskId=" + taskId + ", state=" + state + ", attempts=" + attempts + "/" + maxAttempts + "}" :
            "TaskStatusReply{key=" + key + ", not found}";
    }
}
