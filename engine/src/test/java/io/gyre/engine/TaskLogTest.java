package io.gyre.engine;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.gyre.engine.testing.EngineTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Task-level log lines carry the task's id, key, type, attempt and state as SLF4J key-value pairs (the JSON log
 * format's top-level fields), whichever thread logs them and whichever path the attempt took; and a workload of
 * tasks that succeed and fail, retry and end dead-lettered, logs nothing at INFO or above (only DEBUG, which carries
 * the fields too).
 */
class TaskLogTest extends EngineTestSupport
{
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private final Logger root = (Logger)LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger engineLogger = (Logger)LoggerFactory.getLogger("io.gyre.engine");

    @BeforeEach
    void capture()
    {
        captured.start();
        root.addAppender(captured);
    }

    @AfterEach
    void release()
    {
        root.detachAppender(captured);
        captured.stop();
        engineLogger.setLevel(null);
    }

    /**
     * A handler that throws something other than {@link TaskFailure} has a bug: WARN, with its stack trace, once per
     * attempt; in every execution mode (inline on a stage thread, blocking and CPU on a pool thread, async on the
     * execute stage), on the first attempt (the submission's own event, or the journal thread's fast path) and on
     * the retry (whose payload, and key, are read back from the journal), in every pipeline layout.
     */
    @ParameterizedTest(name = "pipeline threads {0}")
    @ValueSource(ints = {1, 2, 4})
    void shouldNameTheTaskOnEveryWarningAboutAHandlerThatThrew(final int pipelineThreads) throws Exception
    {
        final List<String> types = List.of("throws-inline", "throws-blocking", "throws-cpu", "throws-async");
        open(b -> b.pipelineThreads(pipelineThreads)
            .handler(new Throwing("throws-inline", ExecutionMode.INLINE))
            .handler(new Throwing("throws-blocking", ExecutionMode.BLOCKING))
            .handler(new Throwing("throws-cpu", ExecutionMode.CPU))
            .handler(new Throwing("throws-async", ExecutionMode.ASYNC)));

        final Map<String, Outcome> outcomes = new LinkedHashMap<>();
        for (final String type : types)
        {
            final String key = "order-" + type;
            outcomes.put(type, get(engine.submit(new TaskRequest().key(key).type(type).payload("p")
                .maxAttempts(2).backoff(1, 1, 1f, 0f).deadLetter(false))));
        }

        final List<ILoggingEvent> warnings = events(e -> e.getLevel() == Level.WARN && e.getLoggerName().equals(AttemptContext.class.getName()));
        assertThat(warnings).hasSize(2 * types.size());
        for (final String type : types)
        {
            final Outcome outcome = outcomes.get(type);
            assertThat(outcome.state()).isEqualTo(TaskState.FAILED);
            assertThat(outcome.attempts()).isEqualTo(2);
            final List<ILoggingEvent> lines = warnings.stream().filter(e -> type.equals(fields(e).get(TaskLog.TYPE))).toList();
            assertThat(lines).as("warnings about %s", type).hasSize(2);
            for (int attempt = 1; attempt <= 2; attempt++)
            {
                final ILoggingEvent line = lines.get(attempt - 1);
                assertThat(fields(line)).as("fields of %s attempt %d", type, attempt).containsExactlyInAnyOrderEntriesOf(Map.of(
                    TaskLog.TASK_ID, outcome.taskId(),
                    TaskLog.KEY, "order-" + type,
                    TaskLog.TYPE, type,
                    TaskLog.ATTEMPT, attempt,
                    TaskLog.STATE, "RUNNING"));
                assertThat(line.getFormattedMessage()).contains("the handler threw java.lang.IllegalStateException");
                assertThat(line.getThrowableProxy().getMessage()).isEqualTo("bug in " + type);
            }
        }
    }

