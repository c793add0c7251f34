package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Variable bytes carried by a ring event (a payload, an output, an error message): a small inline array
 * preallocated with the event, and a larger array allocated only for bytes that do not fit, dropped by
 * {@link #release()} so the ring never pins big arrays. Written by one stage per event, read by later ones.
 */
final class Blob
{
    static final int INLINE_CAPACITY = 256;

    private final byte[] inline;
    private final UnsafeBuffer view;
    private byte[] bytes;
    private int length;

    Blob(final int inlineCapacity)
    {
        inline = new byte[inlineCapacity];
        bytes = inline;
        view = new UnsafeBuffer(inline);
    }

    /**
     * Make room for {@code capacity} bytes, discarding the content.
     *
     * @return the bytes newly allocated beyond the inline array (0 when it fits inline).
     */
    int reserve(final int capacity)
    {
        length = 0;
        if (capacity <= inline.length)
        {
            if (bytes != inline)
            {
                bytes = inline;
                view.wrap(inline);
            }
            return 0;
        }
        if (bytes.length < capacity || bytes == inline)
        {
            bytes = new byte[capacity];
        }
        view.wrap(bytes);
        return capacity;
    }

    /**
     * Copy bytes in, growing as needed.
     *
     * @return the bytes allocated beyond the inline array.
     */
    int copyFrom(final DirectBuffer source, final int offset, final int count)
    {
        final int allocated = reserve(count);
        source.getBytes(offset, bytes, 0, count);
        length = count;
        return allocated;
    }

    int copyFrom(final byte[] source, final int offset, final int count)
    {
        final int allocated = reserve(count);
        System.arraycopy(source, offset, bytes, 0, count);
        length = count;
        return allocated;
    }

    /** Zero the first {@code count} bytes (at most the capacity). */
    void clear(final int count)
    {
        java.util.Arrays.fill(bytes, 0, Math.min(count, bytes.length), (byte)0);
    }

    void length(final int value)
    {
        length = value;
    }

    int length()
    {
        return length;
    }

    byte[] array()
    {
        return bytes;
    }

    /** @return a buffer over the bytes, valid until the next reserve or release. */
    UnsafeBuffer buffer()
    {
        return view;
    }

    /**
     * @return a copy of the bytes held (off the hot path: a result kept while the journal is down).
     */
    byte[] toArray()
    {
        return java.util.Arrays.copyOf(array(), length);
    }

    int capacity()
    {
        return bytes.length;
    }

    /** Drop any large array and forget the content. */
    void release()
    {
        length = 0;
        if (bytes != inline)
        {
            bytes = inline;
            view.wrap(inline);
        }
    }
}
