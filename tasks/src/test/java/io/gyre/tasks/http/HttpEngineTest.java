package io.gyre.tasks.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED;
import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.HALF_OPEN;
import static io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN;
import static io.gyre.engine.TaskState.CANCELLED;
import static io.gyre.engine.TaskState.DEAD_LETTERED;
import static io.gyre.engine.TaskState.FAILED;
import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RETRY_WAIT;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.TaskState.TIMED_OUT;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The {@code http} type end to end: submitted to a real engine, run as ASYNC attempts against HTTP servers
 * on loopback, retried, timed out and dead-lettered by the engine, every transition journaled.
 */
class HttpEngineTest extends EngineTestSupport
{
    private final LoopbackServer server = new LoopbackServer();
    private final HttpHandler http = new HttpHandler();

    @AfterEach
    void closeServer()
    {
        server.close();
    }

    @Override
    protected Engine open(final Consumer<EngineConfig.Builder> settings)
    {
        return super.open(builder -> settings.accept(builder.handler(http)));
    }

    private static TaskRequest task(final String key, final String payload)
    {
        return new TaskRequest().key(key).type(HttpHandler.TYPE).payload(payload).backoff(20, 100, 2f, 0f);
    }

    @Test
    void shouldSucceedWithTheResponseAsTheOutput() throws Exception
    {
        server.route("/orders", exchange ->
        {
            final String body = new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            LoopbackServer.respond(exchange, 201, "application/json", "{\"received\":" + body + "}");
        });
        open(b -> { });

        final Outcome outcome = get(engine.submit(task("k", "{\"method\":\"POST\",\"url\":\"" + server.url("/orders") +
            "\",\"body\":{\"id\":7}}")));

        assertThat(outcome.state()).isEqualTo(SUCCEEDED);
        assertThat(outcome.attempts()).isEqualTo(1);
        final JsonNode output = HttpJson.MAPPER.readTree(outcome.output());
        assertThat(output.get("status").intValue()).isEqualTo(201);
        assertThat(output.get("body").get("received").get("id").intValue()).isEqualTo(7);
        assertThat(closeAndReplay()).task(outcome.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldRetryAServerErrorThenSucceed() throws Exception
    {
        final AtomicInteger calls = new AtomicInteger();
        server.route("/flaky", exchange ->
        {
            final int call = calls.incrementAndGet();
            LoopbackServer.respond(exchange, call == 1 ? 503 : 200, "text/plain", call == 1 ? "warming up" : "ok");
        });
        open(b -> { });

        final Outcome outcome = get(engine.submit(task("k", "{\"url\":\"" + server.url("/flaky") + "\"}").maxAttempts(3)));

        assertThat(outcome.state()).isEqualTo(SUCCEEDED);
        assertThat(outcome.attempts()).isEqualTo(2);
        assertThat(HttpJson.MAPPER.readTree(outcome.output()).get("body").textValue()).isEqualTo("ok");
        assertThat(calls.get()).isEqualTo(2);
        assertThat(closeAndReplay()).task(outcome.taskId()).hasStates(PENDING, RUNNING, RETRY_WAIT, RUNNING, SUCCEEDED)
            .replaysDeterministically();
    }

    @Test
    void shouldDeadLetterAServerErrorThatLastsEveryAttempt() throws Exception
    {
        server.route("/down", exchange -> LoopbackServer.respond(exchange, 500, "text/plain", "down"));
        open(b -> { });

        final Outcome outcome = get(engine.submit(task("k", "{\"url\":\"" + server.url("/down") + "\"}").maxAttempts(3)));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(3);
        assertThat(outcome.error()).isEqualTo("HTTP 500 from " + server.host() + ": down");
        assertThat(server.requests()).isEqualTo(3);
    }

    @Test
    void shouldFailAClientErrorPermanentlyAfterOneAttempt() throws Exception
    {
        server.route("/missing", exchange -> LoopbackServer.respond(exchange, 404, "text/plain", "no such order"));
        open(b -> { });

        final Outcome dead = get(engine.submit(task("dead", "{\"url\":\"" + server.url("/missing") + "\"}").maxAttempts(5)));
        final Outcome failed = get(engine.submit(task("failed", "{\"url\":\"" + server.url("/missing") + "\"}").maxAttempts(5)
            .deadLetter(false)));

        assertThat(dead.state()).isEqualTo(DEAD_LETTERED);
        assertThat(dead.attempts()).isEqualTo(1);
        assertThat(dead.error()).isEqualTo("HTTP 404 from " + server.host() + ": no such order");
        assertThat(failed.state()).isEqualTo(FAILED);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(server.requests()).isEqualTo(2);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(dead.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED).replaysDeterministically();
        assertThat(history).task(failed.taskId()).hasStates(PENDING, RUNNING, FAILED).replaysDeterministically();
    }

    @Test
    void shouldTimeOutAtTheTaskTimeoutAndCancelTheRequest() throws Exception
    {
        open(b -> { });
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final CompletableFuture<Outcome> outcome = engine.submit(task("k", "{\"url\":\"http://127.0.0.1:" + silent.getLocalPort() +
                "/\",\"timeoutMillis\":60000}").timeoutMillis(300).maxAttempts(1).deadLetter(false));
            try (Socket connection = silent.accept())
            {
                connection.setSoTimeout(10_000);
                final InputStream in = connection.getInputStream();

                assertThat(get(outcome).state()).isEqualTo(TIMED_OUT);
                // the engine's stop cancelled the request: the client closed its connection
                assertThat(LoopbackServer.readsUntilClosed(in)).isTrue();
            }
            assertThat(get(outcome).attempts()).isEqualTo(1);
            assertThat(closeAndReplay()).task(get(outcome).taskId()).hasStates(PENDING, RUNNING, TIMED_OUT).replaysDeterministically();
        }
    }

    @Test
    void shouldCancelTheRequestWhenTheTaskIsCancelled() throws Exception
    {
        open(b -> { });
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final CompletableFuture<Outcome> outcome = engine.submit(task("cancel-me", "{\"url\":\"http://127.0.0.1:" +
                silent.getLocalPort() + "/\",\"timeoutMillis\":60000}").timeoutMillis(60_000));
            try (Socket connection = silent.accept())
            {
                connection.setSoTimeout(10_000);
                final InputStream in = connection.getInputStream();

                engine.cancel("cancel-me").get(15, TimeUnit.SECONDS);

                assertThat(get(outcome).state()).isEqualTo(CANCELLED);
                assertThat(LoopbackServer.readsUntilClosed(in)).isTrue();
            }
        }
    }

