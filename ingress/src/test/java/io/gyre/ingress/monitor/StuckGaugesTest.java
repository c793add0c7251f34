package io.gyre.ingress.monitor;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.GaugeSink;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A task type whose {@code gauges()} never returns holds the monitor's one thread: a scrape waits for ever, and so did
 * the server's stop, which waited for that thread without a bound (an outside check's `gyre serve` journaled its clean
 * stop, then never exited). The monitor's close now gives up after a few seconds.
 */
class StuckGaugesTest
{
    @TempDir
    Path dir;

    static final class StuckGauges implements TaskHandler
    {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String type()
        {
            return "stuck-gauges";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.INLINE;
        }

        @Override
        public void execute(final TaskContext context)
        {
        }

        @Override
        public void gauges(final GaugeSink sink)
        {
            entered.countDown();
            try
            {
                release.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void shouldCloseWithinSecondsWhenAGaugeNeverReturns() throws Exception
    {
        final StuckGauges stuck = new StuckGauges();
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).handler(stuck).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build()))
        {
            final MonitorServer monitor = MonitorServer.start("127.0.0.1", 0, engine, server);
            final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitor.address().getPort() + "/metrics"))
                .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).as("the scrape reached the stuck gauge").isTrue();
            final long start = System.nanoTime();
            monitor.close();
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).as("seconds to close").isLessThan(10);
        }
        finally
        {
            stuck.release.countDown();
        }
    }
}
