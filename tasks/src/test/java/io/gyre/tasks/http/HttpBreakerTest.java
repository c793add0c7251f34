package io.gyre.tasks.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED;
import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.HALF_OPEN;
import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The circuit breaker per host: opens on failures (5xx, 429, no connection), refuses calls fast while open,
 * lets trial calls through after the wait, and closes or opens again on what they get.
 */
class HttpBreakerTest
{
    private final LoopbackServer server = new LoopbackServer();
    private final AtomicInteger status = new AtomicInteger(500);
    private final HttpHandler handler = new HttpHandler();
    private final CountDownLatch releaseSlow = new CountDownLatch(1);

    HttpBreakerTest()
    {
        server.route("/", exchange -> LoopbackServer.respond(exchange, status.get(), "text/plain", "status " + status.get()));
    }

    @AfterEach
    void close()
    {
        releaseSlow.countDown();
        handler.close();
        server.close();
    }

    /**
     * Four calls decide (minimum 4, window 4); half of them failing opens the breaker.
     */
    private void configure(final int waitInOpenMillis, final String... more)
    {
        final Map<String, String> settings = new HashMap<>(Map.of(
            "breaker.failure-rate-percent", "50",
            "breaker.minimum-calls", "4",
            "breaker.sliding-window-size", "4",
            "breaker.wait-in-open-ms", Integer.toString(waitInOpenMillis),
            "breaker.half-open-calls", "2"));
        for (int i = 0; i < more.length; i += 2)
        {
            settings.put(more[i], more[i + 1]);
        }
        handler.configure(settings);
    }

    private RecordingContext.Result call(final String url)
    {
        return RecordingContext.run(handler, "{\"url\":\"" + url + "\"}").await();
    }

    private RecordingContext.Result call()
    {
        return call(server.url("/"));
    }

