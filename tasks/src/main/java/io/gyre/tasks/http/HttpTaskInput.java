package io.gyre.tasks.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.gyre.engine.TaskFailure;
import io.gyre.tasks.json.JsonErrors;
import org.agrona.DirectBuffer;
import org.agrona.io.DirectBufferInputStream;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One {@code http} task's input, parsed from its payload and checked against the settings: the request to
 * send, the host it goes to and how long it may take.
 * <p>
 * The payload is a JSON object:
 * <pre>
 * {"method": "POST",                       optional, default GET; GET, POST, PUT, PATCH or DELETE
 *  "url": "http://localhost:8080/orders",  required, absolute http or https, host in http.allowed-hosts
 *  "headers": {"X-Id": "7", "Accept": ["a", "b"]},   optional; a string or an array of strings each
 *  "body": {"id": 7},                      optional; a string is sent as its UTF-8, anything else as JSON
 *  "timeoutMillis": 5000}                  optional, default http.request-timeout-ms
 * </pre>
 *
 * @param request the request to send.
 * @param host where it goes, {@code host:port} with the scheme's port when the URL gives none: the key of
 *     the host's circuit breaker.
 * @param timeoutMillis how long the response may take to arrive, from the moment the request is sent, its body included.
 * @param timeoutGiven whether the task gave it ({@code timeoutMillis}), rather than {@code http.request-timeout-ms}.
 */
record HttpTaskInput(HttpRequest request, String host, int timeoutMillis, boolean timeoutGiven)
{
    static final String METHOD = "method";
    static final String URL = "url";
    static final String HEADERS = "headers";
    static final String BODY = "body";
    static final String TIMEOUT_MILLIS = "timeoutMillis";

    /** @return where {@link #timeoutMillis} came from, for a message: {@code 1500 ms (timeoutMillis)}, or the setting. */
    String timeoutSource()
    {
        return timeoutMillis + " ms (" + (timeoutGiven ? TIMEOUT_MILLIS : "http." + HttpSettings.REQUEST_TIMEOUT_MS) + ")";
    }

    private static final List<String> FIELDS = List.of(METHOD, URL, HEADERS, BODY, TIMEOUT_MILLIS);
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
    private static final Set<String> SCHEMES = Set.of("http", "https");
    private static final String CONTENT_TYPE = "Content-Type";
    private static final int MAX_PORT = 65_535;

    /**
     * Parse a payload. Reads it once, keeps nothing of the buffer.
     *
     * @param payload the task's payload, bytes {@code [0, length)}.
     * @param length its length.
     * @param settings the type's settings (allowed hosts, default timeout).
     * @return the input.
     * @throws TaskFailure (permanent) naming the first wrong field and why.
     */
    static HttpTaskInput parse(final DirectBuffer payload, final int length, final HttpSettings settings) throws TaskFailure
    {
        final JsonNode root = readPayload(payload, length);
        for (final Map.Entry<String, JsonNode> field : root.properties())
        {
            if (!FIELDS.contains(field.getKey()))
            {
                throw invalid(JsonErrors.fieldName(field.getKey()), "unknown field (" + String.join(", ", FIELDS) + ")");
            }
        }

        final String method = method(root.get(METHOD));
        final URI uri = uri(root.get(URL));
        final int port = uri.getPort() >= 0 ? uri.getPort() : ("https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80);
        final String host = canonicalHost(uri.getHost()) + ":" + port;
        if (!settings.allowedHosts().allows(uri.getHost(), port))
        {
            throw invalid(URL, "host " + host + " is not allowed (http." + HttpSettings.ALLOWED_HOSTS + "=" +
                settings.allowedHosts() + ")");
        }
        final int timeoutMillis = timeoutMillis(root.get(TIMEOUT_MILLIS), settings.requestTimeoutMillis());

        final HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(timeoutMillis));
        final boolean contentTypeGiven = headers(root.get(HEADERS), builder);
        final JsonNode body = root.get(BODY);
        if (body == null || body.isNull())
        {
            builder.method(method, HttpRequest.BodyPublishers.noBody());
        }
        else if (body.isTextual())
        {
            builder.method(method, HttpRequest.BodyPublishers.ofString(body.textValue(), StandardCharsets.UTF_8));
        }
        else
        {
            final byte[] json;
            try
            {
                json = HttpJson.MAPPER.writeValueAsBytes(body);
            }
            catch (final JsonProcessingException ex)
            {
                throw invalid(BODY, "cannot be written as JSON: " + ex.getOriginalMessage());
            }
            builder.method(method, HttpRequest.BodyPublishers.ofByteArray(json));
            if (!contentTypeGiven)
            {
                builder.header(CONTENT_TYPE, "application/json");
            }
        }
        final JsonNode given = root.get(TIMEOUT_MILLIS);
        return new HttpTaskInput(builder.build(), host, timeoutMillis, given != null && !given.isNull());
    }

