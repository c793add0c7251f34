package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.RecordDescriptor;
import io.gyre.journal.RecordType;
import io.gyre.journal.TransitionRecord;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A journal opened by an engine that no longer has the handler of a type in it (a plugin removed): replay rebuilds
 * the state the journal records, whatever handlers are registered. The type's journaled concurrency limit still
 * queues its tasks in the replay as it did when they ran, so every finished task keeps its outcome, no derived
 * record is re-derived differently, and a finished key is answered with its recorded outcome.
 */
class UninstalledTypeReplayTest
{
    private static final String SLOW = "slowc";
    private static final int LIMIT = 2;

    @TempDir
    Path dir;

    private final List<Engine> engines = new ArrayList<>();
    private final EngineTest.ManualClock clock = new EngineTest.ManualClock();

    @AfterEach
    void closeAll()
    {
        engines.forEach(Engine::close);
    }

    private Engine open(final TaskHandler... handlers)
    {
        // four blocking slots, two of them at most for "slowc"; no snapshots: the next engine replays the whole journal
        final EngineConfig.Builder builder = EngineConfig.builder(dir).discoverHandlers(false).snapshots(false).blockingPoolThreads(4)
            .ringSize(1024).timerFiresPerTick(16).closeTimeout(Duration.ofMillis(200)).clock(clock);
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

    @Test
    void shouldKeepEveryFinishedOutcomeWhenTheHandlerOfALimitedPooledTypeIsGone() throws Exception
    {
        final Released slow = new Released(SLOW, LIMIT);
        final TestHandlers.Flaky quick = new TestHandlers.Flaky("quick", 0, true, ExecutionMode.BLOCKING);
        final Engine first = open(slow, quick);
        final List<String> keys = new ArrayList<>();

        // six "slowc" tasks: two run, four queue behind the type's limit (a replay without the limit would run four)
        for (int i = 0; i < 6; i++)
        {
            keys.add("s" + i);
            first.submit(new TaskRequest().key("s" + i).type(SLOW).payload("s" + i).timeoutMillis(60_000).maxAttempts(3));
        }
        await().until(() -> slow.started.get() == LIMIT);
        for (int i = LIMIT; i < 6; i++)
        {
            assertThat(first.status("s" + i).join().state()).isEqualTo(TaskState.PENDING);
        }
        // two pooled tasks of another type take the free blocking slots and finish while "slowc" waits
        for (int i = 0; i < 2; i++)
        {
            keys.add("q" + i);
            assertThat(first.submit(new TaskRequest().key("q" + i).type("quick").payload("q" + i)).get(15, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.SUCCEEDED);
        }

        // 30 s later the first two finish, and the next two start: their 60 s deadlines count from here
        clock.advance(Duration.ofSeconds(30));
        slow.release("s0", "s1");
        await().until(() -> slow.started.get() == 2 * LIMIT);
        // 65 s after the start, a tick (the finished attempts' deadlines) passes the deadlines the first two had: a
        // replay that started every task at once would time out s2 and s3 here, where the engine let them run
        clock.advance(Duration.ofSeconds(35));
        final long tickAfter = clock.nanoTime() - Duration.ofSeconds(1).toNanos();
        await().atMost(Duration.ofSeconds(15)).until(() -> lastTick() >= tickAfter);
        slow.release("s2", "s3");
        await().until(() -> slow.started.get() == 6);
        slow.release("s4", "s5");
        await().until(() -> first.liveTasks() == 0);
        final Map<String, TaskStatus> before = statuses(first, keys);
        for (final String key : keys)
        {
            assertThat(before.get(key).state()).as(key).isEqualTo(TaskState.SUCCEEDED);
            assertThat(before.get(key).attempts()).as(key).isEqualTo(1);
        }
        close(first);

        // the same engine without the "slowc" handler
        final TestHandlers.Flaky quickAgain = new TestHandlers.Flaky("quick", 0, true, ExecutionMode.BLOCKING);
        final Engine second = open(quickAgain);
        assertThat(second.recovery().liveTasks()).as("tasks live after replay").isZero();
        assertThat(second.recovery().requeued()).isZero();
        assertThat(statuses(second, keys)).isEqualTo(before);
        for (final String key : keys)
        {
            // a type no longer installed, resubmitted: answered with its recorded outcome as any other type, nothing run
            final String type = key.startsWith("s") ? SLOW : "quick";
            final Outcome answered = second.submit(new TaskRequest().key(key).type(type).payload(key)).get(15, TimeUnit.SECONDS);
            assertThat(answered.duplicate()).as(key).isTrue();
            assertThat(answered.state()).as(key).isEqualTo(TaskState.SUCCEEDED);
            assertThat(answered.taskId()).as(key).isEqualTo(before.get(key).taskId());
            assertThat(answered.attempts()).as(key).isEqualTo(1);
            assertThat(answered.outputAsString()).as(key).isEqualTo(key.startsWith("s") ? key : "ok after 1");
        }
        // a new key of the uninstalled type: nothing to answer with, and nothing can run it, so refused, not journaled
        final long submittedBefore = submittedRecords();
        final Outcome refused = second.submit(new TaskRequest().key("s-new").type(SLOW).payload("x")).get(15, TimeUnit.SECONDS);
        assertThat(refused.rejected()).isTrue();
        assertThat(refused.rejectReason()).isEqualTo(RejectReason.UNKNOWN_TYPE);
        assertThat(refused.error()).contains("not installed");
        assertThat(second.status("s-new").join().found()).isFalse();
        // a type the journal never held is refused before the engine, as always
        assertThatThrownBy(() -> second.submit(new TaskRequest().key("s-new").type("never").payload("x")))
            .isInstanceOfSatisfying(InvalidTaskException.class, ex -> assertThat(ex.field()).isEqualTo("type"))
            .hasMessageContaining("type=never is not a registered task type");
        assertThat(submittedRecords()).as("submissions journaled for the refused ones").isEqualTo(submittedBefore);
        assertThat(second.liveTasks()).isZero();
        assertThat(quickAgain.attempts).as("a finished task ran again").hasValue(0);
        assertThat(statuses(second, keys)).isEqualTo(before);
        close(second);

        // the journal, with what the second engine added, still replays to one outcome per key
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(report.derivedMismatches()).as(String.valueOf(report.firstMismatch())).isZero();
        assertThat(report.corrupted()).isFalse();
        assertThat(report.tasksByState()).containsOnly(Map.entry(TaskState.SUCCEEDED, (long)keys.size()));

        // and with the handler back, every key is still answered as recorded
        final Engine third = open(new Released(SLOW, LIMIT), new TestHandlers.Flaky("quick", 0, true, ExecutionMode.BLOCKING));
        assertThat(third.recovery().liveTasks()).isZero();
        for (final String key : keys)
        {
            final String type = key.startsWith("s") ? SLOW : "quick";
            final Outcome answered = third.submit(new TaskRequest().key(key).type(type).payload(key)).get(15, TimeUnit.SECONDS);
            assertThat(answered.duplicate()).as(key).isTrue();
            assertThat(answered.state()).as(key).isEqualTo(TaskState.SUCCEEDED);
            assertThat(answered.attempts()).as(key).isEqualTo(1);
            assertThat(answered.taskId()).as(key).isEqualTo(before.get(key).taskId());
        }
    }

    @Test
    void shouldFailTheLiveTasksOfATypeNoLongerInstalledOnlyAfterReplay() throws Exception
    {
        // a task of the type still waiting when its engine stops: the engine without the handler fails it (permanently,
        // so it is dead-lettered and can be redriven once the handler is back), as a task that came after the replay
        final Released slow = new Released(SLOW, 1);
        final Engine first = open(slow);
        first.submit(new TaskRequest().key("done").type(SLOW).payload("done"));
        first.submit(new TaskRequest().key("waiting").type(SLOW).payload("waiting"));
        await().until(() -> slow.started.get() == 1);
        slow.release("done");
        await().until(() -> first.status("done").join().state() == TaskState.SUCCEEDED);
        await().until(() -> slow.started.get() == 2);
        final TaskStatus done = first.status("done").join();
        close(first);                                         // "waiting" is interrupted, to run again
        slow.release("waiting");

        final Engine second = open();
        // submitted again at once: it joins the task (or, should that have failed already, gets its outcome)
        final java.util.concurrent.CompletableFuture<Outcome> again =
            second.submit(new TaskRequest().key("waiting").type(SLOW).payload("waiting"));
        await().until(() -> second.status("waiting").join().state() == TaskState.DEAD_LETTERED);
        final Outcome joined = again.get(15, TimeUnit.SECONDS);
        assertThat(joined.state()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(joined.taskId()).isEqualTo(second.status("waiting").join().taskId());
        final Outcome later = second.submit(new TaskRequest().key("waiting").type(SLOW).payload("waiting")).get(15, TimeUnit.SECONDS);
        assertThat(later.duplicate()).isTrue();
        assertThat(later.state()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(later.error()).contains("no handler is registered");
        assertThat(second.status("done").join()).isEqualTo(done);
        assertThat(second.deadLetters(0, 10).join().letters()).singleElement()
            .satisfies(letter -> assertThat(letter.error()).contains("no handler is registered"));
        close(second);
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(report.derivedMismatches()).as(String.valueOf(report.firstMismatch())).isZero();
        assertThat(report.tasksByState()).containsOnly(Map.entry(TaskState.SUCCEEDED, 1L), Map.entry(TaskState.DEAD_LETTERED, 1L));
    }

    @Test
    void shouldRefuseToOpenWhenReplayReDerivesTheJournalDifferently()
    {
        final Engine first = open();
        first.submit(new TaskRequest().key("k").type("echo").payload("x")).join();
        close(first);
        // a derived record no state machine derives from this journal: a STARTED for a task that never existed
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            final int offset = writer.claim(TransitionRecord.FRAME_LENGTH);
            new TransitionRecord.Encoder().wrap(writer.buffer(), offset).taskId(999).attempt(1).reason(0).time(0);
            writer.commit(RecordType.STARTED, RecordDescriptor.FLAG_DERIVED, clock.nanoTime(), TransitionRecord.FRAME_LENGTH);
            writer.flush();
        }
        final long recordsBefore = JournalReplay.run(JournalReplay.Options.of(dir)).lastEventId();

        assertThatThrownBy(() -> open()).isInstanceOf(JournalCorruptedException.class)
            .hasMessageContaining("re-derived 1 transition").hasMessageContaining("unexpected STARTED for task 999 attempt 1");
        assertThat(JournalReplay.run(JournalReplay.Options.of(dir)).lastEventId()).as("nothing journaled").isEqualTo(recordsBefore);
    }

    @Test
    void shouldRestoreASnapshotWithTheLimitOfATypeNoLongerInstalled() throws Exception
    {
        // one "slowc" attempt at a time: s0 runs, s1 to s3 wait for its slot
        final Released slow = new Released(SLOW, 1);
        final Engine first = open(slow);
        for (int i = 0; i < 3; i++)
        {
            first.submit(new TaskRequest().key("s" + i).type(SLOW).payload("s" + i));
        }
        await().until(() -> slow.started.get() == 1);
        final long cut = first.status("s2").join().taskId();
        // after the cut, one more: it must wait too, behind the restored s0
        first.submit(new TaskRequest().key("s3").type(SLOW).payload("s3"));
        await().until(() -> first.status("s3").join().state() == TaskState.PENDING);
        slow.release("s0", "s1", "s2", "s3");
        await().until(() -> first.liveTasks() == 0);
        close(first);

        // without the handler: the state up to s2's submission, snapshotted and restored, then the rest of the journal
        final EngineConfig without = EngineConfig.builder(dir).discoverHandlers(false).snapshots(false).blockingPoolThreads(4).build();
        final HandlerRegistry registry = new HandlerRegistry(without.handlers());
        try (Journal journal = Journal.openReadOnly(without.journal()); JournalReader lookup = journal.newReader();
             JournalReader head = journal.newReader(); JournalReader tail = journal.newReader())
        {
            final Effects scratch = new Effects();
            final Sequencer before = new Sequencer(Settings.of(without), registry, lookup);
            head.readToEnd(record ->
            {
                if (record.eventId() <= cut)
                {
                    scratch.reset();
                    before.apply(record, scratch);
                }
            });
            assertThat(before.pendingCount()).as("s1 and s2 wait behind the journaled limit").isEqualTo(2);
            final byte[] state = canonical(before);
            final Sequencer restored = new Sequencer(Settings.of(without), registry, lookup);
            final StateReader in = new StateReader(new UnsafeBuffer(state));
            restored.restoreState(in);
            in.expectEnd();
            assertThat(canonical(restored)).isEqualTo(state);
            assertThat(restored.pendingCount()).isEqualTo(2);

            tail.readToEnd(record ->
            {
                if (record.eventId() > cut)
                {
                    scratch.reset();
                    restored.apply(record, scratch);
                }
            });
            assertThat(restored.derivedMismatches()).as(String.valueOf(restored.firstMismatch())).isZero();
            assertThat(restored.derivedVerified()).isPositive();
            assertThat(restored.liveCount()).isZero();
        }
    }

    private static byte[] canonical(final Sequencer sequencer)
    {
        final StateWriter out = new StateWriter(1024);
        sequencer.writeState(out, true);
        final byte[] bytes = new byte[out.length()];
        out.buffer().getBytes(0, bytes);
        return bytes;
    }

    private long submittedRecords()
    {
        final AtomicLong count = new AtomicLong();
        JournalReplay.run(JournalReplay.Options.of(dir).onRecord(record ->
        {
            if (record.type() == RecordType.SUBMITTED)
            {
                count.incrementAndGet();
            }
        }));
        return count.get();
    }

    private long lastTick()
    {
        final AtomicLong last = new AtomicLong(Long.MIN_VALUE);
        JournalReplay.run(JournalReplay.Options.of(dir).onRecord(record ->
        {
            if (record.type() == RecordType.TICK)
            {
                last.set(record.timestamp());
            }
        }));
        return last.get();
    }

    private static Map<String, TaskStatus> statuses(final Engine engine, final List<String> keys)
    {
        final Map<String, TaskStatus> statuses = new LinkedHashMap<>();
        for (final String key : keys)
        {
            statuses.put(key, engine.status(key).join());
        }
        return statuses;
    }

    /** BLOCKING, with a concurrency limit: each task (by its payload) runs until the test releases it, then echoes. */
    static final class Released implements TaskHandler
    {
        final AtomicInteger started = new AtomicInteger();
        private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
        private final String type;
        private final int maxConcurrency;

        Released(final String type, final int maxConcurrency)
        {
            this.type = type;
            this.maxConcurrency = maxConcurrency;
        }

        void release(final String... payloads)
        {
            for (final String payload : payloads)
            {
                gate(payload).countDown();
            }
        }

        private CountDownLatch gate(final String payload)
        {
            return gates.computeIfAbsent(payload, p -> new CountDownLatch(1));
        }

        @Override
        public String type()
        {
            return type;
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public int maxConcurrency()
        {
            return maxConcurrency;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            final byte[] bytes = new byte[context.payloadLength()];
            context.payload().getBytes(0, bytes);
            final String payload = new String(bytes, StandardCharsets.UTF_8);
            started.incrementAndGet();
            if (!gate(payload).await(30, TimeUnit.SECONDS))
            {
                throw TaskFailure.permanent("test gate never opened");
            }
            context.succeed(bytes);
        }
    }
}
