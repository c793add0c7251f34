package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.LeakCheck;
import io.gyre.ingress.testing.Wire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that sends and never reads its answers: the server stops reading it once its answers back up,
 * so what the server holds for it stays bounded, while other clients are served; when it reads again,
 * every answer arrives.
 */
@ExtendWith(LeakCheck.class)
class SlowReaderTest
{
    private static final int MAX_IN_FLIGHT = 64;
    private static final int HIGH_WATER = 64 << 10;
    private static final int PAYLOAD = 2048;
    /**
     * Well under the seconds the slow reads take, and long enough that a client starved of the CPU by a loaded machine
     * (other builds and tests on two cores) does not sit a whole timeout between two reads: that would be idle.
     */
    private static final java.time.Duration IDLE_TIMEOUT = java.time.Duration.ofMillis(1000);

    @TempDir
    Path dir;

    @Test
    void aClientThatStopsReadingIsStoppedAndTheServersMemoryStaysBounded() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).maxInFlight(MAX_IN_FLIGHT)
                 .writeWaterMarks(HIGH_WATER / 2, HIGH_WATER).build());
             SocketChannel slow = SocketChannel.open())
        {
            slow.setOption(StandardSocketOptions.SO_RCVBUF, 16 << 10);
            slow.setOption(StandardSocketOptions.SO_SNDBUF, 16 << 10);
            slow.connect(server.address());
            slow.write(ByteBuffer.wrap(Wire.bytes(Wire.hello(null, Protocol.HELLO_FLAG_RESULTS_ONLY))));
            slow.configureBlocking(false);

            // write echo submissions (2 KiB in, 2 KiB out) until nothing more is taken for a second
            final String payload = "x".repeat(PAYLOAD);
            int frames = 0;
            ByteBuffer current = null;
            long lastProgress = System.nanoTime();
            long maxPending = 0;
            while (System.nanoTime() - lastProgress < TimeUnit.SECONDS.toNanos(1) && frames < 200_000)
            {
                if (current == null || !current.hasRemaining())
                {
                    current = ByteBuffer.wrap(Wire.bytes(Wire.submit(frames, "slow-" + frames, "echo", payload)));
                    frames++;
                }
                if (slow.write(current) > 0)
                {
                    lastProgress = System.nanoTime();
                }
                else
                {
                    Thread.sleep(1);
                }
                maxPending = Math.max(maxPending, server.pendingOutboundBytes());
            }
            final int resultFrame = Protocol.HEADER_BYTES + Protocol.RESULT_FIXED + PAYLOAD;
            // what was written before the high-water mark was crossed (at most one batch of answers past it),
            // then the answers to what is in flight
            final long bound = HIGH_WATER + 2L * MAX_IN_FLIGHT * resultFrame;
            System.out.println("SlowReaderTest: wrote " + frames + " frames before the server stopped reading; pending outbound " +
                server.pendingOutboundBytes() + " bytes (max seen " + maxPending + "), bound " + bound + ", in flight " + server.inFlight());
            assertThat(frames).as("the server stopped reading at some point").isLessThan(100_000);
            assertThat(server.inFlight()).isLessThanOrEqualTo(MAX_IN_FLIGHT);
            assertThat(server.pendingOutboundBytes()).isLessThanOrEqualTo(bound);
            assertThat(maxPending).isLessThanOrEqualTo(bound);

            // meanwhile another client is served as usual
            try (GyreClient other = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
            {
                final List<CompletableFuture<TaskResult>> results = new ArrayList<>();
                for (int i = 0; i < 2000; i++)
                {
                    results.add(other.submit(Submission.of("other-" + i, "echo").payload("o" + i)));
                }
                for (int i = 0; i < results.size(); i++)
                {
                    assertThat(results.get(i).get(20, TimeUnit.SECONDS).outputAsString()).isEqualTo("o" + i);
                }
            }
            assertThat(server.pendingOutboundBytes()).isLessThanOrEqualTo(bound);

            // the slow client reads again: it gets an answer for every frame it sent
            final int sent = frames;
            final CompletableFuture<Integer> answers = CompletableFuture.supplyAsync(() -> readResults(slow, sent));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (current.hasRemaining() && System.nanoTime() < deadline && !answers.isDone())
            {
                slow.write(current);
                Thread.sleep(1);
            }
            if (answers.isDone())
            {
                System.out.println("SlowReaderTest: reader ended early with " + answers.handle((v, t) -> v + " / " + t).join());
            }
            assertThat(current.hasRemaining()).as("the server reads again once its answers are read").isFalse();
            assertThat(answers.get(30, TimeUnit.SECONDS)).isEqualTo(sent);
        }
    }

    @Test
    void aClientReadingItsAnswersSlowlyIsNotClosedAsIdle() throws Exception
    {
        readSlowly(48, 256 << 10, 1, 16 << 10);
    }

    /**
     * Slower, so that the server's socket buffer (megabytes on loopback) takes longer than the idle timeout to drain
     * once the server has handed it the last answers: the client is still reading them.
     */
    @Test
    void aClientReadingTheSocketsBacklogSlowlyIsNotClosedAsIdle() throws Exception
    {
        readSlowly(6, 1000 << 10, 15, 0);
    }

    /**
     * @param receiveBuffer the client's socket receive buffer, or 0 for the system's (which grows to megabytes on
     *     loopback: with the server's send buffer, the answers then sit in the kernel while the client reads them).
     */
    private void readSlowly(final int answers, final int output, final int pauseMillis, final int receiveBuffer) throws Exception
    {
        // 48 submissions of one key: one task, the others joined or answered with its outcome, 48 answers of 256 KiB
        // each, produced at once (more than the kernel's socket buffers hold); nothing is in flight after that, and the
        // client takes seconds to read them, sending nothing
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).idleTimeout(IDLE_TIMEOUT)
                 .writeWaterMarks(HIGH_WATER / 2, HIGH_WATER).build());
             SocketChannel slow = SocketChannel.open())
        {
            if (receiveBuffer > 0)
            {
                slow.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
            }
            slow.connect(server.address());
            final String payload = "y".repeat(output);
            final ByteArrayOutputStream requests = new ByteArrayOutputStream();
            requests.write(Wire.bytes(Wire.hello(null, Protocol.HELLO_FLAG_RESULTS_ONLY)));
            for (int i = 0; i < answers; i++)
            {
                // the key's first submission carries the payload; the others join its task or get its recorded outcome,
                // 256 KiB each, and are small, so that the requests fit in the sockets' buffers as the client sends them
                requests.write(Wire.bytes(Wire.submit(i, "big", "echo", i == 0 ? payload : "")));
            }
            final ByteBuffer out = ByteBuffer.wrap(requests.toByteArray());
            while (out.hasRemaining())
            {
                slow.write(out);
            }
            // 8 KiB a millisecond or so: 12 MiB of answers take seconds, more than one idle timeout
            final long start = System.nanoTime();
            final int results = readResults(slow, answers, pauseMillis);
            System.out.println("SlowReaderTest: " + results + " answers read in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            assertThat(results).as("answers read before the connection ended").isEqualTo(answers);
        }
    }

    private static int readResults(final SocketChannel channel, final int expected)
    {
        return readResults(channel, expected, 0);
    }

    /**
     * @param pauseMillis how long to sleep after each read (0: only when nothing was there); a blocking channel reads
     *     at most 8 KiB at a time then.
     */
    private static int readResults(final SocketChannel channel, final int expected, final int pauseMillis)
    {
        try
        {
            final ByteBuffer buffer = ByteBuffer.allocate(pauseMillis > 0 ? 8 << 10 : 1 << 16);
            final ByteArrayOutputStream pending = new ByteArrayOutputStream();
            int results = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (results < expected && System.nanoTime() < deadline)
            {
                buffer.clear();
                final int n = channel.read(buffer);
                if (n < 0)
                {
                    break;
                }
                if (n == 0)
                {
                    Thread.sleep(1);
                    continue;
                }
                if (pauseMillis > 0)
                {
                    Thread.sleep(pauseMillis);
                }
                pending.write(buffer.array(), 0, n);
                final byte[] bytes = pending.toByteArray();
                int at = 0;
                while (at + 4 <= bytes.length && results < expected)
                {
                    final int length = ByteBuffer.wrap(bytes, at, 4).getInt();
                    if (at + 4 + length > bytes.length)
                    {
                        break;
                    }
                    if (bytes[at + 4] == Protocol.RESULT)
                    {
                        results++;
                    }
                    else if (bytes[at + 4] != Protocol.WELCOME)
                    {
                        throw new AssertionError("unexpected " + Protocol.opcodeName(bytes[at + 4] & 0xFF) + " after " + results + " results");
                    }
                    at += 4 + length;
                }
                pending.reset();
                pending.write(bytes, at, bytes.length - at);
            }
            return results;
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
