package io.gyre.engine;

/**
 * Where a task type's handler runs.
 */
public enum ExecutionMode
{
    /**
     * On the engine's execute stage, inside the ring pass: for short, non-blocking work (microseconds). A
     * handler that blocks here stalls every task behind it.
     */
    INLINE(0),
    /**
     * Handed off to the engine's bounded blocking pool; the result comes back through the ring. For work
     * that blocks or takes long. Concurrency is limited by the pool's size; tasks beyond it wait PENDING.
     */
    BLOCKING(1);

    private final int code;

    ExecutionMode(final int code)
    {
        this.code = code;
    }

    /**
     * @return the code journaled in a SUBMITTED record.
     */
    public int code()
    {
        return code;
    }

    /**
     * @return the mode with this journal code, or null when this build does not know it.
     */
    public static ExecutionMode fromCode(final int code)
    {
        for (final ExecutionMode mode : values())
        {
            if (mode.code == code)
            {
                return mode;
            }
        }
        return null;
    }
}