    /**
     * A stop action that throws is a handler bug: WARN with the task's fields, and the state the stop left the task
     * in (CANCELLED for a cancel, TIMED_OUT for a last attempt past its timeout). The handler's own throw once told
     * to stop (an interrupt) is how stopping looks: DEBUG, not WARN.
     */
    @Test
    void shouldNameTheTaskAndItsStateAfterTheStopWhenAStopActionThrows() throws Exception
    {
        engineLogger.setLevel(Level.DEBUG);
        final StuckWithBadStopAction async = new StuckWithBadStopAction("stuck-async", ExecutionMode.ASYNC);
        final StuckWithBadStopAction blocking = new StuckWithBadStopAction("stuck-blocking", ExecutionMode.BLOCKING);
        open(b -> b.handler(async).handler(blocking));

        final CompletableFuture<Outcome> cancelled = engine.submit(new TaskRequest().key("cancel-me").type("stuck-async").payload("x"));
        assertThat(async.started.await(15, TimeUnit.SECONDS)).isTrue();
        assertThat(engine.cancel("cancel-me").get(15, TimeUnit.SECONDS).state()).isEqualTo(TaskState.CANCELLED);
        final Outcome cancelledOutcome = get(cancelled);

        final Outcome timedOut = get(engine.submit(new TaskRequest().key("time-me-out").type("stuck-blocking").payload("x")
            .timeoutMillis(100).maxAttempts(1).deadLetter(false)));
        assertThat(timedOut.state()).isEqualTo(TaskState.TIMED_OUT);

        await().atMost(Duration.ofSeconds(15)).until(() -> stopActionWarnings().size() == 2 && blocking.interrupted.getCount() == 0);
        final Map<String, Map<String, Object>> byKey = new HashMap<>();
        for (final ILoggingEvent line : stopActionWarnings())
        {
            assertThat(line.getThrowableProxy().getMessage()).isEqualTo("stop action of the task failed");
            byKey.put((String)fields(line).get(TaskLog.KEY), fields(line));
        }
        assertThat(byKey.get("cancel-me")).containsExactlyInAnyOrderEntriesOf(Map.of(
            TaskLog.TASK_ID, cancelledOutcome.taskId(), TaskLog.KEY, "cancel-me", TaskLog.TYPE, "stuck-async",
            TaskLog.ATTEMPT, 1, TaskLog.STATE, "CANCELLED"));
        assertThat(byKey.get("time-me-out")).containsExactlyInAnyOrderEntriesOf(Map.of(
            TaskLog.TASK_ID, timedOut.taskId(), TaskLog.KEY, "time-me-out", TaskLog.TYPE, "stuck-blocking",
            TaskLog.ATTEMPT, 1, TaskLog.STATE, "TIMED_OUT"));

        // the blocking handler, interrupted, threw: a stop, not a bug
        await().atMost(Duration.ofSeconds(15)).until(() -> !handlerThrew(Level.DEBUG).isEmpty());
        assertThat(handlerThrew(Level.WARN)).isEmpty();
        assertThat(fields(handlerThrew(Level.DEBUG).get(0))).containsExactlyInAnyOrderEntriesOf(Map.of(
            TaskLog.TASK_ID, timedOut.taskId(), TaskLog.KEY, "time-me-out", TaskLog.TYPE, "stuck-blocking",
            TaskLog.ATTEMPT, 1, TaskLog.STATE, "TIMED_OUT"));
    }

