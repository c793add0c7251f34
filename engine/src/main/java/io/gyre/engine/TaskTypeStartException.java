package io.gyre.engine;

/**
 * A task type's {@link TaskHandler#start()} threw, so {@link Engine#open} did not open the engine: the handlers
 * started before it were closed again and the journal was not touched. A type of its own so that a caller can tell
 * this failure from one of the journal's (a command line names the task type, not the journal, as the cause).
 */
public final class TaskTypeStartException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final String taskType;

    /**
     * @param taskType the type whose handler did not start.
     * @param cause    what its {@code start()} threw.
     */
    public TaskTypeStartException(final String taskType, final RuntimeException cause)
    {
        super("task type " + taskType + " cannot start: " + cause.getMessage(), cause);
        this.taskType = taskType;
    }

    /**
     * @return the type whose handler did not start.
     */
    public String taskType()
    {
        return taskType;
    }
}
