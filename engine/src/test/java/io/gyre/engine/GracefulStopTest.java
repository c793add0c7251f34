package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Graceful stop: the engine stops taking requests and starting attempts, lets running ones finish until its
 * deadline, tells the others to stop, and journals what it left as its last record; the next engine runs
 * the interrupted attempts exactly once, and the journal replays to the same state.
 */
class GracefulStopTest
{
    @TempDir
    Path dir;

    private final List<Engine> engines = new ArrayList<>();

    @AfterEach
    void closeAll()
    {
        engines.forEach(Engine::close);
    }

    private Engine open(final Consumer<EngineConfig.Builder> settings)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16);
        settings.accept(builder);
        final Engine engine = Engine.open(builder.build());
        engines.add(engine);
        return engine;
    }

    private StopReport stop(final Engine engine)
    {
        engines.remove(engine);
        return engine.stop();
    }

    private static Outcome get(final CompletableFuture<Outcome> future) throws Exception
    {
        return future.get(15, TimeUnit.SECONDS);
    }

    private static TaskRequest task(final String key, final String type)
    {
        return new TaskRequest().key(key).type(type).payload(key);
    }

    /**
     * Wait until the stop's beginning is journaled; from then on the engine refuses requests.
     */
    private void awaitStopping(final Engine engine)
    {
        await().until(() -> lastRecords(Integer.MAX_VALUE).contains("ENGINE_STOP stopping"));
        assertThatThrownBy(() -> engine.submit(task("late", "echo"))).isInstanceOf(EngineClosedException.class)
            .hasMessageContaining("takes no more requests");
    }

    @Test
    void shouldSayNothingIsLeftWhenTheWorkRunningFinishesBeforeTheDeadline() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final Engine engine = open(b -> b.handler(gated).closeTimeout(Duration.ofSeconds(30)));
        final List<CompletableFuture<Outcome>> running = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            running.add(engine.submit(task("g" + i, "gated")));
        }
        await().until(() -> gated.started.get() == 3);

        final CompletableFuture<StopReport> stopping = CompletableFuture.supplyAsync(() -> stop(engine));
        awaitStopping(engine);
        assertThatThrownBy(() -> engine.submit(task("late", "echo"))).isInstanceOf(EngineClosedException.class);
        assertThatThrownBy(() -> engine.status("g0")).isInstanceOf(EngineClosedException.class);
        assertThatThrownBy(() -> engine.trySubmit(task("late", "echo"), outcome -> { })).isInstanceOf(EngineClosedException.class);
        gated.open();
        final StopReport report = stopping.get(30, TimeUnit.SECONDS);

        // answered before the engine closed
        for (final CompletableFuture<Outcome> f : running)
        {
            assertThat(f).isDone();
            assertThat(f.join().state()).isEqualTo(SUCCEEDED);
        }
        assertThat(report.recorded()).isTrue();
        assertThat(report.finishedInTime()).isTrue();
        assertThat(report.nothingLeft()).as(report.describe()).isTrue();
        assertThat(report.describe()).isEqualTo("nothing left");
        assertThat(report.interrupted()).isEmpty();
        assertThat(report.deadline() - report.beganAt()).isEqualTo(Duration.ofSeconds(30).toNanos());
        assertThat(engine.isClosed()).isTrue();
        assertThat(engine.stop()).isSameAs(report);

        // the three results came after the stop began, and before its last record
        final List<String> records = lastRecords(Integer.MAX_VALUE);
        final List<String> afterStopping = records.subList(records.indexOf("ENGINE_STOP stopping") + 1, records.size());
        assertThat(afterStopping).containsExactly("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "ENGINE_STOP stopped");
        final JournalReplay.Report replay = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(replay.runs()).hasSize(1);
        assertThat(replay.runs().get(0).ending()).isEqualTo(JournalReplay.Ending.CLEAN);
        assertThat(replay.runs().get(0).stop()).isEqualTo(report);

        final Engine reopened = open(b -> b.handler(new TestHandlers.Gated("gated")));
        assertThat(reopened.recovery().previousStop()).isEqualTo(RecoveryReport.PreviousStop.CLEAN);
        assertThat(reopened.recovery().repairedTail()).isEmpty();
        assertThat(reopened.recovery().requeued()).isZero();
    }

    @Test
    void shouldStartNoAttemptWhileStopping() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final Engine engine = open(b -> b.handler(gated).blockingPoolThreads(1).closeTimeout(Duration.ofSeconds(30)));
        final CompletableFuture<Outcome> first = engine.submit(task("first", "gated"));
        final CompletableFuture<Outcome> queued = engine.submit(task("queued", "gated"));
        await().until(() -> gated.started.get() == 1);

        final CompletableFuture<StopReport> stopping = CompletableFuture.supplyAsync(() -> stop(engine));
        awaitStopping(engine);
        gated.open();                                        // frees the one slot: nothing takes it while stopping
        final StopReport report = stopping.get(30, TimeUnit.SECONDS);

        assertThat(get(first).state()).isEqualTo(SUCCEEDED);
        assertThat(queued).isCompletedExceptionally();         // left PENDING: not an outcome
        assertThatThrownBy(queued::join).hasCauseInstanceOf(TaskUnfinishedException.class);
        assertThat(gated.started).hasValue(1);
        assertThat(report.finishedInTime()).isTrue();
        assertThat(report.pending()).isEqualTo(1);
        assertThat(report.running()).isZero();
        assertThat(report.describe()).isEqualTo("left 0 running, 1 pending, 0 waiting to retry, 0 holding an outcome; they carry on after the next start");

        final TestHandlers.Gated after = new TestHandlers.Gated("gated");
        after.open();
        final Engine reopened = open(b -> b.handler(after));
        assertThat(get(reopened.submit(task("queued", "gated"))).state()).isEqualTo(SUCCEEDED);
        assertThat(after.started).hasValue(1);
    }

    @Test
    void shouldQueueARetryThatFallsDueWhileStoppingInsteadOfStartingIt() throws Exception
    {
        final EngineTest.ManualClock clock = new EngineTest.ManualClock();
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Engine engine = open(b -> b.clock(clock).handler(gated).handler(flaky).closeTimeout(Duration.ofSeconds(30)));
        engine.submit(task("g", "gated").timeoutMillis(600_000));
        engine.submit(task("retry", "flaky").backoff(60_000, 60_000, 1f, 0f));
        await().until(() -> gated.started.get() == 1 && engine.status("retry").join().state() == TaskState.RETRY_WAIT);

        final CompletableFuture<StopReport> stopping = CompletableFuture.supplyAsync(() -> stop(engine));
        awaitStopping(engine);
        final long ticks = count(RecordType.TICK);
        clock.advance(Duration.ofMinutes(2));                // the retry falls due while the gated attempt keeps the engine stopping
        await().until(() -> count(RecordType.TICK) > ticks);
        gated.open();
        final StopReport report = stopping.get(30, TimeUnit.SECONDS);

        assertThat(flaky.attempts).hasValue(1);
        assertThat(report.pending()).isEqualTo(1);
        assertThat(report.retryWaiting()).isZero();
        assertThat(report.running()).isZero();
        assertThat(TaskHistory.of(dir)).replaysDeterministically();
    }

    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void shouldListTheAttemptsStillRunningAtTheDeadlineAndRunThemExactlyOnceAfterTheNextOpen(final int pipelineThreads) throws Exception
    {
        final Stubborn stubborn = new Stubborn(false);
        final Patient patient = new Patient(false);
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Holding holding = new Holding();
        final Engine first = open(b -> b.pipelineThreads(pipelineThreads).handler(stubborn).handler(patient).handler(flaky)
            .handler(holding).blockingPoolThreads(2).closeTimeout(Duration.ofMillis(300)));
        final Map<String, Long> ids = new HashMap<>();
        for (int i = 0; i < 20; i++)
        {
            ids.put("echo-" + i, get(first.submit(task("echo-" + i, "echo"))).taskId());
        }
        final Recorder accepted = new Recorder();
        for (final String key : List.of("stubborn-0", "stubborn-1", "stubborn-2"))
        {
            first.submit(task(key, "stubborn"), accepted);     // two run, the third waits for a thread
        }
        first.submit(task("patient", "patient"), accepted);
        first.submit(task("retry", "flaky").backoff(5_000, 5_000, 1f, 0f), accepted);
        first.submit(task("held", "holding"), accepted);
        await().until(() -> stubborn.runs.size() == 2 && patient.started.get() == 1 && accepted.events.size() == 6);
        await().until(() -> first.status("retry").join().state() == TaskState.RETRY_WAIT &&
            first.status("held").join().state() == TaskState.RUNNING);
        for (final String key : List.of("stubborn-0", "stubborn-1", "stubborn-2", "patient", "retry", "held"))
        {
            ids.put(key, first.status(key).join().taskId());
        }
        final List<String> runningKeys = new ArrayList<>(stubborn.runs.keySet());

        final StopReport report = stop(first);

        assertThat(report.recorded()).isTrue();
        assertThat(report.finishedInTime()).isFalse();
        assertThat(report.running()).isEqualTo(3);
        assertThat(report.pending()).isEqualTo(1);
        assertThat(report.retryWaiting()).isEqualTo(1);
        assertThat(report.held()).isEqualTo(1);
        final List<StopReport.Attempt> expected = new ArrayList<>();
        for (final String key : List.of(runningKeys.get(0), runningKeys.get(1), "patient"))
        {
            expected.add(new StopReport.Attempt(ids.get(key), 1));
        }
        expected.sort((a, b) -> Long.compare(a.taskId(), b.taskId()));
        assertThat(report.interrupted()).containsExactlyElementsOf(expected);
        assertThat(report.describe()).startsWith("left 3 running (interrupted at the deadline: task ")
            .endsWith(", 1 pending, 1 waiting to retry, 1 holding an outcome; they carry on after the next start");
        assertThat(patient.stops).as("the async attempt's stop action ran").hasValue(1);
        await().until(() -> stubborn.interrupted.size() == 2);  // told to stop, and ignoring it
        assertThat(stubborn.finished).hasValue(0);
        stubborn.release.countDown();                          // they finish now: their results are not taken
        await().until(() -> stubborn.finished.get() == 2);

        // the journal ends with the stop record; replaying it gives the same state, twice
        assertThat(lastRecords(1)).containsExactly("ENGINE_STOP stopped");
        final JournalReplay.Report once = JournalReplay.run(JournalReplay.Options.of(dir));
        final JournalReplay.Report twice = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(once.derivedMismatches()).as(once.firstMismatch()).isZero();
        assertThat(once.corrupted()).isFalse();
        assertThat(twice.tasksByState()).isEqualTo(once.tasksByState());
        assertThat(twice.recordsByType()).isEqualTo(once.recordsByType());
        assertThat(twice.pendingTimers()).isEqualTo(once.pendingTimers());
        assertThat(once.tasksByState()).containsEntry(TaskState.PENDING, 4L).containsEntry(TaskState.RETRY_WAIT, 1L)
            .containsEntry(TaskState.RUNNING, 1L);
        assertThat(once.runs()).singleElement().satisfies(run ->
        {
            assertThat(run.ending()).isEqualTo(JournalReplay.Ending.CLEAN);
            assertThat(run.stop()).isEqualTo(report);
            assertThat(run.stopBeganAt()).isEqualTo(report.beganAt());
        });

        // the next engine runs what was left: each interrupted attempt once, under its number
        final EngineTest.ManualClock later = new EngineTest.ManualClock();
        later.advance(Duration.ofSeconds(10));               // the retry and the held outcome are due
        final Stubborn stubborn2 = new Stubborn(true);
        final Patient patient2 = new Patient(true);
        final TestHandlers.Flaky flaky2 = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Engine second = open(b -> b.pipelineThreads(pipelineThreads).clock(later).handler(stubborn2).handler(patient2)
            .handler(flaky2).handler(new Holding()).blockingPoolThreads(2));
        assertThat(second.recovery().previousStop()).isEqualTo(RecoveryReport.PreviousStop.CLEAN);
        assertThat(second.recovery().requeued()).isEqualTo(3);
        assertThat(second.recovery().repairedTail()).isEmpty();
        for (final String key : List.of("stubborn-0", "stubborn-1", "stubborn-2", "patient", "retry", "held"))
        {
            final Outcome outcome = get(second.submit(task(key, "echo")));
            assertThat(outcome.taskId()).as(key).isEqualTo(ids.get(key));
            assertThat(outcome.state()).as(key).isEqualTo(SUCCEEDED);
            assertThat(outcome.attempts()).as(key).isEqualTo(key.equals("retry") ? 2 : 1);
        }
        assertThat(stubborn2.runs).containsOnlyKeys("stubborn-0", "stubborn-1", "stubborn-2");
        assertThat(stubborn2.runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        assertThat(patient2.started).hasValue(1);
        assertThat(flaky2.attempts).hasValue(1);
        final StopReport secondReport = stop(second);
        assertThat(secondReport.nothingLeft()).as(secondReport.describe()).isTrue();

        // every key exactly one outcome in the journal, no result counted twice
        final Map<Long, Integer> successes = new HashMap<>();
        final JournalReplay.Report all = JournalReplay.run(JournalReplay.Options.of(dir).onRecord(record ->
        {
            if (record.type() == RecordType.SUCCEEDED)
            {
                successes.merge(record.succeeded().taskId(), 1, Integer::sum);
            }
        }));
        assertThat(successes).hasSize(26);
        assertThat(successes.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
        assertThat(successes.keySet()).containsAll(ids.values());
        assertThat(all.tasksByState()).containsOnly(Map.entry(SUCCEEDED, 26L));
        assertThat(all.runs()).extracting(JournalReplay.Run::ending).containsExactly(JournalReplay.Ending.CLEAN, JournalReplay.Ending.CLEAN);
        final TaskHistory history = TaskHistory.of(dir);
        assertThat(history).replaysDeterministically();
        assertThat(history).task(ids.get(runningKeys.get(0)))
            .hasStates(TaskState.PENDING, TaskState.RUNNING, TaskState.PENDING, TaskState.RUNNING, SUCCEEDED);
        assertThat(history).task(ids.get("patient"))
            .hasStates(TaskState.PENDING, TaskState.RUNNING, TaskState.PENDING, TaskState.RUNNING, SUCCEEDED);
    }

    /**
     * @return the last records of the journal as "TYPE phase" (ENGINE_STOP) or "TYPE".
     */
    private List<String> lastRecords(final int count)
    {
        final List<String> all = new ArrayList<>();
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record -> all.add(record.type() == RecordType.ENGINE_STOP ?
                "ENGINE_STOP " + EngineStopRecord.phaseName(record.engineStop().phase()) : record.type().name()));
        }
        return all.subList(Math.max(0, all.size() - count), all.size());
    }

    private long count(final RecordType type)
    {
        return JournalReplay.run(JournalReplay.Options.of(dir)).recordsByType().getOrDefault(type, 0L);
    }

    /** BLOCKING: counts runs by payload; waits for {@link #release} (at once when open), ignoring interrupts. */
    static final class Stubborn implements TaskHandler
    {
        final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        final java.util.Set<String> interrupted = ConcurrentHashMap.newKeySet();
        final AtomicInteger finished = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);

        Stubborn(final boolean open)
        {
            if (open)
            {
                release.countDown();
            }
        }

        @Override
        public String type()
        {
            return "stubborn";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context)
        {
            final String key = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            while (true)
            {
                try
                {
                    if (release.await(30, TimeUnit.SECONDS))
                    {
                        break;
                    }
                }
                catch (final InterruptedException ex)
                {
                    interrupted.add(key);                         // and carries on, as a careless handler does
                }
            }
            finished.incrementAndGet();
            context.succeed(key.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** ASYNC: reports at once when {@code answers}, else never; counts its stop actions. */
    static final class Patient implements TaskHandler
    {
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger stops = new AtomicInteger();
        private final boolean answers;

        Patient(final boolean answers)
        {
            this.answers = answers;
        }

        @Override
        public String type()
        {
            return "patient";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.ASYNC;
        }

        @Override
        public void execute(final TaskContext context)
        {
            started.incrementAndGet();
            context.onStop(stops::incrementAndGet);
            if (answers)
            {
                context.succeed("answered".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    /** INLINE: succeeds, holding its outcome until three seconds after it ran. */
    static final class Holding implements TaskHandler
    {
        @Override
        public String type()
        {
            return "holding";
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.holdUntil(System.currentTimeMillis() * 1_000_000L + TimeUnit.SECONDS.toNanos(3));
            context.succeed(0);
        }
    }
}
