package io.gyre.tasks.json;

import io.gyre.engine.TaskFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static io.gyre.tasks.json.Handlers.failure;
import static io.gyre.tasks.json.Handlers.json;
import static io.gyre.tasks.json.Handlers.output;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Every operation of {@code transform} and every way its payload can be wrong, against the handler.
 */
class TransformTaskHandlerTest
{
    private final TransformTaskHandler handler = new TransformTaskHandler();

    private String transform(final String input, final String ops) throws Exception
    {
        return output(handler, "{'input':" + input + ",'ops':" + ops + "}");
    }

    private String error(final String input, final String ops)
    {
        return failure(handler, "{'input':" + input + ",'ops':" + ops + "}");
    }

    @Test
    void shouldRunInlineUnderItsName()
    {
        assertThat(handler.type()).isEqualTo("transform");
        assertThat(handler.executionMode()).isEqualTo(io.gyre.engine.ExecutionMode.INLINE);
    }

    @Test
    void shouldApplyTheDocumentedExample() throws Exception
    {
        final String output = output(handler,
            "{'input': {'first': 'Ada', 'tmp': 1, 'tags': ['a']}," +
            " 'ops': [{'op': 'move', 'from': '/first', 'path': '/name'}," +
            "         {'op': 'remove', 'path': '/tmp'}," +
            "         {'op': 'copy', 'from': '/tags/0', 'path': '/tags/-'}," +
            "         {'op': 'set', 'path': '/version', 'value': 2}," +
            "         {'op': 'merge', 'path': '/meta', 'value': {'source': 'crm', 'draft': null}}]}");

        assertThat(output).isEqualTo(json("{'tags':['a','a'],'name':'Ada','version':2,'meta':{'source':'crm'}}"));
    }

    @Test
    void shouldReturnTheInputUnchangedWithNoOperations() throws Exception
    {
        assertThat(transform("{'a':[1,{'b':null}]}", "[]")).isEqualTo(json("{'a':[1,{'b':null}]}"));
    }

    @Test
    void shouldStartFromAnEmptyObjectWithoutInput() throws Exception
    {
        assertThat(output(handler, "{'ops':[{'op':'set','path':'/a','value':1}]}")).isEqualTo(json("{'a':1}"));
    }

    @Test
    void shouldTransformAnInputThatIsNotAnObject() throws Exception
    {
        assertThat(transform("[1,2]", "[{'op':'set','path':'/-','value':3}]")).isEqualTo("[1,2,3]");
        assertThat(transform("'text'", "[{'op':'set','path':'','value':{'t':'x'}}]")).isEqualTo(json("{'t':'x'}"));
    }

    // set

    @Test
    void shouldSetAPropertyCreatingOrReplacingIt() throws Exception
    {
        assertThat(transform("{'a':1}", "[{'op':'set','path':'/b','value':2},{'op':'set','path':'/a','value':'x'}]"))
            .isEqualTo(json("{'a':'x','b':2}"));
    }

    @Test
    void shouldCreateMissingObjectsOnTheWayOfASet() throws Exception
    {
        assertThat(transform("{'a':{}}", "[{'op':'set','path':'/a/b/c','value':true}]"))
            .isEqualTo(json("{'a':{'b':{'c':true}}}"));
    }

    @Test
    void shouldSetAnyJsonValueIncludingNull() throws Exception
    {
        assertThat(transform("{}", "[{'op':'set','path':'/n','value':null},{'op':'set','path':'/o','value':{'x':[1,'2',false]}}]"))
            .isEqualTo(json("{'n':null,'o':{'x':[1,'2',false]}}"));
    }

    @Test
    void shouldReplaceAnArrayElementOrAppendAtTheEnd() throws Exception
    {
        assertThat(transform("{'l':['a','b']}",
            "[{'op':'set','path':'/l/0','value':'A'},{'op':'set','path':'/l/2','value':'c'},{'op':'set','path':'/l/-','value':'d'}]"))
            .isEqualTo(json("{'l':['A','b','c','d']}"));
    }

