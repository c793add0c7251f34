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
    BLOCKING(1),
    /**
     * Asynchronous I/O: {@link TaskHandler#execute} runs on the execute stage, starts the work without
     * blocking and returns; the handler reports the result later, from any thread, through the same
     * {@link TaskContext} (which stays valid until then). Nothing waits on a thread meanwhile, so thousands
     * of attempts can be in flight. Returning from {@code execute} does not end the attempt: only
     * {@link TaskContext#succeed}, {@link TaskContext#fail} or a throw from {@code execute} does. Concurrency
     * is limited by {@link EngineConfig.Builder#maxAsyncInFlight} and the type's
     * {@link TaskHandler#maxConcurrency()}; beyond it tasks wait PENDING.
     */
    ASYNC(2),
    /**
     * CPU-bound work too long for the ring (milliseconds): handed off to a bounded pool with one thread per
     * core by default ({@link EngineConfig.Builder#cpuPoolThreads}). Like {@link #BLOCKING} otherwise.
     */
    CPU(3);

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
     * @return whether attempts of this mode leave the ring and come back as a result (every mode but INLINE).
     */
    public boolean handedOff()
    {
        return this != INLINE;
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
