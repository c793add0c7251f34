package io.gyre.tasks.json;

import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The handlers against their own tree path ({@link JsonTaskHandler#executeOnTree}: what they did before the fast
 * path, and what still words every failure), on random payloads: random documents (nested objects and arrays, unicode and escapes, numbers of
 * every form), random pointers (into the document, past it, malformed) and random edits, written with random
 * whitespace and escaping, now and then with a duplicate name, a trailing token or a field of the wrong type.
 * Every payload must give the same output bytes, or the same failure, from both; and the fast path must
 * handle most of the payloads that succeed (or this test would prove nothing about it).
 */
class JsonEditEquivalenceTest
{
    private static final int PAYLOADS = 20_000;

    private static final String[] NAMES = {"a", "b", "c", "id", "0", "1", "-", "~", "/", "a/b", "~1", "é", "世", ""};
    private static final String[] NUMBERS = {
        "0", "-0", "7", "-12", "2147483647", "2147483648", "-9223372036854775808", "9223372036854775808",
        "12345678901234567890123", "1.10", "-0.0", "0.0", "0.000000", "0.0000000", "0.00001", "0.000001", "0.0000001",
        "-0.000001", "19.99", "1e3", "1E3", "1e-3", "-2.5E+10", "1.5e400", "123.456e7", "0e0", "-0e-0", "1e0000000005",
        "3.14159265358979323846264338327950288", "100.0", "1e2147483647", "10e-7"};
    private static final char[] CHARS = {'a', 'b', 'z', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f',
        'é', 'ß', '世', '\u2028', '~'};

    private final Random random = new Random(20261124L);

    @Test
    void shouldSetAsTheTreeHandlerDid() throws TaskFailure
    {
        compare(new SetTaskHandler(), new TreePath(new SetTaskHandler()), this::setPayload);
    }

    @Test
    void shouldInjectAsTheTreeHandlerDid() throws TaskFailure
    {
        compare(new InjectTaskHandler(), new TreePath(new InjectTaskHandler()), this::injectPayload);
    }

    @Test
    void shouldTransformAsTheTreeHandlerDid() throws TaskFailure
    {
        compare(new TransformTaskHandler(), new TreePath(new TransformTaskHandler()), this::transformPayload);
    }

    /**
     * Objects with more members than the fast path scans (it indexes their names above 32): many operations on
     * one large object, members put, replaced, copied, moved and removed in random order, so the index is built,
     * kept up by puts and rebuilt after removals; the fast path must write what the tree path does.
     */
    @Test
    void shouldTransformLargeObjectsAsTheTreeHandlerDid() throws TaskFailure
    {
        compare(new TransformTaskHandler(), new TreePath(new TransformTaskHandler()), this::largeObjectTransform);
    }

    /**
     * Pointers into a large input (the fast path indexes an object's names, and an array's elements, past the 32nd):
     * the fast path must find what the tree path finds, missing members and elements past the end included.
     */
    @Test
    void shouldInjectFromLargeInputsAsTheTreeHandlerDid() throws TaskFailure
    {
        compare(new InjectTaskHandler(), new TreePath(new InjectTaskHandler()), this::largeInputInject);
    }

    private String largeInputInject()
    {
        final Map<String, Object> input = new LinkedHashMap<>();
        for (int i = 0, members = 20 + random.nextInt(100); i < members; i++)
        {
            input.put("m" + random.nextInt(160), random.nextInt(3) == 0 ? Map.of("x", new Num(Integer.toString(i))) : new Num(Integer.toString(i)));
        }
        final List<Object> array = new ArrayList<>();
        for (int i = 0, elements = 20 + random.nextInt(100); i < elements; i++)
        {
            array.add(new Num(Integer.toString(i * 7)));
        }
        input.put("arr", array);
        final Map<String, Object> refs = new LinkedHashMap<>();
        for (int i = 0, count = 10 + random.nextInt(80); i < count; i++)
        {
            refs.put("/t" + random.nextInt(100), random.nextInt(3) == 0 ? "/arr/" + random.nextInt(130) : "/m" + random.nextInt(160) +
                (random.nextInt(30) == 0 ? "/x" : ""));
        }
        final Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("input", input);
        payload.put("refs", refs);
        payload.put("required", random.nextInt(12) == 0);
        return payload(payload, "template2");
    }

    private String largeObjectTransform()
    {
        final Map<String, Object> input = new LinkedHashMap<>();
        for (int i = 0, members = 20 + random.nextInt(100); i < members; i++)
        {
            input.put("m" + random.nextInt(160), random.nextInt(3) == 0 ? Map.of("x", new Num(Integer.toString(i))) : new Num(Integer.toString(i)));
        }
        final String[] kinds = {"set", "copy", "move", "remove", "merge"};
        final List<Object> ops = new ArrayList<>();
        for (int i = 0, count = 20 + random.nextInt(80); i < count; i++)
        {
            final String kind = kinds[random.nextInt(kinds.length)];
            final Map<String, Object> op = new LinkedHashMap<>();
            op.put("op", kind);
            if ("copy".equals(kind) || "move".equals(kind))
            {
                op.put("from", "/m" + random.nextInt(160));
            }
            op.put("path", "/m" + random.nextInt(160) + (random.nextInt(60) == 0 ? "/x" : ""));
            if ("set".equals(kind) || "merge".equals(kind))
            {
                op.put("value", random.nextInt(2) == 0 ? new Num(Integer.toString(random.nextInt(1000))) : Map.of("y", "v" + i));
            }
            if (!"set".equals(kind) && !"merge".equals(kind) && random.nextInt(400) != 0)
            {
                op.put("required", false);
            }
            ops.add(op);
        }
        final Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("input", input);
        payload.put("ops", ops);
        return payload(payload, "op");
    }

    /**
     * What the random payloads do not reach: objects large enough to be checked for duplicate names with a
     * set, numbers long enough for Jackson's own decimal parser, nesting near the limits, other encodings.
     */
    @Test
    void shouldAgreeOnPayloadsOutsideTheRandomOnes()
    {
        final StringBuilder large = new StringBuilder("{");
        for (int i = 0; i < 40; i++)
        {
            large.append(i == 0 ? "" : ",").append("\"m").append(i).append("\":").append(i);
        }
        final String object = large.append('}').toString();
        final String duplicated = object.replace("\"m39\"", "\"m7\"");
        final String longDecimal = "0." + "1234567890".repeat(60);
        final String longInteger = "9".repeat(600);
        final String deep = "[".repeat(997) + "1" + "]".repeat(997);

        final List<String> payloads = List.of(
            "{\"input\":" + object + ",\"values\":{\"/m7\":\"x\",\"/m40\":1}}",
            "{\"input\":" + duplicated + ",\"values\":{\"/m7\":\"x\"}}",
            "{\"input\":" + object + ",\"ops\":[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/all\"}]}",
            "{\"input\":{\"d\":" + longDecimal + ",\"i\":" + longInteger + ",\"e\":" + longDecimal + "e5},\"values\":{}}",
            "{\"input\":{\"d\":" + longDecimal + "},\"ops\":[{\"op\":\"copy\",\"from\":\"/d\",\"path\":\"/c\"}]}",
            "{\"input\":" + deep + ",\"values\":{}}",
            "{\"input\":" + deep + ",\"ops\":[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/0/0\"}]}",
            "{\"input\":{\"a\":" + deep + "},\"refs\":{\"/x/y\":\"/a\"}}",
            "\uFEFF{\"input\":{\"a\":1},\"values\":{\"/b\":2}}");
        final TaskHandler[][] pairs = {
            {new SetTaskHandler(), new TreePath(new SetTaskHandler())},
            {new InjectTaskHandler(), new TreePath(new InjectTaskHandler())},
            {new TransformTaskHandler(), new TreePath(new TransformTaskHandler())}};
        for (final String payload : payloads)
        {
            for (final java.nio.charset.Charset charset : List.of(StandardCharsets.UTF_8, StandardCharsets.UTF_16BE))
            {
                final byte[] bytes = payload.getBytes(charset);
                for (final TaskHandler[] pair : pairs)
                {
                    final Capture expected = Capture.run(pair[1], bytes, false);
                    final Capture actual = Capture.run(pair[0], bytes, false);
                    final String shown = pair[0].type() + " " + charset + " " + payload.substring(0, Math.min(80, payload.length()));
                    assertThat(actual.failure).as("failure of %s", shown).isEqualTo(expected.failure);
                    assertThat(actual.output).as("output of %s", shown).isEqualTo(expected.output);
                }
            }
        }
    }

    /**
     * Random payloads of each type with an ill-formed UTF-8 sequence put in between two characters (in a string, a
     * name, between tokens, at the end): both paths refuse each one with the same failure, naming its first byte.
     */
    @Test
    void shouldRefuseIllFormedUtf8AsTheTreeHandlerDid()
    {
        final String[] illFormed = {"C0AF", "C080", "E080AF", "F08FBFBF", "F4908080", "EDA080", "EDBFBF", "FF", "80", "BF",
            "C3", "E282", "F09F98", "F8888080", "C328"};
        final JsonTaskHandler[] handlers = {new SetTaskHandler(), new InjectTaskHandler(), new TransformTaskHandler()};
        final PayloadSource[] sources = {this::setPayload, this::injectPayload, this::transformPayload};
        for (int i = 0; i < PAYLOADS / 10; i++)
        {
            final int type = i % handlers.length;
            final byte[] valid = sources[type].next().getBytes(StandardCharsets.UTF_8);
            final byte[] bad = java.util.HexFormat.of().parseHex(illFormed[random.nextInt(illFormed.length)]);
            int at = random.nextInt(valid.length + 1);
            while (at < valid.length && (valid[at] & 0xC0) == 0x80)
            {
                at++; // between characters, so that the first byte ill-formed is the first put in
            }
            final byte[] payload = new byte[valid.length + bad.length];
            System.arraycopy(valid, 0, payload, 0, at);
            System.arraycopy(bad, 0, payload, at, bad.length);
            System.arraycopy(valid, at, payload, at + bad.length, valid.length - at);
            final String shown = java.util.HexFormat.ofDelimiter(" ").formatHex(payload);

            final Capture expected = Capture.run(new TreePath(handlers[type]), payload, false);
            final Capture actual = Capture.run(handlers[type], payload, i % 2 == 0);
            assertThat(actual.failure).as("failure of %s", shown).isEqualTo(expected.failure)
                .startsWith("permanent: invalid input: payload: not JSON: invalid UTF-8 at byte offset " + at + ": ");
            assertThat(actual.output).as("output of %s", shown).isNull();
        }
    }

    private void compare(final JsonTaskHandler handler, final TaskHandler reference, final PayloadSource source) throws TaskFailure
    {
        int succeeded = 0;
        int fast = 0;
        int failed = 0;
        int overBudget = 0;
        int overBudgetFast = 0;
        for (int i = 0; i < PAYLOADS; i++)
        {
            final int budget = random.nextInt(8) == 0 ? 1 + random.nextInt(12) : JsonTaskHandler.DEFAULT_MAX_COPIED_VALUES;
            final Map<String, String> settings = budget == JsonTaskHandler.DEFAULT_MAX_COPIED_VALUES || "set".equals(handler.type()) ?
                Map.of() : Map.of(JsonTaskHandler.MAX_COPIED_VALUES, Integer.toString(budget));
            handler.configure(settings);
            reference.configure(settings);
            final byte[] payload = source.next().getBytes(StandardCharsets.UTF_8);
            final String shown = new String(payload, StandardCharsets.UTF_8);

            final Capture expected = Capture.run(reference, payload, false);
            final Capture actual = Capture.run(handler, payload, i % 5 == 0);
            assertThat(actual.failure).as("failure of %s", shown).isEqualTo(expected.failure);
            assertThat(actual.output).as("output of %s", shown).isEqualTo(expected.output);

            if (expected.output != null)
            {
                succeeded++;
                final RecordingContext direct = RecordingContext.of(payload);
                final Workspace workspace = Workspace.current();
                final int maxCopies = "set".equals(handler.type()) ? JsonTaskHandler.DEFAULT_MAX_COPIED_VALUES : budget;
                if (workspace.read(direct, maxCopies) && handler.edit(workspace) && workspace.succeed(direct))
                {
                    fast++;
                    assertThat(direct.outputBytes()).as("fast output of %s", shown).isEqualTo(expected.output);
                }
            }
            else
            {
                failed++;
                if (expected.failure.endsWith("(max-copied-values)"))
                {
                    // the fast path words this failure itself where it can, rather than have the tree path copy again
                    overBudget++;
                    final Workspace workspace = Workspace.current();
                    try
                    {
                        if (workspace.read(RecordingContext.of(payload), budget))
                        {
                            handler.edit(workspace);
                        }
                    }
                    catch (final TaskFailure ex)
                    {
                        overBudgetFast++;
                        assertThat("permanent: " + ex.getMessage()).as("fast failure of %s", shown).isEqualTo(expected.failure);
                    }
                }
            }
        }
        System.out.printf("%s: %d payloads, %d succeeded (%d on the fast path), %d failed (%d over max-copied-values, %d of them " +
            "on the fast path)%n", handler.type(), PAYLOADS, succeeded, fast, failed, overBudget, overBudgetFast);
        assertThat(succeeded).as("payloads that succeed").isGreaterThan(PAYLOADS / 4);
        assertThat(failed).as("payloads that fail").isGreaterThan(PAYLOADS / 20);
        assertThat(fast).as("of %d that succeed, handled by the fast path", succeeded).isGreaterThan(succeeded * 9 / 10);
        if (!"set".equals(handler.type()))
        {
            assertThat(overBudgetFast).as("of %d over max-copied-values, worded by the fast path", overBudget).isGreaterThan(overBudget / 2);
        }
    }

    private String setPayload()
    {
        final Object input = document(3);
        final Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0, count = random.nextInt(5); i < count; i++)
        {
            values.put(pointer(input), random.nextInt(4) == 0 ? document(2) : scalar());
        }
        final Map<String, Object> payload = new LinkedHashMap<>();
        if (random.nextInt(6) != 0)
        {
            payload.put("input", input);
        }
        payload.put("values", random.nextInt(40) == 0 ? List.of(1) : values);
        return payload(payload, "value");
    }

    private String injectPayload()
    {
        final Object input = document(3);
        final Object template = random.nextBoolean() ? document(2) : new LinkedHashMap<String, Object>();
        final Map<String, Object> refs = new LinkedHashMap<>();
        for (int i = 0, count = random.nextInt(5); i < count; i++)
        {
            refs.put(pointer(template), random.nextInt(30) == 0 ? (Object)new Num("1") : pointer(input));
        }
        final Map<String, Object> payload = new LinkedHashMap<>();
        if (random.nextInt(6) != 0)
        {
            payload.put("input", input);
        }
        if (random.nextInt(4) != 0)
        {
            payload.put("template", template);
        }
        payload.put("refs", random.nextInt(40) == 0 ? "refs" : refs);
        if (random.nextBoolean())
        {
            payload.put("required", random.nextInt(20) == 0 ? (Object)"no" : (Object)random.nextBoolean());
        }
        return payload(payload, "ref");
    }

    private String transformPayload()
    {
        final Object input = document(3);
        final List<Object> ops = new ArrayList<>();
        for (int i = 0, count = random.nextInt(4); i < count; i++)
        {
            ops.add(operation(input));
        }
        final Map<String, Object> payload = new LinkedHashMap<>();
        if (random.nextInt(6) != 0)
        {
            payload.put("input", input);
        }
        payload.put("ops", random.nextInt(40) == 0 ? Map.of() : ops);
        return payload(payload, "op");
    }

    private Object operation(final Object input)
    {
        final String[] kinds = {"set", "copy", "move", "remove", "merge"};
        final String kind = random.nextInt(50) == 0 ? "frobnicate" : kinds[random.nextInt(kinds.length)];
        final Map<String, Object> op = new LinkedHashMap<>();
        op.put("op", kind);
        final boolean from = "copy".equals(kind) || "move".equals(kind);
        final boolean value = "set".equals(kind) || "merge".equals(kind);
        if (from || random.nextInt(40) == 0)
        {
            op.put("from", random.nextInt(40) == 0 ? new Num("3") : pointer(input));
        }
        if (random.nextInt(40) != 0)
        {
            op.put("path", pointer(input));
        }
        if (value || random.nextInt(40) == 0)
        {
            op.put("value", "merge".equals(kind) && random.nextBoolean() ? patch(3) : random.nextInt(3) == 0 ? document(2) : scalar());
        }
        if (!value && random.nextBoolean())
        {
            op.put("required", random.nextInt(30) == 0 ? (Object)new Num("0") : (Object)random.nextBoolean());
        }
        final List<String> names = new ArrayList<>(op.keySet());
        final Map<String, Object> shuffled = new LinkedHashMap<>();
        java.util.Collections.shuffle(names, random);
        for (final String name : names)
        {
            shuffled.put(name, op.get(name));
        }
        return random.nextInt(60) == 0 ? (Object)"op" : shuffled;
    }

    /**
     * @return the payload written with random whitespace and escaping; now and then with an unknown field,
     *     a field written twice, or a token after the object.
     */
    private String payload(final Map<String, Object> payload, final String unknown)
    {
        if (random.nextInt(50) == 0)
        {
            payload.put(unknown, 1);
        }
        final StringBuilder text = new StringBuilder();
        write(text, payload);
        if (random.nextInt(100) == 0)
        {
            text.append(random.nextBoolean() ? " {}" : " x");
        }
        if (random.nextInt(100) == 0)
        {
            final int brace = text.indexOf("{", 1);
            if (brace > 0)
            {
                text.insert(brace + 1, "\"a\":1,\"a\":2" + (text.charAt(brace + 1) == '}' ? "" : ","));
            }
        }
        return text.toString();
    }

    private Object document(final int depth)
    {
        final int kind = random.nextInt(depth <= 0 ? 3 : 6);
        if (kind < 3)
        {
            return scalar();
        }
        if (kind < 5)
        {
            final Map<String, Object> object = new LinkedHashMap<>();
            for (int i = 0, count = random.nextInt(5); i < count; i++)
            {
                object.put(name(), document(depth - 1));
            }
            return object;
        }
        final List<Object> array = new ArrayList<>();
        for (int i = 0, count = random.nextInt(5); i < count; i++)
        {
            array.add(document(depth - 1));
        }
        return array;
    }

    /**
     * @return a merge patch: an object with null members (removals) among others.
     */
    private Object patch(final int depth)
    {
        final Map<String, Object> object = new LinkedHashMap<>();
        for (int i = 0, count = random.nextInt(4); i < count; i++)
        {
            final int kind = random.nextInt(4);
            object.put(name(), kind == 0 ? null : kind == 1 && depth > 0 ? patch(depth - 1) : document(depth - 1));
        }
        return object;
    }

    private Object scalar()
    {
        switch (random.nextInt(6))
        {
            case 0:
                return null;
            case 1:
                return random.nextBoolean();
            case 2:
            case 3:
                return new Num(NUMBERS[random.nextInt(NUMBERS.length)]);
            default:
                return text(random.nextInt(6));
        }
    }

    private String name()
    {
        return random.nextInt(10) == 0 ? text(3) : NAMES[random.nextInt(NAMES.length)];
    }

    private String text(final int length)
    {
        final StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            final int kind = random.nextInt(20);
            if (kind == 0)
            {
                text.append("\uD83D\uDE00");
            }
            else if (kind == 1)
            {
                text.append(random.nextBoolean() ? '\uD800' : '\uDC00');
            }
            else
            {
                text.append(CHARS[random.nextInt(CHARS.length)]);
            }
        }
        return text.toString();
    }

    /**
     * @return a pointer: most often to a value of the document, or one past it; sometimes any tokens, an
     *     index out of range, {@code -}, or not a pointer at all.
     */
    private String pointer(final Object document)
    {
        final int kind = random.nextInt(20);
        if (kind == 0)
        {
            return random.nextBoolean() ? "a" : "/~2";
        }
        if (kind == 1)
        {
            return "";
        }
        final StringBuilder pointer = new StringBuilder();
        Object value = document;
        final int depth = random.nextInt(4);
        for (int i = 0; i < depth; i++)
        {
            String token = null;
            if (value instanceof Map && !((Map<?, ?>)value).isEmpty() && random.nextInt(5) != 0)
            {
                final List<?> names = new ArrayList<>(((Map<?, ?>)value).keySet());
                token = (String)names.get(random.nextInt(names.size()));
                value = ((Map<?, ?>)value).get(token);
            }
            else if (value instanceof List && random.nextInt(5) != 0)
            {
                final List<?> list = (List<?>)value;
                final int index = random.nextInt(list.size() + 2);
                token = random.nextInt(8) == 0 ? "-" : random.nextInt(20) == 0 ? "0" + index : Integer.toString(index);
                value = index < list.size() ? list.get(index) : null;
            }
            if (token == null)
            {
                token = random.nextInt(3) == 0 ? Integer.toString(random.nextInt(3)) : name();
                value = null;
            }
            pointer.append('/').append(token.replace("~", "~0").replace("/", "~1"));
        }
        return pointer.toString();
    }

    private void write(final StringBuilder text, final Object value)
    {
        space(text);
        if (value == null)
        {
            text.append("null");
        }
        else if (value instanceof Boolean || value instanceof Num)
        {
            text.append(value);
        }
        else if (value instanceof String)
        {
            string(text, (String)value);
        }
        else if (value instanceof Map)
        {
            text.append('{');
            boolean first = true;
            for (final Map.Entry<?, ?> member : ((Map<?, ?>)value).entrySet())
            {
                if (!first)
                {
                    text.append(',');
                }
                first = false;
                space(text);
                string(text, (String)member.getKey());
                space(text);
                text.append(':');
                write(text, member.getValue());
            }
            space(text);
            text.append('}');
        }
        else if (value instanceof Integer)
        {
            text.append(value);
        }
        else
        {
            text.append('[');
            boolean first = true;
            for (final Object element : (List<?>)value)
            {
                if (!first)
                {
                    text.append(',');
                }
                first = false;
                write(text, element);
            }
            space(text);
            text.append(']');
        }
        space(text);
    }

    private void space(final StringBuilder text)
    {
        if (random.nextInt(6) == 0)
        {
            text.append(" \n\t\r".charAt(random.nextInt(4)));
        }
    }

    private void string(final StringBuilder text, final String value)
    {
        text.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            final boolean surrogate = Character.isSurrogate(c);
            final boolean pair = surrogate && Character.isHighSurrogate(c) && i + 1 < value.length() &&
                Character.isLowSurrogate(value.charAt(i + 1));
            if (c == '"' || c == '\\')
            {
                text.append('\\').append(c);
            }
            else if (c < 0x20 || (surrogate && !pair) || random.nextInt(12) == 0)
            {
                if (c == '\n' && random.nextBoolean())
                {
                    text.append("\\n");
                }
                else if (c == '/' && random.nextBoolean())
                {
                    text.append("\\/");
                }
                else
                {
                    text.append(String.format("\\u%04x", (int)c));
                }
            }
            else if (pair)
            {
                text.append(c).append(value.charAt(++i));
            }
            else
            {
                text.append(c);
            }
        }
        text.append('"');
    }

    /**
     * A number, as written.
     */
    private static final class Num
    {
        private final String text;

        Num(final String text)
        {
            this.text = text;
        }

        @Override
        public String toString()
        {
            return text;
        }
    }

    @FunctionalInterface
    private interface PayloadSource
    {
        String next();
    }

    /**
     * A context that keeps the output's exact bytes, or the failure; its payload on the heap in a larger array,
     * or off the heap.
     */
    /** A handler's tree path alone, as a handler. */
    private static final class TreePath implements TaskHandler
    {
        private final JsonTaskHandler handler;

        TreePath(final JsonTaskHandler handler)
        {
            this.handler = handler;
        }

        @Override
        public String type()
        {
            return handler.type();
        }

        @Override
        public void configure(final Map<String, String> settings)
        {
            handler.configure(settings);
        }

        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            handler.executeOnTree(context);
        }
    }

    /** What a handler did with a payload: its output, or its failure as "permanent: message". */
    private static final class Capture
    {
        final byte[] output;
        final String failure;

        private Capture(final byte[] output, final String failure)
        {
            this.output = output;
            this.failure = failure;
        }

        static Capture run(final TaskHandler handler, final byte[] payload, final boolean offHeap)
        {
            final RecordingContext context = offHeap ? RecordingContext.offHeap(payload) : RecordingContext.of(payload);
            String failure = null;
            try
            {
                handler.execute(context);
            }
            catch (final TaskFailure ex)
            {
                failure = (ex.retryable() ? "retryable: " : "permanent: ") + ex.getMessage();
            }
            catch (final Exception ex)
            {
                throw new AssertionError("not a TaskFailure", ex);
            }
            assertThat(context.failure()).as("the JSON handlers throw their failures, they do not report them").isNull();
            assertThat(failure == null || context.outputBytes() == null).as("an output and a failure").isTrue();
            return new Capture(context.outputBytes(), failure);
        }
    }
}
