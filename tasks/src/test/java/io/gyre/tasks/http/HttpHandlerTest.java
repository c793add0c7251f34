package io.gyre.tasks.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.gyre.engine.ExecutionMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code http} handler against real HTTP servers on loopback, through a context that plays the engine's
 * part ({@link RecordingContext}).
 */
class HttpHandlerTest
{
    private final LoopbackServer server = new LoopbackServer();
    private final CountDownLatch releaseSlow = new CountDownLatch(1);
    private HttpHandler handler;

    @BeforeEach
    void configure()
    {
        handler = new HttpHandler();
        handler.configure(Map.of());
    }

    @AfterEach
    void close()
    {
        releaseSlow.countDown();
        handler.close();
        server.close();
    }

    @Test
    void shouldBeAnAsyncTaskTypeNamedHttpWithABoundedConcurrency()
    {
        assertThat(handler.type()).isEqualTo("http");
        assertThat(handler.executionMode()).isEqualTo(ExecutionMode.ASYNC);
        assertThat(handler.maxConcurrency()).isEqualTo(10_000);
        handler.configure(Map.of("max-concurrency", "250"));
        assertThat(handler.maxConcurrency()).isEqualTo(250);
    }

    @Test
    void shouldSucceedWithTheStatusTheHeadersAndTheParsedJsonBody()
    {
        server.route("/order", exchange ->
        {
            exchange.getResponseHeaders().add("X-Trace", "t1");
            exchange.getResponseHeaders().add("X-Trace", "t2");
            LoopbackServer.respond(exchange, 200, "application/json; charset=utf-8", "{\"id\":7,\"price\":10.50,\"tags\":[\"a\"]}");
        });

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/order") + "\"}").await();

