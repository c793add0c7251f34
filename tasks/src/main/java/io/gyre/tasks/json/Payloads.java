package io.gyre.tasks.json;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ValueNode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import java.io.IOException;
import java.math.BigDecimal;

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

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
            // a character outside the BMP is written as its UTF-8, as every other one: without this Jackson writes
            // each half of its surrogate pair as an escape (an emoji as backslash-u D83D, backslash-u DE00), while
            // "é" is written raw
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .build())
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
     * Parse the attempt's payload, which must be one JSON object, in well-formed UTF-8 ({@link Utf8}: checked
     * first, since the parser decodes some ill-formed bytes, an overlong {@code /} among them, as if they were
     * characters). Reads the payload's bytes in place when they are on the heap (the engine's case); copies them
     * once otherwise.
     *
     * @throws TaskFailure (permanent) naming {@code payload} when it is not UTF-8, not JSON or not an object.
     */
    static ObjectNode parse(final TaskContext context) throws TaskFailure
    {
        final DirectBuffer payload = context.payload();
        final int length = context.payloadLength();
        final Utf8.Bytes bytes = Utf8.Bytes.of(payload, length);
        final byte[] array = bytes.array();
        final int offset = bytes.offset();
        final int illFormed = Utf8.firstInvalidJson(array, offset, length);
        if (illFormed >= 0)
        {
            throw invalid("payload", "not JSON: " + Utf8.problem(array, offset, length, illFormed));
        }
        final JsonNode root;
        final SignedZeros nodes = new SignedZeros();
        try (JsonParser parser = MAPPER.getFactory().createParser(array, offset, length))
        {
            nodes.parser = parser;
            root = READER.with(nodes).readTree(parser);
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
        finally
        {
            nodes.parser = null;
        }
        if (mayHaveUnpairedSurrogate(array, offset, length))
        {
            final TaskFailure unpaired = unpairedSurrogate(array, offset, length);
            if (unpaired != null)
            {
                throw unpaired;
            }
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
     * @return whether the payload has an escape of a UTF-16 surrogate (backslash-u and D800 to DFFF),
     *     the only way a string can hold an unpaired one (the parser refuses one encoded in UTF-8): a quick look
     *     that spares most payloads the second read of {@link #unpairedSurrogate}.
     */
    private static boolean mayHaveUnpairedSurrogate(final byte[] array, final int offset, final int length)
    {
        for (int i = offset, end = offset + length - 3; i < end; i++)
        {
            if (array[i] == '\\' && array[i + 1] == 'u' && (array[i + 2] | 0x20) == 'd')
            {
                final int third = array[i + 3] | 0x20;
                if (third == '8' || third == '9' || third >= 'a' && third <= 'f')
                {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * @return the failure naming the first string value with an unpaired surrogate, or null when there is none.
     *     Such a string is not Unicode text; a member name with one is refused by the parser already, and a value
     *     is refused alike, so that what a task accepts does not depend on where the text is.
     */
    private static TaskFailure unpairedSurrogate(final byte[] array, final int offset, final int length)
    {
        try (JsonParser parser = MAPPER.getFactory().createParser(array, offset, length))
        {
            final JsonErrors.Unrepresentable unpaired = JsonErrors.findUnpairedSurrogate(parser);
            return unpaired == null ? null : invalid(unpaired.field(), unpaired.reason());
        }
        catch (final IOException ex)
        {
            return null; // cannot be: the tree reader read the whole payload
        }
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
                return invalid(where + JsonErrors.fieldName(name), "unknown field of " + what + " (" + String.join(", ", known) + ")");
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
        return JsonErrors.quote(text);
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

    /**
     * The tree reader's nodes, but for a negative zero, which keeps its sign: the reader makes {@code -0} the int 0
     * and {@code -0.0} a decimal that has no sign, so an untouched {@code -0} would be written {@code 0}. The
     * factory sees only the value, so it looks at the parser's current token for the sign. One per parse.
     */
    private static final class SignedZeros extends JsonNodeFactory
    {
        private static final long serialVersionUID = 1L;

        private transient JsonParser parser;

        @Override
        public NumericNode numberNode(final int value)
        {
            return value == 0 && negativeNumber() ? NegativeZero.INT : super.numberNode(value);
        }

        @Override
        public ValueNode numberNode(final BigDecimal value)
        {
            return value != null && value.signum() == 0 && negativeNumber() ? new NegativeZero(value) : super.numberNode(value);
        }

        private boolean negativeNumber()
        {
            final JsonParser current = parser;
            try
            {
                return current != null && (current.hasToken(JsonToken.VALUE_NUMBER_INT) ||
                    current.hasToken(JsonToken.VALUE_NUMBER_FLOAT)) && current.getTextLength() > 0 &&
                    current.getTextCharacters()[current.getTextOffset()] == '-';
            }
            catch (final IOException ex)
            {
                return false; // the number's text was read already: cannot be
            }
        }
    }

    /**
     * A negative zero: {@code -0}, the int 0, or a decimal zero ({@code -0.0}, {@code -0e5}), written as the tree
     * writes any other ({@link BigDecimal#toString}: {@code 0.0}, {@code 0E+5}) but with its sign. Jackson's own
     * number nodes write themselves with {@code final} methods, so this is a number node of its own.
     */
    private static final class NegativeZero extends NumericNode
    {
        private static final long serialVersionUID = 1L;
        static final NegativeZero INT = new NegativeZero(null);

        /** The decimal, or null for the int. */
        private final BigDecimal decimal;
        private final String text;

        NegativeZero(final BigDecimal decimal)
        {
            this.decimal = decimal;
            this.text = decimal == null ? "-0" : "-" + decimal;
        }

        @Override
        public JsonToken asToken()
        {
            return decimal == null ? JsonToken.VALUE_NUMBER_INT : JsonToken.VALUE_NUMBER_FLOAT;
        }

        @Override
        public JsonParser.NumberType numberType()
        {
            return decimal == null ? JsonParser.NumberType.INT : JsonParser.NumberType.BIG_DECIMAL;
        }

        @Override
        public boolean isIntegralNumber()
        {
            return decimal == null;
        }

        @Override
        public boolean isFloatingPointNumber()
        {
            return decimal != null;
        }

        @Override
        public Number numberValue()
        {
            return decimal == null ? Integer.valueOf(0) : decimal;
        }

        @Override
        public int intValue()
        {
            return 0;
        }

        @Override
        public long longValue()
        {
            return 0;
        }

        @Override
        public double doubleValue()
        {
            return -0.0d;
        }

        @Override
        public BigDecimal decimalValue()
        {
            return decimal == null ? BigDecimal.ZERO : decimal;
        }

        @Override
        public java.math.BigInteger bigIntegerValue()
        {
            return java.math.BigInteger.ZERO;
        }

        @Override
        public boolean canConvertToInt()
        {
            return true;
        }

        @Override
        public boolean canConvertToLong()
        {
            return true;
        }

        @Override
        public String asText()
        {
            return text;
        }

        @Override
        public void serialize(final com.fasterxml.jackson.core.JsonGenerator generator, final SerializerProvider provider)
            throws IOException
        {
            generator.writeNumber(text);
        }

        @Override
        public boolean equals(final Object other)
        {
            return other instanceof NegativeZero zero && zero.text.equals(text);
        }

        @Override
        public int hashCode()
        {
            return text.hashCode();
        }
    }

    private static String at(final JsonLocation location)
    {
        return location == null || location.getLineNr() < 0 ?
            "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
