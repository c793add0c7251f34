package io.gyre.engine;

import org.agrona.DirectBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Tenants as small numbers, for accounting: what work costs, by who asked for it. Bounded in cardinality, because a
 * metric label per tenant must be: the first {@code limit} distinct tenants get an id each, in the order the
 * journal first names them (so replay and snapshots give the same ids); every later one shares {@link #OTHER}.
 * A submission without a tenant is {@link #NONE}. Each id's metric label is distinct ({@link #label}).
 * <p>
 * Single writer (the sequence stage); {@link #names()} may be read by any thread: the list is copied on write,
 * which happens at most {@code limit} times in the engine's life.
 * <p>
 * Lookup allocates nothing: an open-addressed table of the tenants' hashes, each hit confirmed byte for byte.
 */
final class TenantIndex
{
    /** A submission that named no tenant. */
    static final int NONE = 0;
    /** Every tenant past the limit. */
    static final int OTHER = 1;
    /** The metric label of {@link #NONE}. */
    static final String NONE_NAME = "";
    /** The metric label of {@link #OTHER}. */
    static final String OTHER_NAME = "(other)";

    /** How a label in hex starts: a tenant that is not UTF-8, or whose text starts so too. */
    static final String HEX_PREFIX = "0x";

    private static final byte[] OTHER_BYTES = OTHER_NAME.getBytes(StandardCharsets.UTF_8);

    /** How many tenants get an id of their own in an engine: fixed, so every replay of a journal gives the same ids. */
    static final int LIMIT = 100;

    private final int limit;
    private byte[][] bytes = new byte[2][];
    private long[] hashes = new long[2];
    private int count = 2;
    private int[] table;
    private volatile List<String> names = List.of(NONE_NAME, OTHER_NAME);

    /**
     * @param limit how many tenants get an id of their own (0 counts every tenant as {@link #OTHER}).
     */
    TenantIndex(final int limit)
    {
        this.limit = limit;
        this.table = new int[Math.max(16, Integer.highestOneBit(Math.max(1, limit) * 2) * 2)];
        Arrays.fill(table, -1);
    }

    /**
     * @return the tenant's id: {@link #NONE} for an empty tenant, its own id, or {@link #OTHER} past the limit.
     */
    int idOf(final DirectBuffer buffer, final int offset, final int length)
    {
        return lookup(buffer, offset, length, true);
    }

    /**
     * @return the tenant's id if it has one, {@link #NONE} for an empty tenant, else {@link #OTHER}; adds nothing.
     */
    int find(final DirectBuffer buffer, final int offset, final int length)
    {
        return lookup(buffer, offset, length, false);
    }

    private int lookup(final DirectBuffer buffer, final int offset, final int length, final boolean add)
    {
        if (length == 0)
        {
            return NONE;
        }
        final long hash = KeyHasher.hash(buffer, offset, length);
        final int mask = table.length - 1;
        int i = (int)(hash ^ hash >>> 32) & mask;
        while (table[i] >= 0)
        {
            final int id = table[i];
            if (hashes[id] == hash && equal(bytes[id], buffer, offset, length))
            {
                return id;
            }
            i = (i + 1) & mask;
        }
        if (!add || count - 2 >= limit || equal(OTHER_BYTES, buffer, offset, length))
        {
            // a tenant that calls itself "(other)" is counted with the others: one label, one meaning
            return OTHER;
        }
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        return add(copy, hash, i);
    }

    private int add(final byte[] tenant, final long hash, final int at)
    {
        if (count == bytes.length)
        {
            bytes = Arrays.copyOf(bytes, count * 2);
            hashes = Arrays.copyOf(hashes, count * 2);
        }
        final int id = count++;
        bytes[id] = tenant;
        hashes[id] = hash;
        table[at] = id;
        final List<String> copy = new ArrayList<>(names);
        copy.add(label(tenant));
        names = Collections.unmodifiableList(copy);
        return id;
    }

    /**
     * A tenant's metric label, one per distinct byte string: its text when it is UTF-8 (decoding replaced every
     * malformed byte with U+FFFD, so that tenants {@code 0xff} and {@code 0xfe} shared one label and one lost its
     * counts) without control characters, else {@code 0x} and its bytes in lowercase hex. A UTF-8 tenant whose text starts with {@code 0x} is
     * written in hex too ({@code 0xff} as {@code 0x30786666}), so that a label starting with {@code 0x} always
     * means hex and no tenant can take another's label. Called at most {@link #LIMIT} times in an engine's life.
     */
    static String label(final byte[] tenant)
    {
        final String text;
        try
        {
            text = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(tenant))
                .toString();
        }
        catch (final CharacterCodingException ex)
        {
            return hex(tenant);
        }
        return text.startsWith(HEX_PREFIX) || hasControl(text) ? hex(tenant) : text;
    }

    /** Control characters (NUL, ESC, ...) in a label reach an operator's terminal and make /metrics "binary" to grep. */
    private static boolean hasControl(final String text)
    {
        for (int i = 0; i < text.length(); i++)
        {
            if (Character.isISOControl(text.charAt(i)))
            {
                return true;
            }
        }
        return false;
    }

    private static String hex(final byte[] tenant)
    {
        final StringBuilder hex = new StringBuilder(HEX_PREFIX.length() + tenant.length * 2).append(HEX_PREFIX);
        for (final byte b : tenant)
        {
            hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return hex.toString();
    }

    private static boolean equal(final byte[] known, final DirectBuffer buffer, final int offset, final int length)
    {
        if (known.length != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (known[i] != buffer.getByte(offset + i))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return the tenants by id: "" for {@link #NONE}, "(other)" for {@link #OTHER}, then each tenant with an id.
     */
    List<String> names()
    {
        return names;
    }

    int limit()
    {
        return limit;
    }

    /**
     * @return the tenants with an id of their own, in id order (from 2), as their bytes: what a snapshot keeps.
     */
    int namedCount()
    {
        return count - 2;
    }

    byte[] named(final int i)
    {
        return bytes[i + 2];
    }

    /**
     * Restores the tenants a snapshot named, in id order, into an empty index. Tenants past this index's limit (a
     * smaller limit than the snapshot's engine had) keep their ids all the same: ids are state, not configuration.
     */
    void restore(final List<byte[]> named)
    {
        if (count != 2)
        {
            throw new IllegalStateException("tenants restored into an index that has some");
        }
        if (named.size() * 2 > table.length / 2)
        {
            table = new int[Integer.highestOneBit(named.size() * 4) * 2];
            Arrays.fill(table, -1);
        }
        final org.agrona.concurrent.UnsafeBuffer view = new org.agrona.concurrent.UnsafeBuffer(new byte[0]);
        for (final byte[] tenant : named)
        {
            view.wrap(tenant);
            final long hash = KeyHasher.hash(view, 0, tenant.length);
            final int mask = table.length - 1;
            int i = (int)(hash ^ hash >>> 32) & mask;
            while (table[i] >= 0)
            {
                i = (i + 1) & mask;
            }
            add(tenant.clone(), hash, i);
        }
    }
}
