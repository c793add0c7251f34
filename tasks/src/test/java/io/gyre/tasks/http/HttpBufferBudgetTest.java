package io.gyre.tasks.http;

import com.sun.net.httpserver.HttpExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED;
import static io.gyre.tasks.http.BoundedBodySubscriber.INITIAL_CAPACITY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the response bodies of the calls in flight hold ({@code http.max-buffered-bytes}), against real servers on
 * loopback: about what arrived, never what a server declared; within the budget, a call that does not fit failing
 * retryably without counting against its host; and all of it given back however the calls end.
 */
class HttpBufferBudgetTest
{
    private static final int CALLS = 200;
    private static final Duration PATIENCE = Duration.ofSeconds(120);

    private final CountDownLatch releaseServer = new CountDownLatch(1);
    /** Responses whose first bytes the server has sent, before it stalls. */
    private final AtomicInteger stalled = new AtomicInteger();
    private final HttpHandler handler = new HttpHandler();
    private LoopbackServer server;

    @AfterEach
    void close()
    {
        releaseServer.countDown();
        handler.close();
        if (server != null)
        {
            server.close();
        }
    }

    /**
     * The outside check: a server declaring {@code Content-Length: 1000000} and trickling its body. Each call allocated the
     * declared megabyte when the headers arrived (200 calls: 200 MB; 1,500 ran an engine out of heap); each holds its
     * first buffer now. The calls stopped by the engine give their bytes back from the engine's thread (the client does
     * not signal a cancelled body), those whose connection the server closes from the client's.
     */
    @Test
    void shouldHoldWhatArrivedNotWhatTheServerDeclaredAndGiveItAllBackHoweverTheCallsEnd()
    {
        server = new LoopbackServer(CALLS + 8);
        server.route("/declares-a-megabyte", exchange -> declareAndStall(exchange, 1_000_000, 10));
        handler.configure(Map.of());
        final List<RecordingContext> calls = new ArrayList<>();
        for (int i = 0; i < CALLS; i++)
        {
            calls.add(RecordingContext.run(handler, "{\"url\":\"" + server.url("/declares-a-megabyte") + "\",\"timeoutMillis\":600000}"));
        }

        // each call holds at least its first buffer once its first bytes arrived
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> stalled.get() == CALLS);
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> handler.bufferedBytes() >= CALLS * (long)INITIAL_CAPACITY);

        assertThat(handler.bufferedBytes())
            .as("200 calls, 10 bytes each arrived of a declared megabyte")
            .isEqualTo(CALLS * (long)INITIAL_CAPACITY)
            .isLessThan(CALLS * 64L * 1024);
        assertThat(calls).allSatisfy(call -> assertThat(call.reports()).isZero());

        final List<RecordingContext> stopped = calls.subList(0, CALLS / 2);
        final List<RecordingContext> cut = calls.subList(CALLS / 2, CALLS);
        stopped.forEach(RecordingContext::stop);
        assertThat(handler.bufferedBytes()).as("the stopped calls' bytes given back at the stop").isEqualTo(cut.size() * (long)INITIAL_CAPACITY);

        releaseServer.countDown(); // the server closes the other connections short of the declared length
        for (final RecordingContext call : cut)
        {
            final RecordingContext.Result result = call.await(PATIENCE);
            assertThat(result.retryable()).as("%s", result).isTrue();
            assertThat(result.message()).startsWith("I/O error calling " + server.host());
        }
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20)).until(() -> handler.bufferedBytes() == 0);
        assertThat(stopped).allSatisfy(call -> assertThat(call.reports()).isZero());
    }

    /**
     * Four bodies of 10,000 bytes (each within {@code max-response-bytes}) whose first 6,000 arrive at once, and a budget
     * of 10,000: at most one fits, the others fail retryably, naming the setting, and count neither way on the host's
     * breaker (here three failures counted would open it). The one that fits succeeds whole.
     */
    @Test
    void shouldFailTheCallsTheBudgetCannotHoldRetryablyWithoutCountingAgainstTheHost()
    {
        server = new LoopbackServer(8);
        server.route("/ten-thousand", exchange ->
        {
            exchange.sendResponseHeaders(200, 10_000);
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write("x".repeat(6000).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                releaseServer.await(5, TimeUnit.MINUTES);
                out.write("x".repeat(4000).getBytes(StandardCharsets.US_ASCII));
            }
            catch (final IOException | InterruptedException closed)
            {
                // the client stopped reading: the call the budget could not hold
            }
        });
        handler.configure(Map.of(
            "max-response-bytes", "10000",
            "max-buffered-bytes", "10000",
            "breaker.minimum-calls", "2",
            "breaker.sliding-window-size", "4",
            "breaker.failure-rate-percent", "50"));
        final List<RecordingContext> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            calls.add(RecordingContext.run(handler, "{\"url\":\"" + server.url("/ten-thousand") + "\",\"timeoutMillis\":600000}"));
        }

        // two bodies of 6,000 bytes cannot fit in 10,000: at least three fail while the server holds the rest back
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20))
            .until(() -> calls.stream().mapToInt(RecordingContext::reports).sum() >= 3);
        releaseServer.countDown();

        int failed = 0;
        for (final RecordingContext call : calls)
        {
            final RecordingContext.Result result = call.await(PATIENCE);
            if (result.succeeded())
            {
                assertThat(result.json().get("body").textValue()).hasSize(10_000);
            }
            else
            {
                failed++;
                assertThat(result.retryable()).isTrue();
                assertThat(result.message()).isEqualTo("response bodies being read already hold http.max-buffered-bytes=10000 bytes: " +
                    "the response of " + server.host() + " was not read (retried later)");
            }
        }
        assertThat(failed).isGreaterThanOrEqualTo(3);
        assertThat(handler.breakerState(server.host())).isEqualTo(CLOSED);
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20)).until(() -> handler.bufferedBytes() == 0);
    }

    /**
     * Every other way a call ends gives its bytes back: a body grown many times, one without a length, error statuses
     * (whose snippet is held too), a body over the limit, a refused connection, a body still arriving at the deadline.
     */
    @Test
    void shouldGiveEverythingBackWhenCallsSucceedOrFail()
    {
        server = new LoopbackServer(8);
        server.route("/large", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "a".repeat(300_000)));
        server.route("/chunked", exchange -> chunked(exchange, 200, 50, 1000));
        server.route("/unavailable", exchange -> LoopbackServer.respond(exchange, 503, "text/plain", "b".repeat(10_000)));
        server.route("/missing", exchange -> LoopbackServer.respond(exchange, 404, "text/plain", "no"));
        server.route("/too-large", exchange -> chunked(exchange, 200, 300, 10_000));
        server.route("/trickle", exchange -> declareAndStall(exchange, 100_000, 10));
        handler.configure(Map.of("max-response-bytes", "200000"));

        assertThat(call("/large").message()).startsWith("response body of 300000 bytes (its Content-Length) exceeds");
        awaitNothingHeld();
        assertThat(call("/chunked").json().get("body").textValue()).hasSize(50_000);
        awaitNothingHeld();
        assertThat(call("/unavailable").message()).isEqualTo("HTTP 503 from " + server.host() + ": " + "b".repeat(HttpCall.ERROR_SNIPPET_BYTES));
        awaitNothingHeld();
        assertThat(call("/missing").message()).isEqualTo("HTTP 404 from " + server.host() + ": no");
        awaitNothingHeld();
        assertThat(call("/too-large").message()).startsWith("response body of more than 200000 bytes exceeds http.max-response-bytes=200000");
        awaitNothingHeld();
        final RecordingContext.Result refused = RecordingContext.run(handler, "{\"url\":\"http://127.0.0.1:" + LoopbackServer.unusedPort() + "/\"}")
            .await(PATIENCE);
        assertThat(refused.message()).startsWith("cannot connect to");
        awaitNothingHeld();
        final RecordingContext.Result trickled = RecordingContext.run(handler, "{\"url\":\"" + server.url("/trickle") +
            "\",\"timeoutMillis\":1000}").await(PATIENCE);
        assertThat(trickled.message()).endsWith("(its body was still arriving)");
        awaitNothingHeld();

        handler.configure(Map.of());
        assertThat(call("/large").json().get("body").textValue()).hasSize(300_000);
        awaitNothingHeld();
    }

    private RecordingContext.Result call(final String path)
    {
        return RecordingContext.run(handler, "{\"url\":\"" + server.url(path) + "\"}").await(PATIENCE);
    }

    private void awaitNothingHeld()
    {
        // the report comes before the release (the body is held until the result is made): wait for it
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(10)).until(() -> handler.bufferedBytes() == 0);
    }

    /**
     * Declare a length, send a few bytes and wait for the test to let go, then end the connection short of the declared
     * length (the JDK's server closes the connection of a handler that throws; closing the stream short would not).
     */
    private void declareAndStall(final HttpExchange exchange, final long declared, final int sent) throws IOException
    {
        exchange.sendResponseHeaders(200, declared);
        final OutputStream out = exchange.getResponseBody();
        out.write(new byte[sent]);
        out.flush();
        stalled.incrementAndGet();
        try
        {
            releaseServer.await(5, TimeUnit.MINUTES);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        throw new IOException("ending the response short of its declared length, on purpose");
    }

    private static void chunked(final HttpExchange exchange, final int status, final int chunks, final int chunkSize) throws IOException
    {
        exchange.sendResponseHeaders(status, 0);
        try (OutputStream out = exchange.getResponseBody())
        {
            for (int i = 0; i < chunks; i++)
            {
                out.write("c".repeat(chunkSize).getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
        catch (final IOException closed)
        {
            // the client stopped reading
        }
    }
}
