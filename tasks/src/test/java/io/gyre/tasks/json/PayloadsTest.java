package io.gyre.tasks.json;

import io.gyre.engine.TaskFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static io.gyre.engine.ExecutionMode.CPU;
import static io.gyre.engine.ExecutionMode.INLINE;
import static io.gyre.tasks.json.Handlers.failure;
import static io.gyre.tasks.json.Handlers.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * What the JSON task types have in common: reading the payload, writing the output, their setting.
 */
class PayloadsTest
{
    private final TransformTaskHandler handler = new TransformTaskHandler();

    @ParameterizedTest(name = "payload [{0}]")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "``                    | invalid input: payload: must be a JSON object, was empty",
        "`   `                 | invalid input: payload: must be a JSON object, was empty",
        "[]                    | invalid input: payload: must be a JSON object, was an array",
        "'ops'                 | invalid input: payload: must be a JSON object, was a string",
        "null                  | invalid input: payload: must be a JSON object, was null"})
    void shouldNameThePayloadWhenItIsNotAJsonObject(final String payload, final String message)
    {
        assertThat(failure(handler, payload)).isEqualTo(message);
    }

    /**
     * Jackson words the problem; the message says where it is and what was expected.
     */
    @ParameterizedTest(name = "payload [{0}]")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{'ops':[]} {}        | more than one value in the payload                      | at line 1, column 12",
        "{'ops':[],'ops':[]}  | member 'ops' appears twice                              | at line 1, column 17",
        "{'ops':[}            | Unexpected close marker '}': expected ']'               | at line 1, column 9",
        "ops                  | Unrecognized token 'ops'                                | at line 1, column 1"})
    void shouldSayWhereAPayloadIsNotJson(final String payload, final String problem, final String location)
    {
        assertThat(failure(handler, payload)).startsWith("invalid input: payload: not JSON: " + problem).endsWith(location);
    }

    /**
     * A second value after the payload's object was worded by Jackson with its internals (the feature that refused
     * it, the class it was bound as). An outside check found it.
     */
    @Test
    void shouldSayAPayloadHasMoreThanOneValueWithoutJacksonsInternals()
    {
        assertThat(failure(new SetTaskHandler(), "{'values':{'/a':1}} {}"))
            .isEqualTo("invalid input: payload: not JSON: more than one value in the payload at line 1, column 21");
    }

    /**
     * Jackson stops reading a long name at a buffer's size and says that size ({@code Name length (65536)}), not
     * the name's length: the message says the limit instead. The limit stays Jackson's 50,000: a pointer or key
     * that long is a mistake, and Jackson keeps the names it reads in a table shared by every task.
     */
    @Test
    void shouldSayTheLimitOfAMemberNamesLength()
    {
        final String name = "a".repeat(1_048_000);

        assertThat(failure(new SetTaskHandler(), "{'values':{'/" + name + "':1}}"))
            .isEqualTo("invalid input: payload: not JSON: a member name is longer than the maximum of 50000 characters");
    }

    /**
     * A string with an unpaired surrogate escape is not Unicode text: Jackson refuses one in a member name, and a
     * value was accepted (and written back as an escape). Both are refused now, naming where.
     */
    @Test
    void shouldRefuseAnUnpairedSurrogateInAValueAsInAName() throws Exception
    {
        final String inValue = json("{'input':{'s':'ok','t':['x\\udc00']},'ops':[]}");
        final RecordingContext fast = RecordingContext.of(inValue);
        final RecordingContext tree = RecordingContext.of(inValue);

        assertThat(catchThrowableOfType(TaskFailure.class, () -> handler.execute(fast)).getMessage())
            .isEqualTo("invalid input: input.t[0]: a string has an unpaired UTF-16 surrogate escape (\\uDC00 at index 1): " +
                "not Unicode text");
        assertThat(catchThrowableOfType(TaskFailure.class, () -> handler.executeOnTree(tree)).getMessage())
            .isEqualTo("invalid input: input.t[0]: a string has an unpaired UTF-16 surrogate escape (\\uDC00 at index 1): " +
                "not Unicode text");
        assertThat(failure(new SetTaskHandler(), "{'input':{},'values':{'/t':'\\ud800'}}"))
            .isEqualTo("invalid input: values[\"/t\"]: a string has an unpaired UTF-16 surrogate escape (\\uD800 at index 0): " +
                "not Unicode text");
        assertThat(failure(new SetTaskHandler(), "{'input':{},'values':{'/\\ud800':1}}"))
            .isEqualTo("invalid input: payload: not JSON: a member name has an unpaired UTF-16 surrogate escape " +
                "(\\uD800-\\uDFFF not in a high-low pair): not Unicode text at line 1, column 31");
        assertThat(Handlers.output(new SetTaskHandler(), "{'input':{'s':'\\ud83d\\ude00'},'values':{'/\\ud83d\\ude01':1}}"))
            .isEqualTo("{\"s\":\"\uD83D\uDE00\",\"\uD83D\uDE01\":1}");
    }

    /**
     * A character outside the BMP was written as two escapes, one for each half of its surrogate pair, while
     * {@code é} was written as its UTF-8: every character is written as its UTF-8 now, on both paths.
     */
    @Test
    void shouldWriteEveryCharacterAsItsUtf8OnBothPaths() throws Exception
    {
        final String payload = json("{'input':{'s':'\\u00e9\\u20ac\\ud83d\\ude00','\uD83D\uDE00':'\uD83D\uDE00'},'ops':[]}");
        final RecordingContext fast = RecordingContext.of(payload);
        final RecordingContext tree = RecordingContext.of(payload);

        handler.execute(fast);
        handler.executeOnTree(tree);

        final String expected = "{\"s\":\"\u00e9\u20ac\uD83D\uDE00\",\"\uD83D\uDE00\":\"\uD83D\uDE00\"}";
        assertThat(fast.output()).isEqualTo(expected);
        assertThat(tree.output()).isEqualTo(expected);
    }

    /**
     * {@code -0} was written {@code 0} and {@code -0.0} {@code 0.0}, on both paths: a value no operation touched
     * changed. A negative zero keeps its sign; a decimal one is written as any decimal ({@code -0e5} as
     * {@code -0E+5}). The last payload has a float the fast path leaves to the tree path, which succeeds with it.
     */
    @Test
    void shouldKeepTheSignOfANegativeZeroOnBothPaths() throws Exception
    {
        final String payload = json("{'input':{'a':-0,'b':-0.0,'c':-0e5,'d':-0.0000000,'e':[-0],'p':0,'q':0.0}," +
            "'ops':[{'op':'copy','from':'/e/0','path':'/f'},{'op':'copy','from':'/b','path':'/g'}]}");
        final String expected = json("{'a':-0,'b':-0.0,'c':-0E+5,'d':-0E-7,'e':[-0],'p':0,'q':0.0,'f':-0,'g':-0.0}");
        final RecordingContext fast = RecordingContext.of(payload);
        final RecordingContext tree = RecordingContext.of(payload);
        final RecordingContext treeAlone = RecordingContext.of(json("{'input':{'a':-0,'b':-0.0,'x':1e0000000005},'ops':[]}"));

        handler.execute(fast);
        handler.executeOnTree(tree);
        handler.execute(treeAlone);

        assertThat(fast.output()).isEqualTo(expected);
        assertThat(tree.output()).isEqualTo(expected);
        assertThat(treeAlone.output()).isEqualTo(json("{'a':-0,'b':-0.0,'x':1E+5}"));
    }

    /**
     * Jackson puts a location of its own inside some messages, with a note about its settings (outside check:
     * "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]").
     */
    @Test
    void shouldSayWhereAnUnclosedPayloadStartedWithoutJacksonsSettings()
    {
        final String message = failure(handler, "{\"ops\":[]");

        assertThat(message).startsWith("invalid input: payload: not JSON: Unexpected end-of-input")
            .contains("line 1, column 1").doesNotContain("Source").doesNotContain("StreamReadFeature");
    }

    @Test
    void shouldSayWhichParserLimitAPayloadPassesWithoutJacksonsInternals()
    {
        final String payload = "{\"input\":" + "1".repeat(1001) + ",\"ops\":[]}";

        assertThat(failure(handler, payload))
            .isEqualTo("invalid input: payload: not JSON: Number value length (1001) exceeds the maximum allowed (1000)");
    }

    @Test
    void shouldReadAPayloadOffTheHeap() throws Exception
    {
        final RecordingContext context = RecordingContext.offHeap(json("{'input':{'a':1},'ops':[{'op':'copy','from':'/a','path':'/b'}]}"));
        handler.execute(context);

        assertThat(context.output()).isEqualTo(json("{'a':1,'b':1}"));
    }

    @Test
    void shouldNameThePayloadWhenItIsNotUtf8Json()
    {
        final byte[] bytes = {'{', '"', 'a', '"', ':', '"', (byte)0xC3, (byte)0x28, '"', '}'};
        final RecordingContext context = RecordingContext.of(bytes);

        assertThat(catchThrowableOfType(TaskFailure.class, () -> handler.execute(context)).getMessage())
            .isEqualTo("invalid input: payload: not JSON: invalid UTF-8 at byte offset 6: 0xC3 is the start of a 2-byte " +
                "sequence cut short by 0x28, not a continuation byte");
    }

    /**
     * A payload in UTF-16 or UTF-32 (no byte order mark: with one it is not UTF-8 at all) was read in that encoding by
     * Jackson, which guesses from the first bytes, and the task succeeded; JSON here is UTF-8, and a NUL byte is never
     * part of a UTF-8 JSON text. Refused, on every type's fast path and tree path, naming the byte.
     */
    @ParameterizedTest
    @CsvSource({"UTF-16LE, 1", "UTF-16BE, 0", "UTF-32LE, 1", "UTF-32BE, 0"})
    void shouldRefuseAPayloadInUtf16OrUtf32(final String charset, final int at)
    {
        final byte[] payload = "{\"values\":{\"/a\":1}}".getBytes(java.nio.charset.Charset.forName(charset));
        for (final RecordingContext context : new RecordingContext[]{RecordingContext.of(payload), RecordingContext.offHeap(payload)})
        {
            final TaskFailure failure = catchThrowableOfType(TaskFailure.class, () -> handler.execute(context));
            assertThat(failure).as(charset).isNotNull();
            assertThat(failure.getMessage()).isEqualTo("invalid input: payload: not JSON: a NUL byte at byte offset " + at +
                ": a JSON text here is UTF-8 (not UTF-16 or UTF-32)");
        }
    }

    /**
     * Jackson's parser checks the shape of a UTF-8 sequence, not what it encodes: an overlong {@code /} was read
     * as {@code /} (in a pointer too: {@code "/\xC0\xAF"} was the pointer {@code //}), an overlong U+0000 as
     * U+0000, and a sequence past U+10FFFF as two unpaired surrogates, and the tasks succeeded. An outside check
     * found it. Every type refuses them now, on the fast path and the tree path alike, naming the byte; what the
     * parser refused already (a byte that is never UTF-8, a surrogate) is worded the same way.
     */
    @ParameterizedTest(name = "{0} [{1}]")
    @CsvSource(delimiter = '|', value = {
        "set       | {\"values\":{\"/a\":\"%s\"}}             | 0xC0 0xAF    | 17 | 0xC0 0xAF is an overlong encoding of U+002F",
        "set       | {\"values\":{\"/a\":\"%s\"}}             | 0xE0 0x80 0xAF | 17 | 0xE0 0x80 0xAF is an overlong encoding of U+002F",
        "set       | {\"values\":{\"/a\":\"%s\"}}             | 0xC0 0x80    | 17 | 0xC0 0x80 is an overlong encoding of U+0000",
        "set       | {\"values\":{\"/a\":\"%s\"}}             | 0xF4 0x90 0x80 0x80 | 17 | 0xF4 0x90 0x80 0x80 encodes 0x110000, above U+10FFFF, the last code point",
        "set       | {\"values\":{\"/%s\":1}}                   | 0xC0 0xAF    | 13 | 0xC0 0xAF is an overlong encoding of U+002F",
        "set       | {\"values\":{\"/a\":\"%s\"}}             | 0xFF         | 17 | 0xFF is not a byte of UTF-8",
        "set       | {\"values\":{\"/a\":\"%s\"}}             | 0xED 0xA0 0x80 | 17 | 0xED 0xA0 0x80 encodes U+D800, a UTF-16 surrogate, not a character",
        "inject    | {\"input\":{\"a\":\"%s\"},\"refs\":{\"/b\":\"/a\"}} | 0xC0 0xAF | 15 | 0xC0 0xAF is an overlong encoding of U+002F",
        "inject    | {\"refs\":{\"/b\":\"/%s\"}}              | 0xC0 0xAF    | 16 | 0xC0 0xAF is an overlong encoding of U+002F",
        "transform | {\"ops\":[{\"op\":\"set\",\"path\":\"/a\",\"value\":\"%s\"}]} | 0xE2 0x82 | 41 | 0xE2 0x82 is the start of a 3-byte sequence cut short by 0x22, not a continuation byte",
        "transform | {\"input\":{\"a\":1},\"ops\":[]}%s          | 0xF0 0x9F 0x98 | 26 | 0xF0 0x9F 0x98 is the start of a 4-byte sequence cut short by the end of the payload"})
    void shouldRefuseAPayloadThatIsNotWellFormedUtf8OnBothPaths(final String type, final String template, final String bytes,
        final int offset, final String problem)
    {
        final JsonTaskHandler typed = JsonTaskHandlers.all().stream().filter(h -> h.type().equals(type))
            .map(JsonTaskHandler.class::cast).findFirst().orElseThrow();
        final String[] parts = template.split("%s", -1);
        final java.io.ByteArrayOutputStream payload = new java.io.ByteArrayOutputStream();
        payload.writeBytes(parts[0].getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (final String hex : bytes.split(" "))
        {
            payload.write(Integer.parseInt(hex.substring(2), 16));
        }
        payload.writeBytes(parts[1].getBytes(java.nio.charset.StandardCharsets.UTF_8));
        final String expected = "invalid input: payload: not JSON: invalid UTF-8 at byte offset " + offset + ": " + problem;

        for (final RecordingContext context : new RecordingContext[]{RecordingContext.of(payload.toByteArray()),
            RecordingContext.offHeap(payload.toByteArray())})
        {
            final TaskFailure failure = catchThrowableOfType(TaskFailure.class, () -> typed.execute(context));
            assertThat(failure).as("%s failed", type).isNotNull();
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).isEqualTo(expected);
            assertThat(catchThrowableOfType(TaskFailure.class, () -> typed.executeOnTree(context)).getMessage()).isEqualTo(expected);
        }
    }

    /**
     * Jackson reads such a number (its syntax is JSON's) but cannot make a decimal of it, and threw
     * {@code NumberFormatException} out of the handler: the engine took that for a bug and retried, with a stack
     * trace each time. An outside check found it.
     */
    @ParameterizedTest(name = "{0} [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "set       | {'values':{'/a':0.1e2147483648}}                           | values[\"/a\"]  | 0.1e2147483648",
        "set       | {'input':{'a':[1,1e2147483648]},'values':{}}               | input.a[1]      | 1e2147483648",
        "set       | {'input':{'a b':1e-2147483649},'values':{}}                | input[\"a b\"]  | 1e-2147483649",
        "inject    | {'input':{'x':1e2147483648},'refs':{'/a':'/x'}}            | input.x         | 1e2147483648",
        "inject    | {'refs':{'/a':1e2147483648}}                               | refs[\"/a\"]    | 1e2147483648",
        "inject    | {'template':[1e2147483648],'refs':{}}                      | template[0]     | 1e2147483648",
        "transform | {'input':1e-2147483649,'ops':[]}                           | input           | 1e-2147483649",
        "transform | {'ops':[{'op':'set','path':'/a','value':{'v':1e2147483648}}]} | ops[0].value.v | 1e2147483648",
        "transform | {'ops':[{'op':'set','path':1e2147483648,'value':1}]}       | ops[0].path     | 1e2147483648"})
    void shouldFailPermanentlyNamingTheFieldOfANumberTooLargeForADecimal(final String type, final String payload, final String field,
        final String number)
    {
        final io.gyre.engine.TaskHandler handler = JsonTaskHandlers.all().stream().filter(h -> h.type().equals(type)).findFirst().orElseThrow();

        assertThat(failure(handler, payload))
            .isEqualTo("invalid input: " + field + ": number " + number + " cannot be represented: exponent overflow");
    }

    @Test
    void shouldNameTheFieldOfANumberTooLargeForADecimalOffTheHeap()
    {
        final RecordingContext context = RecordingContext.offHeap(json("{'values':{'/a':1e2147483648}}"));

        assertThat(catchThrowableOfType(TaskFailure.class, () -> new SetTaskHandler().execute(context)).getMessage())
            .isEqualTo("invalid input: values[\"/a\"]: number 1e2147483648 cannot be represented: exponent overflow");
    }

    @Test
    void shouldLeaveTheMaximumOutputSizeToTheContext() throws Exception
    {
        final String payload = json("{'input':{'text':'" + "x".repeat(100) + "'},'ops':[{'op':'copy','from':'/text','path':'/again'}]}");
        final RecordingContext small = RecordingContext.of(payload, 150);

        assertThat(outputFailure(small, () -> handler.execute(small))).isEqualTo("output of more than 150 bytes exceeds maxOutputBytes=150");
    }

    /**
     * @return the message of the permanent failure {@code run} threw, having reported nothing on {@code context}.
     */
    private static String outputFailure(final RecordingContext context, final org.assertj.core.api.ThrowableAssert.ThrowingCallable run)
    {
        final TaskFailure failure = catchThrowableOfType(TaskFailure.class, run);
        assertThat(failure).isNotNull();
        assertThat(failure.retryable()).isFalse();
        assertThat(context.output()).isNull();
        assertThat(context.failure()).isNull();
        return failure.getMessage();
    }

    /**
     * A payload of a few kilobytes that copies one value a thousand times describes an output a thousand times its
     * size: writing stops at the maximum, on the fast path and on the tree path alike, instead of building the whole
     * output first (which could exhaust the heap everyone shares) and checking its size after.
     */
    @Test
    void shouldStopWritingAnOutputAtTheMaximumOnBothPaths() throws Exception
    {
        final StringBuilder ops = new StringBuilder();
        for (int i = 0; i < 1_000; i++)
        {
            ops.append(i == 0 ? "" : ",").append("{'op':'copy','from':'/text','path':'/c").append(i).append("'}");
        }
        final String payload = json("{'input':{'text':'" + "x".repeat(20_000) + "'},'ops':[" + ops + "]}");
        final int max = 1 << 20;

        final RecordingContext fast = RecordingContext.of(payload, max);
        final RecordingContext tree = RecordingContext.of(payload, max);

        assertThat(outputFailure(fast, () -> handler.execute(fast)))
            .isEqualTo("output of more than 1048576 bytes exceeds maxOutputBytes=1048576");
        assertThat(outputFailure(tree, () -> handler.executeOnTree(tree)))
            .isEqualTo("output of more than 1048576 bytes exceeds maxOutputBytes=1048576");
    }

    @Test
    void shouldSucceedWithAnOutputOfExactlyTheMaximum() throws Exception
    {
        final String payload = json("{'input':{'text':'" + "x".repeat(100) + "'},'ops':[{'op':'copy','from':'/text','path':'/again'}]}");
        final int exactly = json("{'text':'" + "x".repeat(100) + "','again':'" + "x".repeat(100) + "'}").length();

        final RecordingContext fast = RecordingContext.of(payload, exactly);
        handler.execute(fast);
        final RecordingContext tree = RecordingContext.of(payload, exactly);
        handler.executeOnTree(tree);
        final RecordingContext oneLess = RecordingContext.of(payload, exactly - 1);

        assertThat(fast.outputBytes()).hasSize(exactly);
        assertThat(tree.outputBytes()).hasSize(exactly);
        assertThat(outputFailure(oneLess, () -> handler.execute(oneLess)))
            .isEqualTo("output of more than " + (exactly - 1) + " bytes exceeds maxOutputBytes=" + (exactly - 1));
    }

    @Test
    void shouldFailAnOutputNestedDeeperThanJsonWritersAllow()
    {
        final String path = "/a".repeat(DocumentEditor.MAX_DEPTH + 1);

        assertThat(failure(new SetTaskHandler(), "{'values':{'" + path + "':1}}"))
            .isEqualTo("output: cannot be written as JSON: Document nesting depth (1001) exceeds the maximum allowed (1000, from " +
                "`StreamWriteConstraints.getMaxNestingDepth()`)");
    }

    @Test
    void shouldRefuseToCopyAValueNestedDeeperThanJsonWritersAllow()
    {
        final String path = "/a".repeat(DocumentEditor.MAX_DEPTH + 1);

        assertThat(failure(handler, "{'ops':[{'op':'set','path':'" + path + "','value':1},{'op':'copy','from':'','path':'/b'}]}"))
            .isEqualTo("invalid input: ops[1].from: the value is nested deeper than 1000 levels");
    }

    @Test
    void shouldTakeABudgetOfCopiedValues()
    {
        handler.configure(Map.of("max-copied-values", " 12 "));

        assertThatIllegalArgumentException().isThrownBy(() -> handler.configure(Map.of("max-copied-values", "0")))
            .withMessage("transform.max-copied-values=0 must be a positive integer");
        assertThatIllegalArgumentException().isThrownBy(() -> handler.configure(Map.of("max-copied-values", "lots")))
            .withMessage("transform.max-copied-values=lots must be a positive integer");
        assertThatIllegalArgumentException().isThrownBy(() -> new InjectTaskHandler().configure(Map.of("max-copies", "1")))
            .withMessage("inject.max-copies=1 is not a setting of inject (inject.max-copied-values)");
    }

    @Test
    void shouldTakeTheDefaultBudgetBackWhenConfiguredWithoutTheSetting() throws Exception
    {
        final String copyOfThree = "{'input':{'a':[1,2]},'ops':[{'op':'copy','from':'/a','path':'/b'}]}";
        handler.configure(Map.of("max-copied-values", "2"));
        assertThat(failure(handler, copyOfThree)).endsWith("copies more than 2 values in all (max-copied-values)");

        handler.configure(Map.of());
        assertThat(Handlers.output(handler, copyOfThree)).isEqualTo(json("{'a':[1,2],'b':[1,2]}"));
    }

    /**
     * Run inline whatever the payload, one large task (a 16,000-character string copied to 60 targets) held the
     * engine's ring for tens of milliseconds, delaying every other client's tasks; an outside check found it.
     */
    @Test
    void shouldRunASmallPayloadInlineAndALargeOneOnTheCpuPool()
    {
        assertThat(mode(new SetTaskHandler(), "{'values':{'/a':1}}")).isEqualTo(INLINE);
        assertThat(mode(new SetTaskHandler(), padded("{'values':{'/a':'%s'}}", JsonTaskHandler.INLINE_PAYLOAD_BYTES))).isEqualTo(INLINE);
        assertThat(mode(new SetTaskHandler(), padded("{'values':{'/a':'%s'}}", JsonTaskHandler.INLINE_PAYLOAD_BYTES + 1))).isEqualTo(CPU);
        assertThat(mode(new TransformTaskHandler(), padded("{'ops':[{'op':'set','path':'/a','value':'%s'}]}",
            JsonTaskHandler.INLINE_PAYLOAD_BYTES + 1))).isEqualTo(CPU);
        assertThat(new SetTaskHandler().executionMode(JsonTaskHandler.INLINE_PAYLOAD_BYTES)).isEqualTo(INLINE);
        assertThat(new SetTaskHandler().executionMode(JsonTaskHandler.INLINE_PAYLOAD_BYTES + 1)).isEqualTo(CPU);
    }

    /**
     * A 1.6 KB transform copying {@code /a} into {@code /a/0} 40 times ran inline for milliseconds before failing at
     * max-copied-values (and the tree path then did it all again to word the failure); a client pipelining 4,096 of
     * them held every other client's tasks up for over a second. An outside check found it. A transform runs inline
     * only when its length, doubled for each {@code copy} in its bytes, stays within 4 KiB, and never with a
     * backslash-u escape (which could spell one).
     */
    @ParameterizedTest(name = "{0} [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "INLINE | {'input':{'a':[1]},'ops':[{'op':'move','from':'/a','path':'/b'},{'op':'set','path':'/c','value':2}]}",
        "INLINE | {'input':{'a':{}},'ops':[{'op':'merge','path':'/a','value':{'x':null}},{'op':'remove','path':'/a'}]}",
        "INLINE | {'ops':[{'op':'COPY','from':'/a','path':'/b'},{'op':'Copy','from':'/a','path':'/b'}]}",
        "INLINE | {'input':{'a':[0]},'ops':[{'op':'copy','from':'/a','path':'/a/0'}]}",
        "INLINE | {'input':{'note':'copyright 2026'},'ops':[]}",
        "CPU    | {'input':{'a':[0]},'ops':[{'op':'copy','from':'/a','path':'/a/0'},{'op':'copy','from':'/a','path':'/a/0'},{'op':'copy','from':'/a','path':'/a/0'},{'op':'copy','from':'/a','path':'/a/0'},{'op':'copy','from':'/a','path':'/a/0'},{'op':'copy','from':'/a','path':'/a/0'}]}",
        "CPU    | {'input':{'a':[0]},'ops':[{'op':'\\u0063opy','from':'/a','path':'/a/0'}]}",
        "CPU    | {'input':{'name':'Ren\\u00e9e'},'ops':[]}"})
    void shouldRunATransformInlineOnlyWhenItsCopiesCannotMakeItLarge(final io.gyre.engine.ExecutionMode expected, final String payload)
    {
        assertThat(mode(new TransformTaskHandler(), payload)).isEqualTo(expected);
        assertThat(new TransformTaskHandler().executionMode(json(payload).length())).as("by the length alone").isEqualTo(CPU);
    }

    /**
     * The bytes that send a transform to the CPU pool are found wherever they are: at every offset from the payload's
     * start, in a buffer that starts at an offset of its own, on the heap and off it (read eight at a time, and byte
     * by byte at the end), and not past the payload's end.
     */
    @Test
    void shouldFindCopyOrAnEscapeAtEveryOffset()
    {
        for (final String needle : new String[]{"copy", "\\u"})
        {
            for (int at = 0; at <= 24; at++)
            {
                final String text = "a".repeat(at) + needle + "b".repeat(24 - at);
                final byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                final byte[] padded = new byte[bytes.length + 20];
                System.arraycopy(bytes, 0, padded, 5, bytes.length);
                final org.agrona.concurrent.UnsafeBuffer offHeap = new org.agrona.concurrent.UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(padded.length));
                offHeap.putBytes(0, padded);
                for (final org.agrona.DirectBuffer buffer : new org.agrona.DirectBuffer[]{new org.agrona.concurrent.UnsafeBuffer(padded), offHeap})
                {
                    assertThat(TransformTaskHandler.mayCopy(buffer, 5, bytes.length)).as("%s at %d", needle, at).isTrue();
                    assertThat(TransformTaskHandler.mayCopy(buffer, 5, at + needle.length() - 1)).as("%s cut at %d", needle, at).isFalse();
                    assertThat(TransformTaskHandler.mayCopy(buffer, 5 + at + 1, bytes.length - at - 1)).as("%s from %d", needle, at + 1).isFalse();
                }
            }
        }
    }

    /**
     * Every ref of an inject copies, and what it copies grows with the square of its payload: inline up to 512 bytes
     * (at most a few thousand values copied, microseconds), on the CPU pool above.
     */
    @Test
    void shouldRunAnInjectInlineOnlyWhenItsPayloadIsSmall()
    {
        final String payload = "{'input':{'user':{'id':42,'name':'Ada'}},'template':{'to':null},'refs':{'/to':'/user/name','/meta/user':'/user/id'}}";
        assertThat(mode(new InjectTaskHandler(), payload)).isEqualTo(INLINE);
        assertThat(mode(new InjectTaskHandler(), padded("{'input':'%s','refs':{'/a':''}}", InjectTaskHandler.INLINE_PAYLOAD_BYTES_INJECT)))
            .isEqualTo(INLINE);
        assertThat(mode(new InjectTaskHandler(), padded("{'input':'%s','refs':{'/a':''}}", InjectTaskHandler.INLINE_PAYLOAD_BYTES_INJECT + 1)))
            .isEqualTo(CPU);
        assertThat(new InjectTaskHandler().executionMode(InjectTaskHandler.INLINE_PAYLOAD_BYTES_INJECT)).isEqualTo(INLINE);
        assertThat(new InjectTaskHandler().executionMode(InjectTaskHandler.INLINE_PAYLOAD_BYTES_INJECT + 1)).isEqualTo(CPU);
    }

    /**
     * @return the mode the handler gives the payload (single-quoted), read from the middle of a larger buffer.
     */
    private static io.gyre.engine.ExecutionMode mode(final JsonTaskHandler handler, final String payload)
    {
        final byte[] bytes = json(payload).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        final byte[] padded = new byte[bytes.length + 10];
        java.util.Arrays.fill(padded, (byte)'c');
        System.arraycopy(bytes, 0, padded, 3, bytes.length);
        return handler.executionMode(new org.agrona.concurrent.UnsafeBuffer(padded), 3, bytes.length);
    }

    /**
     * @return the template with its {@code %s} filled with {@code x}s so that it is {@code length} bytes long.
     */
    private static String padded(final String template, final int length)
    {
        return String.format(template, "x".repeat(length - template.length() + 2));
    }

    @Test
    void shouldRegisterTheThreeTypes()
    {
        assertThat(JsonTaskHandlers.all()).extracting(io.gyre.engine.TaskHandler::type).containsExactly("set", "inject", "transform");
    }
}
