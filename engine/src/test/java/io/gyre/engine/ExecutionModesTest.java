package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.gyre.engine.TaskState.CANCELLED;
import static io.gyre.engine.TaskState.DEAD_LETTERED;
import static io.gyre.engine.TaskState.FAILED;
import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RETRY_WAIT;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.TaskState.TIMED_OUT;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * ASYNC and CPU execution, per-type concurrency limits, and input validation.
 */
class ExecutionModesTest extends EngineTestSupport
{
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stopTimer()
    {
        timer.shutdownNow();
    }



    /**
     * ASYNC: copies its payload in execute, then reports from a timer thread after {@code delayMillis}:
     * "fail" fails retryably once per attempt number below 2, "never" never reports, anything else
     * succeeds with the payload upper-cased. Counts stop actions.
     */
    private final class Later implements TaskHandler
    {
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostRunning = new AtomicInteger();
        final AtomicInteger stops = new AtomicInteger();
        final ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
        private final long delayMillis;
        private final int limit;

        Later(final long delayMillis, final int limit)
        {
            this.delayMillis = delayMillis;
            this.limit = limit;
        }

        @Override
        public String type()
        {
            return "later";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.ASYNC;
        }

        @Override
        public int maxConcurrency()
        {
            return limit;
        }

        @Override
        public void execute(final TaskContext context)
        {
            started.incrementAndGet();
            mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            final String input = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            final int attempt = context.attempt();
            if (input.equals("now"))
            {
                running.decrementAndGet();
                context.succeed("NOW".getBytes(StandardCharsets.UTF_8));
                return;
            }
            final var pending = timer.schedule(() ->
            {
                threads.add(Thread.currentThread().getName());
                running.decrementAndGet();
                if (input.equals("fail") && attempt < 2)
                {
                    context.fail(true, "not yet");
                }
                else
                {
                    context.succeed(input.toUpperCase().getBytes(StandardCharsets.UTF_8));
                }
            }, input.equals("never") ? 1_000_000 : delayMillis, TimeUnit.MILLISECONDS);
            context.onStop(() ->
            {
                stops.incrementAndGet();
                if (pending.cancel(false))
                {
                    running.decrementAndGet();
                }
            });
        }
    }

