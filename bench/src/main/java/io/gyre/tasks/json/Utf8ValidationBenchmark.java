package io.gyre.tasks.json;

import io.gyre.bench.AbstractBenchmark;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Checking a JSON task's payload for well-formed UTF-8 before it is parsed, two ways, on the payload of
 * {@code TransformBenchmark}'s {@code set} (133 bytes, ASCII) and on one of about the same length with a few
 * characters of two, three and four bytes:
 * <ul>
 *   <li>{@link #validator}: {@link Utf8#firstInvalid}, what the JSON types use: eight ASCII bytes per
 *       {@code long} read, multibyte sequences checked against Unicode's table of well-formed ones.</li>
 *   <li>{@link #charsetDecoder}: the JDK's UTF-8 {@link CharsetDecoder} reporting malformed input
 *       ({@link CodingErrorAction#REPORT}), itself, and the characters it writes to, reused: it refuses the same
 *       bytes, and is the one the JDK has (it has no check that does not decode). Rejected: it decodes every
 *       byte into a character, and wraps each payload in a {@link ByteBuffer}.</li>
 * </ul>
 * In package {@code io.gyre.tasks.json} to reach {@link Utf8}, which is not public.
 * <pre>
 * java $FLAGS -jar bench/target/benchmarks.jar Utf8ValidationBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1 -prof gc
 * </pre>
 * Measured when it was chosen (2 cores, shared, load 2.5): the validator 16 - 18 ns on the ASCII payload (133 bytes)
 * and 34 - 36 ns on the mixed one (147 bytes, five characters of two to four bytes), nothing allocated; the decoder
 * 20 ns and 220 - 250 ns, 56 bytes allocated per payload (the {@link ByteBuffer}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Utf8ValidationBenchmark extends AbstractBenchmark
{
    private static final String ASCII = "{\"input\":{\"order\":{\"id\":42,\"customer\":\"ada\",\"total\":19.99}}," +
        "\"values\":{\"/order/status\":\"paid\",\"/order/paidAt\":\"2026-11-24T10:00:00Z\"}}";

    private static final String MIXED = "{\"input\":{\"order\":{\"id\":42,\"customer\":\"Zoë\",\"total\":19.99}}," +
        "\"values\":{\"/order/status\":\"payé 😀\",\"/order/by\":\"世界\",\"/order/at\":\"2026-11-24\"}}";

    /**
     * The payload, and the decoder and characters reused from call to call.
     */
    @State(Scope.Thread)
    public static class Payload
    {
        @Param({"ascii", "mixed"})
        String text;

        byte[] bytes;
        CharsetDecoder decoder;
        CharBuffer characters;

        @Setup
        public void open()
        {
            bytes = ("ascii".equals(text) ? ASCII : MIXED).getBytes(StandardCharsets.UTF_8);
            decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
            characters = CharBuffer.allocate(bytes.length);
            if (Utf8.firstInvalid(bytes, 0, bytes.length) != -1 || !decoder.decode(ByteBuffer.wrap(bytes), characters, true).isUnderflow())
            {
                throw new IllegalStateException("the payload is well-formed UTF-8");
            }
        }
    }

    @Benchmark
    public int validator(final Payload p)
    {
        return Utf8.firstInvalid(p.bytes, 0, p.bytes.length);
    }

    @Benchmark
    public int charsetDecoder(final Payload p)
    {
        final ByteBuffer in = ByteBuffer.wrap(p.bytes, 0, p.bytes.length);
        p.characters.clear();
        p.decoder.reset();
        return p.decoder.decode(in, p.characters, true).isError() ? in.position() : -1;
    }
}
