package io.gyre.tasks.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.http.HttpHeaders;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a response as an {@code http} task's output, a JSON object:
 * <pre>
 * {"status": 200,
 *  "headers": {"content-type": ["application/json"], "x-id": ["7"]},   names lower-cased, values in order
 *  "body": {"id": 7}}                     parsed when the Content-Type is JSON and it parses, else a string
 * </pre>
 * A JSON Content-Type is {@code application/json} or any {@code type/...+json} ({@code application/problem+json}).
 * A body that is not parsed is decoded with the Content-Type's charset, UTF-8 when it names none: a binary
 * body does not survive that. A JSON body that parses but cannot be carried parsed (a number no decimal holds,
 * {@code 1e2147483648}; nesting that the output's own object takes past the writer's 1000 levels) is a string
 * too: the server answered, so what it said is the output, never a reason to call it again.
 */
final class HttpTaskOutput
{
    static final String STATUS = "status";
    static final String HEADERS = "headers";
    static final String BODY = "body";

    private HttpTaskOutput()
    {
    }

    /**
     * @return the output's bytes (UTF-8 JSON). A body that parsed but cannot be written within the writer's limits
     *     (nested 1000 levels deep: 1001 inside the output's object) is written as its text instead.
     * @throws JsonProcessingException only if Jackson cannot write a tree it built with the body as text, which
     *     is a bug.
     */
    static byte[] encode(final int status, final HttpHeaders headers, final byte[] body) throws JsonProcessingException
    {
        final ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put(STATUS, status);
        final ObjectNode headersNode = root.putObject(HEADERS);
        for (final Map.Entry<String, List<String>> header : headers.map().entrySet())
        {
            final String name = header.getKey();
            if (name.startsWith(":"))
            {
                continue; // HTTP/2 pseudo-headers: the status is given above
            }
            final ArrayNode values = headersNode.withArrayProperty(name.toLowerCase(Locale.ROOT));
            for (final String value : header.getValue())
            {
                values.add(value);
            }
        }
        final Optional<String> contentType = headers.firstValue("content-type");
        final JsonNode bodyNode = body(contentType, body);
        root.set(BODY, bodyNode);
        try
        {
            return HttpJson.MAPPER.writeValueAsBytes(root);
        }
        catch (final JsonProcessingException tooDeep)
        {
            if (bodyNode.isTextual())
            {
                throw tooDeep;
            }
            // the body parsed within the reader's limits, but the output's object adds a level the writer refuses
            root.set(BODY, text(contentType, body));
            return HttpJson.MAPPER.writeValueAsBytes(root);
        }
    }

    /**
     * @return the body: parsed when its content type is JSON and it parses, else decoded as text.
     */
    static JsonNode body(final Optional<String> contentType, final byte[] body)
    {
        if (contentType.isPresent() && isJson(contentType.get()) && body.length > 0)
        {
            try
            {
                final JsonNode parsed = HttpJson.MAPPER.readTree(body);
                if (parsed != null && !parsed.isMissingNode())
                {
                    return parsed;
                }
                // only whitespace: no JSON value, so the text as sent (not null, which a server may send itself)
            }
            catch (final IOException | RuntimeException notJson)
            {
                // returned as text below: the caller still sees what the server sent. Not only a syntax error: a
                // number no decimal holds (1e2147483648) is a NumberFormatException from the tree reader, and
                // whatever else the reader may throw on a body must not fail an attempt the server answered
            }
        }
        return text(contentType, body);
    }

    private static JsonNode text(final Optional<String> contentType, final byte[] body)
    {
        return JsonNodeFactory.instance.textNode(new String(body, charset(contentType.orElse(""))));
    }

    /**
     * @return whether a Content-Type is JSON: {@code application/json}, {@code text/json} or {@code x/y+json},
     *     any parameters ignored.
     */
    static boolean isJson(final String contentType)
    {
        final int semicolon = contentType.indexOf(';');
        final String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        final int slash = mediaType.indexOf('/');
        if (slash < 0)
        {
            return false;
        }
        final String subtype = mediaType.substring(slash + 1);
        return subtype.equals("json") || subtype.endsWith("+json");
    }

    private static Charset charset(final String contentType)
    {
        for (final String parameter : contentType.split(";"))
        {
            final int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).trim().equalsIgnoreCase("charset"))
            {
                final String name = parameter.substring(equals + 1).trim().replace("\"", "");
                try
                {
                    return Charset.forName(name);
                }
                catch (final IllegalCharsetNameException | UnsupportedCharsetException unknown)
                {
                    return StandardCharsets.UTF_8;
                }
            }
        }
        return StandardCharsets.UTF_8;
    }
}