    @Test
    void shouldFailPermanentlyWhenTheOutputExceedsTheEnginesLimit() throws Exception
    {
        server.route("/big", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "b".repeat(2000)));
        open(b -> b.maxOutputBytes(1000));

        final Outcome outcome = get(engine.submit(task("k", "{\"url\":\"" + server.url("/big") + "\"}").maxAttempts(3)));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(1);
        assertThat(outcome.error()).startsWith("output of ").endsWith(" bytes exceeds maxOutputBytes=1000");
    }

    @Test
    void shouldSucceedOnceWithTheBodyAsAStringWhenAJsonBodyCannotBeCarriedParsed() throws Exception
    {
        final String unrepresentable = "{\"a\":1e2147483648}";
        final String nested1000 = "[".repeat(1000) + "]".repeat(1000);
        final AtomicInteger expoverCalls = new AtomicInteger();
        final AtomicInteger deepCalls = new AtomicInteger();
        server.route("/expover", exchange ->
        {
            expoverCalls.incrementAndGet();
            LoopbackServer.respond(exchange, 200, "application/json", unrepresentable);
        });
        server.route("/deep", exchange ->
        {
            deepCalls.incrementAndGet();
            LoopbackServer.respond(exchange, 200, "application/json", nested1000);
        });
        open(b -> { });

        final Outcome expover = get(engine.submit(task("expover", "{\"method\":\"POST\",\"url\":\"" +
            server.url("/expover") + "\",\"body\":{\"order\":1}}").maxAttempts(3)));
        final Outcome deep = get(engine.submit(task("deep", "{\"method\":\"POST\",\"url\":\"" +
            server.url("/deep") + "\",\"body\":{\"order\":2}}").maxAttempts(3)));

        assertThat(expover.state()).as("%s", expover.error()).isEqualTo(SUCCEEDED);
        assertThat(expover.attempts()).isEqualTo(1);
        assertThat(expoverCalls.get()).isEqualTo(1);
        assertThat(HttpJson.MAPPER.readTree(expover.output()).get("body").textValue()).isEqualTo(unrepresentable);
        assertThat(deep.state()).as("%s", deep.error()).isEqualTo(SUCCEEDED);
        assertThat(deep.attempts()).isEqualTo(1);
        assertThat(deepCalls.get()).isEqualTo(1);
        assertThat(HttpJson.MAPPER.readTree(deep.output()).get("body").textValue()).isEqualTo(nested1000);
    }

    @Test
    void shouldRetryWhenTheRequestTimesOutBeforeTheTask() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();
        server.route("/slow-once", exchange ->
        {
            if (calls.incrementAndGet() == 1)
            {
                awaitQuietly(release);
            }
            LoopbackServer.respond(exchange, 200, "text/plain", "ok");
        });
        open(b -> { });
        try
        {
            final Outcome outcome = get(engine.submit(task("k", "{\"url\":\"" + server.url("/slow-once") + "\",\"timeoutMillis\":200}")
                .timeoutMillis(10_000).maxAttempts(2)));

            assertThat(outcome.state()).isEqualTo(SUCCEEDED);
            assertThat(outcome.attempts()).isEqualTo(2);
        }
        finally
        {
            release.countDown();
        }
    }

    @Test
    void shouldOpenTheBreakerFailFastThenCloseItAfterTheWait() throws Exception
    {
        final AtomicInteger status = new AtomicInteger(500);
        server.route("/", exchange -> LoopbackServer.respond(exchange, status.get(), "text/plain", "status " + status.get()));
        open(b -> b
            .handlerSetting("http.breaker.minimum-calls", "4")
            .handlerSetting("http.breaker.sliding-window-size", "4")
            .handlerSetting("http.breaker.wait-in-open-ms", "500")
            .handlerSetting("http.breaker.half-open-calls", "2"));
        final String payload = "{\"url\":\"" + server.url("/") + "\"}";
        for (int i = 0; i < 4; i++)
        {
            assertThat(get(engine.submit(task("fail-" + i, payload).maxAttempts(1))).error()).startsWith("HTTP 500");
        }
        assertThat(http.breakerState(server.host())).isEqualTo(OPEN);

        final Outcome refused = get(engine.submit(task("refused", payload).maxAttempts(1)));

        assertThat(refused.state()).isEqualTo(DEAD_LETTERED);
        assertThat(refused.error()).startsWith("circuit breaker for " + server.host() + " is OPEN");
        assertThat(server.requests()).isEqualTo(4);

        // retries of a refused call wait out the breaker: the task succeeds once a trial call gets through
        status.set(200);
        final Outcome recovered = get(engine.submit(task("recovered", payload).maxAttempts(20).backoff(100, 100, 1f, 0f)));

        assertThat(recovered.state()).isEqualTo(SUCCEEDED);
        assertThat(recovered.attempts()).isGreaterThan(1);
        assertThat(http.breakerState(server.host())).isEqualTo(HALF_OPEN);
        assertThat(get(engine.submit(task("second trial", payload).maxAttempts(1))).state()).isEqualTo(SUCCEEDED);
        assertThat(http.breakerState(server.host())).isEqualTo(CLOSED);
        assertThat(server.requests()).isEqualTo(6);
    }

    @Test
    void shouldHalfOpenAfterTheWaitAndReopenWhenTheTrialFails() throws Exception
    {
        server.route("/", exchange -> LoopbackServer.respond(exchange, 502, "text/plain", "bad gateway"));
        open(b -> b
            .handlerSetting("http.breaker.minimum-calls", "2")
            .handlerSetting("http.breaker.sliding-window-size", "2")
            .handlerSetting("http.breaker.wait-in-open-ms", "300")
            .handlerSetting("http.breaker.half-open-calls", "1"));
        final String payload = "{\"url\":\"" + server.url("/") + "\"}";
        get(engine.submit(task("a", payload).maxAttempts(1)));
        get(engine.submit(task("b", payload).maxAttempts(1)));
        assertThat(http.breakerState(server.host())).isEqualTo(OPEN);

        final AtomicInteger key = new AtomicInteger();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
            .until(() -> get(engine.submit(task("trial-" + key.incrementAndGet(), payload).maxAttempts(1))).error().startsWith("HTTP 502"));

        assertThat(http.breakerState(server.host())).isEqualTo(OPEN);
        assertThat(get(engine.submit(task("after", payload).maxAttempts(1))).error()).startsWith("circuit breaker for " + server.host() +
            " is OPEN");
        assertThat(server.requests()).isEqualTo(3);
    }

    @Test
    void shouldDeadLetterACallToAHostOutsideTheAllowlistWithoutCallingIt() throws Exception
    {
        server.route("/", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "should not be called"));
        open(b -> b.handlerSetting("http.allowed-hosts", "localhost"));

        final Outcome outcome = get(engine.submit(task("k", "{\"url\":\"" + server.url("/") + "\"}").maxAttempts(3)));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(1);
        assertThat(outcome.error()).isEqualTo("invalid input: url: host " + server.host() + " is not allowed (http.allowed-hosts=localhost)");
        assertThat(server.requests()).isZero();
    }

    @Test
    void shouldRefuseToBuildWithAMalformedSetting()
    {
        assertThatThrownBy(() -> EngineConfig.builder(dir).handler(new HttpHandler()).handlerSetting("http.breaker.wait-in-open-ms", "soon")
            .build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("task type http: breaker.wait-in-open-ms=soon must be an integer in [1, 86400000]");
    }

    @Test
    void shouldCloseTheHandlerWithTheEngine() throws Exception
    {
        server.route("/", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "ok"));
        open(b -> { });
        assertThat(get(engine.submit(task("k", "{\"url\":\"" + server.url("/") + "\"}"))).state()).isEqualTo(SUCCEEDED);

        engine.close();
        engine = null;

        assertThat(RecordingContext.run(http, "{\"url\":\"" + server.url("/") + "\"}").await().message()).isEqualTo("the http task type is closed");
    }

    @Test
    void shouldHoldAThousandCallsInFlightAtOnce() throws Exception
    {
        final int calls = 1000;
        final ConcurrentLinkedQueue<HttpExchange> held = new ConcurrentLinkedQueue<>();
        final AtomicInteger arrived = new AtomicInteger();
        // nothing is answered until every request has arrived: all of them are in flight at once
        server.route("/held", exchange ->
        {
            held.add(exchange);
            if (arrived.incrementAndGet() == calls)
            {
                HttpExchange next;
                while ((next = held.poll()) != null)
                {
                    LoopbackServer.respond(next, 200, "text/plain", "released");
                }
            }
        });
        open(b -> b.handlerSetting("http.executor-threads", "2"));

        final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
        for (int i = 0; i < calls; i++)
        {
            outcomes.add(engine.submit(task("k" + i, "{\"url\":\"" + server.url("/held") + "\",\"timeoutMillis\":30000}")
                .timeoutMillis(30_000)));
        }
        for (final CompletableFuture<Outcome> outcome : outcomes)
        {
            final Outcome o = outcome.get(60, TimeUnit.SECONDS);
            assertThat(o.state()).as(o.error()).isEqualTo(SUCCEEDED);
            assertThat(o.attempts()).isEqualTo(1);
        }
        assertThat(arrived.get()).isEqualTo(calls);
    }

    private static void awaitQuietly(final CountDownLatch latch)
    {
        try
        {
            latch.await(30, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
