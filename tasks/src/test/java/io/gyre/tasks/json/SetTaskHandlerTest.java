package io.gyre.tasks.json;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static io.gyre.tasks.json.Handlers.failure;
import static io.gyre.tasks.json.Handlers.json;
import static io.gyre.tasks.json.Handlers.output;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * What {@code set} does with each kind of pointer, and every way its payload can be wrong, against the handler.
 */
class SetTaskHandlerTest
{
    private final SetTaskHandler handler = new SetTaskHandler();

    @Test
    void shouldRunInlineUnderItsName()
    {
        assertThat(handler.type()).isEqualTo("set");
        assertThat(handler.executionMode()).isEqualTo(io.gyre.engine.ExecutionMode.INLINE);
    }

    @Test
    void shouldApplyTheDocumentedExample() throws Exception
    {
        assertThat(output(handler, "{'input': {'order': {'id': 7}}, 'values': {'/order/status': 'paid', '/audit/by': 'billing'}}"))
            .isEqualTo(json("{'order':{'id':7,'status':'paid'},'audit':{'by':'billing'}}"));
    }

    @Test
    void shouldSetValuesInTheOrderWritten() throws Exception
    {
        assertThat(output(handler, "{'input':{'a':1},'values':{'/a':2,'/b':{},'/b/c':[1],'/b/c/-':2}}"))
            .isEqualTo(json("{'a':2,'b':{'c':[1,2]}}"));
        assertThat(output(handler, "{'values':{'/x':{'y':1},'/x/y':2}}")).isEqualTo(json("{'x':{'y':2}}"));
    }

    @Test
    void shouldStartFromAnEmptyObjectWithoutInput() throws Exception
    {
        assertThat(output(handler, "{'values':{'/a/b':true}}")).isEqualTo(json("{'a':{'b':true}}"));
    }

    @Test
    void shouldReturnTheInputWithNoValues() throws Exception
    {
        assertThat(output(handler, "{'input':[1,'x',null],'values':{}}")).isEqualTo(json("[1,'x',null]"));
    }

    @Test
    void shouldReplaceOrAppendArrayElements() throws Exception
    {
        assertThat(output(handler, "{'input':{'l':[0,1]},'values':{'/l/1':'one','/l/2':2,'/l/-':3}}"))
            .isEqualTo(json("{'l':[0,'one',2,3]}"));
    }

    @Test
    void shouldReplaceTheWholeDocumentAtTheEmptyPointer() throws Exception
    {
        assertThat(output(handler, "{'input':{'a':1},'values':{'':'all'}}"))
            .isEqualTo(json("'all'"));
        assertThat(output(handler, "{'input':{'a':1},'values':{'':{'fresh':true},'/more':1}}"))
            .isEqualTo(json("{'fresh':true,'more':1}"));
    }

    @Test
    void shouldKeepNumbersAndTextExactly() throws Exception
    {
        assertThat(output(handler, "{'input':{'price':1.10,'big':12345678901234567890123,'pi':3.14159265358979323846264338327950288," +
            "'e':1e3,'text':'Grüße, 世界 \\u0000'},'values':{'/n':-0.5}}"))
            .isEqualTo(json("{'price':1.10,'big':12345678901234567890123,'pi':3.14159265358979323846264338327950288," +
                "'e':1E+3,'text':'Grüße, 世界 \\u0000','n':-0.5}"));
    }

    @Test
    void shouldNameTheEntryWhoseValueCannotBeSet()
    {
        assertThat(failure(handler, "{'input':{'a':'text'},'values':{'/ok':1,'/a/b':1}}"))
            .isEqualTo("invalid input: values[\"/a/b\"]: cannot set \"/a/b\": \"/a\" is a string, not an object or array");
        assertThat(failure(handler, "{'input':{'l':[]},'values':{'/l/1':1}}"))
            .isEqualTo("invalid input: values[\"/l/1\"]: cannot set \"/l/1\": \"/l\" has no element 1 (an array of 0; 0 or \"-\" appends)");
        assertThat(failure(handler, "{'input':{'l':[]},'values':{'/l/first':1}}"))
            .isEqualTo("invalid input: values[\"/l/first\"]: cannot set \"/l/first\": \"/l\" is an array and \"first\" is not an index");
        assertThat(failure(handler, "{'input':true,'values':{'/a':1}}"))
            .isEqualTo("invalid input: values[\"/a\"]: cannot set \"/a\": the document is a boolean, not an object or array");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{'input':{}}                   | invalid input: values: required: an object of JSON Pointer to value",
        "{'values':[['/a',1]]}          | invalid input: values: must be an object of JSON Pointer to value, was an array",
        "{'values':{},'value':{}}       | invalid input: value: unknown field of a set payload (input, values)",
        "{'values':{'a/b':1}}           | invalid input: values[\"a/b\"]: \"a/b\" is not a JSON Pointer: must be empty or start with '/'",
        "{'values':{'/a':1,'/~x':1}}    | invalid input: values[\"/~x\"]: \"/~x\" is not a JSON Pointer: '~' at offset 1 must be followed by 0 or 1"})
    void shouldNameTheFieldOfAMalformedPayload(final String payload, final String message)
    {
        assertThat(failure(handler, payload)).isEqualTo(message);
    }

    @Test
    void shouldCheckEveryPointerBeforeSettingAny()
    {
        assertThat(failure(handler, "{'input':5,'values':{'/a':1,'b':2}}"))
            .isEqualTo("invalid input: values[\"b\"]: \"b\" is not a JSON Pointer: must be empty or start with '/'");
    }

    @Test
    void shouldTakeNoSettings()
    {
        handler.configure(Map.of());
        assertThatIllegalArgumentException().isThrownBy(() -> handler.configure(Map.of("max-copied-values", "10")))
            .withMessage("set.max-copied-values=10 is not a setting of set (it has none)");
    }
}
