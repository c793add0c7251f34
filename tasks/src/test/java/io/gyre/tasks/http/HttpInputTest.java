package io.gyre.tasks.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * What {@code validate} refuses, and that the message names the field: an invalid input or a host outside
 * the allowlist fails permanently, before any connection is made.
 */
class HttpInputTest
{
    private static final String DEFAULT_HOSTS = "(http.allowed-hosts=localhost,127.0.0.1,[::1])";

    private final HttpHandler handler = new HttpHandler();

    @AfterEach
    void close()
    {
        handler.close();
    }

    static Stream<Arguments> invalidInputs()
    {
        return Stream.of(
            arguments("", "payload: empty; expected a JSON object with at least \"url\""),
            arguments("[1]", "payload: expected a JSON object, got array"),
            arguments("\"http://localhost/\"", "payload: expected a JSON object, got string"),
            arguments("{\"url\":\"http://localhost/\",\"header\":{}}", "header: unknown field (method, url, headers, body, timeoutMillis)"),
            arguments("{}", "url: missing"),
            arguments("{\"url\":7}", "url: expected a string, got number"),
            arguments("{\"url\":\"/relative/path\"}", "url: \"/relative/path\" is not absolute (http://host/path)"),
            arguments("{\"url\":\"ftp://localhost/file\"}", "url: scheme \"ftp\" not supported (http, https)"),
            arguments("{\"url\":\"file:///etc/passwd\"}", "url: scheme \"file\" not supported (http, https)"),
            arguments("{\"url\":\"http://local host/\"}", "url: not a valid URL: Illegal character in authority at index 7: " +
                "http://local host/"),
            arguments("{\"url\":\"http:opaque\"}", "url: \"http:opaque\" has no host a URL may name"),
            arguments("{\"url\":\"http://user:secret@localhost/\"}", "url: user info in the URL is not supported; send an Authorization header"),
            arguments("{\"url\":\"http://localhost:99999/x\"}", "url: port 99999 outside [1, 65535]"),
            arguments("{\"url\":\"http://localhost:0/\"}", "url: port 0 outside [1, 65535]"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"X-U\":\"caf\u00e9\"}}", "headers.X-U: a header value is ASCII, " +
                "and U+00E9 at index 3 is not (encode it, e.g. RFC 8187 or percent-encoding)"),
            arguments("{\"method\":\"FETCH\",\"url\":\"http://localhost/\"}", "method: \"FETCH\" not supported (GET, POST, PUT, PATCH, DELETE)"),
            // control characters of the input are escaped in the message: a line it logs cannot be split, or forged
            arguments("{\"method\":\"GET\\r\\nX\",\"url\":\"http://localhost/\"}", "method: \"GET\\r\\nX\" not supported (GET, POST, PUT, PATCH, DELETE)"),
            arguments("{\"url\":\"http://localhost/a\\r\\nb\"}", "url: not a valid URL: Illegal character in path at index 18: http://localhost/a\\r\\nb"),
            arguments("{\"method\":\"HEAD\",\"url\":\"http://localhost/\"}", "method: \"HEAD\" not supported (GET, POST, PUT, PATCH, DELETE)"),
            arguments("{\"method\":1,\"url\":\"http://localhost/\"}", "method: expected a string, got number"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":[]}", "headers: expected an object of header names to strings, got array"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"X-Count\":3}}", "headers.X-Count: expected a string or a non-empty " +
                "array of strings, got number"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"X-Many\":[\"a\",1]}}", "headers.X-Many: expected strings in the array, " +
                "got number"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"Host\":\"example.com\"}}", "headers.Host: restricted header name: " +
                "\"Host\""),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"Content-Length\":\"5\"}}", "headers.Content-Length: restricted " +
                "header name: \"Content-Length\""),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"Bad Name\":\"x\"}}", "headers.Bad Name: invalid header name: " +
                "\"Bad Name\""),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"X-Split\":\"a\\r\\nX-Injected: b\"}}", "headers.X-Split: invalid header " +
                "value: \"a\\r\\nX-Injected: b\""),
            // a second framing would let a task smuggle a request with a Host of its choosing to an allowed server
            arguments("{\"url\":\"http://localhost/\",\"method\":\"POST\",\"headers\":{\"Transfer-Encoding\":\"chunked\"},\"body\":\"0\"}",
                "headers.Transfer-Encoding: a header that frames the message or concerns the connection; the client sets what it needs " +
                "itself (refused: Host, Content-Length, Transfer-Encoding, TE, Trailer, Connection, Keep-Alive, Proxy-Connection, Expect, Upgrade)"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"te\":\"trailers\"}}",
                "headers.te: a header that frames the message or concerns the connection; the client sets what it needs " +
                "itself (refused: Host, Content-Length, Transfer-Encoding, TE, Trailer, Connection, Keep-Alive, Proxy-Connection, Expect, Upgrade)"),
            arguments("{\"url\":\"http://localhost/\",\"headers\":{\"X-A\\r\\nX-Injected\":\"x\"}}", "headers.X-A\\r\\nX-Injected: " +
                "invalid header name: \"X-A\\r\\nX-Injected\""),
            arguments("{\"url\":\"http://localhost/\",\"timeoutMillis\":0}", "timeoutMillis: expected an integer in [1, 86400000], got 0"),
            arguments("{\"url\":\"http://localhost/\",\"timeoutMillis\":1.5}", "timeoutMillis: expected an integer in [1, 86400000], got 1.5"),
            arguments("{\"url\":\"http://localhost/\",\"timeoutMillis\":\"5000\"}", "timeoutMillis: expected an integer in [1, 86400000], " +
                "got \"5000\""),
            arguments("{\"url\":\"http://localhost/\",\"timeoutMillis\":86400001}", "timeoutMillis: expected an integer in [1, 86400000], " +
                "got 86400001"),
            arguments("{\"url\":\"http://localhost/\",\"timeoutMillis\":1e2147483648}", "timeoutMillis: number 1e2147483648 cannot " +
                "be represented: exponent overflow"),
            arguments("{\"url\":\"http://localhost/\",\"body\":{\"a\":[0.1e2147483648]}}", "body.a[0]: number 0.1e2147483648 " +
                "cannot be represented: exponent overflow"));
    }

    @ParameterizedTest
    @MethodSource("invalidInputs")
    void shouldRefuseAnInvalidInputPermanentlyNamingTheField(final String payload, final String message)
    {
        final RecordingContext.Result result = RecordingContext.run(handler, payload).await();

        assertThat(result.succeeded()).isFalse();
        assertThat(result.retryable()).isFalse();
        assertThat(result.message()).isEqualTo("invalid input: " + message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"url\":\"http://localhost/\"} {}", "{\"url\":", "{\"url\":\"http://localhost/\",\"url\":\"http://localhost/\"}",
        "{\"url\":'http://localhost/'}", "\u00ff"})
    void shouldRefuseAPayloadThatIsNotJsonSayingWhere(final String payload)
    {
        final RecordingContext.Result result = RecordingContext.run(handler, payload).await();

        assertThat(result.retryable()).isFalse();
        assertThat(result.message()).startsWith("invalid input: payload: not valid JSON: ").containsPattern("\\(line 1, column \\d+\\)$");
    }

    /**
     * Jackson's byte parser read an overlong sequence as the character it spells: "/\xC0\xAF" in a URL was "//". The
     * payload is refused, naming the byte, as the JSON types refuse it.
     */
    @Test
    void shouldRefuseAPayloadThatIsNotWellFormedUtf8NamingTheByte()
    {
        final byte[] prefix = "{\"url\":\"http://localhost/a".getBytes(StandardCharsets.US_ASCII);
        final byte[] payload = java.util.Arrays.copyOf(prefix, prefix.length + 4);
        payload[prefix.length] = (byte)0xC0;
        payload[prefix.length + 1] = (byte)0xAF;
        payload[prefix.length + 2] = '"';
        payload[prefix.length + 3] = '}';

        final RecordingContext.Result result = RecordingContext.run(handler, payload).await();

        assertThat(result.retryable()).isFalse();
        assertThat(result.message()).isEqualTo("invalid input: payload: not valid JSON: invalid UTF-8 at byte offset " + prefix.length +
            ": 0xC0 0xAF is an overlong encoding of U+002F");
    }

    /** A payload in UTF-16 was read as such by Jackson (it guesses from the first bytes): JSON here is UTF-8. */
    @Test
    void shouldRefuseAPayloadInUtf16()
    {
        final byte[] payload = "{\"url\":\"http://localhost/\"}".getBytes(StandardCharsets.UTF_16LE);

        final RecordingContext.Result result = RecordingContext.run(handler, payload).await();

        assertThat(result.retryable()).isFalse();
        assertThat(result.message()).isEqualTo("invalid input: payload: not valid JSON: a NUL byte at byte offset 1: a JSON text here " +
            "is UTF-8 (not UTF-16 or UTF-32)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://example.com/", "https://example.com:8443/x", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.2/", "http://[::2]/", "http://localhost.example.com/", "http://0.0.0.0/"})
    void shouldRefuseAHostOutsideTheDefaultAllowlist(final String url)
    {
        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"" + url + "\"}").await();

        assertThat(result.retryable()).isFalse();
        assertThat(result.message()).startsWith("invalid input: url: host ").endsWith(" is not allowed " + DEFAULT_HOSTS);
    }

    @Test
    void shouldNameTheHostAndPortRefused()
    {
        final RecordingContext.Result result = RecordingContext.run(handler, "{\"url\":\"https://Example.COM/\"}").await();

        assertThat(result.message()).isEqualTo("invalid input: url: host example.com:443 is not allowed " + DEFAULT_HOSTS);
    }

    @Test
    void shouldAllowLoopbackByNameAndAddressByDefault() throws Exception
    {
        for (final String url : new String[] {"http://localhost:1/", "http://LOCALHOST/", "http://127.0.0.1:8080/x", "https://[::1]:8443/",
            "http://[0:0:0:0:0:0:0:1]/"})
        {
            handler.validate(RecordingContext.of("{\"url\":\"" + url + "\"}"));
        }
    }

    /** One address, one breaker: the key of an IPv6 literal is its full form however the URL writes it. */
    @Test
    void shouldKeyAnIpv6HostByItsFullFormHoweverWritten() throws Exception
    {
        final java.util.List<String> hosts = new java.util.ArrayList<>();
        for (final String url : new String[] {"http://[::1]:8080/", "http://[0:0:0:0:0:0:0:1]:8080/x", "http://[0::1]:8080/"})
        {
            final byte[] json = ("{\"url\":\"" + url + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            hosts.add(HttpTaskInput.parse(new org.agrona.concurrent.UnsafeBuffer(json), json.length, HttpSettings.defaults()).host());
        }
        assertThat(hosts).containsOnly("[0:0:0:0:0:0:0:1]:8080");
    }

    @Test
    void shouldAllowOnlyTheListedPortWhenAnEntryNamesOne()
    {
        try (LoopbackServer server = new LoopbackServer(2))
        {
            server.route("/", exchange -> LoopbackServer.respond(exchange, 200, "text/plain", "ok"));
            final int other = LoopbackServer.unusedPort();
            handler.configure(Map.of("allowed-hosts", "127.0.0.1:" + server.port()));

            final RecordingContext.Result allowed = RecordingContext.run(handler, "{\"url\":\"" + server.url("/") + "\"}").await();
            final RecordingContext.Result refused = RecordingContext.run(handler, "{\"url\":\"http://127.0.0.1:" + other + "/\"}").await();
            final RecordingContext.Result byName = RecordingContext.run(handler, "{\"url\":\"http://localhost:" + server.port() + "/\"}").await();

            assertThat(allowed.succeeded()).isTrue();
            assertThat(refused.message()).isEqualTo("invalid input: url: host 127.0.0.1:" + other + " is not allowed (http.allowed-hosts=127.0.0.1:" +
                server.port() + ")");
            assertThat(byName.message()).startsWith("invalid input: url: host localhost:" + server.port() + " is not allowed");
            assertThat(server.requests()).isEqualTo(1);
        }
    }

    @Test
    void shouldAllowEveryHostWithAStar() throws Exception
    {
        handler.configure(Map.of("allowed-hosts", "*"));

        handler.validate(RecordingContext.of("{\"url\":\"https://example.com/\"}"));
        handler.validate(RecordingContext.of("{\"url\":\"http://10.1.2.3:9000/\"}"));
    }

    @Test
    void shouldAcceptTheMethodInAnyCaseAndSendItUpperCase()
    {
        try (LoopbackServer server = new LoopbackServer(2))
        {
            server.route("/", exchange ->
            {
                exchange.getRequestBody().readAllBytes();
                LoopbackServer.respond(exchange, 200, "text/plain", exchange.getRequestMethod());
            });

            final RecordingContext.Result result = RecordingContext.run(handler, "{\"method\":\"patch\",\"url\":\"" + server.url("/") +
                "\",\"body\":null}").await();

            assertThat(result.json().get("body").textValue()).isEqualTo("PATCH");
        }
    }
}
