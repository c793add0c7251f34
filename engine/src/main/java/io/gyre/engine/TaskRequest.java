package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * A task to submit. Mutable and reusable by the thread that owns it: the engine copies what it needs
 * before {@code submit} returns, so one request can be refilled for the next task without allocating.
 * <p>
 * Required: an idempotency key and a task type. Everything else has a default: an empty payload, normal
 * priority, and the task type's (or the engine's) timeout, attempts and backoff.
 * <p>
 * A setter given what no submission could carry throws {@link InvalidTaskException} naming the field: a null key,
 * payload or tenant (or array or buffer), a slice outside its array or buffer, and a String that is not text, with
 * an unpaired surrogate, that UTF-8 cannot encode (Java's encoder would write it as {@code ?}, so different keys
 * would be one key). Everything else (a missing key or type, lengths, ranges) is checked by {@code Engine.submit}.
 */
public final class TaskRequest
{
    private static final byte[] EMPTY = new byte[0];

    private final UnsafeBuffer key = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer payload = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer tenant = new UnsafeBuffer(0, 0);
    private String type;
    private Priority priority = Priority.NORMAL;
    private int timeoutMillis;
    private int maxAttempts;
    private int backoffInitialMillis;
    private int backoffMaxMillis;
    private float backoffMultiplier;
    private float backoffJitter = -1;
    private boolean deadLetter = true;
    /**
     * The handler id the engine last resolved {@link #type} to, and for which string and handlers: a request reused
     * with the same type string (a connection's, a load loop's) is not looked up again. Kept across {@link #clear()}.
     */
    private String resolvedType;
    private long resolvedBy;
    private int resolvedId;
    private long correlationId;

    public TaskRequest()
    {
        clear();
    }

    /**
     * Forget everything set, back to the defaults (no key, no type).
     */
    public TaskRequest clear()
    {
        key.wrap(EMPTY);
        payload.wrap(EMPTY);
        tenant.wrap(EMPTY);
        type = null;
        priority = Priority.NORMAL;
        timeoutMillis = 0;
        maxAttempts = 0;
        backoffInitialMillis = 0;
        backoffMaxMillis = 0;
        backoffMultiplier = 0;
        backoffJitter = -1;
        deadLetter = true;
        correlationId = 0;
        return this;
    }

    /**
     * The idempotency key, as UTF-8 (allocates; use a byte overload on hot paths).
     *
     * @throws InvalidTaskException (field {@code key}) when it is null or has an unpaired surrogate.
     */
    public TaskRequest key(final String value)
    {
        key.wrap(utf8("key", value));
        return this;
    }

    /**
     * The idempotency key: the bytes are read, not copied, until submit returns.
     *
     * @throws InvalidTaskException (field {@code key}) when the array is null or the slice is outside it.
     */
    public TaskRequest key(final byte[] bytes, final int offset, final int length)
    {
        key.wrap(slice("key", bytes, offset, length), offset, length);
        return this;
    }

    /** @throws InvalidTaskException (field {@code key}) when the buffer is null or the slice is outside it. */
    public TaskRequest key(final DirectBuffer buffer, final int offset, final int length)
    {
        key.wrap(slice("key", buffer, offset, length), offset, length);
        return this;
    }

    /** The task type: a registered handler's {@link TaskHandler#type()}. */
    public TaskRequest type(final String value)
    {
        type = value;
        return this;
    }

    /** Where this submission runs, resolved by the engine as it validates it, before it claims a ring slot. */
    ExecutionMode resolvedMode;

    /**
     * @return the id of this request's type in {@code registry} ({@link HandlerRegistry#UNKNOWN} when it has none),
     *     looked up only when the type string or the registry changed since the last call.
     */
    int handlerId(final HandlerRegistry registry)
    {
        final String current = type;
        // the registry by its number, not a reference: a request kept by its caller must not keep a closed engine's
        // handlers reachable
        if (current != resolvedType || registry.identity != resolvedBy)
        {
            resolvedId = registry.idOf(current);
            resolvedType = current;
            resolvedBy = registry.identity;
        }
        return resolvedId;
    }

    /** @throws InvalidTaskException (field {@code payload}) when it is null or has an unpaired surrogate. */
    public TaskRequest payload(final String utf8)
    {
        payload.wrap(utf8("payload", utf8));
        return this;
    }

    /** @throws InvalidTaskException (field {@code payload}) when it is null. */
    public TaskRequest payload(final byte[] bytes)
    {
        payload.wrap(slice("payload", bytes, 0, bytes == null ? 0 : bytes.length));
        return this;
    }

    /**
     * The payload: the bytes are read, not copied, until submit returns.
     *
     * @throws InvalidTaskException (field {@code payload}) when the array is null or the slice is outside it.
     */
    public TaskRequest payload(final byte[] bytes, final int offset, final int length)
    {
        payload.wrap(slice("payload", bytes, offset, length), offset, length);
        return this;
    }

    /** @throws InvalidTaskException (field {@code payload}) when the buffer is null or the slice is outside it. */
    public TaskRequest payload(final DirectBuffer buffer, final int offset, final int length)
    {
        payload.wrap(slice("payload", buffer, offset, length), offset, length);
        return this;
    }

