package io.gyre.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dead letter with the original request, as it was submitted (defaults resolved): what {@link Engine#deadLetter}
 * answers.
 *
 * @param letter the entry itself.
 * @param priority the task's priority.
 * @param tenant who the task is for (may be empty).
 * @param timeoutMillis the timeout of each attempt.
 * @param maxAttempts the attempts it was submitted with (a redrive gives it this many more).
 * @param payload its payload.
 */
public record DeadLetterDetails(
    DeadLetter letter,
    Priority priority,
    byte[] tenant,
    int timeoutMillis,
    int maxAttempts,
    byte[] payload)
{
    @Override
    public boolean equals(final Object o)
    {
        return o instanceof DeadLetterDetails other && Objects.equals(letter, other.letter) && priority == other.priority &&
            Arrays.equals(tenant, other.tenant) && timeoutMillis == other.timeoutMillis && maxAttempts == other.maxAttempts &&
            Arrays.equals(payload, other.payload);
    }

    @Override
    public int hashCode()
    {
        return letter.hashCode() * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString()
    {
        return "DeadLetterDetails[" + letter + ", " + priority + ", timeout " + timeoutMillis + " ms, " + maxAttempts +
            " attempt(s), payload " + payload.length + " bytes]";
    }
}
