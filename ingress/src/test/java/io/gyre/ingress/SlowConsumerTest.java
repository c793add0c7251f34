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

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that pipelines requests with large replies and never reads them: reading it stops at the write
 * high-water mark, but the replies to what it already has in flight keep coming. Without a bound on the reply
 * bytes held for it, one such client filled the server's direct memory (an outside check: ~775 replies of
 * 960 KB, then OutOfMemoryError on the engine's threads and every client frozen). Past its budget, or the
 * server's, the connection is closed and what it held released, while a client that reads is served as usual.
 */
@ExtendWith(LeakCheck.class)
class SlowConsumerTest
{
    private static final int MAX_IN_FLIGHT = 64;
    /**
     * As high as the budget allows, the budget itself: reading the slow client stops only once the replies it is
     * not taking pass it, so the budget is passed first whatever the scheduling (with a 64 KiB mark, reading could
     * stop with fewer replies coming than the budget: a CI run saw both tests time out that way).
     */
    private static final int HIGH_WATER = 2 << 20;
    private static final int PAYLOAD = 256 << 10;
    private static final long BUDGET = 2L << 20;

    @TempDir
    Path dir;

    @Test
    void shouldCloseAConnectionWhoseUnreadRepliesPassItsBudget() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).maxInFlight(MAX_IN_FLIGHT)
                 .writeWaterMarks(HIGH_WATER / 2, HIGH_WATER).maxReplyBytes(BUDGET).build()))
        {
            closesTheSlowConsumerAndServesTheOther(server);
        }
    }

    @Test
    void shouldCloseTheConnectionHoldingTheMostWhenTheServersBudgetIsPassed() throws Exception
    {
        // each connection may hold far more than the server as a whole: the total is what closes it
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).maxInFlight(MAX_IN_FLIGHT)
                 .writeWaterMarks(HIGH_WATER / 2, HIGH_WATER).maxReplyBytes(1L << 30).maxTotalReplyBytes(BUDGET).build()))
        {
            closesTheSlowConsumerAndServesTheOther(server);
        }
    }

    private static void closesTheSlowConsumerAndServesTheOther(final GyreServer server) throws Exception
    {
        try (SocketChannel slow = SocketChannel.open())
        {
            slow.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 10);
            slow.connect(server.address());
            slow.configureBlocking(false);
            write(slow, ByteBuffer.wrap(Wire.bytes(Wire.hello(null, 0))));

            // pipeline echo submissions (256 KiB out each) and never read: the replies to what is in flight
            // (up to 64 x 256 KiB) are far more than the budget of 2 MiB
            final String payload = "x".repeat(PAYLOAD);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int sent = 0;
            while (server.stats().slowConsumers() == 0 && System.nanoTime() < deadline)
            {
                final ByteBuffer frame = ByteBuffer.wrap(Wire.bytes(Wire.submit(sent, "slow-" + sent, "echo", payload)));
                sent++;
                while (frame.hasRemaining() && server.stats().slowConsumers() == 0 && System.nanoTime() < deadline)
                {
                    if (!writeSome(slow, frame))
                    {
                        break;
                    }
                }
            }
            assertThat(server.stats().slowConsumers()).as("the non-reading connection was closed for its unread replies").isEqualTo(1);

            // everything it held is released, and the server lets it go
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            {
                assertThat(server.heldReplyBytes()).isZero();
                assertThat(server.pendingOutboundBytes()).isZero();
                assertThat(server.stats().openConnections()).isZero();
            });
            assertThat(closedByServer(slow)).isTrue();

            // another client, that reads, is served as usual, large replies included (four in flight at a time: 1 MiB
            // of replies, within the budget)
            try (GyreClient other = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
            {
                for (int round = 0; round < 5; round++)
                {
                    final List<CompletableFuture<TaskResult>> results = new ArrayList<>();
                    for (int i = 0; i < 4; i++)
                    {
                        results.add(other.submit(Submission.of("other-" + round + "-" + i, "echo").payload(i + payload)));
                    }
                    for (int i = 0; i < results.size(); i++)
                    {
                        assertThat(results.get(i).get(20, TimeUnit.SECONDS).outputAsString()).isEqualTo(i + payload);
                    }
                }
            }
            assertThat(server.stats().slowConsumers()).isEqualTo(1);
        }
    }

    /** @return false when the server closed the connection. */
    private static boolean writeSome(final SocketChannel channel, final ByteBuffer frame) throws InterruptedException
    {
        try
        {
            if (channel.write(frame) == 0)
            {
                Thread.sleep(1);
            }
            return true;
        }
        catch (final IOException closed)
        {
            return false;
        }
    }

    private static void write(final SocketChannel channel, final ByteBuffer frame) throws Exception
    {
        while (frame.hasRemaining())
        {
            writeSome(channel, frame);
        }
    }

    /** Read (and drop) what the server sent until it closed the connection, or 10 s. */
    private static boolean closedByServer(final SocketChannel channel) throws Exception
    {
        final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline)
        {
            buffer.clear();
            final int n;
            try
            {
                n = channel.read(buffer);
            }
            catch (final IOException reset)
            {
                return true;
            }
            if (n < 0)
            {
                return true;
            }
            if (n == 0)
            {
                Thread.sleep(1);
            }
        }
        return false;
    }
}
