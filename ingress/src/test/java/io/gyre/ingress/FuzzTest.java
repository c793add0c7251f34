package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.LeakCheck;
import io.gyre.ingress.testing.Wire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random and mutated frames on many connections while a well-behaved client keeps submitting: the
 * well-behaved client is served throughout, every bad connection gets well-formed frames (an ERROR last,
 * when it gets one) and is closed, and the server and engine come out healthy.
 */
@ExtendWith(LeakCheck.class)
class FuzzTest
{
    private static final int FUZZ_CONNECTIONS = 400;

    @TempDir
    Path dir;

    @Test
    void badInputHurtsNobodyElse() throws Exception
    {
        final long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("FuzzTest seed=" + seed + " (rerun with -Dfuzz.seed=" + seed + ")");
        final Random random = new Random(seed);

        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).maxPayloadBytes(8192).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).idleTimeout(Duration.ofSeconds(5)).build());
             GyreClient good = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
        {
            final AtomicBoolean fuzzing = new AtomicBoolean(true);
            final AtomicInteger served = new AtomicInteger();
            final AtomicReference<Throwable> goodFailure = new AtomicReference<>();
            final Thread wellBehaved = new Thread(() ->
            {
                int i = 0;
                try
                {
                    while (fuzzing.get())
                    {
                        final List<CompletableFuture<TaskResult>> batch = new ArrayList<>();
                        for (int j = 0; j < 50; j++, i++)
                        {
                            batch.add(good.submit(Submission.of("good-" + i, "echo").payload("good " + i)));
                        }
                        for (int j = 0; j < batch.size(); j++)
                        {
                            final TaskResult r = batch.get(j).join();
                            if (!r.succeeded() || !r.outputAsString().equals("good " + (i - batch.size() + j)))
                            {
                                throw new AssertionError("well-behaved client got " + r);
                            }
                            served.incrementAndGet();
                        }
                    }
                }
                catch (final Throwable t)
                {
                    goodFailure.set(t);
                }
            }, "well-behaved");
            wellBehaved.start();

            int errors = 0;
            for (int c = 0; c < FUZZ_CONNECTIONS; c++)
            {
                final byte[] input = fuzzInput(random, c);
                errors += exchange(server, input) ? 1 : 0;
            }
            fuzzing.set(false);
            wellBehaved.join(30_000);

            assertThat(goodFailure.get()).as("the well-behaved client").isNull();
            assertThat(served.get()).isPositive();
            assertThat(errors).as("fuzz connections answered with an ERROR").isGreaterThan(FUZZ_CONNECTIONS / 4);
            assertThat(server.stats().protocolErrors()).isPositive();
            assertThat(engine.stageFailures()).isZero();
            try (GyreClient after = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
            {
                assertThat(after.blocking().submit(Submission.of("after-fuzz", "echo").payload("ok")).outputAsString()).isEqualTo("ok");
            }
            System.out.println("FuzzTest: " + FUZZ_CONNECTIONS + " fuzz connections, " + errors + " ended with an ERROR, " +
                served.get() + " well-behaved tasks served");
        }
    }

    /**
     * What one fuzz connection sends: pure noise; noise after a HELLO; a valid frame with bytes flipped,
     * cut or extended; a run of random but well-formed request frames.
     */
    private static byte[] fuzzInput(final Random random, final int c)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int kind = c % 5;
        if (kind != 0)
        {
            out.writeBytes(Wire.bytes(Wire.hello(null, random.nextInt(4) == 0 ? Protocol.HELLO_FLAG_RESULTS_ONLY : 0)));
        }
        switch (kind)
        {
            case 0, 1 -> out.writeBytes(noise(random, 1 + random.nextInt(300)));
            case 2 ->
            {
                final byte[] frame = validFrame(random);
                final int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips; i++)
                {
                    frame[random.nextInt(frame.length)] ^= (byte)(1 << random.nextInt(8));
                }
                out.writeBytes(frame);
            }
            case 3 ->
            {
                final byte[] frame = validFrame(random);
                if (random.nextBoolean())
                {
                    out.write(frame, 0, random.nextInt(frame.length));
                }
                else
                {
                    out.writeBytes(frame);
                    out.writeBytes(noise(random, 1 + random.nextInt(20)));
                }
            }
            default ->
            {
                for (int i = 0, n = 1 + random.nextInt(10); i < n; i++)
                {
                    out.writeBytes(validFrame(random));
                }
            }
        }
        return out.toByteArray();
    }

    private static byte[] validFrame(final Random random)
    {
        final String key = "fz-" + random.nextInt(200);
        return switch (random.nextInt(4))
        {
            case 0 -> Wire.bytes(Wire.keyed(Protocol.STATUS, random.nextLong(), key));
            case 1 -> Wire.bytes(Wire.keyed(Protocol.CANCEL, random.nextLong(), key));
            case 2 -> Wire.bytes(Wire.ping(random.nextLong()));
            default -> Wire.bytes(Wire.submit(random.nextLong(), key, random.nextBoolean() ? "echo" : "noop",
                new String(noise(random, random.nextInt(64)), java.nio.charset.StandardCharsets.ISO_8859_1)));
        };
    }

    private static byte[] noise(final Random random, final int n)
    {
        final byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }

    /**
     * Send the input, then read what comes back until the server closes or goes quiet; check it is whole
     * frames, with an ERROR only as the last frame.
     *
     * @return whether the connection ended with an ERROR frame.
     */
    private static boolean exchange(final GyreServer server, final byte[] input) throws IOException
    {
        try (Socket socket = new Socket())
        {
            socket.connect(server.address());
            socket.setSoTimeout(50);
            try
            {
                socket.getOutputStream().write(input);
            }
            catch (final IOException closedWhileWriting)
            {
                // the server may close on an early error while we still write
            }
            final ByteArrayOutputStream received = new ByteArrayOutputStream();
            final InputStream in = socket.getInputStream();
            final byte[] chunk = new byte[4096];
            boolean closed = false;
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (!closed && System.nanoTime() < deadline)
            {
                try
                {
                    final int n = in.read(chunk);
                    if (n < 0)
                    {
                        closed = true;
                    }
                    else
                    {
                        received.write(chunk, 0, n);
                    }
                }
                catch (final SocketTimeoutException quiet)
                {
                    // quiet: the server waits for more input (fine for well-formed or incomplete frames), unless
                    // an ERROR came, after which the close must follow
                    final List<Wire.Frame> sofar = wholeFrames(received.toByteArray());
                    if (sofar.isEmpty() || sofar.get(sofar.size() - 1).opcode() != Protocol.ERROR)
                    {
                        break;
                    }
                }
                catch (final IOException reset)
                {
                    closed = true;
                }
            }
            final List<Wire.Frame> frames = wholeFrames(received.toByteArray());
            for (int i = 0; i < frames.size() - 1; i++)
            {
                assertThat(frames.get(i).opcode()).as("an ERROR is always the last frame").isNotEqualTo(Protocol.ERROR);
            }
            final boolean error = !frames.isEmpty() && frames.get(frames.size() - 1).opcode() == Protocol.ERROR;
            if (error)
            {
                final Wire.Frame last = frames.get(frames.size() - 1);
                assertThat(ErrorCode.fromCode(last.code())).as(last.message()).isNotNull();
                assertThat(closed).as("closed after " + ErrorCode.fromCode(last.code())).isTrue();
            }
            return error;
        }
    }

    /** Whole frames of what was received (a timeout may cut the last one short). */
    private static List<Wire.Frame> wholeFrames(final byte[] bytes)
    {
        int end = 0;
        while (end + 4 <= bytes.length)
        {
            final long length = ((bytes[end] & 0xFFL) << 24) | ((bytes[end + 1] & 0xFF) << 16) | ((bytes[end + 2] & 0xFF) << 8) | (bytes[end + 3] & 0xFF);
            assertThat(length).as("frame length from the server").isBetween(1L, 1L << 24);
            if (end + 4 + length > bytes.length)
            {
                break;
            }
            end += 4 + (int)length;
        }
        return Wire.split(java.util.Arrays.copyOf(bytes, end));
    }
}