    /**
     * A listener that throws on its outcome is a bug in the listener: WARN, with the fields of the task it was told
     * about (the key and type from the submission the outcome leaves with, on the default layout).
     */
    @Test
    void shouldNameTheTaskWhenAListenerThrowsOnItsOutcome() throws Exception
    {
        open(b ->
        {
        });
        final CountDownLatch told = new CountDownLatch(1);
        final long[] taskId = new long[1];
        engine.submit(new TaskRequest().key("listen-42").type("echo").payload("x"), new OutcomeListener()
        {
            @Override
            public void onOutcome(final TaskOutcome outcome)
            {
                taskId[0] = outcome.taskId();
                told.countDown();
                throw new IllegalStateException("listener bug");
            }
        });
        assertThat(told.await(15, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(15)).until(() ->
            !events(e -> e.getLoggerName().equals(PublishStage.class.getName()) && e.getLevel() == Level.WARN).isEmpty());
        final ILoggingEvent line = events(e -> e.getLoggerName().equals(PublishStage.class.getName())).get(0);
        assertThat(line.getThrowableProxy().getMessage()).isEqualTo("listener bug");
        assertThat(fields(line)).containsExactlyInAnyOrderEntriesOf(Map.of(
            TaskLog.TASK_ID, taskId[0], TaskLog.KEY, "listen-42", TaskLog.TYPE, "echo", TaskLog.ATTEMPT, 1, TaskLog.STATE, "SUCCEEDED"));
    }

    /**
     * The normal path: tasks that succeed (inline, blocking, async), fail on purpose (retryably, then for good, into the
     * dead-letter list; or permanently at once), in every way a handler can fail one, log nothing at INFO or above.
     * Their failures are DEBUG lines, and those carry the fields too.
     */
    @Test
    void shouldLogNothingAtInfoOrAboveForTasksThatSucceedOrFail() throws Exception
    {
        engineLogger.setLevel(Level.DEBUG);
        open(b -> b.handler(new Failing("fails-by-throwing", true)).handler(new Failing("fails-by-reporting", false))
            .handler(new Async("async-echo")).handler(new BlockingEcho("blocking-echo")));
        synchronized (captured)
        {
            // the engine's own start is INFO (once per engine, not per task): the workload is what is looked at
            captured.list.clear();
        }
        final int perType = 20;
        final List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        final Map<String, String> typeByKey = new HashMap<>();
        for (int i = 0; i < perType; i++)
        {
            for (final String type : List.of("echo", "noop", "async-echo", "blocking-echo", "fails-by-throwing", "fails-by-reporting"))
            {
                final String key = type + "-" + i;
                typeByKey.put(key, type);
                futures.add(engine.submit(new TaskRequest().key(key).type(type).payload(i % 2 == 0 ? "retry" : "permanent")
                    .maxAttempts(2).backoff(1, 1, 1f, 0f)));
            }
        }
        final Map<Long, String> keyByTaskId = new HashMap<>();
        int failed = 0;
        for (final CompletableFuture<Outcome> future : futures)
        {
            final Outcome outcome = get(future);
            assertThat(outcome.rejected()).isFalse();
            failed += outcome.state() == TaskState.SUCCEEDED ? 0 : 1;
        }
        assertThat(failed).isEqualTo(2 * perType);
        for (final String key : typeByKey.keySet())
        {
            keyByTaskId.put(engine.status(key).get(15, TimeUnit.SECONDS).taskId(), key);
        }

        assertThat(events(e -> e.getLevel().isGreaterOrEqual(Level.INFO))).as("lines at INFO or above").isEmpty();
        final List<ILoggingEvent> failures = events(e -> e.getFormattedMessage().startsWith("the handler failed the attempt"));
        // per failing type: the even payloads retry once (two attempts), the odd ones fail permanently (one); a line
        // for each failed attempt, whether the TaskFailure was thrown or the failure reported through the context
        assertThat(failures).hasSize(2 * (perType / 2 * 2 + perType / 2));
        for (final ILoggingEvent line : failures)
        {
            assertThat(line.getLevel()).isEqualTo(Level.DEBUG);
            final Map<String, Object> fields = fields(line);
            final String key = keyByTaskId.get((Long)fields.get(TaskLog.TASK_ID));
            assertThat(key).startsWith((String)fields.get(TaskLog.TYPE) + "-");
            assertThat(fields).containsEntry(TaskLog.KEY, key).containsEntry(TaskLog.STATE, "RUNNING").containsKey(TaskLog.ATTEMPT);
            assertThat((String)fields.get(TaskLog.TYPE)).isIn("fails-by-throwing", "fails-by-reporting");
        }
    }

    /**
     * The rule (README, Logs): every attempt that fails gets exactly one DEBUG line, {@code the handler failed the
     * attempt: <its error>} with the task's fields, in every execution mode and however it failed: a thrown
     * {@link TaskFailure}, a failure reported through the context (an http 503 or refused connection is one), an input
     * {@code validate} refused, an output over {@code maxOutputBytes} (given to {@code succeed} or asked of
     * {@code outputBuffer}). One line, not two: a bug in {@code validate} is that line with its stack trace.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"INLINE", "BLOCKING", "CPU", "ASYNC"})
    void shouldLogEveryFailedAttemptOnceWhateverItsModeAndCause(final String modeName) throws Exception
    {
        final ExecutionMode mode = ExecutionMode.valueOf(modeName);
        engineLogger.setLevel(Level.DEBUG);
        open(b -> b.maxOutputBytes(1024).handler(new FailingEveryWay("every-way", mode)));
        final Map<String, String> errorByCause = new LinkedHashMap<>();
        errorByCause.put("throw", "thrown");
        errorByCause.put("report", "reported");
        errorByCause.put("validate", "invalid input: payload: refused");
        errorByCause.put("validate-bug", "invalid input: a bug in validate");
        errorByCause.put("succeed-too-big", "output of 2048 bytes exceeds maxOutputBytes=1024");
        errorByCause.put("buffer-too-big", "outputBuffer(4096) asks for more than maxOutputBytes=1024 bytes of output");
        final Map<String, Long> taskIdByCause = new LinkedHashMap<>();
        for (final String cause : errorByCause.keySet())
        {
            final Outcome outcome = get(engine.submit(new TaskRequest().key(mode + "-" + cause).type("every-way").payload(cause)
                .maxAttempts(1).deadLetter(false)));
            assertThat(outcome.state()).as(cause).isEqualTo(TaskState.FAILED);
            assertThat(outcome.error()).as(cause).isEqualTo(errorByCause.get(cause));
            taskIdByCause.put(cause, outcome.taskId());
        }

        final List<ILoggingEvent> failures = events(e -> e.getLoggerName().equals(AttemptContext.class.getName()) &&
            e.getLevel() == Level.DEBUG);
        assertThat(failures).as("one line per failed attempt").hasSize(errorByCause.size());
        for (final Map.Entry<String, String> cause : errorByCause.entrySet())
        {
            final long taskId = taskIdByCause.get(cause.getKey());
            final List<ILoggingEvent> lines = failures.stream().filter(e -> Long.valueOf(taskId).equals(fields(e).get(TaskLog.TASK_ID))).toList();
            assertThat(lines).as("lines about %s", cause.getKey()).hasSize(1);
            assertThat(lines.get(0).getFormattedMessage()).isEqualTo("the handler failed the attempt: " + cause.getValue());
            assertThat(fields(lines.get(0))).containsExactlyInAnyOrderEntriesOf(Map.of(
                TaskLog.TASK_ID, taskId, TaskLog.KEY, mode + "-" + cause.getKey(), TaskLog.TYPE, "every-way",
                TaskLog.ATTEMPT, 1, TaskLog.STATE, "RUNNING"));
            assertThat(lines.get(0).getThrowableProxy() != null).as("a stack trace for %s", cause.getKey())
                .isEqualTo(cause.getKey().equals("validate-bug"));
        }
        assertThat(events(e -> e.getLevel().isGreaterOrEqual(Level.INFO) && !e.getFormattedMessage().startsWith("engine ")))
            .as("nothing at INFO or above for failures on purpose").isEmpty();
    }

    /**
     * A line whose level is off costs a type check: nothing is added to it, and the journal is not read for the key
     * (no key reader here at all: reading one would throw).
     */
    @Test
    void shouldWorkOutNoFieldForALineWhoseLevelIsOff()
    {
        final org.slf4j.spi.LoggingEventBuilder off = ((org.slf4j.Logger)engineLogger).atTrace();
        assertThat(off).isSameAs(org.slf4j.spi.NOPLoggingEventBuilder.singleton());
        assertThat(TaskLog.attempt(off, null, 0, 0, 42, "echo", 1, TaskState.RUNNING)).isSameAs(off);
        assertThat(TaskLog.task(off, 42, "k", "echo", 1, TaskState.RUNNING)).isSameAs(off);
    }

    private List<ILoggingEvent> stopActionWarnings()
    {
        return events(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().startsWith("a stop action"));
    }

    private List<ILoggingEvent> handlerThrew(final Level level)
    {
        return events(e -> e.getLevel() == level && e.getFormattedMessage().startsWith("the handler threw"));
    }

    /** What was logged so far that matches (the appender appends under its own lock: copy under it). */
    private List<ILoggingEvent> events(final java.util.function.Predicate<ILoggingEvent> filter)
    {
        final List<ILoggingEvent> all;
        synchronized (captured)
        {
            all = new ArrayList<>(captured.list);
        }
        return all.stream().filter(filter).toList();
    }

    private static Map<String, Object> fields(final ILoggingEvent event)
    {
        final Map<String, Object> fields = new LinkedHashMap<>();
        if (event.getKeyValuePairs() != null)
        {
            for (final KeyValuePair pair : event.getKeyValuePairs())
            {
                fields.put(pair.key, pair.value);
            }
        }
        return fields;
    }

    /** Throws an IllegalStateException from execute: a bug, not a {@link TaskFailure}. */
    private record Throwing(String type, ExecutionMode executionMode) implements TaskHandler
    {
        @Override
        public void execute(final TaskContext context)
        {
            throw new IllegalStateException("bug in " + type);
        }
    }

    /** Never reports; registers a stop action that throws; a blocking one waits to be interrupted, then throws. */
    private static final class StuckWithBadStopAction extends TestHandlers.Typed
    {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch interrupted = new CountDownLatch(1);

        StuckWithBadStopAction(final String type, final ExecutionMode mode)
        {
            super(type, mode);
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            context.onStop(() ->
            {
                throw new IllegalStateException("stop action of the task failed");
            });
            started.countDown();
            if (executionMode() == ExecutionMode.BLOCKING)
            {
                try
                {
                    new CountDownLatch(1).await(30, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    interrupted.countDown();
                    throw ex;
                }
            }
        }
    }

    /**
     * Fails every attempt on purpose: payload "retry" retryably, anything else permanently; by throwing
     * {@link TaskFailure} or by reporting through the context.
     */
    private record Failing(String type, boolean throwing) implements TaskHandler
    {
        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            final boolean retry = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()).equals("retry");
            if (throwing)
            {
                throw retry ? TaskFailure.retryable("not yet") : TaskFailure.permanent("never");
            }
            context.fail(retry, retry ? "not yet" : "never");
        }
    }

