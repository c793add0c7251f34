package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.UnsafeApi;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Appends the engine's state to a reusable, growing off-heap buffer (little-endian), for a snapshot. Grows
 * only while the state does: in steady state a snapshot allocates nothing here.
 * <p>
 * Single-threaded: the sequence stage's thread writes; the snapshot thread then reads {@link #buffer()}.
 */
final class StateWriter
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    static final long LONG_ARRAY_BASE = UnsafeApi.arrayBaseOffset(long[].class);

    private final ExpandableDirectByteBuffer buffer;
    private int position;

    StateWriter(final int initialCapacity)
    {
        buffer = new ExpandableDirectByteBuffer(initialCapacity);
    }

    StateWriter reset()
    {
        position = 0;
        return this;
    }

    DirectBuffer buffer()
    {
        return buffer;
    }

    int length()
    {
        return position;
    }

    StateWriter putByte(final int value)
    {
        buffer.putByte(position, (byte)value);
        position += 1;
        return this;
    }

    StateWriter putInt(final int value)
    {
        buffer.putInt(position, value, ORDER);
        position += 4;
        return this;
    }

    StateWriter putLong(final long value)
    {
        buffer.putLong(position, value, ORDER);
        position += 8;
        return this;
    }

    /**
     * Append {@code count} longs of {@code source} from {@code from}: one memory copy on a little-endian
     * machine (a snapshot's retained outcomes are tens of megabytes of them).
     */
    StateWriter putLongs(final long[] source, final int from, final int count)
    {
        if (count == 0)
        {
            return this;
        }
        final int bytes = count * 8;
        buffer.putLong(position + bytes - 8, 0L);   // grows the buffer to fit
        if (NATIVE_LITTLE_ENDIAN)
        {
            UnsafeApi.copyMemory(source, LONG_ARRAY_BASE + (long)from * 8, null, buffer.addressOffset() + position, bytes);
            position += bytes;
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                putLong(source[from + i]);
            }
        }
        return this;
    }

    StateWriter putFloat(final float value)
    {
        buffer.putFloat(position, value, ORDER);
        position += 4;
        return this;
    }

    StateWriter putString(final String value)
    {
        return putBytes(value.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes a length, then the bytes. */
    StateWriter putBytes(final byte[] bytes)
    {
        putInt(bytes.length);
        buffer.putBytes(position, bytes);
        position += bytes.length;
        return this;
    }

    /**
     * Reserve an int written later by {@link #putIntAt} (a count known only after the items).
     *
     * @return where it is.
     */
    int reserveInt()
    {
        final int at = position;
        putInt(0);
        return at;
    }

    void putIntAt(final int at, final int value)
    {
        buffer.putInt(at, value, ORDER);
    }
}
