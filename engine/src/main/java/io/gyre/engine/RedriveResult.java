package io.gyre.engine;

/**
 * The answer to a redrive request.
 *
 * @param key the key asked about.
 * @param outcome what happened.
 * @param taskId for {@link RedriveOutcome#REDRIVEN}, the task (same id as before); otherwise the key's task
 *     that is live or remembered, or 0 when there is none.
 * @param state that task's state now (RETRY_WAIT once redriven: it runs at the next tick), or null when there
 *     is no task.
 * @param attempts the number of that task's last attempt so far.
 * @param maxAttempts the last attempt it may make (for a redriven task: attempts plus its submission's max
 *     attempts).
 * @param message what happened, for people.
 */
public record RedriveResult(
    String key,
    RedriveOutcome outcome,
    long taskId,
    TaskState state,
    int attempts,
    int maxAttempts,
    String message)
{
    /** @return true when the task was redriven. */
    public boolean redriven()
    {
        return outcome == RedriveOutcome.REDRIVEN;
    }
}
