package io.gyre.engine;

import io.gyre.journal.CancelRequestedRecord;
import io.gyre.journal.EngineStartedRecord;
import io.gyre.journal.FailedRecord;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.RecordDescriptor;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.SucceededRecord;
import io.gyre.journal.TransitionRecord;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The order timers fire in when more are due at once than a tick fires, driven record by record from a real journal
 * (as the sequence stage and replay drive the sequencer): high priority first however many are due; journals of
 * engines before {@code timersByPriority} replay as those engines decided; an engine starting on such a journal takes
 * its timers over; and the timers of finished tasks do not pile up.
 */
class SequencerTimerOrderTest
{
    private static final long T0 = 1_763_856_000_000_000_000L;
    private static final long MS = 1_000_000L;
    private static final int INLINE = ExecutionMode.INLINE.code();
    /** Tasks per priority: 60 timers due at once, with a ring of 64 firing 4 a tick and (before) moving 32. */
    private static final int EACH = 20;

    @TempDir
    Path dir;

    private Journal journal;
    private JournalWriter writer;
    private JournalReader lookup;
    private JournalReader feed;
    private Sequencer sequencer;
    private Settings settings;
    /** Whether the ENGINE_STARTED records written carry {@code timersDroppedByLive} (false: as engines before it). */
    private boolean droppedByLive = true;
    private long time = T0;

    @AfterEach
    void close()
    {
        if (journal != null)
        {
            feed.close();
            lookup.close();
            journal.close();
        }
    }

    @Test
    void shouldFireDueTimersHighPriorityFirstHoweverManyAreDue()
    {
        open(true);
        final Map<Long, Integer> priorities = retriesDueAtOnce();
        final List<Long> fired = tickUntilAllFired(priorities.size());

        assertThat(fired.stream().map(priorities::get).toList()).as("priority of each retry started, in order")
            .isEqualTo(expectedByPriority());
        assertThat(fired.subList(0, EACH)).as("within a priority, in the order they were set").isSorted();
        replayMatches();
    }

    @Test
    void shouldReplayAJournalWithoutTheSettingAsItsEngineDecided()
    {
        open(false);
        final Map<Long, Integer> priorities = retriesDueAtOnce();
        final List<Long> fired = tickUntilAllFired(priorities.size());

        // the older engine moved the 32 earliest due (all 20 low, then 12 normal) and fired among those first
        assertThat(fired.subList(0, 4).stream().map(priorities::get).toList()).containsOnly(Priority.NORMAL.code());
        assertThat(fired.stream().map(priorities::get).toList()).isNotEqualTo(expectedByPriority());
        replayMatches();
    }

    @Test
    void shouldTakeOverAnOlderEnginesTimersWhenAnEngineOfThisVersionStarts()
    {
        open(false);
        final Map<Long, Integer> priorities = retriesDueAtOnce();
        tick(5);                                              // not due yet: nothing moved
        engineStarted(true);
        final List<Long> fired = tickUntilAllFired(priorities.size());

        assertThat(fired.stream().map(priorities::get).toList()).isEqualTo(expectedByPriority());
        replayMatches();
    }

    @Test
    void shouldTakeOverTimersAnOlderEngineHadAlreadyMovedAsDue()
    {
        open(false);
        final Map<Long, Integer> priorities = retriesDueAtOnce();
        final List<Long> fired = new ArrayList<>(dispatched(tick(10)));   // moved 32, fired 4 normal
        engineStarted(true);
        fired.addAll(tickUntilAllFired(priorities.size() - fired.size()));

        assertThat(fired).doesNotHaveDuplicates().hasSize(priorities.size());
        assertThat(fired.subList(4, 4 + EACH).stream().map(priorities::get).toList()).as("then every high one")
            .containsOnly(Priority.HIGH.code());
        replayMatches();
    }

    /**
     * A burst of long waits, all cancelled: nothing adds timers after them, so dropping dead timers once they pass twice
     * those kept never happens again; once they pass four times the live tasks (and 4096) it does.
     */
    @Test
    void shouldDropTheTimersOfABurstOfWaitsAllCancelled()
    {
        final int waits = 10_000;
        open(true);
        cancelledBurst(waits);
        assertThat(sequencer.timerEntries()).as("dropped once they passed four times the live tasks and 4096")
            .isLessThanOrEqualTo(4096);
        assertThat(sequencer.timerCount()).isZero();
        // heaps, key buckets, id overflow and free records back near their size before the burst
        assertThat(sequencer.tableCapacity()).as("room left in the tables after the burst").isLessThan(24_000);
        replayMatches();
    }

    @Test
    void shouldReplayAJournalWithoutTheLiveBoundAsItsEngineDecided()
    {
        final int waits = 10_000;
        droppedByLive = false;
        open(true);
        cancelledBurst(waits);
        assertThat(sequencer.timerEntries()).as("dropped once, at the first cancel (past 4096), then kept until due")
            .isEqualTo(waits - 1);
        replayMatches();
    }

