package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads back what a {@link StateWriter} wrote, checking every read against the end of the buffer and every
 * count against what is left, so a damaged snapshot fails with a clear {@link IllegalStateException}
 * instead of a wild read or a huge allocation.
 */
final class StateReader
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final DirectBuffer buffer;
    private int position;

    StateReader(final DirectBuffer buffer)
    {
        this.buffer = buffer;
    }

    private int take(final int bytes)
    {
        if (bytes < 0 || position + bytes > buffer.capacity())
        {
            throw new IllegalStateException("snapshot state ends early: " + bytes + " bytes wanted at offset " + position + " of " +
                buffer.capacity());
        }
        final int at = position;
        position += bytes;
        return at;
    }

    int getByte()
    {
        return buffer.getByte(take(1));
    }

    int getInt()
    {
        return buffer.getInt(take(4), ORDER);
    }

    long getLong()
    {
        return buffer.getLong(take(8), ORDER);
    }

    /**
     * Read {@code count} longs into {@code target} from {@code from} (one memory copy on a little-endian machine).
     */
    void getLongs(final long[] target, final int from, final int count)
    {
        final int at = take(count * 8);
        if (StateWriter.NATIVE_LITTLE_ENDIAN)
        {
            UnsafeApi.copyMemory(buffer.byteArray(), buffer.addressOffset() + at, target,
                StateWriter.LONG_ARRAY_BASE + (long)from * 8, (long)count * 8);
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                target[from + i] = buffer.getLong(at + i * 8, ORDER);
            }
        }
    }

    float getFloat()
    {
        return buffer.getFloat(take(4), ORDER);
    }

    String getString()
    {
        return new String(getBytes(), StandardCharsets.UTF_8);
    }

    /** Reads what {@link StateWriter#putBytes} wrote. */
    byte[] getBytes()
    {
        final int length = count(1);
        final int at = take(length);
        final byte[] bytes = new byte[length];
        buffer.getBytes(at, bytes);
        return bytes;
    }

    /**
     * @param minBytesEach the fewest bytes each counted item takes.
     * @return a count, checked to fit in what is left.
     */
    int count(final int minBytesEach)
    {
        final int n = getInt();
        if (n < 0 || (long)n * minBytesEach > buffer.capacity() - position)
        {
            throw new IllegalStateException("snapshot state has a bad count " + n + " at offset " + (position - 4));
        }
        return n;
    }

    void expectEnd()
    {
        if (position != buffer.capacity())
        {
            throw new IllegalStateException("snapshot state has " + (buffer.capacity() - position) + " bytes past its end");
        }
    }
}
