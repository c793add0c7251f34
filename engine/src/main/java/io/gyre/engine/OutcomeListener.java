package io.gyre.engine;

/**
 * Receives what becomes of a submission. Called on the engine's publish thread, in order per task: at
 * most one {@link #onAccepted}, then exactly one {@link #onOutcome}. Must not block: every result of the
 * engine is delivered by that thread.
 */
public interface OutcomeListener
{
    /**
     * The submission is journaled and accepted (a new task, or it joined the task already running for the
     * same key). Its outcome follows.
     */
    default void onAccepted(final long correlationId, final long taskId)
    {
    }

    /**
     * The final outcome, or the refusal, of a submission.
     *
     * @param outcome valid only during this call; copy what you keep ({@link TaskOutcome#toOutcome()}).
     */
    void onOutcome(TaskOutcome outcome);
}
