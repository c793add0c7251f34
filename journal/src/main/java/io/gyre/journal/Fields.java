package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;

/**
 * Length-prefixed variable fields shared by the record layouts: a short field is a uint16 length followed
 * by that many bytes, a long field an int32 length followed by that many bytes.
 */
final class Fields
{
    static final int SHORT_PREFIX = 2;
    static final int LONG_PREFIX = 4;
    static final int MAX_SHORT_FIELD = 0xFFFF;

    private Fields()
    {
    }

    static int putShortField(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer src, final int srcOffset, final int length)
    {
        if (length < 0 || length > MAX_SHORT_FIELD)
        {
            throw new IllegalArgumentException("field length=" + length + " must be in [0, " + MAX_SHORT_FIELD + "]");
        }
        buffer.putShort(offset, (short)length, BYTE_ORDER);
        if (length > 0)
        {
            buffer.putBytes(offset + SHORT_PREFIX, src, srcOffset, length);
        }
        return offset + SHORT_PREFIX + length;
    }

    static int putShortField(final MutableDirectBuffer buffer, final int offset, final byte[] src, final int srcOffset, final int length)
    {
        if (length < 0 || length > MAX_SHORT_FIELD)
        {
            throw new IllegalArgumentException("field length=" + length + " must be in [0, " + MAX_SHORT_FIELD + "]");
        }
        buffer.putShort(offset, (short)length, BYTE_ORDER);
        if (length > 0)
        {
            buffer.putBytes(offset + SHORT_PREFIX, src, srcOffset, length);
        }
        return offset + SHORT_PREFIX + length;
    }

    static int putLongField(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer src, final int srcOffset, final int length)
    {
        if (length < 0)
        {
            throw new IllegalArgumentException("field length=" + length + " must not be negative");
        }
        buffer.putInt(offset, length, BYTE_ORDER);
        if (length > 0)
        {
            buffer.putBytes(offset + LONG_PREFIX, src, srcOffset, length);
        }
        return offset + LONG_PREFIX + length;
    }

    static int putLongField(final MutableDirectBuffer buffer, final int offset, final byte[] src, final int srcOffset, final int length)
    {
        if (length < 0)
        {
            throw new IllegalArgumentException("field length=" + length + " must not be negative");
        }
        buffer.putInt(offset, length, BYTE_ORDER);
        if (length > 0)
        {
            buffer.putBytes(offset + LONG_PREFIX, src, srcOffset, length);
        }
        return offset + LONG_PREFIX + length;
    }

    static int shortLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset, BYTE_ORDER) & 0xFFFF;
    }

    static int longLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset, BYTE_ORDER);
    }

    /**
     * Offset just past a short field, or -1 when the field would run past {@code limit}.
     */
    static int skipShortField(final DirectBuffer buffer, final int offset, final int limit)
    {
        if (offset + SHORT_PREFIX > limit)
        {
            return -1;
        }
        final int end = offset + SHORT_PREFIX + shortLength(buffer, offset);
        return end > limit ? -1 : end;
    }

    /**
     * Offset just past a long field, or -1 when the field would run past {@code limit} or has a negative length.
     */
    static int skipLongField(final DirectBuffer buffer, final int offset, final int limit)
    {
        if (offset + LONG_PREFIX > limit)
        {
            return -1;
        }
        final int length = longLength(buffer, offset);
        if (length < 0)
        {
            return -1;
        }
        final long end = (long)offset + LONG_PREFIX + length;
        return end > limit ? -1 : (int)end;
    }

    static String utf8(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
