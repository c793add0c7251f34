package io.gyre.tasks.json;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Whether a payload is well-formed UTF-8 (RFC 3629, the Unicode standard's table 3-7): every character in its
 * shortest form, none of them a UTF-16 surrogate (U+D800 to U+DFFF) or above U+10FFFF, no sequence cut short.
 * Jackson's byte parser checks only the shape of a sequence, so it decodes an overlong {@code 0xC0 0xAF} to
 * {@code /}, {@code 0xC0 0x80} to U+0000 and {@code 0xF4 0x90 0x80 0x80} to a character that is not one: a
 * payload is checked with this before it is parsed.
 * <p>
 * Cheap for the payloads the JSON types see, mostly ASCII: eight bytes are looked at at once, with one read of a
 * {@code long}, for a byte with its high bit set; only from such a byte on is a sequence decoded. The JDK's
 * {@link java.nio.charset.CharsetDecoder} refuses the same bytes, but it decodes every one into a buffer of
 * characters and takes the payload wrapped in a {@code ByteBuffer}: as fast on ASCII, six times slower with a few
 * characters of more than one byte, 56 bytes allocated a payload ({@code Utf8ValidationBenchmark}, module
 * {@code bench}). Stateless and allocation-free: any thread, any payload.
 */
public final class Utf8
{
    /** Eight bytes of a {@code byte[]} as a {@code long}, little-endian: the byte at the lowest index is the lowest. */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** The high bit of each of eight bytes: none set, eight ASCII characters. */
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;

    /** The least code point that needs a sequence of 2, 3 and 4 bytes: anything less is overlong. */
    private static final int[] LEAST = {0, 0, 0x80, 0x800, 0x10000};

    private Utf8()
    {
    }

    /**
     * A payload's bytes where a byte parser can read them: the buffer's own array, or a copy when it is off the heap.
     *
     * @param array the bytes.
     * @param offset where the payload starts in them.
     */
    public record Bytes(byte[] array, int offset)
    {
        /** @return the first {@code length} bytes of {@code payload}, as an array and an offset. */
        public static Bytes of(final org.agrona.DirectBuffer payload, final int length)
        {
            final byte[] array = payload.byteArray();
            if (array != null)
            {
                return new Bytes(array, payload.wrapAdjustment());
            }
            final byte[] copy = new byte[length];
            payload.getBytes(0, copy);
            return new Bytes(copy, 0);
        }
    }

    /**
     * @return the index, from {@code offset}, of the first byte of the first sequence that is not well-formed
     *     UTF-8; -1 when every byte is.
     */
    public static int firstInvalid(final byte[] bytes, final int offset, final int length)
    {
        final int end = offset + length;
        int i = offset;
        while (i < end)
        {
            if (end - i >= Long.BYTES)
            {
                final long high = (long)LONGS.get(bytes, i) & HIGH_BITS;
                if (high == 0)
                {
                    i += Long.BYTES;
                    continue;
                }
                // little-endian: the lowest set bit is in the first byte that is not ASCII
                i += Long.numberOfTrailingZeros(high) >>> 3;
            }
            else if (bytes[i] >= 0)
            {
                i++;
                continue;
            }
            final int sequence = wellFormed(bytes, i, end);
            if (sequence == 0)
            {
                return i - offset;
            }
            i += sequence;
        }
        return -1;
    }

    /**
     * As {@link #firstInvalid}, for a JSON text: also the index of a NUL byte among the first four. A JSON text in UTF-8
     * never holds one (not even in a string, where a control character is escaped), and it is how a text in UTF-16 or
     * UTF-32 without a byte order mark begins: Jackson would read such a payload in that encoding rather than refuse it.
     */
    public static int firstInvalidJson(final byte[] bytes, final int offset, final int length)
    {
        final int invalid = firstInvalid(bytes, offset, length);
        final int head = invalid >= 0 ? Math.min(invalid, 4) : Math.min(length, 4);
        for (int i = 0; i < head; i++)
        {
            if (bytes[offset + i] == 0)
            {
                return i;
            }
        }
        return invalid;
    }

    /**
     * @param at the index, from {@code offset}, that {@link #firstInvalid} or {@link #firstInvalidJson} returned.
     * @return what is wrong with the bytes there, for a message: {@code invalid UTF-8 at byte offset 5: 0xC0 0xAF
     *     is an overlong encoding of U+002F}.
     */
    public static String problem(final byte[] bytes, final int offset, final int length, final int at)
    {
        final int start = offset + at;
        final int end = offset + length;
        final int lead = bytes[start] & 0xFF;
        if (lead == 0)
        {
            return "a NUL byte at byte offset " + at + ": a JSON text here is UTF-8 (not UTF-16 or UTF-32)";
        }
        final String where = "invalid UTF-8 at byte offset " + at + ": ";
        if (lead < 0xC0)
        {
            return where + hex(bytes, start, 1) + " is a continuation byte, with no lead byte before it";
        }
        if (lead >= 0xF8)
        {
            return where + hex(bytes, start, 1) + " is not a byte of UTF-8";
        }
        final int size = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        int codePoint = lead & (0x7F >>> size);
        for (int k = 1; k < size; k++)
        {
            if (start + k == end || !continuation(bytes[start + k]))
            {
                return where + hex(bytes, start, k) + " is the start of a " + size + "-byte sequence cut short by " +
                    (start + k == end ? "the end of the payload" : hex(bytes, start + k, 1) + ", not a continuation byte");
            }
            codePoint = codePoint << 6 | bytes[start + k] & 0x3F;
        }
        final String sequence = hex(bytes, start, size);
        if (codePoint < LEAST[size])
        {
            return where + sequence + " is an overlong encoding of " + String.format("U+%04X", codePoint);
        }
        if (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE)
        {
            return where + sequence + " encodes " + String.format("U+%04X", codePoint) + ", a UTF-16 surrogate, not a character";
        }
        return where + sequence + " encodes " + String.format("0x%X", codePoint) + ", above U+10FFFF, the last code point";
    }

    /**
     * The well-formed sequences of two bytes and more (Unicode's table 3-7), from their lead byte: C2..DF then one
     * continuation byte (80..BF); E0 then A0..BF (less is overlong), ED then 80..9F (more is a surrogate), any other
     * of E1..EF then 80..BF, each then one more; F0 then 90..BF (less is overlong), F4 then 80..8F (more is above
     * U+10FFFF), F1..F3 then 80..BF, each then two more. Any other lead byte (80..C1, F5..FF) is never well-formed.
     *
     * @param i the index of a byte with its high bit set.
     * @return the length of the sequence that starts at {@code i}, or 0 when it is not well-formed.
     */
    private static int wellFormed(final byte[] bytes, final int i, final int end)
    {
        final int lead = bytes[i] & 0xFF;
        if (lead < 0xC2 || lead > 0xF4)
        {
            return 0;
        }
        if (lead < 0xE0)
        {
            return i + 1 < end && continuation(bytes[i + 1]) ? 2 : 0;
        }
        if (lead < 0xF0)
        {
            if (i + 2 >= end)
            {
                return 0;
            }
            final int second = bytes[i + 1] & 0xFF;
            final int least = lead == 0xE0 ? 0xA0 : 0x80;
            final int most = lead == 0xED ? 0x9F : 0xBF;
            return second >= least && second <= most && continuation(bytes[i + 2]) ? 3 : 0;
        }
        if (i + 3 >= end)
        {
            return 0;
        }
        final int second = bytes[i + 1] & 0xFF;
        final int least = lead == 0xF0 ? 0x90 : 0x80;
        final int most = lead == 0xF4 ? 0x8F : 0xBF;
        return second >= least && second <= most && continuation(bytes[i + 2]) && continuation(bytes[i + 3]) ? 4 : 0;
    }

    /**
     * @return whether the byte is a continuation byte, 10xxxxxx.
     */
    private static boolean continuation(final byte b)
    {
        return (b & 0xC0) == 0x80;
    }

    private static String hex(final byte[] bytes, final int start, final int count)
    {
        final StringBuilder text = new StringBuilder();
        for (int k = 0; k < count; k++)
        {
            text.append(k == 0 ? "" : " ").append(String.format("0x%02X", bytes[start + k] & 0xFF));
        }
        return text.toString();
    }
}
