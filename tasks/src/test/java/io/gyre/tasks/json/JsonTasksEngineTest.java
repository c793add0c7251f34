package io.gyre.tasks.json;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.gyre.engine.TaskState.DEAD_LETTERED;
import static io.gyre.engine.TaskState.FAILED;
import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static io.gyre.tasks.json.Handlers.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The JSON task types end to end, in process: submitted to a real engine journaling into a temporary
 * directory, their outcomes (and failures) as clients see them, and their journal replayed.
 */
class JsonTasksEngineTest
{
    @TempDir
    Path dir;

    private Engine engine;

    @AfterEach
    void close()
    {
        if (engine != null)
        {
            engine.close();
        }
    }

    private void open(final Consumer<EngineConfig.Builder> settings)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16);
        JsonTaskHandlers.all().forEach(builder::handler);
        settings.accept(builder);
        engine = Engine.open(builder.build());
    }

    private Outcome submit(final String key, final String type, final String payload) throws Exception
    {
        return submit(new TaskRequest().key(key).type(type).payload(json(payload)));
    }

    private Outcome submit(final TaskRequest request) throws Exception
    {
        final CompletableFuture<Outcome> outcome = engine.submit(request);
        return outcome.get(15, TimeUnit.SECONDS);
    }

    private TaskHistory closeAndReplay()
    {
        engine.close();
        engine = null;
        return TaskHistory.of(dir);
    }

    @Test
    void shouldSucceedEachTypeWithTheDocumentItBuilds() throws Exception
    {
        open(b -> { });
        final Outcome set = submit("s", "set", "{'input':{'id':7},'values':{'/status':'paid'}}");
        final Outcome inject = submit("i", "inject", "{'input':{'user':{'name':'Ada'}},'template':{'text':'hi'},'refs':{'/to':'/user/name'}}");
        final Outcome transform = submit("t", "transform",
            "{'input':{'first':'Ada','tmp':1},'ops':[{'op':'move','from':'/first','path':'/name'},{'op':'remove','path':'/tmp'}," +
            "{'op':'merge','path':'','value':{'v':2}}]}");

        assertThat(set.state()).isEqualTo(SUCCEEDED);
        assertThat(set.outputAsString()).isEqualTo(json("{'id':7,'status':'paid'}"));
        assertThat(inject.state()).isEqualTo(SUCCEEDED);
        assertThat(inject.outputAsString()).isEqualTo(json("{'text':'hi','to':'Ada'}"));
        assertThat(transform.state()).isEqualTo(SUCCEEDED);
        assertThat(transform.outputAsString()).isEqualTo(json("{'name':'Ada','v':2}"));
        assertThat(transform.attempts()).isEqualTo(1);

        final TaskHistory history = closeAndReplay();
        assertThat(history).task(set.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
        assertThat(history).task(inject.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
        assertThat(history).task(transform.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    /**
     * A payload over {@link JsonTaskHandler#INLINE_PAYLOAD_BYTES} runs on the CPU pool (its own thread's workspace),
     * with the same result, journaled and replayed as an inline one.
     */
    @Test
    void shouldRunALargePayloadOffTheRingWithTheSameResult() throws Exception
    {
        open(b -> { });
        final String text = "x".repeat(JsonTaskHandler.INLINE_PAYLOAD_BYTES);
        final Outcome inject = submit("large", "inject", "{'input':{'t':'" + text + "'},'refs':{'/a':'/t','/b':'/t'}}");
        final Outcome small = submit("small", "inject", "{'input':{'t':'x'},'refs':{'/a':'/t','/b':'/t'}}");

        assertThat(inject.state()).isEqualTo(SUCCEEDED);
        assertThat(inject.outputAsString()).isEqualTo(json("{'a':'" + text + "','b':'" + text + "'}"));
        assertThat(small.outputAsString()).isEqualTo(json("{'a':'x','b':'x'}"));
        assertThat(closeAndReplay()).task(inject.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    /**
     * A 1.6 KB transform copying {@code /a} into {@code /a/0} 40 times ran inline, on the engine's ring, for
     * milliseconds before it failed at max-copied-values (then did it all again on the tree path to word the failure):
     * a client pipelining 4,096 of them took every other client's p50 from 0.3 ms to over a second. An outside check
     * found it. A transform that can copy, and an inject of more than 512 bytes, run on the CPU pool now, whatever
     * their size; a set, a transform that cannot copy and a small inject still run inline. Each handler is the real
     * one, wrapped to record the thread its attempt ran on.
     */
    @Test
    void shouldRunAPayloadThatCanCopyOnTheCpuPoolAndAPlainOneInline() throws Exception
    {
        final java.util.Map<String, String> threads = new java.util.concurrent.ConcurrentHashMap<>();
        final EngineConfig.Builder builder = EngineConfig.builder(dir).ringSize(1024).cpuPoolThreads(1);
        JsonTaskHandlers.all().forEach(handler -> builder.handler(new ThreadRecording((JsonTaskHandler)handler, threads)));
        engine = Engine.open(builder.build());
        final StringBuilder doubling = new StringBuilder("{'input':{'a':[0]},'ops':[");
        for (int i = 0; i < 40; i++)
        {
            doubling.append(i == 0 ? "" : ",").append("{'op':'copy','from':'/a','path':'/a/0'}");
        }
        final String copying = json(doubling.append("]}").toString());
        final String set = json("{'input':{'id':7},'values':{'/status':'paid'}}");
        final String plain = json("{'input':{'first':'Ada','tmp':1},'ops':[{'op':'move','from':'/first','path':'/name'},{'op':'remove','path':'/tmp'}]}");
        final String small = json("{'input':{'user':{'name':'Ada'}},'refs':{'/to':'/user/name'}}");
        final String large = json("{'input':{'t':'" + "x".repeat(InjectTaskHandler.INLINE_PAYLOAD_BYTES_INJECT) + "'},'refs':{'/a':'/t'}}");

        final Outcome copied = submit(new TaskRequest().key("copying").type("transform").maxAttempts(3).payload(copying));
        final List<Outcome> succeeded = List.of(submit(new TaskRequest().key("set").type("set").payload(set)),
            submit(new TaskRequest().key("plain").type("transform").payload(plain)),
            submit(new TaskRequest().key("small").type("inject").payload(small)),
            submit(new TaskRequest().key("large").type("inject").payload(large)));

        assertThat(copied.state()).isEqualTo(DEAD_LETTERED);
        assertThat(copied.attempts()).isEqualTo(1);
        assertThat(copied.error()).isEqualTo("invalid input: ops[15].from: copies more than 65536 values in all (max-copied-values)");
        assertThat(succeeded).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(threads.get(copying)).startsWith("gyre-cpu-");
        assertThat(threads.get(large)).startsWith("gyre-cpu-");
        assertThat(List.of(threads.get(set), threads.get(plain), threads.get(small)))
            .allSatisfy(thread -> assertThat(thread).startsWith("gyre-").doesNotStartWith("gyre-cpu-"));
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(copied.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED).replaysDeterministically();
        assertThat(history).task(succeeded.get(0).taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    /**
     * A JSON handler as the engine sees it (its type, modes and settings), recording the thread each attempt ran on
     * by the attempt's payload.
     */
    private static final class ThreadRecording implements io.gyre.engine.TaskHandler
    {
        private final JsonTaskHandler handler;
        private final java.util.Map<String, String> threads;

        ThreadRecording(final JsonTaskHandler handler, final java.util.Map<String, String> threads)
        {
            this.handler = handler;
            this.threads = threads;
        }

        @Override
        public String type()
        {
            return handler.type();
        }

        @Override
        public io.gyre.engine.ExecutionMode executionMode()
        {
            return handler.executionMode();
        }

        @Override
        public io.gyre.engine.ExecutionMode executionMode(final int payloadLength)
        {
            return handler.executionMode(payloadLength);
        }

        @Override
        public io.gyre.engine.ExecutionMode executionMode(final org.agrona.DirectBuffer payload, final int offset, final int length)
        {
            return handler.executionMode(payload, offset, length);
        }

        @Override
        public void configure(final java.util.Map<String, String> settings)
        {
            handler.configure(settings);
        }

        @Override
        public void execute(final io.gyre.engine.TaskContext context) throws Exception
        {
            threads.put(context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()), Thread.currentThread().getName());
            handler.execute(context);
        }
    }

    @Test
    void shouldDeadLetterAMalformedPayloadAtOnceNamingTheField() throws Exception
    {
        open(b -> { });
        final Outcome outcome = submit(new TaskRequest().key("bad").type("transform").maxAttempts(5)
            .payload(json("{'ops':[{'op':'set','path':'/a','value':1},{'op':'frobnicate','path':'/b'}]}")));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(1);
        assertThat(outcome.output()).isEmpty();
        assertThat(outcome.error())
            .isEqualTo("invalid input: ops[1].op: unknown operation \"frobnicate\" (set, copy, move, remove, merge)");
        assertThat(closeAndReplay()).task(outcome.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED).replaysDeterministically();
    }

    @Test
    void shouldFailAPointerThatMatchesNothingWhenRequiredWithoutRetrying() throws Exception
    {
        open(b -> { });
        final Outcome inject = submit(new TaskRequest().key("i").type("inject").maxAttempts(3).deadLetter(false)
            .payload(json("{'input':{},'refs':{'/to':'/user/name'}}")));
        final Outcome transform = submit(new TaskRequest().key("t").type("transform").maxAttempts(3)
            .payload(json("{'input':{'a':{}},'ops':[{'op':'set','path':'/x','value':1},{'op':'set','path':'/y','value':2}," +
                "{'op':'copy','from':'/a/b','path':'/c'}]}")));
        final Outcome lenient = submit("l", "transform", "{'input':{'a':{}},'ops':[{'op':'copy','from':'/a/b','path':'/c','required':false}]}");

        assertThat(inject.state()).isEqualTo(FAILED);
        assertThat(inject.attempts()).isEqualTo(1);
        assertThat(inject.error()).isEqualTo("invalid input: refs[\"/to\"]: source \"/user/name\" matches nothing in the input");
        assertThat(transform.state()).isEqualTo(DEAD_LETTERED);
        assertThat(transform.attempts()).isEqualTo(1);
        assertThat(transform.error()).isEqualTo("invalid input: ops[2].from: \"/a/b\" matches nothing in the document");
        assertThat(lenient.state()).isEqualTo(SUCCEEDED);
        assertThat(lenient.outputAsString()).isEqualTo(json("{'a':{}}"));
    }

    @Test
    void shouldDeadLetterASetThatCannotPutItsValue() throws Exception
    {
        open(b -> { });
        final Outcome outcome = submit(new TaskRequest().key("s").type("set").maxAttempts(4)
            .payload(json("{'input':{'a':'text'},'values':{'/ok':1,'/a/b':2}}")));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(1);
        assertThat(outcome.error())
            .isEqualTo("invalid input: values[\"/a/b\"]: cannot set \"/a/b\": \"/a\" is a string, not an object or array");
    }

    /**
     * A message quoting a task's own text put the text first and the reason after it, so a long name lost the reason
     * to the 1,024 bytes an error keeps, and a name with control characters carried them raw into logs and terminals (an
     * outside check): a long quoted text is cut, saying its length, and a name that is not plain is quoted, escaped.
     */
    @Test
    void shouldKeepTheReasonOfAMessageQuotingALongOrControlCharacterName() throws Exception
    {
        open(b -> { });
        final String longName = "k".repeat(5_000);
        final Outcome unknown = submit("long-name", "set", "{\"values\":{},\"" + longName + "\":1}");
        assertThat(unknown.error()).isEqualTo("invalid input: \"" + "k".repeat(100) + "\u2026\" (5000 characters): unknown field of a set payload (input, values)");

        final Outcome control = submit("control-name", "set", "{\"values\":{},\"a\\u0000\\n\\u001b[31m\":1}");
        assertThat(control.error()).isEqualTo("invalid input: \"a\\u0000\\n\\u001B[31m\": unknown field of a set payload (input, values)");

        final Outcome op = submit("long-op", "transform", "{\"input\":{},\"ops\":[{\"op\":\"" + "x".repeat(3_000) + "\"}]}");
        assertThat(op.error()).startsWith("invalid input: ops[0].op: unknown operation \"" + "x".repeat(100) + "\u2026\" (3000 characters) (");
        assertThat(op.error().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThan(1024);

        // texts that grow when escaped, two in one message, and C1 controls (a second outside check)
        final String esc = "\\u001b".repeat(200);
        final Outcome refs = submit("escapes", "inject", "{\"input\":{},\"refs\":{\"/" + esc + "\":\"/" + esc + "\"}}");
        assertThat(refs.error()).endsWith("matches nothing in the input").doesNotContain("\u001b");
        assertThat(refs.error().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThan(1024);
        final Outcome c1 = submit("c1-name", "set", "{\"values\":{},\"x\\u0085y\\u2028\":1}");
        assertThat(c1.error()).isEqualTo("invalid input: \"x\\u0085y\\u2028\": unknown field of a set payload (input, values)");
        final Outcome parser = submit("raw-token", "set", "{\"values\": tru\u0001e}");
        assertThat(parser.error()).contains("tru\\u0001e").doesNotContain("\u0001");
    }

    @Test
    void shouldFailATaskWhoseOutputIsOverTheMaximumAndServeTheNext() throws Exception
    {
        open(b -> b.maxOutputBytes(64));
        final String text = "x".repeat(40);
        final Outcome oversized = submit(new TaskRequest().key("big").type("transform").maxAttempts(3)
            .payload(json("{'input':{'t':'" + text + "'},'ops':[{'op':'copy','from':'/t','path':'/u'}]}")));
        final Outcome next = submit("small", "set", "{'values':{'/ok':true}}");

        assertThat(oversized.state()).isEqualTo(DEAD_LETTERED);
        assertThat(oversized.attempts()).isEqualTo(1);
        assertThat(oversized.error()).isEqualTo("output of more than 64 bytes exceeds maxOutputBytes=64");
        assertThat(next.state()).isEqualTo(SUCCEEDED);
        assertThat(next.outputAsString()).isEqualTo(json("{'ok':true}"));
        assertThat(engine.stageFailures()).isZero();
    }

    /**
     * An inject whose template receives one 20 KB value 2,000 times (40 MB of output, from a payload of 80 KB) fails
     * at the engine's maximum output without writing the rest, and the engine serves the next task.
     */
    @Test
    void shouldStopWritingAnOutputThatAPayloadMultipliesAtTheMaximum() throws Exception
    {
        open(b -> b.maxOutputBytes(1 << 20));
        final StringBuilder refs = new StringBuilder();
        for (int i = 0; i < 2_000; i++)
        {
            refs.append(i == 0 ? "" : ",").append("'/t").append(i).append("':'/big'");
        }
        final Outcome multiplied = submit(new TaskRequest().key("multiplied").type("inject").maxAttempts(3)
            .payload(json("{'input':{'big':'" + "y".repeat(20_000) + "'},'refs':{" + refs + "}}")));
        final Outcome next = submit("after", "set", "{'values':{'/ok':true}}");

        assertThat(multiplied.state()).isEqualTo(DEAD_LETTERED);
        assertThat(multiplied.attempts()).isEqualTo(1);
        assertThat(multiplied.error()).isEqualTo("output of more than 1048576 bytes exceeds maxOutputBytes=1048576");
        assertThat(next.state()).isEqualTo(SUCCEEDED);
        assertThat(engine.stageFailures()).isZero();
    }

    @Test
    void shouldTakeTheBudgetOfCopiedValuesFromTheEngineSettings() throws Exception
    {
        open(b -> b.handlerSetting("transform.max-copied-values", "2"));
        final Outcome within = submit("w", "transform", "{'input':{'a':[1]},'ops':[{'op':'copy','from':'/a','path':'/b'}]}");
        final Outcome over = submit("o", "transform", "{'input':{'a':[1,2]},'ops':[{'op':'copy','from':'/a','path':'/b'}]}");
        final Outcome inject = submit("i", "inject", "{'input':{'a':[1,2]},'refs':{'/b':'/a'}}");

        assertThat(within.state()).isEqualTo(SUCCEEDED);
        assertThat(over.state()).isEqualTo(DEAD_LETTERED);
        assertThat(over.error()).isEqualTo("invalid input: ops[0].from: copies more than 2 values in all (max-copied-values)");
        assertThat(inject.state()).as("inject has its own setting").isEqualTo(SUCCEEDED);
    }

    @Test
    void shouldRefuseToStartWithAMalformedSetting()
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).handlerSetting("inject.max-copied-values", "-1");
        JsonTaskHandlers.all().forEach(builder::handler);

        assertThatIllegalArgumentException().isThrownBy(builder::build)
            .withMessage("task type inject: inject.max-copied-values=-1 must be a positive integer");
    }
}
