package io.gyre.engine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Invariants 2 to 4 across a restart, in process: what was acknowledged and not finished runs again; what
 * finished is answered from the journal and never runs again; a retry waiting at shutdown fires after it
 * with its attempt count intact; replaying a journal twice rebuilds the same state.
 */
class RecoveryTest
{
    @TempDir
    Path dir;

    private final List<Engine> engines = new ArrayList<>();

    @AfterEach
    void closeAll()
    {
        engines.forEach(Engine::close);
    }

    private Engine open(final TaskHandler... handlers)
    {
        return open(null, handlers);
    }

    private Engine open(final org.agrona.concurrent.EpochNanoClock clock, final TaskHandler... handlers)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).closeTimeout(Duration.ofMillis(50));
        if (clock != null)
        {
            builder.clock(clock);
        }
        for (final TaskHandler handler : handlers)
        {
            builder.handler(handler);
        }
        final Engine engine = Engine.open(builder.build());
        engines.add(engine);
        return engine;
    }

    private void close(final Engine engine)
    {
        engines.remove(engine);
        engine.close();
    }

    private static Outcome get(final CompletableFuture<Outcome> future) throws Exception
    {
        return future.get(15, TimeUnit.SECONDS);
    }

    @Test
    void shouldRunAgainAfterRestartEveryAcknowledgedTaskThatHadNoOutcome() throws Exception
    {
        final TestHandlers.Gated stuck = new TestHandlers.Gated("gated");
        final Engine first = open(stuck);
        final List<CompletableFuture<Outcome>> pending = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            pending.add(first.submit(new TaskRequest().key("k" + i).type("gated").payload("p" + i)));
        }
        await().until(() -> stuck.started.get() == 3);
        close(first);                                         // gives up on them after closeTimeout
        stuck.open();

        final TestHandlers.Gated open = new TestHandlers.Gated("gated");
        open.open();
        final Engine second = open(open);
        assertThat(second.recovery().toString()).isNotEmpty();
        for (int i = 0; i < 3; i++)
        {
            final String key = "k" + i;
            await().until(() -> second.status(key).join().state() == TaskState.SUCCEEDED);
            final TaskStatus status = second.status(key).join();
            assertThat(status.outcome().outputAsString()).isEqualTo("p" + i);
        }
        assertThat(open.started).hasValue(3);
        assertThat(get(second.submit(new TaskRequest().key("k1").type("gated").payload("p1"))).duplicate()).isTrue();
        assertThat(open.started).hasValue(3);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void shouldRememberOnlyTheNewestOutcomesALowerLimitAllowsFromTheRestartOn(final boolean snapshots) throws Exception
    {
        final Engine first = Engine.open(EngineConfig.builder(dir).snapshots(snapshots).maxRetainedOutcomes(100).build());
        engines.add(first);
        for (int i = 0; i < 20; i++)
        {
            get(first.submit(new TaskRequest().key("k" + i).type("echo").payload("p" + i)));
        }
        close(first);

        for (int restart = 0; restart < 2; restart++)
        {
            final Engine next = Engine.open(EngineConfig.builder(dir).snapshots(snapshots).maxRetainedOutcomes(5).build());
            engines.add(next);
            for (int i = 0; i < 20; i++)
            {
                assertThat(next.status("k" + i).join().found()).as("restart %d, k%d", restart, i).isEqualTo(i >= 15);
            }
            close(next);
        }
    }

    @Test
    void shouldAnswerAKeyWhoseOutcomeIsJournaledWithThatOutcomeWithoutRunningIt() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 0, true, ExecutionMode.INLINE);
        final Engine first = open(flaky);
        final Outcome original = get(first.submit(new TaskRequest().key("done").type("flaky")));
        assertThat(flaky.attempts).hasValue(1);
        close(first);

        final TestHandlers.Flaky again = new TestHandlers.Flaky("flaky", 0, true, ExecutionMode.INLINE);
        final Engine second = open(again);
        final Outcome answered = get(second.submit(new TaskRequest().key("done").type("flaky")));
        assertThat(answered.duplicate()).isTrue();
        assertThat(answered.taskId()).isEqualTo(original.taskId());
        assertThat(answered.state()).isEqualTo(original.state());
        assertThat(answered.attempts()).isEqualTo(original.attempts());
        assertThat(answered.outputAsString()).isEqualTo(original.outputAsString());
        assertThat(answered.finishedAt()).isEqualTo(original.finishedAt());
        assertThat(again.attempts).hasValue(0);
    }

    @Test
    void shouldJoinTheRecoveredTaskWhenItsKeyIsSubmittedAgainAfterRestart() throws Exception
    {
        final TestHandlers.Gated stuck = new TestHandlers.Gated("gated");
        final Engine first = open(stuck);
        first.submit(new TaskRequest().key("inflight").type("gated").payload("x"));
        await().until(() -> stuck.started.get() == 1);
        close(first);
        stuck.open();

        final TestHandlers.Gated gate = new TestHandlers.Gated("gated");
        final Engine second = open(gate);
        await().until(() -> gate.started.get() == 1);
        final CompletableFuture<Outcome> joined = second.submit(new TaskRequest().key("inflight").type("gated").payload("x"));
        final TaskStatus running = second.status("inflight").join();
        assertThat(running.state()).isEqualTo(TaskState.RUNNING);
        gate.open();
        final Outcome outcome = get(joined);
        assertThat(outcome.taskId()).isEqualTo(running.taskId());
        assertThat(outcome.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(gate.started).hasValue(1);
    }

    @Test
    void shouldFireARetryThatWasWaitingAtShutdownWithItsAttemptsIntact() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Engine first = open(flaky);
        first.submit(new TaskRequest().key("retry").type("flaky").maxAttempts(3).backoff(500, 500, 1f, 0f));
        await().until(() -> first.status("retry").join().state() == TaskState.RETRY_WAIT);
        close(first);

        final TestHandlers.Flaky second = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Engine reopened = open(second);
        assertThat(reopened.status("retry").join().state()).isIn(TaskState.RETRY_WAIT, TaskState.RUNNING, TaskState.SUCCEEDED);
        await().atMost(Duration.ofSeconds(15)).until(() -> reopened.status("retry").join().state() == TaskState.SUCCEEDED);
        final TaskStatus status = reopened.status("retry").join();
        assertThat(status.attempts()).isEqualTo(2);
        assertThat(status.attempts()).isLessThanOrEqualTo(status.maxAttempts());
        assertThat(second.attempts).hasValue(1);            // only attempt 2 ran here (attempt() == 2 succeeds)
    }

    @Test
    void shouldReplayATypesConcurrencyLimitAsTheEngineAppliedIt() throws Exception
    {
        // one attempt of "single" at a time: the second waits PENDING for the slot and is cancelled there; a replay
        // that did not know the limit would start it at once, and derive STARTED where the engine journaled CANCELLED
        final TestHandlers.Gated gated = new TestHandlers.Gated("single", 1);
        final Engine first = open(gated);
        first.submit(new TaskRequest().key("running").type("single"));
        await().until(() -> gated.started.get() == 1);
        first.submit(new TaskRequest().key("waiting").type("single"));
        await().until(() -> first.status("waiting").join().state() == TaskState.PENDING);
        assertThat(first.cancel("waiting").get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.CANCELLED);
        gated.open();
        await().until(() -> first.status("running").join().state() == TaskState.SUCCEEDED);
        close(first);

        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(report.derivedMismatches()).as(String.valueOf(report.firstMismatch())).isZero();
        assertThat(report.corrupted()).isFalse();
        assertThat(report.tasksByState()).containsEntry(TaskState.CANCELLED, 1L).containsEntry(TaskState.SUCCEEDED, 1L);
    }

    @Test
    void shouldReportOnlyTheTimersThatStillApplyAfterAReplay() throws Exception
    {
        // pooled attempts leave their deadline timers behind when they finish (dropped when due): not pending
        final TestHandlers.Flaky quick = new TestHandlers.Flaky("quick", 0, true, ExecutionMode.BLOCKING);
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Engine first = open(quick, flaky);
        for (int i = 0; i < 20; i++)
        {
            assertThat(first.submit(new TaskRequest().key("q-" + i).type("quick").timeoutMillis(600_000)).get(10, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.SUCCEEDED);
        }
        first.submit(new TaskRequest().key("retry").type("flaky").maxAttempts(3).backoff(600_000, 600_000, 1f, 0f));
        await().until(() -> first.status("retry").join().state() == TaskState.RETRY_WAIT);
        close(first);

        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(report.pendingTimers()).as("the retry's timer; not the 20 finished attempts' deadlines").isEqualTo(1);
    }

    @Test
    void shouldRebuildTheSameStateEveryTimeTheJournalIsReplayed() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final Engine first = open(flaky, gated);
        final List<String> keys = new ArrayList<>();
        for (int i = 0; i < 200; i++)
        {
            final String key = "key-" + i;
            keys.add(key);
            final TaskRequest request = new TaskRequest().key(key).payload("v" + i);
            switch (i % 4)
            {
                case 0 -> request.type("echo");
                case 1 -> request.type("flaky").backoff(1, 1, 1f, 0f);
                case 2 -> request.type("noop");
                default -> request.type("flaky").maxAttempts(1);
            }
            first.submit(request);
        }
        first.submit(new TaskRequest().key("held").type("gated"));
        keys.add("held");
        await().until(() -> gated.started.get() == 1 && first.liveTasks() == 1);
        final Map<String, TaskStatus> before = statuses(first, keys);
        close(first);
        gated.open();

        final JournalReplay.Report once = JournalReplay.run(JournalReplay.Options.of(dir));
        final JournalReplay.Report twice = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(twice.recordsByType()).isEqualTo(once.recordsByType());
        assertThat(twice.tasksByState()).isEqualTo(once.tasksByState());
        assertThat(twice.lastEventId()).isEqualTo(once.lastEventId());
        assertThat(twice.pendingTimers()).isEqualTo(once.pendingTimers());
        assertThat(once.derivedMismatches()).isZero();
        assertThat(once.corrupted()).isFalse();

        // an engine opened on the journal sees every finished key exactly as the engine that wrote it did
        final TestHandlers.Gated parked = new TestHandlers.Gated("gated");
        final Engine second = open(new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE), parked);
        final Map<String, TaskStatus> after = statuses(second, keys);
        for (final String key : keys)
        {
            if (key.equals("held"))
            {
                continue;                                     // it runs again after the restart: a new attempt
            }
            assertThat(after.get(key)).as(key).isEqualTo(before.get(key));
        }
        parked.open();
    }

    @Test
    void shouldNotCutARunAfterRestartShortWithTheDeadlineOfTheRunItReplaces() throws Exception
    {
        final TestHandlers.Gated stuck = new TestHandlers.Gated("gated");
        final Engine first = open(stuck);
        first.submit(new TaskRequest().key("slow").type("gated").payload("x").timeoutMillis(30_000));
        await().until(() -> stuck.started.get() == 1);
        close(first);                                         // the attempt is interrupted; its 30 s deadline stays in the journal
        stuck.open();

        // a minute later: the interrupted run's deadline is long past when the attempt runs again
        final EngineTest.ManualClock later = new EngineTest.ManualClock();
        later.advance(Duration.ofMinutes(1));
        final TestHandlers.Gated gate = new TestHandlers.Gated("gated");
        final long ticksBefore = ticks();
        final Engine second = open(later, gate);
        await().until(() -> gate.started.get() == 1);
        await().until(() -> ticks() > ticksBefore);            // the stale deadline was due: a tick fired it
        final TaskStatus running = second.status("slow").join();
        assertThat(running.state()).isEqualTo(TaskState.RUNNING);
        assertThat(running.attempts()).isEqualTo(1);
        gate.open();
        final Outcome outcome = get(second.submit(new TaskRequest().key("slow").type("gated").payload("x")));
        assertThat(outcome.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(outcome.attempts()).isEqualTo(1);
        assertThat(gate.started).hasValue(1);
    }

    private long ticks()
    {
        return JournalReplay.run(JournalReplay.Options.of(dir)).recordsByType().getOrDefault(io.gyre.journal.RecordType.TICK, 0L);
    }

    private static Map<String, TaskStatus> statuses(final Engine engine, final List<String> keys)
    {
        final Map<String, TaskStatus> statuses = new HashMap<>();
        for (final String key : keys)
        {
            statuses.put(key, engine.status(key).join());
        }
        return statuses;
    }
}