    @Test
    void shouldRunAsyncAttemptsWithoutAThreadEachAndJournalTheirResults() throws Exception
    {
        final Later later = new Later(200, 0);
        open(b -> b.handler(later));
        final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
        for (int i = 0; i < 500; i++)
        {
            outcomes.add(engine.submit(new TaskRequest().key("k" + i).type("later").payload("p" + i)));
        }
        for (int i = 0; i < 500; i++)
        {
            final Outcome o = get(outcomes.get(i));
            assertThat(o.state()).isEqualTo(SUCCEEDED);
            assertThat(o.outputAsString()).isEqualTo("P" + i);
        }
        // 500 attempts of 200 ms each were in flight together on a 2-thread timer: nothing waited on a thread
        assertThat(later.mostRunning.get()).isGreaterThan(100);
        assertThat(later.threads).allSatisfy(t -> assertThat(t).startsWith("pool-"));
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.SUCCEEDED, 500L).containsEntry(RecordType.STARTED, 500L);
    }

    @Test
    void shouldPublishAResultReportedBeforeExecuteReturns() throws Exception
    {
        open(b -> b.handler(new Later(10, 0)));
        final Outcome o = get(engine.submit(new TaskRequest().key("sync").type("later").payload("now")));
        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.outputAsString()).isEqualTo("NOW");
        assertThat(closeAndReplay()).task(o.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldRetryAFailedAsyncAttempt() throws Exception
    {
        open(b -> b.handler(new Later(10, 0)));
        final Outcome o = get(engine.submit(new TaskRequest().key("f").type("later").payload("fail").backoff(10, 10, 1f, 0f)));
        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.attempts()).isEqualTo(2);
        assertThat(closeAndReplay()).task(o.taskId()).hasStates(PENDING, RUNNING, RETRY_WAIT, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldTimeOutAnAsyncAttemptAndRunItsStopActions() throws Exception
    {
        final Later later = new Later(10, 0);
        open(b -> b.handler(later));
        final Outcome o = get(engine.submit(new TaskRequest().key("t").type("later").payload("never").timeoutMillis(100).maxAttempts(1)
            .deadLetter(false)));
        assertThat(o.state()).isEqualTo(TIMED_OUT);
        await().until(() -> later.stops.get() == 1);   // stop actions run on a thread of their own
        await().until(() -> later.running.get() == 0);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(o.taskId()).hasStates(PENDING, RUNNING, TIMED_OUT).replaysDeterministically();
        // the engine ended the silent attempt itself: its late "result" is journaled and changed nothing
        assertThat(history.report().recordsByType()).containsEntry(RecordType.FAILED, 1L);
    }

    @Test
    void shouldCancelARunningAsyncAttempt() throws Exception
    {
        final Later later = new Later(10, 0);
        open(b -> b.handler(later));
        final CompletableFuture<Outcome> outcome = engine.submit(new TaskRequest().key("c").type("later").payload("never"));
        await().until(() -> later.started.get() == 1);
        assertThat(engine.cancel("c").get(5, TimeUnit.SECONDS).state()).isEqualTo(CANCELLED);
        assertThat(get(outcome).state()).isEqualTo(CANCELLED);
        await().until(() -> later.stops.get() == 1);   // stop actions run on a thread of their own
        await().until(() -> later.running.get() == 0);
        assertThat(closeAndReplay()).task(get(outcome).taskId()).hasStates(PENDING, RUNNING, CANCELLED).replaysDeterministically();
    }

    @Test
    void shouldHoldATypeToItsConcurrencyLimitAndQueueTheRest() throws Exception
    {
        final Later later = new Later(50, 3);
        open(b -> b.handler(later));
        final Recorder recorder = new Recorder();
        for (int i = 0; i < 30; i++)
        {
            engine.submit(new TaskRequest().key("k" + i).type("later").payload("x"), recorder);
        }
        assertThat(recorder.awaitOutcomes(30)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(later.mostRunning.get()).isEqualTo(3);
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
    }

    @Test
    void shouldHoldAllAsyncAttemptsToTheEngineLimit() throws Exception
    {
        final Later later = new Later(50, 0);
        open(b -> b.handler(later).maxAsyncInFlight(4));
        final Recorder recorder = new Recorder();
        for (int i = 0; i < 20; i++)
        {
            engine.submit(new TaskRequest().key("k" + i).type("later").payload("x"), recorder);
        }
        assertThat(recorder.awaitOutcomes(20)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(later.mostRunning.get()).isEqualTo(4);
    }

    @Test
    void shouldReplayTheTypeLimitsTheJournalWasWrittenWith() throws Exception
    {
        final Later limited = new Later(20, 2);
        open(b -> b.handler(limited));
        final Recorder recorder = new Recorder();
        for (int i = 0; i < 10; i++)
        {
            engine.submit(new TaskRequest().key("k" + i).type("later").payload("x"), recorder);
        }
        recorder.awaitOutcomes(10);
        engine.close();
        // reopened with the limit lifted: the old journal still replays as it was decided, with no mismatch
        final Later unlimited = new Later(20, 0);
        engine = Engine.open(EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).handler(unlimited).build());
        assertThat(get(engine.submit(new TaskRequest().key("k0").type("later"))).duplicate()).isTrue();
        assertThat(closeAndReplay()).replaysDeterministically();
    }

    /** CPU: runs on the CPU pool's threads. */
    private static final class Crunch implements TaskHandler
    {
        final ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();

        @Override
        public String type()
        {
            return "crunch";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.CPU;
        }

        @Override
        public void execute(final TaskContext context)
        {
            threads.add(Thread.currentThread().getName());
            long x = context.payloadLength();
            for (int i = 0; i < 100_000; i++)
            {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
            context.succeed(Long.toString(x & 0xFF).getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * INLINE for a payload up to 4 bytes, CPU for a longer one; records each attempt's payload and thread, and fails a
     * payload starting with "retry" once.
     */
    private static final class BySize implements TaskHandler
    {
        final java.util.Map<String, List<String>> threads = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public String type()
        {
            return "by-size";
        }

        @Override
        public ExecutionMode executionMode(final int payloadLength)
        {
            return payloadLength <= 4 ? ExecutionMode.INLINE : ExecutionMode.CPU;
        }

        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            final String input = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            threads.computeIfAbsent(input, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(Thread.currentThread().getName());
            if (input.startsWith("retry") && context.attempt() == 1)
            {
                throw TaskFailure.retryable("once more");
            }
            context.succeed(input.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * A type may run a task inline or on a pool by its payload's size ({@link TaskHandler#executionMode(int)}): the
     * JSON types, microseconds for a small payload, were run inline whatever the payload, and a large one held the
     * ring for tens of milliseconds (an outside check found one client's work delaying another's by seconds). The
     * mode is journaled with the submission, so a retry and a replay keep it.
     */
    @Test
    void shouldRunATaskWhereItsTypeSaysForItsPayloadSize() throws Exception
    {
        final BySize bySize = new BySize();
        open(b -> b.handler(bySize).cpuPoolThreads(1));
        final Recorder recorder = new Recorder();
        engine.submit(new TaskRequest().key("small").type("by-size").payload("ab"), recorder);
        engine.submit(new TaskRequest().key("large").type("by-size").payload("abcdefgh"), recorder);
        engine.submit(new TaskRequest().key("retry").type("by-size").payload("retry-large").maxAttempts(2)
            .backoff(1, 1, 1f, 0f), recorder);
        assertThat(recorder.awaitOutcomes(3)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));

        assertThat(bySize.threads.get("ab")).singleElement().satisfies(t -> assertThat(t).doesNotStartWith("gyre-cpu-"));
        assertThat(bySize.threads.get("abcdefgh")).singleElement().satisfies(t -> assertThat(t).startsWith("gyre-cpu-"));
        assertThat(bySize.threads.get("retry-large")).hasSize(2).allSatisfy(t -> assertThat(t).startsWith("gyre-cpu-"));
        assertThat(closeAndReplay()).replaysDeterministically();
    }

    /**
     * CPU for a payload that starts with "heavy", INLINE for any other, whatever its length; records each attempt's
     * payload and thread, and the payloads its mode was asked for.
     */
    private static final class ByContent implements TaskHandler
    {
        final java.util.Map<String, String> threads = new java.util.concurrent.ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<String> asked = new ConcurrentLinkedQueue<>();

        @Override
        public String type()
        {
            return "by-content";
        }

        @Override
        public ExecutionMode executionMode(final int payloadLength)
        {
            throw new AssertionError("the engine asks with the payload's bytes");
        }

        @Override
        public ExecutionMode executionMode(final org.agrona.DirectBuffer payload, final int offset, final int length)
        {
            final String text = payload.getStringWithoutLengthUtf8(offset, length);
            asked.add(text);
            return text.startsWith("heavy") ? ExecutionMode.CPU : ExecutionMode.INLINE;
        }

        @Override
        public void execute(final TaskContext context)
        {
            threads.put(context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()), Thread.currentThread().getName());
        }
    }

    /**
     * A type may decide a task's mode from what its payload says, not only its size
     * ({@link TaskHandler#executionMode(org.agrona.DirectBuffer, int, int)}): a small JSON {@code transform} that
     * copied a document into itself again and again ran inline for milliseconds, since the length alone said it was
     * small (an outside check found one client's pipelined tasks delaying every other client's by a second). The
     * engine asks once per submission, with the bytes, and journals the answer.
     */
    @Test
    void shouldRunATaskWhereItsTypeSaysForItsPayloadsBytes() throws Exception
    {
        final ByContent byContent = new ByContent();
        open(b -> b.handler(byContent).cpuPoolThreads(1));
        final Recorder recorder = new Recorder();
        engine.submit(new TaskRequest().key("light").type("by-content").payload("light, and longer than the heavy one"), recorder);
        engine.submit(new TaskRequest().key("heavy").type("by-content").payload("heavy"), recorder);
        assertThat(recorder.awaitOutcomes(2)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));

        assertThat(byContent.asked).containsExactly("light, and longer than the heavy one", "heavy");
        assertThat(byContent.threads.get("light, and longer than the heavy one")).doesNotStartWith("gyre-cpu-");
        assertThat(byContent.threads.get("heavy")).startsWith("gyre-cpu-");
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).as("a STARTED record for the handed-off attempt only")
            .containsEntry(RecordType.STARTED, 1L);
    }

    /**
     * An ASYNC handler that reports from an outcome listener of a task it submitted: the listener runs on the engine's
     * execute-and-publish thread, where reports wait to be published through the stage's own claim path; they must be
     * published then, not when the next event happens to come (an idle engine timed the attempt out, three times, and
     * dead-lettered a task whose report had come within a millisecond: an outside check).
     */
    @Test
    void shouldPublishAnAsyncReportMadeFromAnOutcomeListenerOfAnotherTask() throws Exception
    {
        final Engine[] self = new Engine[1];
        final TaskHandler parent = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "parent";
            }

            @Override
            public ExecutionMode executionMode()
            {
                return ExecutionMode.ASYNC;
            }

            @Override
            public void execute(final TaskContext context)
            {
                final String child = "child-" + context.taskId();
                self[0].submit(new TaskRequest().key(child).type("echo").payload("from " + child), new OutcomeListener()
                {
                    @Override
                    public void onOutcome(final TaskOutcome outcome)
                    {
                        context.succeed(outcome.outputBuffer(), outcome.outputOffset(), outcome.outputLength());
                    }
                });
            }
        };
        self[0] = open(b -> b.handler(parent));
        for (int i = 0; i < 3; i++)
        {
            final Outcome outcome = get(engine.submit(new TaskRequest().key("p" + i).type("parent").timeoutMillis(3_000).maxAttempts(1)));
            assertThat(outcome.state()).as(outcome.toString()).isEqualTo(SUCCEEDED);
            assertThat(outcome.attempts()).isEqualTo(1);
            assertThat(outcome.outputAsString()).startsWith("from child-");
        }
        assertThat(closeAndReplay()).replaysDeterministically();
    }

    /**
     * The output buffer is reused from attempt to attempt (the ring event's, the pool thread's): an attempt that reports
     * more of it than it asked for fails, and bytes it asked for but did not write are zeros, never an earlier attempt's
     * output (an outside check read another tenant's output, 200 bytes of it, back as its own in BLOCKING and CPU modes).
     */
    @Test
    void shouldNeverReportAnEarlierAttemptsOutputFromTheReusedOutputBuffer() throws Exception
    {
        final List<TaskHandler> handlers = new ArrayList<>();
        for (final ExecutionMode mode : ExecutionMode.values())
        {
            handlers.add(new BufferWriter("secret-" + mode, mode));
            handlers.add(new BufferWriter("peek-" + mode, mode));
        }
        open(b ->
        {
            handlers.forEach(b::handler);
            b.blockingPoolThreads(1).cpuPoolThreads(1).defaultMaxAttempts(1).ringSize(64).timerFiresPerTick(4);
        });
        int n = 0;
        for (final ExecutionMode mode : ExecutionMode.values())
        {
            for (int round = 0; round < 3; round++)
            {
                final Outcome secret = get(engine.submit(new TaskRequest().key("s" + n++).type("secret-" + mode).tenant("A")
                    .payload("SECRET-of-tenant-A-" + "x".repeat(180))));
                assertThat(secret.state()).isEqualTo(SUCCEEDED);
                assertThat(secret.outputAsString()).startsWith("SECRET");

                final Outcome over = get(engine.submit(new TaskRequest().key("o" + n++).type("peek-" + mode).tenant("B").payload("over")));
                assertThat(over.state()).as(mode + ": succeed(200) after outputBuffer(1)").isEqualTo(DEAD_LETTERED);
                assertThat(over.error()).isEqualTo("output of 200 bytes exceeds the 1 bytes asked of outputBuffer");

                final Outcome unasked = get(engine.submit(new TaskRequest().key("u" + n++).type("peek-" + mode).tenant("B").payload("unasked")));
                assertThat(unasked.state()).as(mode + ": succeed(5) without outputBuffer").isEqualTo(DEAD_LETTERED);
                assertThat(unasked.error()).isEqualTo("succeed(5) reports bytes of outputBuffer, which the attempt never asked for");

                final Outcome empty = get(engine.submit(new TaskRequest().key("e" + n++).type("peek-" + mode).tenant("B").payload("empty")));
                assertThat(empty.state()).as(mode + ": succeed(0) without outputBuffer, as noop does").isEqualTo(SUCCEEDED);
                assertThat(empty.output()).isEmpty();

                final Outcome unwritten = get(engine.submit(new TaskRequest().key("w" + n++).type("peek-" + mode).tenant("B").payload("unwritten")));
                assertThat(unwritten.state()).as(mode + ": outputBuffer(200) unwritten").isEqualTo(SUCCEEDED);
                assertThat(unwritten.output()).as(mode + ": what was not written").isEqualTo(new byte[200]);
            }
        }
    }

    /**
     * Writes its payload through the output buffer; or, as told by its payload, reports more than it asked for
     * ({@code over}), reports without asking ({@code unasked}; {@code empty}: none), or asks for 200 bytes and reports them unwritten
     * ({@code unwritten}). Reports before {@code execute} returns, in every mode.
     */
    private static final class BufferWriter extends TestHandlers.Typed
    {
        BufferWriter(final String type, final ExecutionMode mode)
        {
            super(type, mode);
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            final String payload = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            switch (payload)
            {
                case "over" ->
                {
                    context.outputBuffer(1);
                    context.succeed(200);
                }
                case "unasked" -> context.succeed(5);
                case "empty" -> context.succeed(0);
                case "unwritten" ->
                {
                    context.outputBuffer(200);
                    context.succeed(200);
                }
                default ->
                {
                    final byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
                    context.outputBuffer(bytes.length).putBytes(0, bytes);
                    context.succeed(bytes.length);
                }
            }
        }
    }

    @Test
    void shouldRunCpuTasksOnTheCpuPool() throws Exception
    {
        final Crunch crunch = new Crunch();
        open(b -> b.handler(crunch).cpuPoolThreads(2));
        final Recorder recorder = new Recorder();
        for (int i = 0; i < 50; i++)
        {
            engine.submit(new TaskRequest().key("k" + i).type("crunch").payload("x"), recorder);
        }
        assertThat(recorder.awaitOutcomes(50)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(crunch.threads).allSatisfy(t -> assertThat(t).startsWith("gyre-cpu-"));
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.STARTED, 50L);
    }

    /**
     * Whatever validate throws, the error is {@code invalid input: <message>} as TASK-TYPES.md says, the class only
     * when there is no message (an outside check found {@code invalid input: IllegalStateException: payload: ...}).
     */
    @Test
    void shouldFailInvalidInputWithTheMessageWhateverValidateThrows() throws Exception
    {
        final TaskHandler throwing = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "picky";
            }

            @Override
            public void validate(final TaskContext context)
            {
                final String input = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
                if (input.equals("state"))
                {
                    throw new IllegalStateException("payload: must not be \"state\"");
                }
                if (input.equals("argument"))
                {
                    throw new IllegalArgumentException("payload: must not be \"argument\"");
                }
                if (input.equals("silent"))
                {
                    throw new UnsupportedOperationException();
                }
            }

            @Override
            public void execute(final TaskContext context)
            {
                context.succeed(context.payload(), 0, context.payloadLength());
            }
        };
        open(b -> b.handler(throwing));
        final Outcome state = get(engine.submit(new TaskRequest().key("s").type("picky").payload("state").maxAttempts(3)));
        final Outcome argument = get(engine.submit(new TaskRequest().key("a").type("picky").payload("argument")));
        final Outcome silent = get(engine.submit(new TaskRequest().key("n").type("picky").payload("silent")));
        assertThat(state.error()).isEqualTo("invalid input: payload: must not be \"state\"");
        assertThat(state.attempts()).isEqualTo(1);
        assertThat(argument.error()).isEqualTo("invalid input: payload: must not be \"argument\"");
        assertThat(silent.error()).isEqualTo("invalid input: java.lang.UnsupportedOperationException");
        assertThat(get(engine.submit(new TaskRequest().key("fine").type("picky").payload("fine"))).outputAsString()).isEqualTo("fine");
    }

    /** Refuses any payload that is not a decimal number, naming the field. */
    private static final class Digits implements TaskHandler
    {
        final AtomicInteger executed = new AtomicInteger();

        @Override
        public String type()
        {
            return "digits";
        }

        @Override
        public void validate(final TaskContext context) throws TaskFailure
        {
            final String input = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            if (!input.matches("[0-9]+"))
            {
                throw TaskFailure.retryable("payload: \"" + input + "\" is not a decimal number");
            }
        }

        @Override
        public void execute(final TaskContext context)
        {
            executed.incrementAndGet();
            context.succeed(context.payload(), 0, context.payloadLength());
        }
    }

    @Test
    void shouldFailInvalidInputPermanentlyBeforeExecutingWithTheHandlersMessage() throws Exception
    {
        final Digits digits = new Digits();
        open(b -> b.handler(digits));
        final Outcome bad = get(engine.submit(new TaskRequest().key("bad").type("digits").payload("12a").maxAttempts(5)));
        final Outcome good = get(engine.submit(new TaskRequest().key("good").type("digits").payload("123")));

        assertThat(bad.state()).isIn(FAILED, DEAD_LETTERED);
        assertThat(bad.attempts()).isEqualTo(1);
        assertThat(bad.error()).isEqualTo("invalid input: payload: \"12a\" is not a decimal number");
        assertThat(good.outputAsString()).isEqualTo("123");
        assertThat(digits.executed.get()).isEqualTo(1);
        assertThat(closeAndReplay()).task(bad.taskId()).replaysDeterministically();
    }

    /** INLINE: holds its outcome (the payload) until submission time + the payload's number of milliseconds. */
    private static final class Delay implements TaskHandler
    {
        final AtomicInteger attempts = new AtomicInteger();

        @Override
        public String type()
        {
            return "delay";
        }

        @Override
        public void execute(final TaskContext context)
        {
            attempts.incrementAndGet();
            final String millis = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            context.holdUntil(context.submittedAt() + Long.parseLong(millis) * 1_000_000L);
            context.succeed(context.payload(), 0, context.payloadLength());
        }
    }

    @Test
    void shouldHoldAnOutcomeUntilItsTimeThenReleaseItWithTheJournaledOutput() throws Exception
    {
        final Delay delay = new Delay();
        open(b -> b.handler(delay));
        final long before = System.nanoTime();
        final CompletableFuture<Outcome> held = engine.submit(new TaskRequest().key("held").type("delay").payload("300"));
        final Outcome now = get(engine.submit(new TaskRequest().key("now").type("delay").payload("0")));
        assertThat(now.state()).isEqualTo(SUCCEEDED);
        assertThat(held).isNotDone();
        assertThat(engine.status("held").get(5, TimeUnit.SECONDS).state()).isEqualTo(RUNNING);

        final Outcome o = get(held);
        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.outputAsString()).isEqualTo("300");
        assertThat(o.finishedAt()).isEqualTo(o.submittedAt() + 300_000_000L);
        // the engine's clock runs with System.nanoTime, and the submission was journaled after `before`
        assertThat(System.nanoTime() - before).as("released no earlier than its time").isGreaterThanOrEqualTo(300_000_000L);
        assertThat(delay.attempts.get()).isEqualTo(2);
        assertThat(closeAndReplay()).task(o.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldReleaseAHeldOutcomeAtItsJournaledTimeAfterARestartWithoutRunningAgain() throws Exception
    {
        final Delay delay = new Delay();
        // a stop waits for held outcomes due within its timeout: this one is due after it
        open(b -> b.handler(delay).closeTimeout(Duration.ofMillis(200)));
        final CompletableFuture<Outcome> held = engine.submit(new TaskRequest().key("across").type("delay").payload("1500"));
        await().until(() -> engine.status("across").get().state() == RUNNING);
        assertThat(engine.stop().held()).isEqualTo(1);
        assertThat(held).isCompletedExceptionally();          // still held: not its outcome, which comes after the restart
        org.assertj.core.api.Assertions.assertThatThrownBy(held::join).hasCauseInstanceOf(TaskUnfinishedException.class);
        engine = null;

        final Delay again = new Delay();
        open(b -> b.handler(again));
        final Outcome o = get(engine.submit(new TaskRequest().key("across").type("delay").payload("1500")));
        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.outputAsString()).isEqualTo("1500");
        assertThat(o.finishedAt()).isEqualTo(o.submittedAt() + 1_500_000_000L);
        assertThat(again.attempts.get()).isZero();
        assertThat(get(engine.submit(new TaskRequest().key("across").type("delay"))).duplicate()).isTrue();
        assertThat(closeAndReplay()).task(o.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldWaitAtAStopForAHeldOutcomeDueWithinItsTimeout() throws Exception
    {
        open(b -> b.handler(new Delay()).closeTimeout(Duration.ofSeconds(10)));
        final CompletableFuture<Outcome> held = engine.submit(new TaskRequest().key("soon").type("delay").payload("700"));
        await().until(() -> engine.status("soon").get().state() == RUNNING);
        final long before = System.nanoTime();
        final StopReport report = engine.stop();
        assertThat(held).isDone();
        assertThat(held.get().state()).isEqualTo(SUCCEEDED);
        assertThat(report.finishedInTime()).as("everything finished before the deadline").isTrue();
        assertThat(report.held()).isZero();
        assertThat(System.nanoTime() - before).as("not held to the deadline").isLessThan(Duration.ofSeconds(8).toNanos());
        engine = null;
        assertThat(TaskHistory.of(dir)).task(held.get().taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldCancelAHeldTask() throws Exception
    {
        open(b -> b.handler(new Delay()));
        final CompletableFuture<Outcome> held = engine.submit(new TaskRequest().key("c").type("delay").payload("60000"));
        await().until(() -> engine.status("c").get().state() == RUNNING);
        Thread.sleep(300);
        assertThat(engine.cancel("c").get(5, TimeUnit.SECONDS).state()).isEqualTo(CANCELLED);
        assertThat(get(held).state()).isEqualTo(CANCELLED);
        assertThat(get(held).executionNanos()).as("the attempt ran at once; the 300 ms held are not execution")
            .isLessThan(TimeUnit.MILLISECONDS.toNanos(250));
        assertThat(closeAndReplay()).task(get(held).taskId()).hasStates(PENDING, RUNNING, CANCELLED).replaysDeterministically();
    }

    /** Counts its starts and closes; refuses to start when told to. */
    private static final class Lifecycle implements TaskHandler
    {
        final AtomicInteger starts = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();
        volatile boolean refuse;

        @Override
        public String type()
        {
            return "lifecycle";
        }

        @Override
        public void start()
        {
            if (refuse)
            {
                throw new IllegalStateException("no connection pool today");
            }
            starts.incrementAndGet();
        }

        @Override
        public void close()
        {
            closes.incrementAndGet();
        }

        @Override
        public void execute(final TaskContext context)
        {
        }
    }

    @Test
    void shouldStartHandlersWhenTheEngineOpensAndCloseThemWhenItCloses() throws Exception
    {
        final Lifecycle lifecycle = new Lifecycle();
        final EngineConfig config = EngineConfig.builder(dir).handler(lifecycle).build();
        assertThat(lifecycle.starts.get()).isZero();
        try (Engine first = Engine.open(config))
        {
            assertThat(lifecycle.starts.get()).isEqualTo(1);
            assertThat(get(first.submit(new TaskRequest().key("a").type("lifecycle"))).state()).isEqualTo(SUCCEEDED);
        }
        assertThat(lifecycle.closes.get()).isEqualTo(1);
        final Engine again = Engine.open(config);
        assertThat(lifecycle.starts.get()).isEqualTo(2);
        again.close();
        lifecycle.refuse = true;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Engine.open(config))
            .isInstanceOf(IllegalStateException.class)
            .hasMessage("task type lifecycle cannot start: no connection pool today");
        lifecycle.refuse = false;
        try (Engine after = Engine.open(config))
        {
            // the refused start left the journal free
            assertThat(get(after.submit(new TaskRequest().key("a").type("lifecycle"))).duplicate()).isTrue();
        }
    }

    @Test
    void shouldLetRunningAsyncWorkFinishOnClose() throws Exception
    {
        final Later later = new Later(300, 0);
        open(b -> b.handler(later));
        final CompletableFuture<Outcome> outcome = engine.submit(new TaskRequest().key("slow").type("later").payload("x"));
        await().until(() -> later.started.get() == 1);
        engine.close();
        assertThat(get(outcome).state()).isEqualTo(SUCCEEDED);
        engine = null;
        assertThat(TaskHistory.of(dir)).task(get(outcome).taskId()).hasStates(PENDING, RUNNING, SUCCEEDED);
    }
}
