package io.gyre.engine;

/**
 * The engine stopped before the task this submission was accepted for (or joined) finished: how a future from
 * {@link Engine#submit(TaskRequest)} completes then. This is not the task's outcome: the task is journaled and
 * still live there ({@link #state()} is where it was left: PENDING, RUNNING or RETRY_WAIT, never a terminal
 * state), and it carries on after the next {@link Engine#open open} of the journal, where submitting its key
 * again joins it or returns its outcome. An {@link OutcomeListener} hears the same as an
 * {@link TaskOutcome#unfinished() unfinished} outcome.
 */
public final class TaskUnfinishedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final String key;
    private final transient Outcome outcome;

    public TaskUnfinishedException(final String key, final Outcome outcome)
    {
        super(message(key, outcome.taskId(), outcome.state()));
        this.key = key;
        this.outcome = outcome;
    }

    /**
     * @return what the engine says of a submission whose task it left unfinished at its stop.
     */
    static String message(final String key, final long taskId, final TaskState state)
    {
        return "task " + taskId + (key != null ? " of key " + key : "") + " was " + state +
            " when the engine stopped: it is journaled and carries on after the next open, where submitting its key again " +
            "joins it or returns its outcome";
    }

    /** @return the submission's idempotency key (as UTF-8), or null when it could not be read back. */
    public String key()
    {
        return key;
    }

    /** @return the task's id. */
    public long taskId()
    {
        return outcome.taskId();
    }

    /** @return the state the task was left in: PENDING, RUNNING (an attempt or a held outcome) or RETRY_WAIT. */
    public TaskState state()
    {
        return outcome.state();
    }

    /** @return the unfinished outcome, as an {@link OutcomeListener} hears it. */
    public Outcome outcome()
    {
        return outcome;
    }
}
