package io.gyre.engine;

/**
 * What the engine knows of the task with a key.
 *
 * @param key the key asked about.
 * @param found false when no task with this key is live or remembered (never submitted, or forgotten
 *     after the dedupe window); the other fields are then empty.
 * @param taskId the task's id.
 * @param state its state now.
 * @param attempts attempts started so far.
 * @param maxAttempts attempts it may have.
 * @param submittedAt when it was accepted (epoch nanoseconds).
 * @param outcome its outcome once terminal, else null.
 */
public record TaskStatus(
    String key,
    boolean found,
    long taskId,
    TaskState state,
    int attempts,
    int maxAttempts,
    long submittedAt,
    Outcome outcome)
{
    static TaskStatus notFound(final String key)
    {
        return new TaskStatus(key, false, 0, null, 0, 0, 0, null);
    }
}
