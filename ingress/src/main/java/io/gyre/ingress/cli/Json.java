package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

    private static void output(final ObjectNode node, final byte[] bytes)
    {
        final String text = utf8(bytes);
        if (text == null)
        {
            node.put("outputBase64", Base64.getEncoder().encodeToString(bytes));
            return;
        }
        try
        {
            final JsonNode parsed = text.isBlank() ? null : MAPPER.readTree(text);
            if (parsed != null && !parsed.isMissingNode())
            {
                node.set("output", parsed);
                return;
            }
        }
        catch (final java.io.IOException notJson)
        {
            // plain text
        }
        node.put("output", text);
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
