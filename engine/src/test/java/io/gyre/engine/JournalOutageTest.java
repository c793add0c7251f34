package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The journal cannot be written for a while (the writer's fault seam fails every write, as a full disk
 * does): the engine refuses submissions and cancels with JOURNAL_UNAVAILABLE and the journal's error, says it
 * is not ready, keeps the results of attempts that finish meanwhile, and resumes by itself when writes
 * succeed again: every acknowledged task ends with exactly one outcome, timers due meanwhile fire after, and
 * the journal replays to the same state.
 */
class JournalOutageTest extends EngineTestSupport
{
    private static final String DISK_FULL = "No space left on device (injected)";

    @ParameterizedTest(name = "pipelineThreads={0}")
    @ValueSource(ints = {1, 2, 4})
    void shouldRefuseWhileDownKeepResultsAndResumeByItself(final int pipelineThreads) throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final TestHandlers.Stuck stuck = new TestHandlers.Stuck(1);
        open(b -> b.pipelineThreads(pipelineThreads).handler(gated).handler(flaky).handler(stuck));
        final JournalFaults faults = JournalFaults.install(engine);
        assertThat(engine.health().ready()).isTrue();

        // before: acknowledged and finished; and some still running when the journal goes
        for (int i = 0; i < 10; i++)
        {
            assertThat(get(engine.submit(new TaskRequest().key("before-" + i).type("echo").payload("b" + i))).state())
                .isEqualTo(TaskState.SUCCEEDED);
        }
        final List<CompletableFuture<Outcome>> running = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            running.add(engine.submit(new TaskRequest().key("gated-" + i).type("gated").payload("g" + i)));
        }
        await().until(() -> gated.started.get() == 3);
        final CompletableFuture<Outcome> retried = engine.submit(new TaskRequest().key("flaky").type("flaky").backoff(300, 300, 1f, 0f));
        final CompletableFuture<Outcome> timesOut = engine.submit(new TaskRequest().key("stuck").type("stuck").timeoutMillis(200)
            .maxAttempts(2).backoff(50, 50, 1f, 0f));
        await().until(() -> flaky.attempts.get() == 1 && stuck.attempts.get() == 1);

        // during: nothing is acknowledged; the refusal says why
        faults.fail(DISK_FULL);
        for (int i = 0; i < 5; i++)
        {
            final Outcome refused = get(engine.submit(new TaskRequest().key("during-" + i).type("echo").payload("d" + i)));
            assertThat(refused.rejectReason()).isEqualTo(RejectReason.JOURNAL_UNAVAILABLE);
            assertThat(refused.error()).contains(DISK_FULL).contains("retry later");
        }
        assertThat(engine.health().state()).isEqualTo(EngineHealth.State.JOURNAL_UNAVAILABLE);
        assertThat(engine.health().ready()).isFalse();
        assertThat(engine.health().reason()).contains(DISK_FULL);
        assertThatThrownBy(() -> engine.cancel("gated-0").get(15, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(RequestRefusedException.class)
            .hasMessageContaining("JOURNAL_UNAVAILABLE")
            .hasMessageContaining(DISK_FULL);
        // dead-letter requests are journaled too: refused alike, and saying why
        for (final CompletableFuture<?> request : List.of(engine.redrive("gated-0"), engine.purgeDeadLetter("gated-0"), engine.purgeDeadLetters()))
        {
            assertThatThrownBy(() -> request.get(15, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(RequestRefusedException.class)
                .hasMessageContaining("JOURNAL_UNAVAILABLE")
                .hasMessageContaining(DISK_FULL);
        }

        // the gated attempts finish while the journal is down: their results are kept, not lost, not applied;
        // the retry and the timeout come due meanwhile and wait for the journal
        gated.open();
        await().until(() -> gated.finished.get() == 3);
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5))
            .until(() -> running.stream().noneMatch(CompletableFuture::isDone) && !retried.isDone() && !timesOut.isDone());
        assertThat(engine.status("gated-0").get(15, TimeUnit.SECONDS).state()).isEqualTo(TaskState.RUNNING);
        assertThat(engine.health().ready()).isFalse();

        // after: it resumes by itself
        faults.heal();
        await().until(() -> engine.health().ready());
        for (int i = 0; i < 3; i++)
        {
            final Outcome outcome = get(running.get(i));
            assertThat(outcome.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(outcome.outputAsString()).isEqualTo("g" + i);
            assertThat(outcome.attempts()).isEqualTo(1);
        }
        assertThat(get(retried).state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(get(retried).attempts()).isEqualTo(2);
        assertThat(get(timesOut).state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(get(timesOut).outputAsString()).isEqualTo("finally");
        assertThat(get(timesOut).attempts()).isEqualTo(2);
        for (int i = 0; i < 10; i++)
        {
            assertThat(get(engine.submit(new TaskRequest().key("after-" + i).type("echo").payload("a" + i))).state())
                .isEqualTo(TaskState.SUCCEEDED);
        }
        for (int i = 0; i < 5; i++)
        {
            assertThat(engine.status("during-" + i).get(15, TimeUnit.SECONDS).found()).as("refused, so never accepted").isFalse();
        }
        assertThat(gated.started.get()).as("kept results: no attempt ran twice").isEqualTo(3);
        assertThat(engine.stageFailures()).isZero();

        // the journal tells the same story, once per task, and says there was an outage
        final long gatedTask = get(running.get(0)).taskId();
        final TaskHistory history = closeAndReplay();
        assertThat(history.report().corrupted()).as(String.valueOf(history.report().firstMismatch())).isFalse();
        assertThat(history.report().derivedMismatches()).isZero();
        assertThat(history.report().recordsByType().get(RecordType.JOURNAL_OUTAGE)).isEqualTo(1L);
        assertThat(history).task(gatedTask).hasStates(TaskState.PENDING, TaskState.RUNNING, TaskState.SUCCEEDED);

        // and a restart after the outage replays to the same state
        final TestHandlers.Gated again = new TestHandlers.Gated("gated");
        again.open();
        open(b -> b.pipelineThreads(pipelineThreads).handler(again).handler(flaky).handler(stuck));
        assertThat(engine.recovery().liveTasks()).isZero();
        final Outcome duplicate = get(engine.submit(new TaskRequest().key("gated-1").type("gated")));
        assertThat(duplicate.duplicate()).isTrue();
        assertThat(duplicate.outputAsString()).isEqualTo("g1");
        assertThat(again.started.get()).isZero();
        assertThat(engine.status("during-0").get(15, TimeUnit.SECONDS).found()).isFalse();
    }

    @Test
    void shouldGiveEveryAcknowledgedKeyExactlyOneOutcomeThroughRepeatedOutagesUnderLoad() throws Exception
    {
        final TestHandlers.Flaky blocking = new TestHandlers.Flaky("pool", 0, true, ExecutionMode.BLOCKING);
        open(b -> b.handler(blocking).defaultBackoff(5, 20, 2f, 0f));
        final JournalFaults faults = JournalFaults.install(engine);
        final Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();
        final Map<String, List<Outcome>> outcomes = new ConcurrentHashMap<>();
        final AtomicInteger refused = new AtomicInteger();
        final Thread toggler = new Thread(() ->
        {
            for (int round = 0; round < 4; round++)
            {
                sleep(60);
                faults.fail("Input/output error (injected, round " + round + ")");
                sleep(80);
                faults.heal();
            }
        }, "toggler");
        toggler.start();
        int submitted = 0;
        while (toggler.isAlive() || submitted < 2000)
        {
            final String key = "k" + submitted;
            final String type = submitted % 4 == 0 ? "pool" : "echo";
            engine.submit(new TaskRequest().key(key).type(type).payload("v" + submitted), new OutcomeListener()
            {
                @Override
                public void onAccepted(final long correlationId, final long taskId)
                {
                    accepted.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                }

                @Override
                public void onOutcome(final TaskOutcome outcome)
                {
                    if (outcome.rejected())
                    {
                        assertThat(outcome.rejectReason()).isEqualTo(RejectReason.JOURNAL_UNAVAILABLE);
                        refused.incrementAndGet();
                    }
                    outcomes.computeIfAbsent(key, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(outcome.toOutcome());
                }
            });
            submitted++;
            if (submitted % 50 == 0)
            {
                sleep(1);
            }
        }
        toggler.join();
        final int total = submitted;
        await().atMost(Duration.ofSeconds(30)).until(() -> outcomes.size() == total && engine.health().ready());
        assertThat(faults.injected()).as("the faults were hit").isPositive();
        assertThat(refused.get()).as("some submissions met an outage").isPositive();
        for (int i = 0; i < total; i++)
        {
            final String key = "k" + i;
            final List<Outcome> heard = outcomes.get(key);
            assertThat(heard).as(key).hasSize(1);
            if (heard.get(0).rejected())
            {
                assertThat(accepted).as(key + " was refused, so never acknowledged").doesNotContainKey(key);
            }
            else
            {
                assertThat(accepted.get(key).get()).as(key).isEqualTo(1);
                assertThat(heard.get(0).state()).as(key).isEqualTo(TaskState.SUCCEEDED);
                assertThat(heard.get(0).outputAsString()).as(key).isEqualTo(key.startsWith("k") && i % 4 == 0 ? "ok after 1" : "v" + i);
            }
        }
        assertThat(engine.stageFailures()).isZero();
        final TaskHistory history = closeAndReplay();
        assertThat(history.report().corrupted()).as(String.valueOf(history.report().firstMismatch())).isFalse();
        assertThat(history.report().tasksByState().get(TaskState.SUCCEEDED)).isEqualTo((long)accepted.size());
        history.all().forEach((task, states) -> assertThat(states).as("task " + task).containsOnlyOnce(TaskState.SUCCEEDED));
    }

    @Test
    void shouldStopCleanlyWhenTheOutageLastsLongerThanConfigured() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(gated).stopAfterJournalOutage(Duration.ofMillis(300)).closeTimeout(Duration.ofMillis(200)));
        final JournalFaults faults = JournalFaults.install(engine);
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("held").type("gated").payload("x"));
        await().until(() -> gated.started.get() == 1);
        faults.fail(DISK_FULL);
        assertThat(get(engine.submit(new TaskRequest().key("refused").type("echo"))).rejectReason())
            .isEqualTo(RejectReason.JOURNAL_UNAVAILABLE);
        gated.open();

        final EngineHealth last = engine.closed().get(15, TimeUnit.SECONDS);
        assertThat(last.state()).isEqualTo(EngineHealth.State.STOPPED);
        assertThat(last.reason()).contains("stopAfterJournalOutage").contains(DISK_FULL);
        assertThat(engine.health()).isEqualTo(last);
        assertThatThrownBy(() -> engine.submit(new TaskRequest().key("late").type("echo"))).isInstanceOf(EngineClosedException.class);
        // its result could not be journaled: it runs again after a restart, and the stop says so (not a final state)
        assertThat(running).isCompletedExceptionally();
        assertThatThrownBy(running::join).cause().isInstanceOfSatisfying(TaskUnfinishedException.class, ex ->
        {
            assertThat(ex.key()).isEqualTo("held");
            assertThat(ex.state()).isEqualTo(TaskState.RUNNING);
        });
        final StopReport stop = engine.stop();
        assertThat(stop.recorded()).isFalse();
        assertThat(stop.describe()).startsWith("no stop record: the journal could not write it, so the next start treats this stop as a crash");

        // the disk is freed and the engine restarted: the acknowledged task runs again and ends once
        engine.close();
        final TestHandlers.Gated again = new TestHandlers.Gated("gated");
        again.open();
        open(b -> b.handler(again));
        assertThat(engine.recovery().requeued()).isEqualTo(1);
        final Outcome outcome = get(engine.submit(new TaskRequest().key("held").type("gated")));
        assertThat(outcome.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(outcome.outputAsString()).isEqualTo("x");
        assertThat(engine.status("refused").get(15, TimeUnit.SECONDS).found()).isFalse();
        final TaskHistory history = closeAndReplay();
        assertThat(history.report().corrupted()).as(String.valueOf(history.report().firstMismatch())).isFalse();
    }

    @Test
    void shouldNameTheBadOutageSettings()
    {
        assertThatThrownBy(() -> EngineConfig.builder(dir).stopAfterJournalOutage(Duration.ZERO).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("stopAfterJournalOutage=PT0S must be more than 0 and at most 365 days (or unset: wait for the journal)");
        assertThatThrownBy(() -> EngineConfig.builder(dir).journalMinFreeBytes(1000).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("journalMinFreeBytes=1000 must be in [1048576, 2^40]");
    }

    private static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
