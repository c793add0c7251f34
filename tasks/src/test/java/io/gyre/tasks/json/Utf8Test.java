package io.gyre.tasks.json;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The UTF-8 check the JSON types run on a payload before parsing it, against the JDK's UTF-8 decoder, which
 * refuses the same ill-formed bytes (and has no way to check without decoding).
 */
class Utf8Test
{
    /** A continuation byte: what lies after the payload, so that a check reading past its end would be caught. */
    private static final byte PAST_THE_END = (byte)0x80;

    private final Random random = new Random(20261124L);

    /**
     * Every byte sequence of up to three bytes, and of four from lead bytes F0 to F7 and the second bytes that
     * decide (the rest are continuation bytes or not): the check refuses what the JDK refuses, at the same byte.
     */
    @Test
    void shouldRefuseWhatTheJdkRefusesForEveryShortSequence()
    {
        for (int first = 0; first < 256; first++)
        {
            agrees(first);
            for (int second = 0; second < 256; second++)
            {
                agrees(first, second);
                if (first >= 0xC0)
                {
                    for (final int third : new int[]{0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xFF})
                    {
                        agrees(first, second, third);
                        if (first >= 0xF0 && first <= 0xF7)
                        {
                            for (final int fourth : new int[]{0x41, 0x80, 0xBF, 0xC0})
                            {
                                agrees(first, second, third, fourth);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Random payloads of ASCII, continuation and lead bytes, at random offsets in a larger array (so that the
     * eight-byte reads start anywhere and end anywhere): the check finds the first bad byte the JDK finds.
     */
    @Test
    void shouldFindTheFirstIllFormedByteWhereverItIs()
    {
        final int[] alphabet = {'a', '"', 0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED,
            0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
        for (int round = 0; round < 200_000; round++)
        {
            final byte[] payload = new byte[random.nextInt(40)];
            for (int i = 0; i < payload.length; i++)
            {
                payload[i] = (byte)(random.nextInt(3) == 0 ? alphabet[random.nextInt(alphabet.length)] : 'a' + random.nextInt(26));
            }
            agrees(payload, random.nextInt(9));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "61 C0 AF          | 1 | 0xC0 0xAF is an overlong encoding of U+002F",
        "E0 80 AF          | 0 | 0xE0 0x80 0xAF is an overlong encoding of U+002F",
        "C0 80             | 0 | 0xC0 0x80 is an overlong encoding of U+0000",
        "F0 8F BF BF       | 0 | 0xF0 0x8F 0xBF 0xBF is an overlong encoding of U+FFFF",
        "F4 90 80 80       | 0 | 0xF4 0x90 0x80 0x80 encodes 0x110000, above U+10FFFF, the last code point",
        "F7 BF BF BF       | 0 | 0xF7 0xBF 0xBF 0xBF encodes 0x1FFFFF, above U+10FFFF, the last code point",
        "ED A0 80          | 0 | 0xED 0xA0 0x80 encodes U+D800, a UTF-16 surrogate, not a character",
        "ED BF BF          | 0 | 0xED 0xBF 0xBF encodes U+DFFF, a UTF-16 surrogate, not a character",
        "FF                | 0 | 0xFF is not a byte of UTF-8",
        "61 62 80          | 2 | 0x80 is a continuation byte, with no lead byte before it",
        "C3 28             | 0 | 0xC3 is the start of a 2-byte sequence cut short by 0x28, not a continuation byte",
        "E2 82             | 0 | 0xE2 0x82 is the start of a 3-byte sequence cut short by the end of the payload",
        "C3 A9 F0 9F 98    | 2 | 0xF0 0x9F 0x98 is the start of a 4-byte sequence cut short by the end of the payload"})
    void shouldSayWhatIsWrongAndAtWhichByte(final String hex, final int at, final String problem)
    {
        final byte[] payload = HexFormat.of().parseHex(hex.replace(" ", ""));
        final byte[] padded = pad(payload, 5);

        assertThat(Utf8.firstInvalid(padded, 5, payload.length)).isEqualTo(at);
        assertThat(Utf8.problem(padded, 5, payload.length, at)).isEqualTo("invalid UTF-8 at byte offset " + at + ": " + problem);
    }

    /**
     * The first and last character of each length, and those either side of the surrogates.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"00", "7F", "C2 80", "DF BF", "E0 A0 80", "ED 9F BF", "EE 80 80", "EF BF BF", "F0 90 80 80", "F4 8F BF BF"})
    void shouldAcceptEveryWellFormedBoundary(final String hex)
    {
        final byte[] character = HexFormat.of().parseHex(hex.replace(" ", ""));
        for (int before = 0; before < 10; before++)
        {
            final byte[] payload = new byte[before + character.length];
            Arrays.fill(payload, (byte)'a');
            System.arraycopy(character, 0, payload, before, character.length);
            assertThat(Utf8.firstInvalid(pad(payload, 3), 3, payload.length)).as("%s after %d bytes", hex, before).isEqualTo(-1);
        }
    }

    private static void agrees(final int... bytes)
    {
        final byte[] payload = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++)
        {
            payload[i] = (byte)bytes[i];
        }
        agrees(payload, 1);
    }

    private static void agrees(final byte[] payload, final int offset)
    {
        final int expected = jdkFirstInvalid(payload);
        assertThat(Utf8.firstInvalid(pad(payload, offset), offset, payload.length))
            .as("%s", HexFormat.ofDelimiter(" ").formatHex(payload)).isEqualTo(expected);
        if (expected >= 0)
        {
            assertThat(Utf8.problem(pad(payload, offset), offset, payload.length, expected)).startsWith("invalid UTF-8 at byte offset " + expected + ": ");
        }
    }

    /**
     * @return the bytes at {@code offset} in a larger array, continuation bytes before and after them.
     */
    private static byte[] pad(final byte[] payload, final int offset)
    {
        final byte[] padded = new byte[offset + payload.length + 8];
        Arrays.fill(padded, PAST_THE_END);
        System.arraycopy(payload, 0, padded, offset, payload.length);
        return padded;
    }

    /**
     * @return where the JDK's decoder finds the first malformed input, or -1 when it decodes every byte.
     */
    private static int jdkFirstInvalid(final byte[] payload)
    {
        final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        final ByteBuffer in = ByteBuffer.wrap(payload);
        final CoderResult result = decoder.decode(in, CharBuffer.allocate(payload.length * 2 + 2), true);
        return result.isError() ? in.position() : -1;
    }
}
