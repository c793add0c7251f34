package io.gyre.engine;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Which status events a subscription wants: every one ({@link #all()}), or those of tasks matching every field
 * that is set (AND): a task type (exact), a tenant (exact bytes; an empty tenant matches tasks submitted
 * without one), a key prefix (the key starts with these bytes). Immutable; the withers return a new filter.
 * <p>
 * Why AND and nothing richer: each field narrows the stream a client pays for (its bandwidth, its buffer),
 * and a client wanting an OR subscribes twice, on two connections.
 *
 * @param type the task type, or null for any.
 * @param tenant the tenant, or null for any.
 * @param keyPrefix the key prefix (at least 1 byte), or null for any key.
 */
public record EventFilter(String type, byte[] tenant, byte[] keyPrefix)
{
    private static final EventFilter ALL = new EventFilter(null, null, null);

    public EventFilter
    {
        if (type != null && type.isEmpty())
        {
            throw new InvalidTaskException("type", "a type filter must name a task type (null for any type)");
        }
        if (keyPrefix != null && keyPrefix.length == 0)
        {
            throw new InvalidTaskException("keyPrefix", "a key prefix must be at least 1 byte (null for any key)");
        }
        tenant = tenant == null ? null : tenant.clone();
        keyPrefix = keyPrefix == null ? null : keyPrefix.clone();
    }

    /**
     * @return the filter every event passes.
     */
    public static EventFilter all()
    {
        return ALL;
    }

    public EventFilter withType(final String value)
    {
        return new EventFilter(value, tenant, keyPrefix);
    }

    /**
     * The tenant as UTF-8; null for any tenant.
     *
     * @throws InvalidTaskException (field {@code tenant}) when it has an unpaired surrogate, which UTF-8 cannot encode.
     */
    public EventFilter withTenant(final String value)
    {
        return withTenant(value == null ? null : TaskRequest.utf8("tenant", value));
    }

    public EventFilter withTenant(final byte[] value)
    {
        return new EventFilter(type, value, keyPrefix);
    }

    /**
     * The key prefix as UTF-8; null for any key.
     *
     * @throws InvalidTaskException (field {@code keyPrefix}) when it has an unpaired surrogate, which UTF-8 cannot encode.
     */
    public EventFilter withKeyPrefix(final String value)
    {
        return withKeyPrefix(value == null ? null : TaskRequest.utf8("keyPrefix", value));
    }

    public EventFilter withKeyPrefix(final byte[] value)
    {
        return new EventFilter(type, tenant, value);
    }

    @Override
    public byte[] tenant()
    {
        return tenant == null ? null : tenant.clone();
    }

    @Override
    public byte[] keyPrefix()
    {
        return keyPrefix == null ? null : keyPrefix.clone();
    }

    /**
     * @return true when no field is set.
     */
    public boolean isAll()
    {
        return type == null && tenant == null && keyPrefix == null;
    }

    /**
     * @return whether a task of this type, key and tenant passes every field that is set.
     */
    public boolean matches(final String taskType, final byte[] key, final byte[] taskTenant)
    {
        if (type != null && !type.equals(taskType))
        {
            return false;
        }
        if (tenant != null && !Arrays.equals(tenant, taskTenant))
        {
            return false;
        }
        return keyPrefix == null || key.length >= keyPrefix.length && Arrays.equals(key, 0, keyPrefix.length, keyPrefix, 0, keyPrefix.length);
    }

    /**
     * As {@link #matches(String, byte[], byte[])}, for a key and tenant in a buffer (the event hub's feed), without
     * copying them.
     */
    boolean matches(final String taskType, final org.agrona.DirectBuffer buffer, final int keyOffset, final int keyLength,
                    final int tenantOffset, final int tenantLength)
    {
        if (type != null && !type.equals(taskType))
        {
            return false;
        }
        if (tenant != null && !equal(tenant, tenant.length, buffer, tenantOffset, tenantLength))
        {
            return false;
        }
        return keyPrefix == null || keyLength >= keyPrefix.length && equal(keyPrefix, keyPrefix.length, buffer, keyOffset, keyPrefix.length);
    }

    private static boolean equal(final byte[] expected, final int expectedLength, final org.agrona.DirectBuffer buffer, final int offset,
                                 final int length)
    {
        if (expectedLength != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (expected[i] != buffer.getByte(offset + i))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return whether the event's task passes the filter.
     */
    public boolean matches(final TaskEvent event)
    {
        return matches(event.type(), event.key(), event.tenant());
    }

    @Override
    public boolean equals(final Object other)
    {
        return other instanceof EventFilter f && java.util.Objects.equals(type, f.type) && Arrays.equals(tenant, f.tenant) &&
            Arrays.equals(keyPrefix, f.keyPrefix);
    }

    @Override
    public int hashCode()
    {
        return java.util.Objects.hash(type, Arrays.hashCode(tenant), Arrays.hashCode(keyPrefix));
    }

    @Override
    public String toString()
    {
        if (isAll())
        {
            return "all";
        }
        final StringBuilder out = new StringBuilder();
        if (type != null)
        {
            out.append("type=").append(type);
        }
        if (tenant != null)
        {
            out.append(out.length() > 0 ? " " : "").append("tenant=").append(new String(tenant, StandardCharsets.UTF_8));
        }
        if (keyPrefix != null)
        {
            out.append(out.length() > 0 ? " " : "").append("keyPrefix=").append(new String(keyPrefix, StandardCharsets.UTF_8));
        }
        return out.toString();
    }
}
