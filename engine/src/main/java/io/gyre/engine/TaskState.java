package io.gyre.engine;

/**
 * Where a task is in its life. Allowed moves between states are {@link TaskTransitions}' table; every
 * move is caused by, and recorded in, a journal record.
 */
public enum TaskState
{
    /** Accepted, waiting to run (for a pool slot, or after a restart interrupted its attempt). */
    PENDING(0, false),
    /** An attempt is running. */
    RUNNING(1, false),
    /** An attempt failed and another is scheduled after a backoff. */
    RETRY_WAIT(2, false),
    /** Terminal: an attempt succeeded; the outcome holds its output. */
    SUCCEEDED(3, true),
    /** Terminal: it failed and dead-lettering was off for it. */
    FAILED(4, true),
    /** Terminal: cancelled by request. */
    CANCELLED(5, true),
    /** Terminal: its last attempt ran past its timeout. */
    TIMED_OUT(6, true),
    /** Terminal: it failed permanently or exhausted its attempts, and waits in the dead-letter list. */
    DEAD_LETTERED(7, true);

    private static final TaskState[] BY_CODE = values();

    private final int code;
    private final boolean terminal;

    TaskState(final int code, final boolean terminal)
    {
        this.code = code;
        this.terminal = terminal;
    }

    public int code()
    {
        return code;
    }

    public boolean terminal()
    {
        return terminal;
    }

    public static TaskState fromCode(final int code)
    {
        return BY_CODE[code];
    }
}
