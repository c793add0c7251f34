package io.gyre.engine;

/**
 * Why a task was dead-lettered: the reason code of its {@code DEAD_LETTERED} journal record.
 */
public enum DeadLetterReason
{
    /** Its handler failed it permanently: retrying would fail the same way. */
    PERMANENT_FAILURE(1),
    /** Its last attempt failed (retryably) and it had no attempts left. */
    ATTEMPTS_EXHAUSTED(2),
    /** Its last attempt ran past its timeout and it had no attempts left. */
    TIMED_OUT(3);

    private final int code;

    DeadLetterReason(final int code)
    {
        this.code = code;
    }

    /** @return the code journaled and sent on the wire. */
    public int code()
    {
        return code;
    }

    /** @return the reason with this code, or null for a code this version does not know. */
    public static DeadLetterReason fromCode(final int code)
    {
        for (final DeadLetterReason reason : values())
        {
            if (reason.code == code)
            {
                return reason;
            }
        }
        return null;
    }
}
