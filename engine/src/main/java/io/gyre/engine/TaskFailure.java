package io.gyre.engine;

/**
 * Thrown by a handler to fail an attempt and say whether retrying can help.
 */
public class TaskFailure extends Exception
{
    private static final long serialVersionUID = 1L;

    private final boolean retryable;

    public TaskFailure(final String message, final boolean retryable)
    {
        super(message, null, false, false);
        this.retryable = retryable;
    }

    public static TaskFailure permanent(final String message)
    {
        return new TaskFailure(message, false);
    }

    public static TaskFailure retryable(final String message)
    {
        return new TaskFailure(message, true);
    }

    public boolean retryable()
    {
        return retryable;
    }
}
