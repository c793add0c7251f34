package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.RecordType;
import org.agrona.concurrent.EpochNanoClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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

class EngineTest extends EngineTestSupport
{

    @Test
    void shouldSucceedNoopWithNoOutputAndEchoWithItsPayload() throws Exception
    {
        open(b -> { });
        final Outcome noop = get(engine.submit(new TaskRequest().key("a").type("noop").payload("ignored")));
        final Outcome echo = get(engine.submit(new TaskRequest().key("b").type("echo").payload("{\"x\":1}")));

        assertThat(noop.state()).isEqualTo(SUCCEEDED);
        assertThat(noop.output()).isEmpty();
        assertThat(noop.attempts()).isEqualTo(1);
        assertThat(echo.outputAsString()).isEqualTo("{\"x\":1}");
        assertThat(echo.duplicate()).isFalse();
        assertThat(echo.finishedAt()).isGreaterThanOrEqualTo(echo.startedAt()).isGreaterThanOrEqualTo(echo.submittedAt());

        final TaskHistory history = closeAndReplay();
        assertThat(history).task(noop.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED);
        assertThat(history).task(echo.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.SUBMITTED, 2L).containsEntry(RecordType.SUCCEEDED, 2L);
    }

    @Test
    void shouldAcknowledgeEachSubmissionThenDeliverExactlyOneOutcome()
    {
        open(b -> { });
        final Recorder recorder = new Recorder();
        final TaskRequest request = new TaskRequest().type("echo");
        for (int i = 0; i < 100; i++)
        {
            engine.submit(request.key("k" + i).payload("p" + i).correlationId(i), recorder);
        }
        final List<Outcome> outcomes = recorder.awaitOutcomes(100);
        assertThat(outcomes).hasSize(100).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        for (int i = 0; i < 100; i++)
        {
            final long correlation = i;
            final int accepted = indexOf(recorder.events, "accepted " + correlation + " ");
            final int outcome = indexOf(recorder.events, "outcome " + correlation + " ");
            assertThat(accepted).isNotNegative().isLessThan(outcome);
            assertThat(outcomes.stream().filter(o -> o.correlationId() == correlation).findFirst().orElseThrow().outputAsString())
                .isEqualTo("p" + i);
        }
    }