    /**
     * Fails each attempt the way its payload names, in its mode (an ASYNC one reports from another thread): throws a
     * TaskFailure, reports one, refuses its input in validate (on purpose, or with a bug), gives succeed an output
     * over the limit, asks outputBuffer for one.
     */
    private record FailingEveryWay(String type, ExecutionMode executionMode) implements TaskHandler
    {
        @Override
        public void validate(final TaskContext context) throws TaskFailure
        {
            switch (cause(context))
            {
                case "validate" -> throw TaskFailure.permanent("payload: refused");
                case "validate-bug" -> throw new IllegalArgumentException("a bug in validate");
                default ->
                {
                }
            }
        }

        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            final String cause = cause(context);
            if (cause.equals("throw"))
            {
                throw TaskFailure.permanent("thrown");
            }
            if (cause.equals("buffer-too-big"))
            {
                context.outputBuffer(4096);
                return;
            }
            final Runnable report = () ->
            {
                if (cause.equals("report"))
                {
                    context.fail(false, "reported");
                }
                else
                {
                    context.succeed(new byte[2048]);
                }
            };
            if (executionMode == ExecutionMode.ASYNC)
            {
                CompletableFuture.runAsync(report);
            }
            else
            {
                report.run();
            }
        }

        private static String cause(final TaskContext context)
        {
            return context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
        }
    }

    /** BLOCKING: succeeds with its payload, on a pool thread. */
    private record BlockingEcho(String type) implements TaskHandler
    {
        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.succeed(context.payload(), 0, context.payloadLength());
        }
    }

    /** ASYNC: succeeds with its payload from another thread. */
    private record Async(String type) implements TaskHandler
    {
        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.ASYNC;
        }

        @Override
        public void execute(final TaskContext context)
        {
            final byte[] copy = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()).getBytes(StandardCharsets.UTF_8);
            CompletableFuture.runAsync(() -> context.succeed(copy));
        }
    }
}