    @Test
    void shouldOpenAfterFailuresAndThenFailFastWithoutCallingTheHost()
    {
        configure(60_000);
        for (int i = 0; i < 4; i++)
        {
            final RecordingContext.Result failed = call();
            assertThat(failed.message()).isEqualTo("HTTP 500 from " + server.host() + ": status 500");
            assertThat(handler.breakerState(server.host())).isEqualTo(i < 3 ? CLOSED : OPEN);
        }

        final long start = System.nanoTime();
        final RecordingContext.Result refused = call();

        assertThat(refused.succeeded()).isFalse();
        assertThat(refused.retryable()).isTrue();
        assertThat(refused.message())
            .startsWith("circuit breaker for " + server.host() + " is OPEN (opened at a failure rate of 100.0% of the last 4 calls, threshold 50.0%): " +
                "not calling " + server.host() + "; trial calls in ")
            .endsWith(" ms");
        assertThat(server.requests()).isEqualTo(4);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));

        // the monitoring endpoint's view: one series per state, 1 for the state the host's breaker is in
        final java.util.Map<String, Double> gauges = new java.util.TreeMap<>();
        handler.gauges((name, help, value, labels) ->
        {
            assertThat(name).isEqualTo("gyre_http_circuit_breaker_state");
            assertThat(labels).hasSize(4).contains("host", server.host(), "state");
            gauges.put(labels[3], value);
        });
        assertThat(gauges).containsExactly(java.util.Map.entry("closed", 0.0), java.util.Map.entry("half_open", 0.0),
            java.util.Map.entry("open", 1.0));
    }

    @Test
    void shouldStayClosedWhileTheFailureRateIsBelowTheThreshold()
    {
        configure(60_000, "breaker.failure-rate-percent", "75");
        call();
        call();
        status.set(200);
        call();
        call();

        assertThat(handler.breakerState(server.host())).isEqualTo(CLOSED);
        assertThat(call().succeeded()).isTrue();
    }

    @Test
    void shouldLetTrialCallsThroughAfterTheWaitAndCloseWhenTheySucceed()
    {
        configure(300);
        for (int i = 0; i < 4; i++)
        {
            call();
        }
        assertThat(handler.breakerState(server.host())).isEqualTo(OPEN);
        status.set(200);

        // refused until the wait is over; the first call after it is a trial
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(25)).until(() -> call().succeeded());
        assertThat(handler.breakerState(server.host())).isEqualTo(HALF_OPEN);
        assertThat(call().succeeded()).isTrue();

        assertThat(handler.breakerState(server.host())).isEqualTo(CLOSED);
        assertThat(server.requests()).isEqualTo(6);
    }

    @Test
    void shouldOpenAgainWhenTrialCallsFail()
    {
        configure(300);
        for (int i = 0; i < 4; i++)
        {
            call();
        }

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(25))
            .until(() -> call().message().startsWith("HTTP 500"));
        assertThat(handler.breakerState(server.host())).isEqualTo(HALF_OPEN);
        call();

        assertThat(handler.breakerState(server.host())).isEqualTo(OPEN);
        assertThat(call().message()).startsWith("circuit breaker for " + server.host() + " is OPEN");
        assertThat(server.requests()).isEqualTo(6);
    }

    @Test
    void shouldCountRefusedConnectionsAndTimeoutsAsFailures()
    {
        configure(60_000);
        final int port = LoopbackServer.unusedPort();
        final String refusedUrl = "http://127.0.0.1:" + port + "/";
        for (int i = 0; i < 4; i++)
        {
            assertThat(call(refusedUrl).message()).startsWith("cannot connect to 127.0.0.1:" + port);
        }

        assertThat(handler.breakerState("127.0.0.1:" + port)).isEqualTo(OPEN);
        assertThat(call(refusedUrl).message()).startsWith("circuit breaker for 127.0.0.1:" + port + " is OPEN");
    }

    /**
     * A tenant's tasks with a timeout too short for any host (1 ms) opened the breaker of a healthy host for every other
     * tenant, and kept it open with three more every wait (an outside check): a timeout the task set below
     * {@code breaker.min-timeout-ms} counts neither way; one at or above it counts, as does the setting's own.
     */
    @Test
    void shouldNotCountTheRunningOutOfATimeoutTheTaskSetTooShortToSayAnythingOfTheHost()
    {
        configure(60_000, "breaker.min-timeout-ms", "200");
        status.set(200);
        server.route("/slow", exchange ->
        {
            try
            {
                Thread.sleep(400);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            LoopbackServer.respond(exchange, 200, "text/plain", "late");
        });
        for (int i = 0; i < 8; i++)
        {
            final RecordingContext.Result tooShort = RecordingContext.run(handler, "{\"url\":\"" + server.url("/slow") + "\",\"timeoutMillis\":1}")
                .await();
            assertThat(tooShort.succeeded()).isFalse();
            assertThat(tooShort.message()).contains("within 1 ms (timeoutMillis)");
        }
        assertThat(handler.breakerState(server.host())).as("a tenant's 1 ms timeouts").isEqualTo(CLOSED);
        assertThat(call().succeeded()).as("another tenant's call").isTrue();

        // the window: that success and three of these, 75 % failed
        for (int i = 0; i < 3; i++)
        {
            final RecordingContext.Result slow = RecordingContext.run(handler, "{\"url\":\"" + server.url("/slow") + "\",\"timeoutMillis\":250}")
                .await();
            assertThat(slow.message()).contains("within 250 ms (timeoutMillis)");
        }
        assertThat(handler.breakerState(server.host())).as("a host slower than a timeout the breaker trusts").isEqualTo(OPEN);
    }

    /**
     * Headers larger than the JDK's client reads: the server answered, so, as for a body over the limit, the failure is
     * permanent (the request, a POST, is not sent again: an outside check saw it sent on every attempt) and the host
     * answered (no failure for its breaker).
     */
    @Test
    void shouldFailPermanentlyOnResponseHeadersLargerThanTheClientReadsAndCountTheHostAsAnswering()
    {
        configure(60_000);
        final AtomicInteger posts = new AtomicInteger();
        server.route("/headers", exchange ->
        {
            posts.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            for (int i = 0; i < 500; i++)
            {
                exchange.getResponseHeaders().add("x-filler-" + i, "v".repeat(1000));
            }
            LoopbackServer.respond(exchange, 200, "text/plain", "ok");
        });
        for (int i = 0; i < 4; i++)
        {
            final RecordingContext.Result result = RecordingContext.run(handler,
                "{\"method\":\"POST\",\"url\":\"" + server.url("/headers") + "\",\"body\":\"x\"}").await();
            assertThat(result.succeeded()).isFalse();
            assertThat(result.retryable()).as(result.message()).isFalse();
            assertThat(result.message()).startsWith("response headers from " + server.host() + " larger than the HTTP client reads")
                .endsWith("the server answered: not sent again");
        }
        assertThat(posts.get()).isEqualTo(4);
        assertThat(handler.breakerState(server.host())).isEqualTo(CLOSED);
    }

    @Test
    void shouldCount429AsAFailureButNotOtherClientErrors()
    {
        configure(60_000);
        status.set(404);
        for (int i = 0; i < 8; i++)
        {
            assertThat(call().retryable()).isFalse();
        }
        assertThat(handler.breakerState(server.host())).isEqualTo(CLOSED);

        status.set(429);
        for (int i = 0; i < 4; i++)
        {
            assertThat(call().retryable()).isTrue();
        }
        assertThat(handler.breakerState(server.host())).isEqualTo(OPEN);
    }

    @Test
    void shouldKeepOneBreakerPerHostAndPort()
    {
        configure(60_000);
        try (LoopbackServer healthy = new LoopbackServer(2))
        {
            healthy.route("/", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "fine"));
            for (int i = 0; i < 4; i++)
            {
                call();
            }

            assertThat(handler.breakerState(server.host())).isEqualTo(OPEN);
            assertThat(call(healthy.url("/")).succeeded()).isTrue();
            assertThat(handler.breakerState(healthy.host())).isEqualTo(CLOSED);
        }
    }

    @Test
    void shouldGiveTheTrialPermitBackWhenTheTrialCallIsStopped()
    {
        configure(300, "breaker.half-open-calls", "1");
        server.route("/slow", exchange ->
        {
            try
            {
                releaseSlow.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            LoopbackServer.respond(exchange, 200, "text/plain", "late");
        });
        for (int i = 0; i < 4; i++)
        {
            call();
        }
        status.set(200);

        // refused calls report at once; the trial call, once the wait is over, is in flight and reports nothing
        final AtomicReference<RecordingContext> trial = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(25)).until(() ->
        {
            trial.set(RecordingContext.run(handler, "{\"url\":\"" + server.url("/slow") + "\",\"timeoutMillis\":60000}"));
            return trial.get().reports() == 0;
        });
        assertThat(handler.breakerState(server.host())).isEqualTo(HALF_OPEN);
        assertThat(call().message()).isEqualTo("circuit breaker for " + server.host() + " is HALF_OPEN and its 1 trial calls are in " +
            "flight: not calling " + server.host());
        trial.get().stop();

        // the permit came back: the next call is the trial, and its success closes the breaker
        assertThat(call().succeeded()).isTrue();
        assertThat(handler.breakerState(server.host())).isEqualTo(CLOSED);
        assertThat(trial.get().reports()).isZero();
    }
}