    @Test
    void shouldJoinADuplicateSubmittedWhileItsTaskRuns() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated));
        final CompletableFuture<Outcome> first = engine.submit(new TaskRequest().key("same").type("gated").payload("first"));
        await().until(() -> gated.started.get() == 1);
        final CompletableFuture<Outcome> second = engine.submit(new TaskRequest().key("same").type("gated").payload("second"));
        assertThat(engine.status("same").get(5, TimeUnit.SECONDS).state()).isEqualTo(RUNNING);
        gated.open();

        assertThat(get(first).outputAsString()).isEqualTo("first");
        assertThat(get(second).outputAsString()).isEqualTo("first");
        assertThat(get(second).taskId()).isEqualTo(get(first).taskId());
        assertThat(gated.started.get()).isEqualTo(1);
        assertThat(closeAndReplay()).task(get(first).taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldRefuseWaitersBeyondTheLimitPerTaskAndAnswerTheRest() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).maxWaitersPerTask(3));
        final List<CompletableFuture<Outcome>> waiting = new ArrayList<>();
        waiting.add(engine.submit(new TaskRequest().key("hot").type("gated").payload("first")));
        await().until(() -> gated.started.get() == 1);
        waiting.add(engine.submit(new TaskRequest().key("hot").type("gated")));
        waiting.add(engine.submit(new TaskRequest().key("hot").type("gated")));
        final Outcome refused = get(engine.submit(new TaskRequest().key("hot").type("gated")));

        assertThat(refused.rejected()).isTrue();
        assertThat(refused.rejectReason()).isEqualTo(RejectReason.TOO_MANY_WAITERS);
        gated.open();
        for (final CompletableFuture<Outcome> w : waiting)
        {
            assertThat(get(w).outputAsString()).isEqualTo("first");
            assertThat(get(w).taskId()).isEqualTo(get(waiting.get(0)).taskId());
        }
        final Outcome later = get(engine.submit(new TaskRequest().key("hot").type("gated")));
        assertThat(later.duplicate()).isTrue();
        assertThat(later.outputAsString()).isEqualTo("first");
        assertThat(gated.started.get()).isEqualTo(1);
        assertThat(closeAndReplay()).task(later.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldAnswerAResubmittedKeyWithTheRecordedOutcomeWithoutRunningIt() throws Exception
    {
        final TestHandlers.Flaky counting = new TestHandlers.Flaky("counting", 0, true, ExecutionMode.INLINE);
        open(b -> b.handler(counting));
        final Outcome first = get(engine.submit(new TaskRequest().key("k").type("counting")));
        final Outcome again = get(engine.submit(new TaskRequest().key("k").type("counting").payload("different")));

        assertThat(again.duplicate()).isTrue();
        assertThat(again.taskId()).isEqualTo(first.taskId());
        assertThat(again.output()).isEqualTo(first.output());
        assertThat(again.submittedAt()).isEqualTo(first.submittedAt());
        assertThat(counting.attempts.get()).isEqualTo(1);
    }

    @Test
    void shouldRetryRetryableFailuresWithBackoffThenSucceed() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 2, true, ExecutionMode.INLINE);
        open(b -> b.handler(flaky));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("flaky").maxAttempts(3).backoff(20, 1000, 2f, 0f)));

        assertThat(outcome.state()).isEqualTo(SUCCEEDED);
        assertThat(outcome.attempts()).isEqualTo(3);
        assertThat(outcome.outputAsString()).isEqualTo("ok after 3");
        // 20 ms, then 40 ms of backoff, with no jitter
        assertThat(outcome.finishedAt() - outcome.submittedAt()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(60));

        final TaskHistory history = closeAndReplay();
        assertThat(history).task(outcome.taskId())
            .hasStates(PENDING, RUNNING, RETRY_WAIT, RUNNING, RETRY_WAIT, RUNNING, SUCCEEDED)
            .replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.RETRY_SCHEDULED, 2L).containsEntry(RecordType.FAILED, 2L);
        assertThat(history.report().derivedVerified()).isEqualTo(2);
    }

    @Test
    void shouldDeadLetterATaskThatExhaustsItsAttempts() throws Exception
    {
        final TestHandlers.Flaky failing = new TestHandlers.Flaky("failing", 100, true, ExecutionMode.BLOCKING);
        open(b -> b.handler(failing));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("failing").maxAttempts(2).backoff(5, 5, 1f, 0f)));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(2);
        assertThat(outcome.error()).isEqualTo("attempt 2 failed on purpose");
        assertThat(failing.attempts.get()).isEqualTo(2);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(outcome.taskId())
            .hasStates(PENDING, RUNNING, RETRY_WAIT, RUNNING, DEAD_LETTERED)
            .replaysDeterministically();
        assertThat(history.report().recordsByType())
            .containsEntry(RecordType.STARTED, 2L)
            .containsEntry(RecordType.DEAD_LETTERED, 1L);
    }

    @Test
    void shouldDeadLetterAPermanentFailureWithoutRetrying() throws Exception
    {
        final TestHandlers.Flaky permanent = new TestHandlers.Flaky("permanent", 100, false, ExecutionMode.INLINE);
        open(b -> b.handler(permanent));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("permanent").maxAttempts(5)));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(1);
        assertThat(permanent.attempts.get()).isEqualTo(1);
    }

    @Test
    void shouldLeaveAFinallyFailedTaskFailedWhenDeadLetteringIsOff() throws Exception
    {
        final TestHandlers.Flaky permanent = new TestHandlers.Flaky("permanent", 100, false, ExecutionMode.INLINE);
        open(b -> b.handler(permanent));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("permanent").deadLetter(false)));

        assertThat(outcome.state()).isEqualTo(FAILED);
        assertThat(closeAndReplay()).task(outcome.taskId()).hasStates(PENDING, RUNNING, FAILED).replaysDeterministically();
    }

    @Test
    void shouldFailAnAttemptWhoseHandlerThrowsAndRetryIt() throws Exception
    {
        open(b -> b.handler(new TestHandlers.Throwing()));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("throwing").maxAttempts(2).backoff(1, 1, 1f, 0f)));

        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.attempts()).isEqualTo(2);
        assertThat(outcome.error()).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(engine.stageFailures()).isZero();
    }

    @Test
    void shouldTimeOutABlockingAttemptAndStopItsHandler() throws Exception
    {
        final TestHandlers.Stuck stuck = new TestHandlers.Stuck(1);
        open(b -> b.handler(stuck));
        // without dead-lettering a final timeout ends TIMED_OUT (with it, DEAD_LETTERED: see DeadLetterTest)
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("stuck").timeoutMillis(100).maxAttempts(1)
            .deadLetter(false)));

        assertThat(outcome.state()).isEqualTo(TIMED_OUT);
        assertThat(outcome.error()).isEqualTo("attempt 1 timed out after 100 ms");
        await().until(() -> stuck.stopped.get() == 1);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(outcome.taskId()).hasStates(PENDING, RUNNING, TIMED_OUT).replaysDeterministically();
        // the stopped handler's late result is journaled, and changed nothing
        assertThat(history.report().recordsByType()).containsEntry(RecordType.FAILED, 1L).containsEntry(RecordType.TIMED_OUT, 1L);
    }

    @Test
    void shouldRetryATimedOutAttemptWhenAttemptsRemain() throws Exception
    {
        final TestHandlers.Stuck stuck = new TestHandlers.Stuck(1);
        open(b -> b.handler(stuck));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("k").type("stuck").timeoutMillis(100).maxAttempts(2)
            .backoff(10, 10, 1f, 0f)));

        assertThat(outcome.state()).isEqualTo(SUCCEEDED);
        assertThat(outcome.attempts()).isEqualTo(2);
        assertThat(outcome.outputAsString()).isEqualTo("finally");
        assertThat(closeAndReplay()).task(outcome.taskId())
            .hasStates(PENDING, RUNNING, RETRY_WAIT, RUNNING, SUCCEEDED).replaysDeterministically();
    }

    @Test
    void shouldLimitBlockingAttemptsToThePoolSizeAndQueueTheRest() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).blockingPoolThreads(2));
        final Recorder recorder = new Recorder();
        for (int i = 0; i < 5; i++)
        {
            engine.submit(new TaskRequest().key("k" + i).type("gated").payload("p" + i), recorder);
        }
        await().until(() -> gated.started.get() == 2);
        await().until(() -> engine.status("k4").get().state() == PENDING);
        assertThat(gated.started.get()).isEqualTo(2);
        gated.open();

        assertThat(recorder.awaitOutcomes(5)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(gated.started.get()).isEqualTo(5);
        assertThat(closeAndReplay()).replaysDeterministically();
    }

    @Test
    void shouldCancelAWaitingTaskAtOnce() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).blockingPoolThreads(1));
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("running").type("gated"));
        final CompletableFuture<Outcome> waiting = engine.submit(new TaskRequest().key("waiting").type("gated"));
        await().until(() -> gated.started.get() == 1);

        final TaskStatus cancelled = engine.cancel("waiting").get(5, TimeUnit.SECONDS);
        assertThat(cancelled.state()).isEqualTo(CANCELLED);
        assertThat(get(waiting).state()).isEqualTo(CANCELLED);
        assertThat(get(waiting).error()).isEqualTo("cancelled before it ran");
        gated.open();
        assertThat(get(running).state()).isEqualTo(SUCCEEDED);
        assertThat(gated.started.get()).isEqualTo(1);
        assertThat(closeAndReplay()).task(get(waiting).taskId()).hasStates(PENDING, CANCELLED).replaysDeterministically();
    }

    @Test
    void shouldSayATaskCancelledWhileWaitingToRetryHadRun() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 5, true, ExecutionMode.INLINE);
        open(b -> b.handler(flaky));
        final CompletableFuture<Outcome> retrying = engine.submit(new TaskRequest().key("r").type("flaky").maxAttempts(5)
            .backoff(60_000, 60_000, 1f, 0f));
        await().until(() -> engine.status("r").join().state() == TaskState.RETRY_WAIT);

        assertThat(engine.cancel("r").get(5, TimeUnit.SECONDS).state()).isEqualTo(CANCELLED);
        assertThat(get(retrying).attempts()).isEqualTo(1);
        assertThat(get(retrying).error()).isEqualTo("cancelled while waiting for its next attempt");
    }

    @Test
    void shouldCancelARunningTaskAndIgnoreItsLateResult() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated));
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("k").type("gated").payload("late"));
        await().until(() -> gated.started.get() == 1);

        assertThat(engine.cancel("k").get(5, TimeUnit.SECONDS).state()).isEqualTo(CANCELLED);
        assertThat(get(running).state()).isEqualTo(CANCELLED);
        assertThat(get(running).error()).isEqualTo("cancelled while running");
        await().until(() -> gated.stopped.get() == 1);

        final Outcome again = get(engine.submit(new TaskRequest().key("k").type("gated")));
        assertThat(again.duplicate()).isTrue();
        assertThat(again.state()).isEqualTo(CANCELLED);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(get(running).taskId()).hasStates(PENDING, RUNNING, CANCELLED).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.FAILED, 1L).containsEntry(RecordType.CANCELLED, 1L);
    }

    @Test
    void shouldAnswerStatusAndCancelOfAnUnknownKeyWithNotFound() throws Exception
    {
        open(b -> { });
        assertThat(engine.status("nobody").get(5, TimeUnit.SECONDS).found()).isFalse();
        assertThat(engine.cancel("nobody").get(5, TimeUnit.SECONDS).found()).isFalse();
        final Outcome done = get(engine.submit(new TaskRequest().key("done").type("echo").payload("x")));
        final TaskStatus status = engine.cancel("done").get(5, TimeUnit.SECONDS);
        assertThat(status.state()).isEqualTo(SUCCEEDED);
        assertThat(status.taskId()).isEqualTo(done.taskId());
        assertThat(status.outcome().outputAsString()).isEqualTo("x");
    }

    @Test
    void shouldRejectSubmissionsBeyondTheLiveTaskLimit() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).maxLiveTasks(2));
        final CompletableFuture<Outcome> a = engine.submit(new TaskRequest().key("a").type("gated"));
        final CompletableFuture<Outcome> b = engine.submit(new TaskRequest().key("b").type("gated"));
        final Outcome refused = get(engine.submit(new TaskRequest().key("c").type("gated")));

        assertThat(refused.rejected()).isTrue();
        assertThat(refused.rejectReason()).isEqualTo(RejectReason.CAPACITY);
        gated.open();
        get(a);
        get(b);
        assertThat(get(engine.submit(new TaskRequest().key("c").type("gated").payload("now"))).outputAsString()).isEqualTo("now");
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.REJECTED, 1L);
    }

    @Test
    void shouldShedLowPriorityFirstThenNormalAsTheEngineNearsItsLimit() throws Exception
    {
        // 20 live tasks at most: LOW refused from 16 (80%), NORMAL from 19 (95%), HIGH at 20 (the limit)
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).maxLiveTasks(20).blockingPoolThreads(32));
        final List<CompletableFuture<Outcome>> running = new ArrayList<>();
        for (int i = 0; i < 16; i++)
        {
            running.add(engine.submit(new TaskRequest().key("low-" + i).type("gated").priority(Priority.LOW)));
        }
        await().until(() -> gated.started.get() == 16);
        final Outcome low = get(engine.submit(new TaskRequest().key("low").type("gated").priority(Priority.LOW)));
        assertThat(low.rejected()).isTrue();
        assertThat(low.rejectReason()).isEqualTo(RejectReason.BUSY);

        for (int i = 0; i < 3; i++)
        {
            running.add(engine.submit(new TaskRequest().key("normal-" + i).type("gated")));
        }
        await().until(() -> gated.started.get() == 19);
        assertThat(get(engine.submit(new TaskRequest().key("normal").type("gated"))).rejectReason()).isEqualTo(RejectReason.BUSY);

        running.add(engine.submit(new TaskRequest().key("high-1").type("gated").priority(Priority.HIGH)));
        await().until(() -> gated.started.get() == 20);
        final Outcome high = get(engine.submit(new TaskRequest().key("high-2").type("gated").priority(Priority.HIGH)));
        assertThat(high.rejectReason()).isEqualTo(RejectReason.CAPACITY);

        gated.open();
        for (final CompletableFuture<Outcome> r : running)
        {
            assertThat(get(r).state()).isEqualTo(SUCCEEDED);
        }
        assertThat(get(engine.submit(new TaskRequest().key("low").type("gated").priority(Priority.LOW))).state()).isEqualTo(SUCCEEDED);
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.REJECTED, 3L);
    }

    @Test
    void shouldFireTimersDueTogetherHighPriorityFirst() throws Exception
    {
        final ManualClock clock = new ManualClock();
        final java.util.concurrent.ConcurrentLinkedQueue<String> retried = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final TaskHandler failsOnce = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "fails-once";
            }

            @Override
            public void execute(final TaskContext context)
            {
                if (context.attempt() == 1)
                {
                    context.fail(true, "not yet");
                    return;
                }
                retried.add(context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()));
            }
        };
        open(b -> b.clock(clock).handler(failsOnce).timerFiresPerTick(1));
        final Recorder recorder = new Recorder();
        for (final Priority priority : new Priority[] {Priority.LOW, Priority.NORMAL, Priority.HIGH})
        {
            for (int i = 0; i < 5; i++)
            {
                final String name = priority + "-" + i;
                engine.submit(new TaskRequest().key(name).type("fails-once").payload(name).priority(priority)
                    .backoff(60_000, 60_000, 1f, 0f), recorder);
            }
        }
        await().until(() -> java.util.stream.Stream.of("LOW-4", "NORMAL-4", "HIGH-4")
            .allMatch(k -> engine.status(k).join().state() == RETRY_WAIT));
        // all fifteen retries due at once, one fires per tick: more than the eight per tick that engines before
        // timersByPriority looked at, which were all low but three normal ones
        clock.advance(Duration.ofMinutes(2));

        assertThat(recorder.awaitOutcomes(15)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(retried).containsExactly("HIGH-0", "HIGH-1", "HIGH-2", "HIGH-3", "HIGH-4", "NORMAL-0", "NORMAL-1", "NORMAL-2",
            "NORMAL-3", "NORMAL-4", "LOW-0", "LOW-1", "LOW-2", "LOW-3", "LOW-4");
        assertThat(closeAndReplay()).replaysDeterministically();
    }

    @Test
    void shouldShedNothingBelowTheLimitWhenAdmissionIsAtOneHundredPercent() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).maxLiveTasks(4).blockingPoolThreads(16).admission(100, 100));
        for (int i = 0; i < 4; i++)
        {
            engine.submit(new TaskRequest().key("k" + i).type("gated").priority(Priority.LOW));
        }
        await().until(() -> gated.started.get() == 4);
        assertThat(get(engine.submit(new TaskRequest().key("x").type("gated").priority(Priority.LOW))).rejectReason())
            .isEqualTo(RejectReason.CAPACITY);
        gated.open();
    }

    @Test
    void shouldFailATaskWhoseOutputExceedsTheMaximum() throws Exception
    {
        open(b -> b.maxOutputBytes(16).handler(new TestHandlers.Greedy()));
        final Outcome echo = get(engine.submit(new TaskRequest().key("a").type("echo").payload("seventeen bytes!!")));
        final Outcome greedy = get(engine.submit(new TaskRequest().key("b").type("greedy")));

        assertThat(echo.state()).isEqualTo(DEAD_LETTERED);
        assertThat(echo.attempts()).isEqualTo(1);
        assertThat(echo.error()).isEqualTo("output of 17 bytes exceeds maxOutputBytes=16");
        assertThat(greedy.error()).isEqualTo("outputBuffer(" + Integer.MAX_VALUE + ") asks for more than maxOutputBytes=16 bytes of output");
        assertThat(get(engine.submit(new TaskRequest().key("c").type("echo").payload("fits"))).outputAsString()).isEqualTo("fits");
    }

    @Test
    void shouldKeepRunningWhenAListenerThrows() throws Exception
    {
        open(b -> { });
        engine.submit(new TaskRequest().key("a").type("noop"), outcome ->
        {
            throw new IllegalStateException("listener bug");
        });
        assertThat(get(engine.submit(new TaskRequest().key("b").type("echo").payload("fine"))).outputAsString()).isEqualTo("fine");
        assertThat(engine.stageFailures()).isZero();
    }

    @Test
    void shouldForgetTheOldestOutcomesBeyondTheRetainedWindow() throws Exception
    {
        open(b -> b.maxRetainedOutcomes(2));
        final Outcome first = get(engine.submit(new TaskRequest().key("k1").type("echo").payload("1")));
        get(engine.submit(new TaskRequest().key("k2").type("echo").payload("2")));
        get(engine.submit(new TaskRequest().key("k3").type("echo").payload("3")));

        final Outcome rerun = get(engine.submit(new TaskRequest().key("k1").type("echo").payload("again")));
        assertThat(rerun.duplicate()).isFalse();
        assertThat(rerun.taskId()).isNotEqualTo(first.taskId());
        assertThat(rerun.outputAsString()).isEqualTo("again");
        assertThat(get(engine.submit(new TaskRequest().key("k3").type("echo").payload("x"))).duplicate()).isTrue();
    }

    @Test
    void shouldForgetOutcomesOlderThanTheRetention() throws Exception
    {
        final ManualClock clock = new ManualClock();
        open(b -> b.clock(clock).outcomeRetention(Duration.ofSeconds(10)));
        get(engine.submit(new TaskRequest().key("k").type("echo").payload("old")));
        clock.advance(Duration.ofSeconds(5));
        assertThat(get(engine.submit(new TaskRequest().key("k").type("echo").payload("new"))).outputAsString()).isEqualTo("old");
        clock.advance(Duration.ofSeconds(6));
        get(engine.submit(new TaskRequest().key("other").type("noop")));
        assertThat(get(engine.submit(new TaskRequest().key("k").type("echo").payload("new"))).outputAsString()).isEqualTo("new");
    }

    @Test
    void shouldForgetOutcomesOlderThanTheRetentionAfterTheRememberedOnesAllWent() throws Exception
    {
        final ManualClock clock = new ManualClock();
        open(b -> b.clock(clock).outcomeRetention(Duration.ofSeconds(10)));
        get(engine.submit(new TaskRequest().key("a").type("echo").payload("a1")));
        clock.advance(Duration.ofSeconds(11));
        // "a" leaves the window as "b" arrives: nothing is remembered, then "b" is
        get(engine.submit(new TaskRequest().key("b").type("echo").payload("b1")));
        clock.advance(Duration.ofSeconds(9));
        assertThat(get(engine.submit(new TaskRequest().key("b").type("echo").payload("b2"))).outputAsString()).isEqualTo("b1");
        assertThat(get(engine.submit(new TaskRequest().key("a").type("echo").payload("a2"))).outputAsString()).isEqualTo("a2");
        clock.advance(Duration.ofSeconds(2));
        get(engine.submit(new TaskRequest().key("other").type("noop")));
        assertThat(get(engine.submit(new TaskRequest().key("b").type("echo").payload("b3"))).outputAsString()).isEqualTo("b3");
    }

    /**
     * An idle engine journals nothing as the window passes, yet STATUS must decide as a SUBMIT at the same
     * moment would: an outcome past its window is not found (an outside check saw found=1, then a new run).
     */
    @Test
    void shouldNotFindAnOutcomePastTheRetentionWhenNothingElseHappened() throws Exception
    {
        final ManualClock clock = new ManualClock();
        open(b -> b.clock(clock).outcomeRetention(Duration.ofSeconds(10)));
        get(engine.submit(new TaskRequest().key("k").type("echo").payload("old")));
        clock.advance(Duration.ofSeconds(5));
        assertThat(engine.status("k").get(5, TimeUnit.SECONDS).found()).as("within the window").isTrue();
        clock.advance(Duration.ofSeconds(6));

        assertThat(engine.status("k").get(5, TimeUnit.SECONDS).found()).as("past the window, no other traffic").isFalse();
        final Outcome again = get(engine.submit(new TaskRequest().key("k").type("echo").payload("new")));
        assertThat(again.duplicate()).isFalse();
        assertThat(again.outputAsString()).isEqualTo("new");
    }

    @Test
    void shouldNotFindAnOutcomePastTheRetentionAfterARestart() throws Exception
    {
        final ManualClock clock = new ManualClock();
        open(b -> b.clock(clock).outcomeRetention(Duration.ofSeconds(10)));
        get(engine.submit(new TaskRequest().key("k").type("echo").payload("old")));
        clock.advance(Duration.ofSeconds(11));
        assertThat(engine.status("k").get(5, TimeUnit.SECONDS).found()).isFalse();
        // an idle engine forgets it too: a tick is journaled once the window has passed, and replays the same
        await().until(() -> JournalReplay.run(JournalReplay.Options.of(dir)).recordsByType().getOrDefault(RecordType.TICK, 0L) > 0);
        engine.close();

        open(b -> b.clock(clock).outcomeRetention(Duration.ofSeconds(10)));
        assertThat(engine.status("k").get(5, TimeUnit.SECONDS).found()).as("after replay").isFalse();
        final Outcome again = get(engine.submit(new TaskRequest().key("k").type("echo").payload("new")));
        assertThat(again.duplicate()).isFalse();
        assertThat(again.outputAsString()).isEqualTo("new");
    }

    @Test
    void shouldLetRunningWorkFinishOnClose() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated));
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("k").type("gated").payload("done"));
        await().until(() -> gated.started.get() == 1);
        final CompletableFuture<Void> closing = CompletableFuture.runAsync(engine::close);
        await().until(() -> engineRefusesWork());
        assertThat(closing).isNotDone();
        gated.open();
        closing.get(15, TimeUnit.SECONDS);
        assertThat(get(running).outputAsString()).isEqualTo("done");
        engine = null;
        assertThat(TaskHistory.of(dir).report().tasksByState()).containsEntry(SUCCEEDED, 1L);
    }

    private boolean engineRefusesWork()
    {
        try
        {
            engine.status("k");
            return false;
        }
        catch (final EngineClosedException expected)
        {
            return true;
        }
    }

    private static int indexOf(final List<String> events, final String prefix)
    {
        for (int i = 0; i < events.size(); i++)
        {
            if (events.get(i).startsWith(prefix))
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * A clock tests move by hand, on top of the real one (so ticks still happen).
     */
    static final class ManualClock implements EpochNanoClock
    {
        private final AtomicLong offset = new AtomicLong();

        void advance(final Duration by)
        {
            offset.addAndGet(by.toNanos());
        }

        @Override
        public long nanoTime()
        {
            return System.currentTimeMillis() * 1_000_000L + offset.get();
        }
    }
}
