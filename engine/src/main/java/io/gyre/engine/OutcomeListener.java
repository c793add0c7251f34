package io.gyre.engine;

/**
 * Receives what becomes of a submission. Called on the engine's publish thread, in order per task: at
 * most one {@link #onAccepted}, then exactly one {@link #onOutcome}. Must not block: every result of the
 * engine is delivered by that thread.
 * <p>
 * When the engine stops ({@link Engine#stop()}, {@link Engine#close()}) before the task of an accepted
 * submission finished, that one {@link #onOutcome} is an {@link TaskOutcome#unfinished() unfinished} outcome:
 * not rejected, its {@link TaskOutcome#state() state} the non-terminal one the task was left in (PENDING,
 * RUNNING or RETRY_WAIT), its {@link TaskOutcome#error() error} saying the engine stopped first. The task is
 * journaled and carries on after the engine's next open, where submitting the key again joins it or returns its
 * outcome. That call comes on the thread stopping the engine, after the engine's own threads ended (so never
 * at the same time as another call), before {@link Engine#stop()} returns; a {@link BatchingOutcomeListener}
 * then hears {@link BatchingOutcomeListener#onEndOfBatch()}.
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
     * The final outcome, or the refusal, of a submission; or, when the engine stopped first, that its task is
     * {@link TaskOutcome#unfinished() unfinished}.
     *
     * @param outcome valid only during this call; copy what you keep ({@link TaskOutcome#toOutcome()}).
     */
    void onOutcome(TaskOutcome outcome);
}