    /**
     * Who the task is for, for accounting (up to 64 bytes of UTF-8; empty by default).
     *
     * @throws InvalidTaskException (field {@code tenant}) when it is null or has an unpaired surrogate.
     */
    public TaskRequest tenant(final String value)
    {
        tenant.wrap(utf8("tenant", value));
        return this;
    }

    /** @throws InvalidTaskException (field {@code tenant}) when the array is null or the slice is outside it. */
    public TaskRequest tenant(final byte[] bytes, final int offset, final int length)
    {
        tenant.wrap(slice("tenant", bytes, offset, length), offset, length);
        return this;
    }

    /** @throws InvalidTaskException (field {@code tenant}) when the buffer is null or the slice is outside it. */
    public TaskRequest tenant(final DirectBuffer buffer, final int offset, final int length)
    {
        tenant.wrap(slice("tenant", buffer, offset, length), offset, length);
        return this;
    }

    /**
     * @return {@code value} as UTF-8.
     * @throws InvalidTaskException naming {@code field} when it is null, or has a surrogate without its pair, which
     *     {@link String#getBytes} would silently replace with {@code ?}.
     */
    static byte[] utf8(final String field, final String value)
    {
        if (value == null)
        {
            throw new InvalidTaskException(field, field + " must not be null");
        }
        final int at = unpairedSurrogate(value);
        if (at >= 0)
        {
            throw new InvalidTaskException(field, String.format(java.util.Locale.ROOT,
                "%s has an unpaired surrogate (U+%04X) at index %d, which UTF-8 cannot encode", field, (int)value.charAt(at), at));
        }
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @return the index of the first surrogate in {@code value} that is not half of a pair (which UTF-8 cannot
     *     encode: {@link String#getBytes} would make it {@code ?}), or -1. For clients that encode strings as this does.
     */
    public static int unpairedSurrogate(final String value)
    {
        for (int i = 0, n = value.length(); i < n; i++)
        {
            final char c = value.charAt(i);
            if (Character.isSurrogate(c))
            {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1)))
                {
                    i++;
                }
                else
                {
                    return i;
                }
            }
        }
        return -1;
    }

    private static byte[] slice(final String field, final byte[] bytes, final int offset, final int length)
    {
        if (bytes == null)
        {
            throw new InvalidTaskException(field, field + " must not be null");
        }
        checkSlice(field, offset, length, bytes.length);
        return bytes;
    }

    private static DirectBuffer slice(final String field, final DirectBuffer buffer, final int offset, final int length)
    {
        if (buffer == null)
        {
            throw new InvalidTaskException(field, field + " must not be null");
        }
        checkSlice(field, offset, length, buffer.capacity());
        return buffer;
    }

    private static void checkSlice(final String field, final int offset, final int length, final int capacity)
    {
        if (offset < 0 || length < 0 || offset > capacity - length)
        {
            throw new InvalidTaskException(field, field + " slice offset=" + offset + " length=" + length +
                " is outside its " + capacity + " bytes");
        }
    }

    public TaskRequest priority(final Priority value)
    {
        priority = value;
        return this;
    }

    /** Timeout of each attempt in milliseconds; 0 for the task type's default. */
    public TaskRequest timeoutMillis(final int value)
    {
        timeoutMillis = value;
        return this;
    }

    /** How many attempts in all, at least 1; 0 for the task type's default. */
    public TaskRequest maxAttempts(final int value)
    {
        maxAttempts = value;
        return this;
    }

    /**
     * Exponential backoff between attempts: the n-th retry waits {@code initial * multiplier^(n-1)}, capped
     * at {@code max}, spread by up to {@code jitter} of itself (0..1) (see {@link Backoff}). Unset, the task type's default
     * ({@link TaskHandler#defaultBackoff()}) applies, else the engine's.
     */
    public TaskRequest backoff(final int initialMillis, final int maxMillis, final float multiplier, final float jitter)
    {
        backoffInitialMillis = initialMillis;
        backoffMaxMillis = maxMillis;
        backoffMultiplier = multiplier;
        backoffJitter = jitter;
        return this;
    }

    /** Whether a finally failed task is dead-lettered (the default) or just left FAILED. */
    public TaskRequest deadLetter(final boolean value)
    {
        deadLetter = value;
        return this;
    }

    /** A number handed back with this request's outcome, to tell outcomes apart without allocating. */
    public TaskRequest correlationId(final long value)
    {
        correlationId = value;
        return this;
    }

    DirectBuffer key()
    {
        return key;
    }

    DirectBuffer payload()
    {
        return payload;
    }

    DirectBuffer tenant()
    {
        return tenant;
    }

    String type()
    {
        return type;
    }

    Priority priority()
    {
        return priority;
    }

    int timeoutMillis()
    {
        return timeoutMillis;
    }

    int maxAttempts()
    {
        return maxAttempts;
    }

    int backoffInitialMillis()
    {
        return backoffInitialMillis;
    }

    int backoffMaxMillis()
    {
        return backoffMaxMillis;
    }

    float backoffMultiplier()
    {
        return backoffMultiplier;
    }

    float backoffJitter()
    {
        return backoffJitter;
    }

    boolean deadLetter()
    {
        return deadLetter;
    }

    long correlationId()
    {
        return correlationId;
    }
}
