package io.gyre.ingress.protocol;

import io.gyre.engine.RejectReason;

/**
 * Reason codes of REJECTED frames: why a submission was not accepted. A rejected submission ran nothing
 * and recorded no outcome for its key; it may be sent again. Codes 1 to 15 are the engine's own
 * {@link RejectReason} codes.
 */
public enum RejectCode
{
    /** The engine holds as many live tasks as it is configured for. Retry later. */
    CAPACITY(RejectReason.CAPACITY.code()),
    /** The engine is shutting down. */
    SHUTTING_DOWN(RejectReason.SHUTTING_DOWN.code()),
    /** The journal could not record the submission. */
    JOURNAL_UNAVAILABLE(RejectReason.JOURNAL_UNAVAILABLE.code()),
    /** Too many submissions already wait on the same key's task. */
    TOO_MANY_WAITERS(RejectReason.TOO_MANY_WAITERS.code()),
    /** The engine is near its live-task limit and sheds this priority for now (LOW first). Retry later or higher. */
    BUSY_FOR_PRIORITY(RejectReason.BUSY.code()),
    /** The engine's ring is full and the server is configured to refuse rather than pause reading. */
    BUSY(16),
    /** A field is out of range (the message names it): empty or too long key, too large payload, bad priority... */
    INVALID_TASK(17),
    /** No handler is registered for the task type. */
    UNKNOWN_TYPE(18),
    /** The server could not answer a status or cancel request (the message says why); retry. */
    UNAVAILABLE(19),
    /** A SUBSCRIBE on a connection that already has a subscription (one per connection; UNSUBSCRIBE first). */
    ALREADY_SUBSCRIBED(20),
    /** The server has as many status subscriptions open as it is configured for; retry later. */
    TOO_MANY_SUBSCRIPTIONS(21);

    private static final RejectCode[] VALUES = values();

    private final int code;

    RejectCode(final int code)
    {
        this.code = code;
    }

    public int code()
    {
        return code;
    }

    public static RejectCode of(final RejectReason reason)
    {
        return switch (reason)
        {
            case CAPACITY -> CAPACITY;
            case SHUTTING_DOWN -> SHUTTING_DOWN;
            case JOURNAL_UNAVAILABLE -> JOURNAL_UNAVAILABLE;
            case TOO_MANY_WAITERS -> TOO_MANY_WAITERS;
            case BUSY -> BUSY_FOR_PRIORITY;
            case UNKNOWN_TYPE -> UNKNOWN_TYPE;
        };
    }

    /**
     * @return the code's constant, or null for a code this version does not know.
     */
    public static RejectCode fromCode(final int code)
    {
        for (final RejectCode value : VALUES)
        {
            if (value.code == code)
            {
                return value;
            }
        }
        return null;
    }
}