    private static JsonNode readPayload(final DirectBuffer payload, final int length) throws TaskFailure
    {
        if (length == 0)
        {
            throw invalid("payload", "empty; expected a JSON object with at least \"url\"");
        }
        // Jackson's byte parser reads an overlong sequence as the character it spells (0xC0 0xAF as "/"): a URL, header
        // or body would then say other than what was sent. Refused first, as the JSON types refuse it
        final io.gyre.tasks.json.Utf8.Bytes bytes = io.gyre.tasks.json.Utf8.Bytes.of(payload, length);
        final byte[] array = bytes.array();
        final int offset = bytes.offset();
        final int illFormed = io.gyre.tasks.json.Utf8.firstInvalidJson(array, offset, length);
        if (illFormed >= 0)
        {
            throw invalid("payload", "not valid JSON: " + io.gyre.tasks.json.Utf8.problem(array, offset, length, illFormed));
        }
        final JsonNode root;
        try
        {
            root = HttpJson.MAPPER.readTree(array, offset, length);
        }
        catch (final NumberFormatException ex)
        {
            // a number of JSON's syntax that is no decimal (1e2147483648): the payload's fault, named by its field
            throw unrepresentableNumber(payload, length, ex);
        }
        catch (final JsonProcessingException ex)
        {
            final JsonLocation at = ex.getLocation();
            throw invalid("payload", "not valid JSON: " + JsonErrors.plain(ex.getOriginalMessage()) +
                (at != null ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : ""));
        }
        catch (final IOException ex)
        {
            throw invalid("payload", "cannot be read: " + ex.getMessage());
        }
        if (root == null || !root.isObject())
        {
            throw invalid("payload", "expected a JSON object, got " + (root == null ? "nothing" : kind(root)));
        }
        return root;
    }

    private static TaskFailure unrepresentableNumber(final DirectBuffer payload, final int length, final NumberFormatException problem)
    {
        try (JsonParser parser = HttpJson.MAPPER.getFactory().createParser(new DirectBufferInputStream(payload, 0, length)))
        {
            final JsonErrors.Unrepresentable number = JsonErrors.findUnrepresentableNumber(parser);
            if (number != null)
            {
                return invalid(number.field(), number.reason());
            }
        }
        catch (final IOException ex)
        {
            // not JSON before the number: cannot be, the tree reader got as far as the number; say what it said
        }
        return invalid("payload", "not valid JSON: " + problem.getMessage());
    }

