package io.gyre.engine;

/**
 * The engine tried a lifecycle move that {@link TaskTransitions} does not allow: a bug, never a business outcome.
 */
public final class IllegalTaskStateTransitionException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final long taskId;
    private final TaskState from;
    private final TaskState to;

    public IllegalTaskStateTransitionException(final long taskId, final TaskState from, final TaskState to)
    {
        super("task " + taskId + " cannot move from " + from + " to " + to);
        this.taskId = taskId;
        this.from = from;
        this.to = to;
    }

    public long taskId()
    {
        return taskId;
    }

    public TaskState from()
    {
        return from;
    }

    public TaskState to()
    {
        return to;
    }
}