    @Test
    void shouldReplaceTheWholeDocumentAtTheEmptyPointer() throws Exception
    {
        assertThat(transform("{'a':1}", "[{'op':'set','path':'','value':[0]}]")).isEqualTo("[0]");
    }

    @Test
    void shouldUnescapePointerTokens() throws Exception
    {
        assertThat(transform("{}", "[{'op':'set','path':'/a~1b','value':1},{'op':'set','path':'/m~0n','value':2}]"))
            .isEqualTo(json("{'a/b':1,'m~n':2}"));
    }

    @Test
    void shouldTreatADigitTokenAsAPropertyNameInAnObject() throws Exception
    {
        assertThat(transform("{}", "[{'op':'set','path':'/0/1','value':'x'}]")).isEqualTo(json("{'0':{'1':'x'}}"));
    }

    @Test
    void shouldNameThePathWhenASetGoesThroughAScalar()
    {
        assertThat(error("{'a':{'b':5}}", "[{'op':'set','path':'/a/b/c','value':1}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/a/b/c\": \"/a/b\" is a number, not an object or array");
        assertThat(error("{'a':null}", "[{'op':'set','path':'/a/b','value':1}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/a/b\": \"/a\" is null, not an object or array");
        assertThat(error("'text'", "[{'op':'set','path':'/a','value':1}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/a\": the document is a string, not an object or array");
    }

    @Test
    void shouldNameThePathWhenAnArrayHasNoSuchIndex()
    {
        assertThat(error("{'l':[1,2]}", "[{'op':'set','path':'/l/3','value':0}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/l/3\": \"/l\" has no element 3 (an array of 2; 2 or \"-\" appends)");
        assertThat(error("{'l':[1,2]}", "[{'op':'set','path':'/l/2/x','value':0}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/l/2/x\": \"/l\" has no element 2 (an array of 2)");
        assertThat(error("{'l':[1,2]}", "[{'op':'set','path':'/l/x','value':0}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/l/x\": \"/l\" is an array and \"x\" is not an index");
        assertThat(error("{'l':[1,2]}", "[{'op':'set','path':'/l/01','value':0}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/l/01\": \"/l\" is an array and \"01\" is not an index");
        assertThat(error("{'l':[[1]]}", "[{'op':'set','path':'/l/-/0','value':0}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/l/-/0\": \"/l\" is an array and \"-\" is not an index");
    }

    // copy

    @Test
    void shouldCopyAValueWhichThenChangesIndependently() throws Exception
    {
        assertThat(transform("{'a':{'x':1}}",
            "[{'op':'copy','from':'/a','path':'/b'},{'op':'set','path':'/b/x','value':2},{'op':'set','path':'/a/y','value':3}]"))
            .isEqualTo(json("{'a':{'x':1,'y':3},'b':{'x':2}}"));
    }

    @Test
    void shouldInsertACopyIntoAnArrayAsJsonPatchDoes() throws Exception
    {
        assertThat(transform("{'l':['a','b'],'v':'new'}", "[{'op':'copy','from':'/v','path':'/l/1'}]"))
            .isEqualTo(json("{'l':['a','new','b'],'v':'new'}"));
    }

    @Test
    void shouldCopyTheWholeDocumentIntoItself() throws Exception
    {
        assertThat(transform("{'a':1}", "[{'op':'copy','from':'','path':'/copy'}]"))
            .isEqualTo(json("{'a':1,'copy':{'a':1}}"));
    }

    @Test
    void shouldCopyAJsonNull() throws Exception
    {
        assertThat(transform("{'a':null}", "[{'op':'copy','from':'/a','path':'/b'}]")).isEqualTo(json("{'a':null,'b':null}"));
    }

    @Test
    void shouldFailACopyFromNothingUnlessNotRequired() throws Exception
    {
        assertThat(error("{'a':{}}", "[{'op':'set','path':'/x','value':1},{'op':'set','path':'/y','value':1},{'op':'copy','from':'/a/b','path':'/c'}]"))
            .isEqualTo("invalid input: ops[2].from: \"/a/b\" matches nothing in the document");
        assertThat(error("{'a':[1]}", "[{'op':'copy','from':'/a/1','path':'/c','required':true}]"))
            .isEqualTo("invalid input: ops[0].from: \"/a/1\" matches nothing in the document");
        assertThat(error("{'a':5}", "[{'op':'copy','from':'/a/b','path':'/c'}]"))
            .isEqualTo("invalid input: ops[0].from: \"/a/b\" matches nothing in the document");
        assertThat(transform("{'a':{}}", "[{'op':'copy','from':'/a/b','path':'/c','required':false}]")).isEqualTo(json("{'a':{}}"));
    }

    @Test
    void shouldSeeWhatEarlierOperationsDid() throws Exception
    {
        assertThat(transform("{}", "[{'op':'set','path':'/a','value':1},{'op':'copy','from':'/a','path':'/b'}]"))
            .isEqualTo(json("{'a':1,'b':1}"));
    }

    @Test
    void shouldFailACopyPastTheBudgetOfCopiedValues() throws Exception
    {
        final TransformTaskHandler small = new TransformTaskHandler();
        small.configure(Map.of("max-copied-values", "5"));
        final String doubling = "[{'op':'copy','from':'','path':'/a'},{'op':'copy','from':'','path':'/b'}]";

        // {'x':1} is 2 values; copied once: 2, then {'x':1,'a':{'x':1}} is 4 more: 6 > 5
        assertThat(failure(small, "{'input':{'x':1},'ops':" + doubling + "}"))
            .isEqualTo("invalid input: ops[1].from: copies more than 5 values in all (max-copied-values)");
        assertThat(output(small, "{'input':{'x':1},'ops':[{'op':'copy','from':'','path':'/a'}]}"))
            .isEqualTo(json("{'x':1,'a':{'x':1}}"));
    }

    /**
     * A copy past max-copied-values declined the fast path, and the tree path copied as much again to word the failure
     * (a 1.6 KB payload doubling a document: milliseconds, twice). The fast path words it now, exactly as the tree path
     * would: only where nothing the tree path checks first fails instead, such as a later operation that is malformed.
     */
    @Test
    void shouldWordACopyPastTheBudgetOnTheFastPathAsTheTreePathWould() throws Exception
    {
        final TransformTaskHandler small = new TransformTaskHandler();
        small.configure(Map.of("max-copied-values", "5"));
        final String doubling = "{'op':'copy','from':'','path':'/a'},{'op':'copy','from':'','path':'/b'}";
        final String[][] payloads = {
            {"{'input':{'x':1},'ops':[" + doubling + ",{'op':'set','path':'/c','value':1}]}",
                "invalid input: ops[1].from: copies more than 5 values in all (max-copied-values)"},
            {"{'input':{'x':1},'ops':[" + doubling + ",{'op':'frobnicate'}]}",
                "invalid input: ops[2].op: unknown operation \"frobnicate\" (set, copy, move, remove, merge)"},
            {"{'input':{'x':1},'ops':[" + doubling + ",{'op':'remove','path':''}]}",
                "invalid input: ops[2].path: the empty pointer: the whole document cannot be removed"}};

        for (final String[] payload : payloads)
        {
            final Workspace workspace = Workspace.current();
            final RecordingContext context = RecordingContext.of(json(payload[0]));
            assertThat(workspace.read(context, 5)).isTrue();
            final boolean fastPathWords = payload[1].endsWith("(max-copied-values)");
            if (fastPathWords)
            {
                assertThat(catchThrowableOfType(TaskFailure.class, () -> small.edit(workspace)).getMessage()).isEqualTo(payload[1]);
            }
            else
            {
                assertThat(small.edit(workspace)).as("declined: the tree path words it").isFalse();
            }
            assertThat(failure(small, payload[0])).isEqualTo(payload[1]);
            assertThat(catchThrowableOfType(TaskFailure.class, () -> small.executeOnTree(RecordingContext.of(json(payload[0]))))
                .getMessage()).isEqualTo(payload[1]);
        }
    }

    @Test
    void shouldStopADocumentThatCopiesItselfExponentially()
    {
        final StringBuilder ops = new StringBuilder("[");
        for (int i = 0; i < 64; i++)
        {
            ops.append(i == 0 ? "" : ",").append("{'op':'copy','from':'','path':'/c").append(i).append("'}");
        }
        ops.append(']');

        assertThat(error("{'x':1}", ops.toString()))
            .startsWith("invalid input: ops[").endsWith("].from: copies more than 65536 values in all (max-copied-values)");
    }

    // move

    @Test
    void shouldMoveAPropertyToANewName() throws Exception
    {
        assertThat(transform("{'first':'Ada','last':'L'}", "[{'op':'move','from':'/first','path':'/name/given'}]"))
            .isEqualTo(json("{'last':'L','name':{'given':'Ada'}}"));
    }

    @Test
    void shouldReorderAnArrayByMoving() throws Exception
    {
        assertThat(transform("['a','b','c']", "[{'op':'move','from':'/0','path':'/2'}]")).isEqualTo(json("['b','c','a']"));
        assertThat(transform("['a','b','c']", "[{'op':'move','from':'/2','path':'/0'}]")).isEqualTo(json("['c','a','b']"));
        assertThat(transform("['a','b','c']", "[{'op':'move','from':'/0','path':'/1'}]")).isEqualTo(json("['b','a','c']"));
    }

    @Test
    void shouldMoveAValueUpIntoItsParentsPlace() throws Exception
    {
        assertThat(transform("{'a':{'b':{'b':1}}}", "[{'op':'move','from':'/a/b','path':'/a'}]")).isEqualTo(json("{'a':{'b':1}}"));
    }

    @Test
    void shouldLeaveADocumentAsItIsWhenMovingAValueOntoItself() throws Exception
    {
        assertThat(transform("{'a':1,'b':2}", "[{'op':'move','from':'/a','path':'/a'}]")).isEqualTo(json("{'a':1,'b':2}"));
        assertThat(error("{'a':1}", "[{'op':'move','from':'/z','path':'/z'}]"))
            .isEqualTo("invalid input: ops[0].from: \"/z\" matches nothing in the document");
    }

    @Test
    void shouldFailAMoveFromNothingUnlessNotRequired() throws Exception
    {
        assertThat(error("{}", "[{'op':'move','from':'/a','path':'/b'}]"))
            .isEqualTo("invalid input: ops[0].from: \"/a\" matches nothing in the document");
        assertThat(transform("{'c':0}", "[{'op':'move','from':'/a','path':'/b','required':false}]")).isEqualTo(json("{'c':0}"));
    }

    @Test
    void shouldRefuseToMoveAValueIntoItselfOrTheWholeDocument()
    {
        assertThat(error("{'a':{}}", "[{'op':'move','from':'/a','path':'/a/b'}]"))
            .isEqualTo("invalid input: ops[0].path: \"/a/b\" is inside from \"/a\": a value cannot be moved into itself");
        assertThat(error("{'a':{}}", "[{'op':'move','from':'','path':'/a'}]"))
            .isEqualTo("invalid input: ops[0].from: the empty pointer: the whole document cannot be moved");
    }

    @Test
    void shouldNameThePathWhenAMovedValueCannotBePut()
    {
        assertThat(error("{'a':1,'b':2}", "[{'op':'move','from':'/a','path':'/b/c'}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/b/c\": \"/b\" is a number, not an object or array");
    }

    // remove

    @Test
    void shouldRemoveAPropertyOrAnArrayElement() throws Exception
    {
        assertThat(transform("{'a':1,'b':[1,2,3]}", "[{'op':'remove','path':'/a'},{'op':'remove','path':'/b/1'}]"))
            .isEqualTo(json("{'b':[1,3]}"));
    }

    @Test
    void shouldFailARemoveOfNothingUnlessNotRequired() throws Exception
    {
        assertThat(error("{'a':1}", "[{'op':'remove','path':'/b'}]"))
            .isEqualTo("invalid input: ops[0].path: \"/b\" matches nothing in the document");
        assertThat(error("{'l':[1]}", "[{'op':'remove','path':'/l/1'}]"))
            .isEqualTo("invalid input: ops[0].path: \"/l/1\" matches nothing in the document");
        assertThat(error("{'l':[1]}", "[{'op':'remove','path':'/l/-'}]"))
            .isEqualTo("invalid input: ops[0].path: \"/l/-\" matches nothing in the document");
        assertThat(transform("{'a':1}", "[{'op':'remove','path':'/b/c','required':false}]")).isEqualTo(json("{'a':1}"));
    }

    @Test
    void shouldRefuseToRemoveTheWholeDocument()
    {
        assertThat(error("{}", "[{'op':'remove','path':''}]"))
            .isEqualTo("invalid input: ops[0].path: the empty pointer: the whole document cannot be removed");
    }

    // merge

    /**
     * The examples of RFC 7386, appendix A, merged at the empty pointer.
     */
    @ParameterizedTest(name = "{0} + {1} = {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{'a':'b'}                 | {'a':'c'}                        | {'a':'c'}",
        "{'a':'b'}                 | {'b':'c'}                        | {'a':'b','b':'c'}",
        "{'a':'b'}                 | {'a':null}                       | {}",
        "{'a':'b','b':'c'}         | {'a':null}                       | {'b':'c'}",
        "{'a':['b']}               | {'a':'c'}                        | {'a':'c'}",
        "{'a':'c'}                 | {'a':['b']}                      | {'a':['b']}",
        "{'a':{'b':'c'}}           | {'a':{'b':'d','c':null}}         | {'a':{'b':'d'}}",
        "{'a':[{'b':'c'}]}         | {'a':[1]}                        | {'a':[1]}",
        "['a','b']                 | ['c','d']                        | ['c','d']",
        "{'a':'b'}                 | ['c']                            | ['c']",
        "{'a':'foo'}               | null                             | null",
        "{'a':'foo'}               | 'bar'                            | 'bar'",
        "{'e':null}                | {'a':1}                          | {'e':null,'a':1}",
        "[1,2]                     | {'a':'b','c':null}               | {'a':'b'}",
        "{}                        | {'a':{'bb':{'ccc':null}}}        | {'a':{'bb':{}}}"})
    void shouldMergeAsRfc7386Says(final String target, final String patch, final String result) throws Exception
    {
        assertThat(transform(target, "[{'op':'merge','path':'','value':" + patch + "}]")).isEqualTo(json(result));
    }

    @Test
    void shouldMergeIntoAValueInsideTheDocument() throws Exception
    {
        assertThat(transform("{'user':{'name':'Ada','tmp':1},'keep':true}",
            "[{'op':'merge','path':'/user','value':{'tmp':null,'role':{'admin':true}}}]"))
            .isEqualTo(json("{'user':{'name':'Ada','role':{'admin':true}},'keep':true}"));
    }

    @Test
    void shouldMergeIntoNothingAsIntoAnEmptyObject() throws Exception
    {
        assertThat(transform("{}", "[{'op':'merge','path':'/a/b','value':{'x':1,'y':null}}]")).isEqualTo(json("{'a':{'b':{'x':1}}}"));
    }

    @Test
    void shouldNameThePathWhenAMergeCannotBePut()
    {
        assertThat(error("{'a':1}", "[{'op':'merge','path':'/a/b','value':{}}]"))
            .isEqualTo("invalid input: ops[0].path: cannot set \"/a/b\": \"/a\" is a number, not an object or array");
    }

    // malformed operations

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{'input':{}}                                 | invalid input: ops: required: an array of operations",
        "{'ops':{'op':'set'}}                         | invalid input: ops: must be an array of operations, was an object",
        "{'ops':[],'extra':1}                         | invalid input: extra: unknown field of a transform payload (input, ops)",
        "{'ops':[1]}                                  | invalid input: ops[0]: must be an operation object, was a number",
        "{'ops':[{'path':'/a'}]}                      | invalid input: ops[0].op: required (set, copy, move, remove, merge)",
        "{'ops':[{'op':7}]}                           | invalid input: ops[0].op: must be a string (set, copy, move, remove, merge), was a number",
        "{'ops':[{'op':'set','path':'/a','value':1},{'op':'frobnicate'}]} | invalid input: ops[1].op: unknown operation \"frobnicate\" (set, copy, move, remove, merge)",
        "{'ops':[{'op':'SET','path':'/a','value':1}]} | invalid input: ops[0].op: unknown operation \"SET\" (set, copy, move, remove, merge)",
        "{'ops':[{'op':'set','value':1}]}             | invalid input: ops[0].path: required (a JSON Pointer)",
        "{'ops':[{'op':'set','path':5,'value':1}]}    | invalid input: ops[0].path: must be a JSON Pointer string, was a number",
        "{'ops':[{'op':'set','path':'a/b','value':1}]} | invalid input: ops[0].path: \"a/b\" is not a JSON Pointer: must be empty or start with '/'",
        "{'ops':[{'op':'set','path':'/a~2','value':1}]} | invalid input: ops[0].path: \"/a~2\" is not a JSON Pointer: '~' at offset 2 must be followed by 0 or 1",
        "{'ops':[{'op':'set','path':'/a'}]}           | invalid input: ops[0].value: required (any JSON, null included)",
        "{'ops':[{'op':'merge','path':'/a'}]}         | invalid input: ops[0].value: required (any JSON, null included)",
        "{'ops':[{'op':'copy','path':'/a'}]}          | invalid input: ops[0].from: required (a JSON Pointer)",
        "{'ops':[{'op':'move','path':'/a','from':null}]} | invalid input: ops[0].from: must be a JSON Pointer string, was null",
        "{'ops':[{'op':'copy','from':'a','path':'/a'}]} | invalid input: ops[0].from: \"a\" is not a JSON Pointer: must be empty or start with '/'",
        "{'ops':[{'op':'remove','path':'/a','required':'no'}]} | invalid input: ops[0].required: must be true or false, was a string",
        "{'ops':[{'op':'copy','from':'/a','path':'/b','requried':false}]} | invalid input: ops[0].requried: unknown field of a copy operation (op, from, path, required)",
        "{'ops':[{'op':'set','path':'/a','value':1,'required':false}]} | invalid input: ops[0].required: unknown field of a set operation (op, path, value)",
        "{'ops':[{'op':'remove','path':'/a','value':1}]} | invalid input: ops[0].value: unknown field of a remove operation (op, path, required)",
        "{'ops':[{'op':'merge','path':'/a','value':{},'from':'/b'}]} | invalid input: ops[0].from: unknown field of a merge operation (op, path, value)"})
    void shouldNameTheFieldOfAMalformedOperation(final String payload, final String message)
    {
        assertThat(failure(handler, payload)).isEqualTo(message);
    }

    @Test
    void shouldCheckEveryOperationBeforeApplyingTheFirst()
    {
        // ops[0] would fail when applied; ops[1] is malformed, and that is what is reported
        assertThat(error("{}", "[{'op':'remove','path':'/missing'},{'op':'copy','path':'/a'}]"))
            .isEqualTo("invalid input: ops[1].from: required (a JSON Pointer)");
    }
}