    private void cancelledBurst(final int waits)
    {
        for (int i = 0; i < waits; i++)
        {
            final long task = submit("w" + i, Priority.NORMAL.code(), 1);
            heldSucceeded(task, T0 + 3_600_000 * MS);          // a wait of an hour
        }
        assertThat(sequencer.timerEntries()).isEqualTo(waits);
        for (int i = 0; i < waits; i++)
        {
            cancel("w" + i);
        }
        assertThat(sequencer.liveCount()).isZero();
    }

    @Test
    void shouldDropTheTimersOfFinishedTasksOnceTheyPileUp()
    {
        open(true);
        final int waits = 5_000;
        for (int i = 0; i < waits; i++)
        {
            final long task = submit("w" + i, Priority.NORMAL.code(), 1);
            heldSucceeded(task, T0 + 3_600_000 * MS);          // a wait of an hour
            cancel("w" + i);
        }
        final long live = submit("live", Priority.NORMAL.code(), 1);
        heldSucceeded(live, T0 + 7_200_000 * MS);
        assertThat(sequencer.liveCount()).isEqualTo(1);
        assertThat(sequencer.timerEntries()).as("dropped in bulk at the cancel that passed the bound (4096): the rest since")
            .isEqualTo(waits - 4096 + 1);

        tick(1);
        assertThat(sequencer.timerEntries()).as("below the bound again: kept until due or the next bulk drop").isEqualTo(waits - 4096 + 1);
        assertThat(sequencer.timerCount()).as("those that still apply").isEqualTo(1);
        final Sequencer replayed = replayMatches();
        assertThat(replayed.timerEntries()).isEqualTo(waits - 4096 + 1);

        // the dropped waits come due first: a tick looks at eight times its budget of them at most, then the live one
        for (int t = 0; t < 100 && sequencer.liveCount() > 0; t++)
        {
            tick(7_200_000 + t);
        }
        assertThat(sequencer.liveCount()).as("the live wait is released at its time").isZero();
        replayMatches();
    }

    @Test
    void shouldSnapshotTheTimersByPriorityAndFireTheSameAfterARestore()
    {
        open(true);
        final Map<Long, Integer> priorities = retriesDueAtOnce();
        final byte[] state = state(sequencer);
        final Sequencer restored = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        restored.restoreState(new StateReader(new UnsafeBuffer(state)));
        assertThat(state(restored)).isEqualTo(state);

        sequencer = restored;
        final List<Long> fired = tickUntilAllFired(priorities.size());
        assertThat(fired.stream().map(priorities::get).toList()).isEqualTo(expectedByPriority());
    }

    private void open(final boolean timersByPriority)
    {
        journal = Journal.openForAppend(JournalConfig.of(dir.resolve("journal")));
        writer = journal.writer();
        lookup = journal.newReader();
        feed = journal.newReader();
        settings = settings(timersByPriority);
        sequencer = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        engineStarted(timersByPriority);
    }

    private Settings settings(final boolean timersByPriority)
    {
        final Settings current = Settings.of(EngineConfig.builder(Path.of("unused")).discoverHandlers(false).ringSize(64).build());
        final Map<String, Long> values = new LinkedHashMap<>(current.asMap());
        if (!timersByPriority)
        {
            values.remove("timersByPriority");               // as an older engine's ENGINE_STARTED carries them
        }
        if (!timersByPriority || !droppedByLive)
        {
            values.remove("timersDroppedByLive");
        }
        final Settings settings = Settings.fromMap(values, current);
        assertThat(settings.timerFiresPerTick()).isEqualTo(4);
        assertThat(settings.timersByPriority()).isEqualTo(timersByPriority);
        return settings;
    }

    /**
     * Low, then normal, then high priority inline tasks, each failing retryably at the same moment, so their retries
     * all come due at once, 10 ms later.
     *
     * @return each task's priority, by task id.
     */
    private Map<Long, Integer> retriesDueAtOnce()
    {
        final Map<Long, Integer> priorities = new LinkedHashMap<>();
        for (final Priority priority : new Priority[] {Priority.LOW, Priority.NORMAL, Priority.HIGH})
        {
            for (int i = 0; i < EACH; i++)
            {
                priorities.put(submit(priority + "-" + i, priority.code(), 2), priority.code());
            }
        }
        for (final long task : priorities.keySet())
        {
            fail(task);
        }
        return priorities;
    }

    private List<Integer> expectedByPriority()
    {
        final List<Integer> expected = new ArrayList<>();
        for (final Priority priority : new Priority[] {Priority.HIGH, Priority.NORMAL, Priority.LOW})
        {
            for (int i = 0; i < EACH; i++)
            {
                expected.add(priority.code());
            }
        }
        return expected;
    }

    private List<Long> tickUntilAllFired(final int count)
    {
        final List<Long> fired = new ArrayList<>();
        for (int t = 10; fired.size() < count && t < 1_000; t++)
        {
            final List<Long> now = dispatched(tick(t));
            assertThat(now.size()).as("at most timerFiresPerTick a tick").isLessThanOrEqualTo(4);
            fired.addAll(now);
        }
        assertThat(fired).hasSize(count);
        return fired;
    }