        final JsonNode output = result.json();
        assertThat(output.get("status").intValue()).isEqualTo(200);
        assertThat(output.get("headers").get("content-type").get(0).textValue()).isEqualTo("application/json; charset=utf-8");
        assertThat(output.get("headers").get("x-trace")).hasSize(2);
        assertThat(output.get("headers").get("x-trace").get(1).textValue()).isEqualTo("t2");
        assertThat(output.get("body").get("id").intValue()).isEqualTo(7);
        assertThat(output.get("body").get("tags").get(0).textValue()).isEqualTo("a");
        assertThat(result.outputAsString()).contains("\"price\":10.50");
        assertThat(server.requests()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "PATCH", "DELETE", "GET"})
    void shouldSendTheMethodTheHeadersAndTheBodyGiven(final String method)
    {
        server.route("/echo", HttpHandlerTest::echo);

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"method\":\"" + method + "\",\"url\":\"" +
            server.url("/echo?q=1") + "\",\"headers\":{\"X-Id\":\"42\",\"X-Many\":[\"a\",\"b\"]},\"body\":\"hello é\"}").await();

        final JsonNode echoed = result.json().get("body");
        assertThat(echoed.get("method").textValue()).isEqualTo(method);
        assertThat(echoed.get("query").textValue()).isEqualTo("q=1");
        assertThat(echoed.get("xId").textValue()).isEqualTo("42");
        assertThat(echoed.get("xMany").textValue()).isEqualTo("[a, b]");
        assertThat(echoed.get("body").textValue()).isEqualTo("hello é");
        assertThat(echoed.get("contentType").isNull()).isTrue();
    }

    @Test
    void shouldSendAJsonBodyAsJsonWithAJsonContentTypeUnlessOneIsGiven()
    {
        server.route("/echo", HttpHandlerTest::echo);

        final JsonNode defaulted = RecordingContext.run(handler, "{\"method\":\"POST\",\"url\":\"" + server.url("/echo") +
            "\",\"body\":{\"a\":[1,2.50,null]}}").await().json().get("body");
        final JsonNode given = RecordingContext.run(handler, "{\"method\":\"POST\",\"url\":\"" + server.url("/echo") +
            "\",\"headers\":{\"content-type\":\"application/vnd.x+json\"},\"body\":[true]}").await().json().get("body");

        assertThat(defaulted.get("body").textValue()).isEqualTo("{\"a\":[1,2.50,null]}");
        assertThat(defaulted.get("contentType").textValue()).isEqualTo("application/json");
        assertThat(given.get("body").textValue()).isEqualTo("[true]");
        assertThat(given.get("contentType").textValue()).isEqualTo("application/vnd.x+json");
    }

    @Test
    void shouldGetWhenNoMethodIsGivenAndSendNoBodyWhenNoneIsGiven()
    {
        server.route("/echo", HttpHandlerTest::echo);

        final JsonNode echoed = RecordingContext.run(handler, "{\"url\":\"" + server.url("/echo") + "\"}").await().json().get("body");

        assertThat(echoed.get("method").textValue()).isEqualTo("GET");
        assertThat(echoed.get("body").textValue()).isEmpty();
    }

    @Test
    void shouldGiveABodyThatIsNotJsonAsAString()
    {
        server.route("/text", exchange -> LoopbackServer.respond(exchange, 200, "text/plain; charset=ISO-8859-1",
            "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1)));
        server.route("/broken", exchange -> LoopbackServer.respond(exchange, 200, "application/json", "{\"unterminated\":"));
        server.route("/problem", exchange -> LoopbackServer.respond(exchange, 201, "application/problem+json", "{\"title\":\"x\"}"));
        server.route("/none", exchange -> LoopbackServer.respond(exchange, 204, null, ""));
        server.route("/blank", exchange -> LoopbackServer.respond(exchange, 200, "application/json", " \n "));

        final JsonNode blank = RecordingContext.run(handler, "{\"url\":\"" + server.url("/blank") + "\"}").await().json();
        final JsonNode text = RecordingContext.run(handler, "{\"url\":\"" + server.url("/text") + "\"}").await().json();
        final JsonNode broken = RecordingContext.run(handler, "{\"url\":\"" + server.url("/broken") + "\"}").await().json();
        final JsonNode problem = RecordingContext.run(handler, "{\"url\":\"" + server.url("/problem") + "\"}").await().json();
        final JsonNode none = RecordingContext.run(handler, "{\"url\":\"" + server.url("/none") + "\"}").await().json();

        assertThat(text.get("body").textValue()).isEqualTo("caf\u00e9");
        assertThat(broken.get("body").textValue()).isEqualTo("{\"unterminated\":");
        assertThat(problem.get("status").intValue()).isEqualTo(201);
        assertThat(problem.get("body").get("title").textValue()).isEqualTo("x");
        assertThat(none.get("status").intValue()).isEqualTo(204);
        assertThat(none.get("body").textValue()).isEmpty();
        // a JSON content type, but no JSON value: the text as sent, not null (which a server may send itself)
        assertThat(blank.get("body").textValue()).isEqualTo(" \n ");
    }

    @Test
    void shouldWriteCharactersOutsideTheBasicPlaneAsTheirUtf8()
    {
        final String smile = new String(Character.toChars(0x1F600));
        server.route("/json", exchange -> LoopbackServer.respond(exchange, 200, "application/json", "{\"mood\":\"" + smile + "\"}"));
        server.route("/text", exchange -> LoopbackServer.respond(exchange, 200, "text/plain; charset=utf-8", "mood " + smile));

        final RecordingContext.Result json = RecordingContext.run(handler, "{\"url\":\"" + server.url("/json") + "\"}").await();
        final RecordingContext.Result text = RecordingContext.run(handler, "{\"url\":\"" + server.url("/text") + "\"}").await();

        assertThat(json.json().get("body").get("mood").textValue()).isEqualTo(smile);
        assertThat(json.outputAsString()).contains("\"mood\":\"" + smile + "\"").doesNotContain("\\u");
        assertThat(text.json().get("body").textValue()).isEqualTo("mood " + smile);
        assertThat(text.outputAsString()).contains("\"mood " + smile + "\"").doesNotContain("\\u");
    }

    @Test
    void shouldGiveAJsonBodyThatCannotBeCarriedParsedAsAStringRatherThanFail()
    {
        final String unrepresentable = "{\"a\":1e2147483648}";
        final String nested1000 = "[".repeat(1000) + "]".repeat(1000);
        final String nested999 = "[".repeat(999) + "]".repeat(999);
        server.route("/expover", exchange -> LoopbackServer.respond(exchange, 200, "application/json", unrepresentable));
        server.route("/d1000", exchange -> LoopbackServer.respond(exchange, 200, "application/json", nested1000));
        server.route("/d999", exchange -> LoopbackServer.respond(exchange, 200, "application/json", nested999));

        final RecordingContext.Result expover = RecordingContext.run(handler, "{\"method\":\"POST\",\"url\":\"" +
            server.url("/expover") + "\",\"body\":{\"order\":1}}").await();
        final RecordingContext.Result d1000 = RecordingContext.run(handler, "{\"url\":\"" + server.url("/d1000") + "\"}").await();
        final RecordingContext.Result d999 = RecordingContext.run(handler, "{\"url\":\"" + server.url("/d999") + "\"}").await();

        assertThat(expover.json().get("status").intValue()).isEqualTo(200);
        assertThat(expover.json().get("body").textValue()).isEqualTo(unrepresentable);
        assertThat(d1000.json().get("body").textValue()).isEqualTo(nested1000);
        assertThat(d999.json().get("body").isArray()).as("999 levels, 1000 in the output: parsed").isTrue();
        assertThat(server.requests()).isEqualTo(3);
    }

    @Test
    void shouldReturnARedirectAsItIsWithoutFollowingIt()
    {
        server.route("/moved", exchange ->
        {
            exchange.getResponseHeaders().set("Location", "http://example.com/elsewhere");
            LoopbackServer.respond(exchange, 302, null, "");
        });

        final JsonNode output = RecordingContext.run(handler, "{\"url\":\"" + server.url("/moved") + "\"}").await().json();

        assertThat(output.get("status").intValue()).isEqualTo(302);
        assertThat(output.get("headers").get("location").get(0).textValue()).isEqualTo("http://example.com/elsewhere");
        assertThat(server.requests()).isEqualTo(1);
    }

    @Test
    void shouldReportFromTheClientsBoundedExecutorWhateverTheOutcome()
    {
        server.route("/ok", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "ok"));
        server.route("/fail", exchange -> LoopbackServer.respond(exchange, 503, "text/plain", "busy"));

        final RecordingContext ok = RecordingContext.run(handler, "{\"url\":\"" + server.url("/ok") + "\"}");
        final RecordingContext failed = RecordingContext.run(handler, "{\"url\":\"" + server.url("/fail") + "\"}");
        final RecordingContext refused = RecordingContext.run(handler, "{\"url\":\"http://127.0.0.1:" + LoopbackServer.unusedPort() + "/\"}");

        for (final RecordingContext context : new RecordingContext[] {ok, failed, refused})
        {
            context.await();
            assertThat(context.reportingThread()).startsWith("gyre-http-");
        }
    }

    @Test
    void shouldFailRetryablyWhenNoResponseArrivesWithinTheTimeout()
    {
        final CountDownLatch arrived = new CountDownLatch(1);
        server.route("/slow", exchange ->
        {
            arrived.countDown();
            awaitQuietly(releaseSlow);
            LoopbackServer.respond(exchange, 200, "text/plain", "too late");
        });

        final long start = System.nanoTime();
        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/slow") + "\",\"timeoutMillis\":300}")
            .await();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.retryable()).isTrue();
        assertThat(result.message()).isEqualTo("no response from " + server.host() + " within 300 ms (timeoutMillis)");
        assertThat(arrived.getCount()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void shouldTimeOutAfterTheRequestTimeoutSettingWhenTheTaskGivesNone()
    {
        handler.configure(Map.of("request-timeout-ms", "200"));
        server.route("/slow", exchange ->
        {
            awaitQuietly(releaseSlow);
            LoopbackServer.respond(exchange, 200, "text/plain", "too late");
        });

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/slow") + "\"}").await();

        assertThat(result.retryable()).isTrue();
        // the limit came from the setting, and the message says so
        assertThat(result.message()).isEqualTo("no response from " + server.host() + " within 200 ms (http.request-timeout-ms)");
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 502, 503, 504, 429})
    void shouldFailRetryablyOnAServerErrorOrTooManyRequests(final int status)
    {
        server.route("/fail", exchange -> LoopbackServer.respond(exchange, status, "text/plain", "try\nlater"));

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/fail") + "\"}").await();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.retryable()).isTrue();
        assertThat(result.message()).isEqualTo("HTTP " + status + " from " + server.host() + ": try later");
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 403, 404, 405, 409, 410, 422, 600, 999})
    void shouldFailPermanentlyOnAnyOtherClientError(final int status)
    {
        server.route("/bad", exchange -> LoopbackServer.respond(exchange, status, "application/json", "{\"error\":\"no\"}"));

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/bad") + "\"}").await();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.retryable()).isFalse();
        assertThat(result.message()).isEqualTo("HTTP " + status + " from " + server.host() + ": {\"error\":\"no\"}");
    }

    /**
     * {@code timeoutMillis} bounds the whole response, its body included: the client's own timeout covers only the
     * headers, so a server trickling its body held the attempt until the task's timeout (an outside check).
     */
    @Test
    void shouldFailRetryablyWhenTheBodyIsStillArrivingAtTheTimeout()
    {
        server.route("/trickle", exchange ->
        {
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, 40);
            try (OutputStream out = exchange.getResponseBody())
            {
                for (int i = 0; i < 40 && releaseSlow.getCount() > 0; i++)
                {
                    out.write('x');
                    out.flush();
                    Thread.sleep(200);
                }
            }
            catch (final InterruptedException | IOException gone)
            {
                // the client closed the connection: what this test waits for
            }
        });

        final long start = System.nanoTime();
        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/trickle") + "\",\"timeoutMillis\":600}")
            .await();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.retryable()).isTrue();
        assertThat(result.message()).isEqualTo("no complete response from " + server.host() + " within 600 ms (timeoutMillis) " +
            "(its body was still arriving)");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void shouldCutAnErrorBodyAtAWholeCharacter()
    {
        final byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8);
        assertThat(HttpCall.wholeCharacters(new byte[] {'a', euro[0], euro[1]})).isEqualTo(1);
        assertThat(HttpCall.wholeCharacters(new byte[] {'a', euro[0], euro[1], euro[2]})).isEqualTo(4);
        assertThat(HttpCall.wholeCharacters(new byte[] {'a', euro[0]})).isEqualTo(1);
        assertThat(HttpCall.wholeCharacters(new byte[] {'a', 'b'})).isEqualTo(2);
        assertThat(HttpCall.wholeCharacters(new byte[0])).isZero();
        server.route("/euros", exchange -> LoopbackServer.respond(exchange, 500, "text/plain", "\u20ac".repeat(200)));

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/euros") + "\"}").await();

        // 256 bytes hold 85 whole euro signs and a third of another, which is left out rather than shown as U+FFFD
        assertThat(result.message()).isEqualTo("HTTP 500 from " + server.host() + ": " + "\u20ac".repeat(85));
    }

    @Test
    void shouldKeepOnlyTheStartOfALargeErrorBodyInTheMessage()
    {
        server.route("/huge-error", exchange -> LoopbackServer.respond(exchange, 500, "text/plain", "x".repeat(100_000)));

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/huge-error") + "\"}").await();

        assertThat(result.retryable()).isTrue();
        assertThat(result.message()).isEqualTo("HTTP 500 from " + server.host() + ": " + "x".repeat(HttpCall.ERROR_SNIPPET_BYTES));
    }

    @Test
    void shouldFailRetryablyWhenTheConnectionIsRefused()
    {
        final int port = LoopbackServer.unusedPort();

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"http://127.0.0.1:" + port + "/\"}").await();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.retryable()).isTrue();
        assertThat(result.message()).startsWith("cannot connect to 127.0.0.1:" + port + ": ConnectException");
    }

    @Test
    void shouldFailPermanentlyWhenTheBodyIsLargerThanTheLimit()
    {
        handler.configure(Map.of("max-response-bytes", "1000"));
        server.route("/declared", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "y".repeat(5000)));
        server.route("/chunked", exchange ->
        {
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody())
            {
                for (int i = 0; i < 50; i++)
                {
                    out.write("z".repeat(100).getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
            catch (final IOException expected)
            {
                // the client stops reading and closes the connection
            }
        });
        server.route("/fits", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "w".repeat(1000)));

        final RecordingContext.Result declared = RecordingContext.run(handler, "{\"url\":\"" + server.url("/declared") + "\"}").await();
        final RecordingContext.Result chunked = RecordingContext.run(handler, "{\"url\":\"" + server.url("/chunked") + "\"}").await();
        final RecordingContext.Result fits = RecordingContext.run(handler, "{\"url\":\"" + server.url("/fits") + "\"}").await();

        assertThat(declared.retryable()).isFalse();
        assertThat(declared.message()).isEqualTo("response body of 5000 bytes (its Content-Length) exceeds http.max-response-bytes=1000 (" +
            server.host() + ")");
        assertThat(chunked.retryable()).isFalse();
        assertThat(chunked.message()).isEqualTo("response body of more than 1000 bytes exceeds http.max-response-bytes=1000 (" +
            server.host() + ")");
        assertThat(fits.json().get("body").textValue()).hasSize(1000);
    }

    @Test
    void shouldAbortTheRequestAndReportNothingWhenTheAttemptIsStopped() throws Exception
    {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final RecordingContext context = RecordingContext.run(handler, "{\"url\":\"http://127.0.0.1:" + silent.getLocalPort() +
                "/never\",\"timeoutMillis\":60000}");
            try (Socket connection = silent.accept())
            {
                connection.setSoTimeout(10_000);
                final InputStream in = connection.getInputStream();
                readRequestHead(in);

                context.stop();

                // the client closes the connection: the server reads the end of the stream, or a reset
                assertThat(LoopbackServer.readsUntilClosed(in)).isTrue();
            }
            assertThat(context.reports()).isZero();
            assertThat(context.reportsAfterStop()).isZero();
        }
    }

    @Test
    void shouldNotCallAtAllWhenTheAttemptWasStoppedBeforeItStarted() throws Exception
    {
        try (ServerSocket listening = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final RecordingContext context = RecordingContext.of("{\"url\":\"http://127.0.0.1:" + listening.getLocalPort() + "/\"}");
            context.stop();
            context.runOn(handler);

            // were a request started, its connection would be waiting in the backlog
            listening.setSoTimeout(500);
            assertThat(acceptsWithin(listening)).isFalse();
            assertThat(context.reports()).isZero();
        }
    }

    @Test
    void shouldFailRetryablyOnceClosed()
    {
        handler.close();

        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + server.url("/") + "\"}").await();

        assertThat(result.retryable()).isTrue();
        assertThat(result.message()).isEqualTo("the http task type is closed");
        assertThat(server.requests()).isZero();
    }

    private static void echo(final HttpExchange exchange) throws IOException
    {
        final String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        final Map<String, Object> echoed = new LinkedHashMap<>();
        echoed.put("method", exchange.getRequestMethod());
        echoed.put("query", exchange.getRequestURI().getRawQuery());
        echoed.put("xId", exchange.getRequestHeaders().getFirst("X-Id"));
        final List<String> many = exchange.getRequestHeaders().get("X-Many");
        echoed.put("xMany", many == null ? null : many.toString());
        echoed.put("contentType", exchange.getRequestHeaders().getFirst("Content-Type"));
        echoed.put("body", body);
        LoopbackServer.respond(exchange, 200, "application/json", HttpJson.MAPPER.writeValueAsString(echoed));
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

    private static void readRequestHead(final InputStream in) throws IOException
    {
        int matched = 0;
        final byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < end.length)
        {
            final int b = in.read();
            assertThat(b).as("the request head").isNotNegative();
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
    }

    private static boolean acceptsWithin(final ServerSocket listening) throws IOException
    {
        try (Socket accepted = listening.accept())
        {
            return accepted.isConnected();
        }
        catch (final SocketTimeoutException none)
        {
            return false;
        }
    }
}
