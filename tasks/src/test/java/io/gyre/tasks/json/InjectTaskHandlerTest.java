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
 * What {@code inject} puts where, and every way its payload can be wrong, against the handler.
 */
class InjectTaskHandlerTest
{
    private final InjectTaskHandler handler = new InjectTaskHandler();

    @Test
    void shouldRunInlineUnderItsName()
    {
        assertThat(handler.type()).isEqualTo("inject");
        assertThat(handler.executionMode()).isEqualTo(io.gyre.engine.ExecutionMode.INLINE);
    }

    @Test
    void shouldApplyTheDocumentedExample() throws Exception
    {
        assertThat(output(handler,
            "{'input': {'user': {'id': 42, 'name': 'Ada'}}," +
            " 'template': {'to': null, 'text': 'welcome'}," +
            " 'refs': {'/to': '/user/name', '/meta/user': '/user/id'}}"))
            .isEqualTo(json("{'to':'Ada','text':'welcome','meta':{'user':42}}"));
    }

    @Test
    void shouldBuildOnAnEmptyObjectWithoutTemplate() throws Exception
    {
        assertThat(output(handler, "{'input':{'a':[1,{'b':2}]},'refs':{'/first':'/a/0','/b':'/a/1/b','/all':''}}"))
            .isEqualTo(json("{'first':1,'b':2,'all':{'a':[1,{'b':2}]}}"));
    }

    @Test
    void shouldReplaceTheWholeTemplateAtTheEmptyTarget() throws Exception
    {
        assertThat(output(handler, "{'input':{'a':[1]},'template':{'x':1},'refs':{'':'/a','/-':'/a/0'}}")).isEqualTo("[1,1]");
    }

    @Test
    void shouldInjectIntoAnArrayTemplate() throws Exception
    {
        assertThat(output(handler, "{'input':{'a':'A','b':'B'},'template':['x','y'],'refs':{'/0':'/a','/-':'/b'}}"))
            .isEqualTo(json("['A','y','B']"));
    }

    @Test
    void shouldInjectCopiesThatDoNotShareAnything() throws Exception
    {
        // the first target's value is then written into: the input, and the third target, must not see it
        assertThat(output(handler, "{'input':{'a':{'k':1},'b':2},'refs':{'/x':'/a','/x/y':'/b','/z':'/a'}}"))
            .isEqualTo(json("{'x':{'k':1,'y':2},'z':{'k':1}}"));
    }

    @Test
    void shouldFailOnASourceThatMatchesNothingByDefault()
    {
        assertThat(failure(handler, "{'input':{'user':{}},'template':{},'refs':{'/to':'/user/name'}}"))
            .isEqualTo("invalid input: refs[\"/to\"]: source \"/user/name\" matches nothing in the input");
        assertThat(failure(handler, "{'input':{'l':[]},'refs':{'/to':'/l/0'},'required':true}"))
            .isEqualTo("invalid input: refs[\"/to\"]: source \"/l/0\" matches nothing in the input");
    }

    @Test
    void shouldLeaveTheTemplateAsItIsWhereASourceMatchesNothingWhenNotRequired() throws Exception
    {
        assertThat(output(handler, "{'input':{'b':2},'template':{'a':'default'},'refs':{'/a':'/missing','/b':'/b'},'required':false}"))
            .isEqualTo(json("{'a':'default','b':2}"));
    }

    @Test
    void shouldInjectAJsonNullAsAValue() throws Exception
    {
        assertThat(output(handler, "{'input':{'n':null},'template':{'a':1},'refs':{'/a':'/n'}}")).isEqualTo(json("{'a':null}"));
    }

    @Test
    void shouldNameTheEntryWhoseTargetCannotBeSet()
    {
        assertThat(failure(handler, "{'input':{'v':1},'template':{'t':'text'},'refs':{'/t/x':'/v'}}"))
            .isEqualTo("invalid input: refs[\"/t/x\"]: cannot set \"/t/x\": \"/t\" is a string, not an object or array");
    }

    @Test
    void shouldFailPastTheBudgetOfCopiedValues() throws Exception
    {
        final InjectTaskHandler small = new InjectTaskHandler();
        small.configure(Map.of("max-copied-values", "3"));

        assertThat(output(small, "{'input':{'a':[1,2]},'refs':{'/x':'/a'}}")).isEqualTo(json("{'x':[1,2]}"));
        assertThat(failure(small, "{'input':{'a':[1,2]},'refs':{'/x':'/a','/y':'/a/0'}}"))
            .isEqualTo("invalid input: refs[\"/y\"]: copies more than 3 values in all (max-copied-values)");
    }

    /**
     * The fast path words a copy past max-copied-values itself (the tree path would copy as much again to say the
     * same), but not when a later ref is malformed: the tree path checks every ref before it copies, and says that.
     */
    @Test
    void shouldWordACopyPastTheBudgetOnTheFastPathAsTheTreePathWould() throws Exception
    {
        final InjectTaskHandler small = new InjectTaskHandler();
        small.configure(Map.of("max-copied-values", "3"));
        final String over = "{'input':{'a':[1,2]},'refs':{'/x':'/a','/y':'/a/0','/z':'/a/1'}}";
        final String overThenMalformed = "{'input':{'a':[1,2]},'refs':{'/x':'/a','/y':'/a/0','z':'/a/1'}}";

        final Workspace workspace = Workspace.current();
        assertThat(workspace.read(RecordingContext.of(json(over)), 3)).isTrue();
        assertThat(catchThrowableOfType(TaskFailure.class, () -> small.edit(workspace)).getMessage())
            .isEqualTo("invalid input: refs[\"/y\"]: copies more than 3 values in all (max-copied-values)");
        assertThat(workspace.read(RecordingContext.of(json(overThenMalformed)), 3)).isTrue();
        assertThat(small.edit(workspace)).as("declined: the tree path words it").isFalse();
        assertThat(failure(small, overThenMalformed))
            .isEqualTo("invalid input: refs[\"z\"]: target \"z\" is not a JSON Pointer: must be empty or start with '/'");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{'template':{}}                      | invalid input: refs: required: an object of target JSON Pointer to source JSON Pointer",
        "{'refs':'/a'}                        | invalid input: refs: must be an object of target JSON Pointer to source JSON Pointer, was a string",
        "{'refs':{},'templates':{}}           | invalid input: templates: unknown field of an inject payload (input, template, refs, required)",
        "{'refs':{},'required':'yes'}         | invalid input: required: must be true or false, was a string",
        "{'refs':{'/a':1}}                    | invalid input: refs[\"/a\"]: source must be a JSON Pointer string, was a number",
        "{'refs':{'/a':'/b','c':'/d'}}        | invalid input: refs[\"c\"]: target \"c\" is not a JSON Pointer: must be empty or start with '/'",
        "{'refs':{'/a':'b/c'}}                | invalid input: refs[\"/a\"]: source \"b/c\" is not a JSON Pointer: must be empty or start with '/'"})
    void shouldNameTheFieldOfAMalformedPayload(final String payload, final String message)
    {
        assertThat(failure(handler, payload)).isEqualTo(message);
    }
}
