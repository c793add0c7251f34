package io.gyre.ingress.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.util.RawValue;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.DeadLetter;
import io.gyre.engine.DeadLetterDetails;
import io.gyre.engine.DeadLetterPage;
import io.gyre.engine.PurgeResult;
import io.gyre.engine.RedriveResult;
import io.gyre.engine.TaskEvent;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.client.TaskStatusReply;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * The client commands' JSON: one object per answer. Output bytes that are JSON are embedded as JSON,
 * other UTF-8 as a string ({@code output}), anything else as base64 ({@code outputBase64}).
 */
final class Json
{
    static final ObjectMapper MAPPER = new ObjectMapper();
    /** Reads only to check that text is one JSON value: strict about duplicates (trailing content is checked by hand). */
    private static final JsonFactory STRICT = JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private Json()
    {
    }

    static ObjectNode of(final TaskResult result)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        node.put("key", result.key());
        if (result.rejected())
        {
            node.put("rejected", result.rejectCode() != null ? result.rejectCode().name() : "code " + result.rawRejectCode());
            node.put("rejectCode", result.rawRejectCode());
            node.put("error", result.error());
            return node;
        }
        node.put("taskId", result.taskId());
        node.put("state", result.state().name());
        node.put("attempts", result.attempts());
        node.put("duplicate", result.duplicate());
        if (result.succeeded())
        {
            output(node, result.output());
        }
        else
        {
            node.put("error", result.error());
        }
        times(node, result.submittedAt(), result.startedAt(), result.finishedAt());
        node.put("queueNanos", result.queueNanos());
        node.put("executionNanos", result.executionNanos());
        return node;
    }

    static ObjectNode of(final TaskStatusReply status)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        node.put("key", status.key());
        node.put("found", status.found());
        if (!status.found())
        {
            return node;
        }
        node.put("taskId", status.taskId());
        node.put("state", status.state().name());
        node.put("attempts", status.attempts());
        node.put("maxAttempts", status.maxAttempts());
        if (status.state().terminal())
        {
            if (status.state() == io.gyre.engine.TaskState.SUCCEEDED)
            {
                output(node, status.body());
            }
            else
            {
                node.put("error", status.bodyAsString());
            }
        }
        times(node, status.submittedAt(), status.startedAt(), status.finishedAt());
        return node;
    }

    static ObjectNode of(final DeadLetterPage page)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        final var letters = node.putArray("letters");
        for (final DeadLetter letter : page.letters())
        {
            letters.add(letter(MAPPER.createObjectNode(), letter));
        }
        node.put("nextCursor", page.nextCursor());
        node.put("more", page.more());
        node.put("total", page.total());
        return node;
    }

    static ObjectNode of(final String key, final DeadLetterDetails details)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        if (details == null)
        {
            node.put("key", key);
            node.put("found", false);
            return node;
        }
        node.put("found", true);
        letter(node, details.letter());
        node.put("priority", details.priority() == null ? null : details.priority().name());
        text(node, "tenant", details.tenant());
        node.put("timeoutMillis", details.timeoutMillis());
        node.put("maxAttempts", details.maxAttempts());
        embed(node, "payload", details.payload());
        return node;
    }

    static ObjectNode of(final RedriveResult result)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        node.put("key", result.key());
        node.put("outcome", result.outcome() == null ? null : result.outcome().name());
        node.put("redriven", result.redriven());
        if (result.state() != null)
        {
            node.put("taskId", result.taskId());
            node.put("state", result.state().name());
            node.put("attempts", result.attempts());
            node.put("maxAttempts", result.maxAttempts());
        }
        node.put("message", result.message());
        return node;
    }

    /**
     * @param key the key purged, or null for every dead letter.
     */
    static ObjectNode of(final String key, final PurgeResult result)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        if (key == null)
        {
            node.put("all", true);
        }
        else
        {
            node.put("key", key);
        }
        node.put("purged", result.purged());
        node.put("remaining", result.remaining());
        return node;
    }

    /** A status event, as {@code gyre watch --json} prints it. */
    static ObjectNode of(final TaskEvent event)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        node.put("eventId", event.eventId());
        node.put("document", "0x" + Long.toHexString(event.documentIndex()));
        time(node, "time", event.timestamp());
        node.put("taskId", event.taskId());
        node.put("kind", event.kind().name());
        node.put("from", event.from() == null ? null : event.from().name());
        node.put("state", event.state().name());
        node.put("attempt", event.attempt());
        text(node, "key", event.key());
        node.put("type", event.type());
        text(node, "tenant", event.tenant());
        if (event.reasonName() != null)
        {
            node.put("reason", event.reasonName());
        }
        time(node, "dueAt", event.dueAt());
        if (event.error() != null)
        {
            node.put("error", event.error());
        }
        return node;
    }

    /** Events the server dropped, as {@code gyre watch --json} prints them. */
    static ObjectNode lost(final long count, final boolean upperBound)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        node.put("lost", count);
        node.put("upperBound", upperBound);
        return node;
    }

    private static ObjectNode letter(final ObjectNode node, final DeadLetter letter)
    {
        text(node, "key", letter.key());
        node.put("cursor", letter.cursor());
        node.put("taskId", letter.taskId());
        node.put("type", letter.type());
        node.put("reason", letter.reason() == null ? null : letter.reason().name());
        node.put("attempts", letter.attempts());
        node.put("error", letter.error());
        time(node, "submittedAt", letter.submittedAt());
        time(node, "deadLetteredAt", letter.deadLetteredAt());
        return node;
    }

    /** Bytes as a string when they are UTF-8 ({@code name}), otherwise as base64 ({@code nameBase64}). */
    private static void text(final ObjectNode node, final String name, final byte[] bytes)
    {
        final String text = utf8(bytes);
        if (text == null)
        {
            node.put(name + "Base64", Base64.getEncoder().encodeToString(bytes));
        }
        else
        {
            node.put(name, text);
        }
    }

    private static void output(final ObjectNode node, final byte[] bytes)
    {
        embed(node, "output", bytes);
    }

    /**
     * Bytes that are JSON embedded as JSON, other UTF-8 as a string ({@code name}), anything else as base64
     * ({@code nameBase64}).
     */
    static void embed(final ObjectNode node, final String name, final byte[] bytes)
    {
        final String text = utf8(bytes);
        if (text == null)
        {
            node.put(name + "Base64", Base64.getEncoder().encodeToString(bytes));
            return;
        }
        if (isOneJsonValue(text))
        {
            // the bytes themselves, not a re-encoding of what they parse to: 1.10 stays 1.10, 1e400 stays 1e400 (no
            // double in between); line breaks outside strings (the only place valid JSON has them) become spaces, so
            // the answer stays on one line
            node.putRawValue(name, new RawValue(text.strip().replace('\n', ' ').replace('\r', ' ')));
            return;
        }
        node.put(name, text);
    }

    /**
     * @return whether the text is exactly one JSON value, strictly: no trailing content, no duplicate member
     *     names, nothing JSON does not allow (a byte order mark, NaN, comments, single quotes). Anything else is
     *     printed as a string, exactly as it is.
     */
    static boolean isOneJsonValue(final String text)
    {
        if (text.isBlank() || text.charAt(0) == '\uFEFF')
        {
            return false;
        }
        try (JsonParser parser = STRICT.createParser(text))
        {
            if (parser.nextToken() == null)
            {
                return false;
            }
            parser.skipChildren();
            return parser.nextToken() == null;
        }
        catch (final java.io.IOException notJson)
        {
            return false;
        }
    }

    private static String utf8(final byte[] bytes)
    {
        try
        {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
        }
        catch (final CharacterCodingException ex)
        {
            return null;
        }
    }

    private static void times(final ObjectNode node, final long submittedAt, final long startedAt, final long finishedAt)
    {
        time(node, "submittedAt", submittedAt);
        time(node, "startedAt", startedAt);
        time(node, "finishedAt", finishedAt);
    }

    private static void time(final ObjectNode node, final String name, final long epochNanos)
    {
        if (epochNanos != 0)
        {
            node.put(name, Instant.ofEpochSecond(0, epochNanos).toString());
        }
    }

    static String write(final JsonNode node)
    {
        try
        {
            return MAPPER.writeValueAsString(node);
        }
        catch (final com.fasterxml.jackson.core.JsonProcessingException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
