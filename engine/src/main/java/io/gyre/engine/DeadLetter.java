package io.gyre.engine;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the dead-letter list: a task that failed permanently, used up its attempts or timed out on its
 * last one, waiting to be redriven or purged.
 *
 * @param cursor its place in the list: entries are numbered 1, 2, 3... in the order they were dead-lettered
 *     (never reused); pass it to {@link Engine#deadLetters} to list the entries after it.
 * @param taskId the task's id.
 * @param key the task's idempotency key (see {@link #keyAsString()}).
 * @param type the task type it was submitted with.
 * @param reason why it was dead-lettered.
 * @param attempts the number of its last attempt.
 * @param submittedAt when it was accepted (epoch nanoseconds).
 * @param deadLetteredAt when it was dead-lettered (epoch nanoseconds: its last attempt's end, or its timeout).
 * @param error its last error, as its outcome reports it.
 */
public record DeadLetter(
    long cursor,
    long taskId,
    byte[] key,
    String type,
    DeadLetterReason reason,
    int attempts,
    long submittedAt,
    long deadLetteredAt,
    String error)
{
    /** @return the key as UTF-8 text. */
    public String keyAsString()
    {
        return new String(key, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof DeadLetter other && cursor == other.cursor && taskId == other.taskId && Arrays.equals(key, other.key) &&
            Objects.equals(type, other.type) && reason == other.reason && attempts == other.attempts &&
            submittedAt == other.submittedAt && deadLetteredAt == other.deadLetteredAt && Objects.equals(error, other.error);
    }

    @Override
    public int hashCode()
    {
        return Long.hashCode(cursor) * 31 + Long.hashCode(taskId);
    }

    @Override
    public String toString()
    {
        return "DeadLetter[" + cursor + ": task " + taskId + " key " + keyAsString() + " (" + type + ") " + reason + " after " +
            attempts + " attempt(s): " + error + "]";
    }
}
