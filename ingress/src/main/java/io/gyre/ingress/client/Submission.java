package io.gyre.ingress.client;

import io.gyre.engine.Backoff;
import io.gyre.engine.Priority;
import io.gyre.engine.TaskRequest;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * A task to submit over the wire. Required: a key and a type; everything else has a default (the
 * server's task type defaults for timeout and attempts, normal priority, an empty payload).
 * Immutable once handed to the client: build a new one per task.
 * <p>
 * A null key, type, payload or tenant throws NullPointerException naming it; a String with an unpaired surrogate,
 * which UTF-8 cannot encode (Java's encoder would send it as {@code ?}, so different keys would be one key), throws
 * IllegalArgumentException naming the field.
 */
public final class Submission
{
    private static final byte[] EMPTY = new byte[0];

    final String key;
    final byte[] keyBytes;
    final byte[] type;
    byte[] payload = EMPTY;
    byte[] tenant = EMPTY;
    Priority priority = Priority.NORMAL;
    int timeoutMillis;
    int maxAttempts;
    boolean deadLetter = true;
    Backoff backoff;
    LongConsumer onAccepted;

    private Submission(final String key, final String type)
    {
        this.key = Objects.requireNonNull(key, "key");
        this.keyBytes = utf8("key", key);
        this.type = utf8("type", Objects.requireNonNull(type, "type"));
    }

    /**
     * @param key the idempotency key: submitting it again returns the recorded outcome instead of running again.
     * @param type a task type registered on the server ({@code noop}, {@code echo}, or your own).
     */
    public static Submission of(final String key, final String type)
    {
        return new Submission(key, type);
    }

    public Submission payload(final byte[] value)
    {
        payload = Objects.requireNonNull(value, "payload");
        return this;
    }

    public Submission payload(final String utf8)
    {
        return payload(utf8("payload", Objects.requireNonNull(utf8, "payload")));
    }

    public Submission tenant(final String value)
    {
        tenant = utf8("tenant", Objects.requireNonNull(value, "tenant"));
        return this;
    }

    /**
     * @return {@code value} as UTF-8.
     * @throws IllegalArgumentException naming {@code field} when it has a surrogate without its pair, which
     *     {@link String#getBytes} would silently replace with {@code ?}.
     */
    static byte[] utf8(final String field, final String value)
    {
        final int at = TaskRequest.unpairedSurrogate(value);
        if (at >= 0)
        {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                "%s has an unpaired surrogate (U+%04X) at index %d, which UTF-8 cannot encode", field, (int)value.charAt(at), at));
        }
        return value.getBytes(StandardCharsets.UTF_8);
    }

    public Submission priority(final Priority value)
    {
        priority = Objects.requireNonNull(value, "priority");
        return this;
    }

    /** Timeout of each attempt; 0 for the task type's default. */
    public Submission timeoutMillis(final int value)
    {
        timeoutMillis = value;
        return this;
    }

    /** Attempts in all; 0 for the task type's default. */
    public Submission maxAttempts(final int value)
    {
        maxAttempts = value;
        return this;
    }

    /**
     * The wait between attempts after a retryable failure; unset (or null), the task type's default, else the
     * server's. Sent with the multiplier in hundredths and the jitter in thousandths: a multiplier with more than two
     * decimals (1.005), or a jitter with more than three (0.0005), throws IllegalArgumentException naming it, rather
     * than be rounded.
     */
    public Submission backoff(final Backoff value)
    {
        final String problem = value == null ? null : io.gyre.ingress.protocol.Frames.retryPolicyPrecisionProblem(value);
        if (problem != null)
        {
            throw new IllegalArgumentException(problem);
        }
        backoff = value;
        return this;
    }

    /** Whether a task that finally fails (or times out on its last attempt) is dead-lettered (default) or left FAILED / TIMED_OUT. */
    public Submission deadLetter(final boolean value)
    {
        deadLetter = value;
        return this;
    }

    /**
     * Called (on the client's I/O thread, must not block) with the task id when the server says the
     * submission is journaled. Not called for a duplicate whose outcome was already recorded. Called at most once
     * per submission: when the client sends it again after a reconnect, the server's second ACCEPTED (the resend
     * joining the task it had journaled) is not reported.
     */
    public Submission onAccepted(final LongConsumer callback)
    {
        onAccepted = callback;
        return this;
    }

    public String key()
    {
        return key;
    }
}