    private static String method(final JsonNode node) throws TaskFailure
    {
        if (node == null)
        {
            return "GET";
        }
        if (!node.isTextual())
        {
            throw invalid(METHOD, "expected a string, got " + kind(node));
        }
        final String method = node.textValue().toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method))
        {
            throw invalid(METHOD, JsonErrors.quote(node.textValue()) + " not supported (" + String.join(", ", METHODS) + ")");
        }
        return method;
    }

    private static URI uri(final JsonNode node) throws TaskFailure
    {
        if (node == null || node.isNull())
        {
            throw invalid(URL, "missing");
        }
        if (!node.isTextual())
        {
            throw invalid(URL, "expected a string, got " + kind(node));
        }
        final URI uri;
        try
        {
            uri = new URI(node.textValue());
        }
        catch (final URISyntaxException ex)
        {
            throw invalid(URL, "not a valid URL: " + JsonErrors.escaped(ex.getMessage()));
        }
        if (uri.getScheme() == null)
        {
            throw invalid(URL, JsonErrors.quote(node.textValue()) + " is not absolute (http://host/path)");
        }
        if (!SCHEMES.contains(uri.getScheme().toLowerCase(Locale.ROOT)))
        {
            throw invalid(URL, "scheme " + JsonErrors.quote(uri.getScheme()) + " not supported (http, https)");
        }
        if (uri.getHost() == null)
        {
            throw invalid(URL, JsonErrors.quote(node.textValue()) + " has no host a URL may name");
        }
        if (uri.getRawUserInfo() != null)
        {
            throw invalid(URL, "user info in the URL is not supported; send an Authorization header");
        }
        if (uri.getPort() == 0 || uri.getPort() > MAX_PORT)
        {
            throw invalid(URL, "port " + uri.getPort() + " outside [1, " + MAX_PORT + "]");
        }
        return uri;
    }

    /**
     * @return the host lower-cased, an IPv6 literal in its full form ({@code [0:0:0:0:0:0:0:1]} however written), so that
     *     one address has one breaker.
     */
    private static String canonicalHost(final String uriHost)
    {
        final String host = uriHost.toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            try
            {
                // a literal: parsed, never looked up (an IPv4-mapped one parses as IPv4: left as written)
                final java.net.InetAddress address = java.net.InetAddress.getByName(host.substring(1, host.length() - 1));
                return address instanceof java.net.Inet6Address ? "[" + address.getHostAddress() + "]" : host;
            }
            catch (final java.net.UnknownHostException | RuntimeException notALiteral)
            {
                return host;
            }
        }
        return host;
    }

    /**
     * Add the headers to the request.
     *
     * @return whether they include a Content-Type.
     */
    private static boolean headers(final JsonNode node, final HttpRequest.Builder builder) throws TaskFailure
    {
        if (node == null || node.isNull())
        {
            return false;
        }
        if (!node.isObject())
        {
            throw invalid(HEADERS, "expected an object of header names to strings, got " + kind(node));
        }
        boolean contentType = false;
        for (final Map.Entry<String, JsonNode> header : node.properties())
        {
            final String name = header.getKey();
            final JsonNode value = header.getValue();
            if (value.isTextual())
            {
                addHeader(builder, name, value.textValue());
            }
            else if (value.isArray() && !value.isEmpty())
            {
                for (final JsonNode element : value)
                {
                    if (!element.isTextual())
                    {
                        throw invalid(HEADERS + "." + printable(name), "expected strings in the array, got " + kind(element));
                    }
                    addHeader(builder, name, element.textValue());
                }
            }
            else
            {
                throw invalid(HEADERS + "." + printable(name), "expected a string or a non-empty array of strings, got " + kind(value));
            }
            contentType |= CONTENT_TYPE.equalsIgnoreCase(name);
        }
        return contentType;
    }

    /**
     * Headers that frame the message or concern only the connection (RFC 9110 7.6.1, RFC 9112 6): the client frames the
     * request itself (Content-Length, or none), and a task that framed it another way too could smuggle a second request
     * with a Host of its choosing to an allowed server. The client refuses Host, Content-Length, Connection, Expect and
     * Upgrade itself.
     */
    private static final java.util.Set<String> REFUSED_HEADERS = java.util.Set.of("transfer-encoding", "te", "trailer",
        "keep-alive", "proxy-connection");

    private static void addHeader(final HttpRequest.Builder builder, final String name, final String value) throws TaskFailure
    {
        if (REFUSED_HEADERS.contains(name.toLowerCase(Locale.ROOT)))
        {
            throw invalid(HEADERS + "." + name, "a header that frames the message or concerns the connection; the client sets "
                + "what it needs itself (refused: Host, Content-Length, Transfer-Encoding, TE, Trailer, Connection, Keep-Alive, "
                + "Proxy-Connection, Expect, Upgrade)");
        }
        for (int i = 0; i < value.length(); i++)
        {
            if (value.charAt(i) > 0x7F)
            {
                // the client would send '?' in its place: refuse rather than send something else than asked
                throw invalid(HEADERS + "." + printable(name), "a header value is ASCII, and U+" +
                    String.format(Locale.ROOT, "%04X", (int)value.charAt(i)) + " at index " + i + " is not (encode it, e.g. RFC 8187 or percent-encoding)");
            }
        }
        try
        {
            // the client refuses malformed names and values, and the headers it sets itself (Host,
            // Content-Length, Connection, Expect, Upgrade)
            builder.header(name, value);
        }
        catch (final IllegalArgumentException ex)
        {
            // the client's message quotes the value: show control characters rather than break the message
            throw invalid(HEADERS + "." + printable(name), printable(String.valueOf(ex.getMessage())));
        }
    }

    /** @return the text with its control characters escaped (as backslash r, n, t, or a backslash-u escape), for a message. */
    private static String printable(final String text)
    {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c < 0x20 || c == 0x7F)
            {
                if (out == null)
                {
                    out = new StringBuilder(text.length() + 16).append(text, 0, i);
                }
                switch (c)
                {
                    case '\r' -> out.append("\\r");
                    case '\n' -> out.append("\\n");
                    case '\t' -> out.append("\\t");
                    default -> out.append(String.format(Locale.ROOT, "\\u%04x", (int)c));
                }
            }
            else if (out != null)
            {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    private static int timeoutMillis(final JsonNode node, final int defaultMillis) throws TaskFailure
    {
        if (node == null || node.isNull())
        {
            return defaultMillis;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 1 || node.intValue() > HttpSettings.MAX_TIMEOUT_MS)
        {
            throw invalid(TIMEOUT_MILLIS, "expected an integer in [1, " + HttpSettings.MAX_TIMEOUT_MS + "], got " + node);
        }
        return node.intValue();
    }

    private static String kind(final JsonNode node)
    {
        return node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static TaskFailure invalid(final String field, final String why)
    {
        return TaskFailure.permanent(field + ": " + why);
    }
}
