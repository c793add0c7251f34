package io.gyre.engine;

/**
 * What became of a request to redrive the dead-lettered task of a key. Only {@link #REDRIVEN} changes
 * anything.
 */
public enum RedriveOutcome
{
    /** The task waits to run again, under the same key and task id, with a fresh budget of attempts. */
    REDRIVEN(0),
    /** No dead letter has this key: the key is unknown, or its task is live or finished otherwise (or was purged). */
    NOT_DEAD_LETTERED(1),
    /**
     * The key has a dead letter, but a later task of the same key (submitted once the dedupe window had
     * forgotten the first) is live or remembered: redriving would give the key two tasks. Purge the letter.
     */
    SUPERSEDED(2),
    /** The engine holds as many live tasks as it is configured for. Try again later. */
    CAPACITY(3),
    /** The task has used so many attempts that a fresh budget would pass {@link Engine#MAX_ATTEMPTS_PER_TASK}. */
    ATTEMPTS_LIMIT(4),
    /** The task's submission is no longer in the journal, so it cannot run again. */
    SUBMISSION_MISSING(5);

    private final int code;

    RedriveOutcome(final int code)
    {
        this.code = code;
    }

    /** @return the code sent on the wire. */
    public int code()
    {
        return code;
    }

    /** @return the outcome with this code, or null for a code this version does not know. */
    public static RedriveOutcome fromCode(final int code)
    {
        for (final RedriveOutcome outcome : values())
        {
            if (outcome.code == code)
            {
                return outcome;
            }
        }
        return null;
    }
}
