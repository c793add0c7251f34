package io.gyre.engine;

/**
 * Why a submission was refused. A refused submission was not accepted: nothing runs for it.
 */
public enum RejectReason
{
    /** The engine holds as many live tasks as it is configured for. Try again later. */
    CAPACITY(1),
    /** The engine is shutting down. */
    SHUTTING_DOWN(2),
    /** The journal could not record the submission, so it was not accepted. */
    JOURNAL_UNAVAILABLE(3),
    /** Too many submissions are already waiting on the same key's task. */
    TOO_MANY_WAITERS(4),
    /**
     * The engine is near its live-task limit and refuses this priority for now: LOW first (from
     * {@link EngineConfig.Builder#admission 80%} of the limit by default), then NORMAL (95%); HIGH only at
     * the limit itself (CAPACITY). Try again later, or with a higher priority.
     */
    BUSY(5),
    /**
     * The task type is not installed in this engine, although its journal holds tasks of it (the type's plugin was
     * removed), and the key has neither a task in flight to join nor a recorded outcome to answer with. A type
     * the journal does not know is refused before anything reaches the engine ({@link InvalidTaskException}).
     */
    UNKNOWN_TYPE(6);

    private final int code;

    RejectReason(final int code)
    {
        this.code = code;
    }

    /**
     * @return the code journaled in a REJECTED record.
     */
    public int code()
    {
        return code;
    }

    public static RejectReason fromCode(final int code)
    {
        for (final RejectReason reason : values())
        {
            if (reason.code == code)
            {
                return reason;
            }
        }
        return null;
    }
}