    private static List<Long> dispatched(final Effects fx)
    {
        final List<Long> ids = new ArrayList<>();
        for (int i = 0; i < fx.dispatchCount; i++)
        {
            ids.add(fx.dispatchTaskId(i));
        }
        return ids;
    }

    private long submit(final String key, final int priority, final int maxAttempts)
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final byte[] type = "t".getBytes(StandardCharsets.UTF_8);
        final int at = writer.claim(256);
        final SubmittedRecord.Encoder e = new SubmittedRecord.Encoder().wrap(writer.buffer(), at)
            .timeoutMillis(0).maxAttempts(maxAttempts).backoff(10, 1000, 2f, 0f).priority(priority).executionMode(INLINE)
            .taskFlags(0).key(k, 0, k.length).taskType(type, 0, type.length).tenant(new byte[0], 0, 0).payload(new byte[0], 0, 0);
        final long task = append(RecordType.SUBMITTED, e.frameLength());
        apply();
        return task;
    }

    private void fail(final long task)
    {
        final int at = writer.claim(256);
        final FailedRecord.Encoder e = new FailedRecord.Encoder().wrap(writer.buffer(), at)
            .taskId(task).attempt(1).errorKind(FailedRecord.KIND_RETRYABLE).startedAt(time).finishedAt(time).message(new byte[] {'x'}, 0, 1);
        append(RecordType.FAILED, e.frameLength());
        apply();
    }

    private void heldSucceeded(final long task, final long until)
    {
        final int at = writer.claim(256);
        final SucceededRecord.Encoder e = new SucceededRecord.Encoder().wrap(writer.buffer(), at)
            .taskId(task).attempt(1).flags(SucceededRecord.FLAG_HELD).startedAt(time).finishedAt(until).output(new byte[0], 0, 0);
        append(RecordType.SUCCEEDED, e.frameLength());
        apply();
    }

    private void cancel(final String key)
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final int at = writer.claim(256);
        final CancelRequestedRecord.Encoder e = new CancelRequestedRecord.Encoder().wrap(writer.buffer(), at).key(k, 0, k.length);
        append(RecordType.CANCEL_REQUESTED, e.frameLength());
        apply();
    }

    private void engineStarted(final boolean timersByPriority)
    {
        final int at = writer.claim(1024);
        final EngineStartedRecord.Encoder encoder = new EngineStartedRecord.Encoder().wrap(writer.buffer(), at).pid(4242).engineVersion("test");
        settings(timersByPriority).asMap().forEach(encoder::setting);
        append(RecordType.ENGINE_STARTED, encoder.frameLength());
        apply();
    }

    private Effects tick(final long atMillis)
    {
        time = Math.max(time, T0 + atMillis * MS);
        writer.claim(RecordDescriptor.HEADER_LENGTH);
        append(RecordType.TICK, RecordDescriptor.HEADER_LENGTH);
        return apply();
    }

    private long append(final RecordType type, final int frameLength)
    {
        final long eventId = writer.commit(type, 0, time, frameLength);
        writer.flush();
        return eventId;
    }

    /** Apply the record just written, then journal what it derived (as the engine does). */
    private Effects apply()
    {
        final Effects fx = new Effects();
        assertThat(feed.readRecordAt(writer.documentIndex(), writer.lastRecordOffset(), record -> sequencer.apply(record, fx))).isTrue();
        for (int i = 0; i < fx.derivedCount; i++)
        {
            final int at = writer.claim(TransitionRecord.FRAME_LENGTH);
            new TransitionRecord.Encoder().wrap(writer.buffer(), at).taskId(fx.derivedTaskId(i)).attempt(fx.derivedAttempt(i))
                .reason(fx.derivedReason(i)).time(fx.derivedTime(i));
            writer.commit(fx.derivedType(i), RecordDescriptor.FLAG_DERIVED, time, TransitionRecord.FRAME_LENGTH);
            writer.flush();
            assertThat(feed.readRecordAt(writer.documentIndex(), writer.lastRecordOffset(), record -> sequencer.apply(record, new Effects())))
                .isTrue();
        }
        return fx;
    }

    /** A second sequencer fed the whole journal, as an engine opening it would be: it decides every derived record the same. */
    private Sequencer replayMatches()
    {
        final Sequencer replayed = new Sequencer(settings(true), new HandlerRegistry(List.of()), lookup);   // the journal's win
        try (JournalReader all = journal.newReader())
        {
            all.readToEnd(record -> replayed.apply(record, new Effects()));
        }
        assertThat(replayed.derivedMismatches()).as(String.valueOf(replayed.firstMismatch())).isZero();
        assertThat(replayed.derivedVerified()).isPositive();
        assertThat(state(replayed)).as("the same state").isEqualTo(state(sequencer));
        return replayed;
    }

    private static byte[] state(final Sequencer s)
    {
        final StateWriter out = new StateWriter(1024);
        s.writeState(out, true);
        final byte[] bytes = new byte[out.length()];
        out.buffer().getBytes(0, bytes);
        return bytes;
    }
}
