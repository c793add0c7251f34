package io.gyre.tasks.json;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import java.io.IOException;

/**
 * Reading a JSON task's payload, writing its output, and the wording of its errors, shared by the
 * {@code set}, {@code inject} and {@code transform} handlers.
 * <p>
 * One {@link ObjectMapper}, configured once, and a reader and writer made from it are used from every thread
 * (they are thread-safe once configured).
 * It reads strictly, so that what the task does is what the payload says: trailing content after the
 * payload's object and duplicate property names are errors, and numbers with a fraction or exponent are kept
 * as decimals, so that {@code 1.10} is written back as {@code 1.10} and no digit is lost to a double.
 */
final class Payloads
{
    /** Prefix of every failure the handlers report about their payload (the engine's own word for it). */
    static final String INVALID_INPUT = "invalid input: ";

    private static final ObjectMapper MAPPER = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
        .build();

    /** Reads a tree with the type already resolved (the mapper's {@code readTree} resolves it on every call). */
    private static final ObjectReader READER = MAPPER.readerFor(JsonNode.class);

    private static final ObjectWriter WRITER = MAPPER.writer();

    private Payloads()
    {
    }

    /**
     * @return the factory of the mapper the tree path reads and writes with, for the streaming fast path to
     *     read and write alike.
     */
    static JsonFactory factory()
    {
        return MAPPER.getFactory();
    }

    /**
     * Parse the attempt's payload, which must be one JSON object. Reads the payload's bytes in place when
     * they are on the heap (the engine's case); copies them once otherwise.
     *
     * @throws TaskFailure (permanent) naming {@code payload} when it is not JSON or not an object.
     */
    static ObjectNode parse(final TaskContext context) throws TaskFailure
    {
        final DirectBuffer payload = context.payload();
        final int length = context.payloadLength();
        byte[] array = payload.byteArray();
        int offset = payload.wrapAdjustment();
        if (array == null)
        {
            array = new byte[length];
            payload.getBytes(0, array);
            offset = 0;
        }
        final JsonNode root;
        try
        {
            root = READER.readTree(array, offset, length);
        }
        catch (final NumberFormatException ex)
        {
            throw unrepresentableNumber(array, offset, length, ex);
        }
        catch (final JacksonException ex)
        {
            throw invalid("payload", "not JSON: " + JsonErrors.plain(ex.getOriginalMessage()) + at(ex.getLocation()));
        }
        catch (final IOException ex)
        {
            throw invalid("payload", "not JSON: " + ex.getMessage());
        }
        if (root == null || root.isMissingNode())
        {
            throw invalid("payload", "must be a JSON object, was empty");
        }
        if (!root.isObject())
        {
            throw invalid("payload", "must be a JSON object, was " + describe(root));
        }
        return (ObjectNode)root;
    }

    /**
     * @return the failure for a payload the tree reader could not read a number of (see
     *     {@link JsonErrors#findUnrepresentableNumber}): it names the number's field.
     */
    private static TaskFailure unrepresentableNumber(final byte[] array, final int offset, final int length,
        final NumberFormatException problem)
    {
        try (JsonParser parser = MAPPER.getFactory().createParser(array, offset, length))
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
        return invalid("payload", "not JSON: " + problem.getMessage());
    }

    /**
     * Succeed the attempt with the document, as UTF-8 JSON. An output over the engine's maximum fails the
     * attempt permanently (the engine checks that, and says so).
     *
     * @throws TaskFailure (permanent) when the document cannot be written (nested deeper than JSON writers
     *     allow).
     */
    static void succeed(final TaskContext context, final JsonNode document) throws TaskFailure
    {
        final CappedOutput output = new CappedOutput(null);
        output.reset(new ExpandableArrayBuffer(1024), context.maxOutputBytes());
        try
        {
            WRITER.writeValue(output, document);
        }
        catch (final CappedOutput.TooLarge ex)
        {
            throw CappedOutput.failure(ex.maxBytes);
        }
        catch (final JacksonException ex)
        {
            if (ex.getCause() instanceof CappedOutput.TooLarge tooLarge)
            {
                throw CappedOutput.failure(tooLarge.maxBytes);
            }
            throw TaskFailure.permanent("output: cannot be written as JSON: " + ex.getOriginalMessage());
        }
        catch (final IOException ex)
        {
            // only the output stream could throw it, and it throws nothing else
            throw new IllegalStateException(ex);
        }
        context.succeed(output.buffer(), 0, output.position());
    }

    /**
     * @return the payload's {@code input}, or an empty object when it has none.
     */
    static JsonNode input(final ObjectNode payload)
    {
        final JsonNode input = payload.get("input");
        return input != null ? input : payload.objectNode();
    }

    /**
     * @param field the field, e.g. {@code ops[2].from}.
     * @param reason what is wrong with it.
     * @return the permanent failure to throw: {@code invalid input: <field>: <reason>}.
     */
    static TaskFailure invalid(final String field, final String reason)
    {
        return TaskFailure.permanent(INVALID_INPUT + field + ": " + reason);
    }

    /**
     * @return the failure for a field whose text {@link Pointer#parse} refused.
     */
    static TaskFailure notAPointer(final String field, final String text, final IllegalArgumentException problem)
    {
        return invalid(field, quote(text) + " is not a JSON Pointer: " + problem.getMessage());
    }

    /**
     * @return the failure for an object that has a property none of {@code known} names.
     */
    static TaskFailure unknownField(final String where, final ObjectNode object, final String what, final String[] known)
    {
        for (final java.util.Map.Entry<String, JsonNode> property : object.properties())
        {
            final String name = property.getKey();
            if (!contains(known, name))
            {
                return invalid(where + name, "unknown field of " + what + " (" + String.join(", ", known) + ")");
            }
        }
        throw new IllegalStateException("no unknown field in " + object);
    }

    /**
     * @return how many of {@code names} the object has (to compare with its size: more means an unknown one).
     */
    static int countPresent(final ObjectNode object, final String[] names)
    {
        int present = 0;
        for (final String name : names)
        {
            if (object.get(name) != null)
            {
                present++;
            }
        }
        return present;
    }

    /**
     * @return the kind of a value, for messages: "an object", "an array", "a string", "a number",
     *     "a boolean", "null".
     */
    static String describe(final JsonNode node)
    {
        switch (node.getNodeType())
        {
            case OBJECT:
                return "an object";
            case ARRAY:
                return "an array";
            case STRING:
                return "a string";
            case NUMBER:
                return "a number";
            case BOOLEAN:
                return "a boolean";
            case NULL:
                return "null";
            default:
                return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * @return the text as a JSON string literal, quotes included (for messages).
     */
    static String quote(final String text)
    {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + '"';
    }

    /**
     * @return {@code container["key"]}, the name of an entry of a JSON object field.
     */
    static String entry(final String container, final String key)
    {
        return container + '[' + quote(key) + ']';
    }

    private static boolean contains(final String[] names, final String name)
    {
        for (final String candidate : names)
        {
            if (candidate.equals(name))
            {
                return true;
            }
        }
        return false;
    }

    private static String at(final JsonLocation location)
    {
        return location == null || location.getLineNr() < 0 ?
            "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
