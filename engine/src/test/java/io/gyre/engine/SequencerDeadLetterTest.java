package io.gyre.engine;

import io.gyre.journal.FailedRecord;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.PurgeRequestedRecord;
import io.gyre.journal.RecordDescriptor;
import io.gyre.journal.RecordType;
import io.gyre.journal.RedriveRequestedRecord;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.TransitionRecord;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sequencer's dead-letter decisions, driven record by record from a real journal (as the sequence stage
 * and replay drive it): what a redrive does to the task, its timers and the late result of its old attempt;
 * the limits a redrive checks; and that replaying the same journal rebuilds the same list.
 */
class SequencerDeadLetterTest
{
    private static final long T0 = 1_763_856_000_000_000_000L;
    private static final long MS = 1_000_000L;
    private static final int INLINE = ExecutionMode.INLINE.code();
    private static final int BLOCKING = ExecutionMode.BLOCKING.code();
    private static final Object TARGET = new Object();

    @TempDir
    Path dir;

    private Journal journal;
    private JournalWriter writer;
    private JournalReader lookup;
    private JournalReader feed;
    private Sequencer sequencer;
    private Settings settings;
    private long time = T0;

    @BeforeEach
    void open()
    {
        journal = Journal.openForAppend(JournalConfig.of(dir.resolve("journal")));
        writer = journal.writer();
        lookup = journal.newReader();
        feed = journal.newReader();
        settings = Settings.of(EngineConfig.builder(dir.resolve("unused")).maxDeadLetters(10).build());
        sequencer = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
    }

    @AfterEach
    void close()
    {
        feed.close();
        lookup.close();
        journal.close();
    }

    @Test
    void shouldRedriveIntoRetryWaitWithAFreshBudgetAndIgnoreTheOldAttemptsLateResult()
    {
        final long task = submit("k", BLOCKING, 2, 1000);
        tick(1001);                                           // attempt 1 times out
        assertThat(derivedOf(tick(2000))).as("attempt 2 starts").containsExactly("STARTED/2/0");
        final Effects timedOut = tick(3002);
        assertThat(derivedOf(timedOut)).containsExactly("TIMED_OUT/2/1", "DEAD_LETTERED/2/3");
        assertThat(sequencer.deadLetterCount()).isEqualTo(1);

        final Effects redriven = redrive("k");
        assertThat(redriven.replyReason(0)).isEqualTo(RedriveOutcome.REDRIVEN.code());
        assertThat(redriven.replyTaskId(0)).isEqualTo(task);
        assertThat(redriven.replyState(0)).isEqualTo(TaskState.RETRY_WAIT);
        assertThat(redriven.replyAttempts(0)).isEqualTo(2);
        assertThat(redriven.replyMaxAttempts(0)).isEqualTo(4);
        assertThat(derivedOf(redriven)).containsExactly("RETRY_SCHEDULED/2/3");
        assertThat(redriven.derivedTime(0)).as("due at once").isEqualTo(time);
        assertThat(sequencer.deadLetterCount()).isZero();
        assertThat(sequencer.liveCount()).isEqualTo(1);

        // the stopped attempt 2 reports late: it changes nothing
        fail(task, 2, FailedRecord.KIND_CANCELLED);
        assertThat(sequencer.lateResults()).isEqualTo(1);
        final Effects next = tick(3003);
        assertThat(next.dispatchCount).isEqualTo(1);
        assertThat(next.dispatchAttempt(0)).as("attempts go on from the last one").isEqualTo(3);
        assertThat(derivedOf(next)).containsExactly("STARTED/3/0");

        // attempt 3 fails: attempt 4 is the last of the fresh budget, after the first backoff step again
        final Effects retry = fail(task, 3, FailedRecord.KIND_RETRYABLE);
        assertThat(derivedOf(retry)).containsExactly("RETRY_SCHEDULED/3/1");
        assertThat(retry.derivedTime(0) - time).isEqualTo(10 * MS);
        tick(3100);
        final Effects dead = fail(task, 4, FailedRecord.KIND_RETRYABLE);
        assertThat(derivedOf(dead)).containsExactly("DEAD_LETTERED/4/2");
        assertThat(dump(sequencer)).hasSize(2).first().asString().startsWith("2/" + task + "/");

        assertThat(dump(replay())).isEqualTo(dump(sequencer));
    }

    @Test
    void shouldRefuseARedriveThatWouldPassTheAttemptsLimitAndAllowOneThatReachesIt()
    {
        final long task = submit("k", INLINE, 1000, 0);
        fail(task, 1, FailedRecord.KIND_PERMANENT);
        final List<long[]> entries = new ArrayList<>();
        sequencer.deadLetters().forEach((sequence, taskId, keyHash, submitDocument, submitOffset, failureDocument, failureOffset, reason,
            attempts, submittedAt, deadLetteredAt) -> entries.add(new long[] {sequence, taskId, keyHash, submitDocument, submitOffset,
            failureDocument, failureOffset, reason, attempts, submittedAt, deadLetteredAt}));
        final long[] e = entries.get(0);

        restoreWithAttempts(e, 3096);
        final Effects refused = redrive("k");
        assertThat(refused.replyReason(0)).isEqualTo(RedriveOutcome.ATTEMPTS_LIMIT.code());
        assertThat(refused.replyAttempts(0)).isEqualTo(3096);
        assertThat(refused.replyMaxAttempts(0)).isEqualTo(4096);
        assertThat(refused.derivedCount).isZero();
        assertThat(sequencer.deadLetterCount()).as("nothing changed").isEqualTo(1);
        assertThat(sequencer.liveCount()).isZero();

        restoreWithAttempts(e, 3095);
        final Effects allowed = redrive("k");
        assertThat(allowed.replyReason(0)).isEqualTo(RedriveOutcome.REDRIVEN.code());
        assertThat(allowed.replyMaxAttempts(0)).isEqualTo(Engine.MAX_ATTEMPTS_PER_TASK);
    }

    @Test
    void shouldRefuseARedriveWhoseSubmissionIsNotInTheJournal()
    {
        final byte[] key = "gone".getBytes(StandardCharsets.UTF_8);
        final long hash = KeyHasher.hash(new UnsafeBuffer(key), 0, key.length);
        sequencer.deadLetters().restore(1, 42, hash, 0x7777_0000_0000L, 0, -1, 0, Sequencer.REASON_DEAD_LETTER_TIMED_OUT, 3, T0, T0);

        final Effects refused = redrive("gone");
        assertThat(refused.replyReason(0)).isEqualTo(RedriveOutcome.SUBMISSION_MISSING.code());
        assertThat(refused.replyTaskId(0)).isEqualTo(42);
        assertThat(sequencer.deadLetterCount()).isEqualTo(1);
        assertThat(sequencer.liveCount()).isZero();
    }

    @Test
    void shouldRefuseARedriveAtTheLiveTaskLimitAndChangeNothing()
    {
        settings = Settings.of(EngineConfig.builder(dir.resolve("unused")).maxLiveTasks(1).maxDeadLetters(10).build());
        sequencer = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        final long dead = submit("dead", INLINE, 1, 0);
        fail(dead, 1, FailedRecord.KIND_PERMANENT);
        submit("busy", INLINE, 1, 0);

        final Effects refused = redrive("dead");
        assertThat(refused.replyReason(0)).isEqualTo(RedriveOutcome.CAPACITY.code());
        assertThat(refused.replyState(0)).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(refused.derivedCount).isZero();
        assertThat(sequencer.deadLetterCount()).isEqualTo(1);
        assertThat(sequencer.liveCount()).isEqualTo(1);
        assertThat(dump(replay())).isEqualTo(dump(sequencer));
    }

    /**
     * A refusal at the limit reports the task as STATUS and DLQ_SHOW do: an outside check saw a task of five
     * attempts, dead-lettered after one, reported with max attempts 1.
     */
    @Test
    void shouldReportTheTasksOwnMaxAttemptsWhenARedriveIsRefusedAtTheLiveTaskLimit()
    {
        settings = Settings.of(EngineConfig.builder(dir.resolve("unused")).maxLiveTasks(1).maxDeadLetters(10).build());
        sequencer = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        final long dead = submit("dead", INLINE, 5, 0);
        fail(dead, 1, FailedRecord.KIND_PERMANENT);
        submit("busy", INLINE, 1, 0);

        final Effects refused = redrive("dead");
        assertThat(refused.replyReason(0)).isEqualTo(RedriveOutcome.CAPACITY.code());
        assertThat(refused.replyTaskId(0)).isEqualTo(dead);
        assertThat(refused.replyAttempts(0)).isEqualTo(1);
        assertThat(refused.replyMaxAttempts(0)).isEqualTo(5);
    }

    @Test
    void shouldReportTheSubmissionsMaxAttemptsWhenARedriveIsRefusedAtTheLimitAndTheOutcomeIsForgotten()
    {
        settings = Settings.of(EngineConfig.builder(dir.resolve("unused")).maxLiveTasks(1).maxRetainedOutcomes(0).maxDeadLetters(10)
            .build());
        sequencer = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        final long dead = submit("dead", INLINE, 5, 0);
        fail(dead, 1, FailedRecord.KIND_PERMANENT);
        submit("busy", INLINE, 1, 0);

        final Effects refused = redrive("dead");
        assertThat(refused.replyReason(0)).isEqualTo(RedriveOutcome.CAPACITY.code());
        assertThat(refused.replyAttempts(0)).isEqualTo(1);
        assertThat(refused.replyMaxAttempts(0)).isEqualTo(5);
        assertThat(sequencer.deadLetterCount()).isEqualTo(1);
        assertThat(dump(replay())).isEqualTo(dump(sequencer));
    }

    @Test
    void shouldEndFailedWhenTheListIsFullAndReplayTheSameDecisions()
    {
        settings = Settings.of(EngineConfig.builder(dir.resolve("unused")).maxDeadLetters(2).build());
        sequencer = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        for (int i = 0; i < 3; i++)
        {
            final long task = submit("k" + i, INLINE, 1, 0);
            final Effects failed = fail(task, 1, FailedRecord.KIND_PERMANENT);
            assertThat(derivedOf(failed)).as("task %d", i).containsExactlyElementsOf(i < 2 ? List.of("DEAD_LETTERED/1/1") : List.of());
        }
        assertThat(sequencer.deadLetterCount()).isEqualTo(2);
        assertThat(sequencer.deadLetterOverflows()).isEqualTo(1);
        assertThat(sequencer.countByState()).containsEntry(TaskState.DEAD_LETTERED, 2L).containsEntry(TaskState.FAILED, 1L);

        purge("k0");
        final long task = submit("k3", INLINE, 1, 0);
        assertThat(derivedOf(fail(task, 1, FailedRecord.KIND_RETRYABLE))).as("room again").containsExactly("DEAD_LETTERED/1/2");

        final Sequencer replayed = replay();
        assertThat(dump(replayed)).isEqualTo(dump(sequencer));
        assertThat(replayed.deadLetterOverflows()).isEqualTo(1);
        assertThat(replayed.derivedMismatches()).isZero();
    }

    @Test
    void shouldCountBackoffFromTheLastRedrive()
    {
        final TaskRecord r = new TaskRecord();
        r.reset();
        r.taskId = 9;
        r.backoffInitialMillis = 100;
        r.backoffMaxMillis = 100_000;
        r.backoffMultiplier = 2f;
        r.backoffJitter = 0f;
        r.attempt = 3;
        assertThat(Sequencer.backoffNanos(r)).isEqualTo(400 * MS);
        r.attemptBase = 2;
        assertThat(Sequencer.backoffNanos(r)).as("attempt 3 is the first of a redrive after 2").isEqualTo(100 * MS);
        r.attempt = 5;
        assertThat(Sequencer.backoffNanos(r)).isEqualTo(400 * MS);
    }

    // ------------------------------------------------------------------------------------------------

    private void restoreWithAttempts(final long[] e, final int attempts)
    {
        sequencer.deadLetters().clear();
        sequencer.deadLetters().restore(sequencer.deadLetters().nextSequence(), e[1], e[2], e[3], (int)e[4], e[5], (int)e[6], (int)e[7],
            attempts, e[9], e[10]);
    }

    private long submit(final String key, final int mode, final int maxAttempts, final int timeoutMillis)
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final byte[] type = "t".getBytes(StandardCharsets.UTF_8);
        final int at = writer.claim(256);
        final SubmittedRecord.Encoder e = new SubmittedRecord.Encoder().wrap(writer.buffer(), at)
            .timeoutMillis(timeoutMillis).maxAttempts(maxAttempts).backoff(10, 1000, 2f, 0f).priority(1).executionMode(mode)
            .taskFlags(SubmittedRecord.FLAG_DEAD_LETTER | SubmittedRecord.FLAG_DEAD_LETTER_TIMEOUT)
            .key(k, 0, k.length).taskType(type, 0, type.length).tenant(new byte[0], 0, 0).payload(new byte[0], 0, 0);
        final long task = append(RecordType.SUBMITTED, e.frameLength());
        apply();
        return task;
    }

    private Effects fail(final long task, final int attempt, final int kind)
    {
        final int at = writer.claim(256);
        final FailedRecord.Encoder e = new FailedRecord.Encoder().wrap(writer.buffer(), at)
            .taskId(task).attempt(attempt).errorKind(kind).startedAt(time).finishedAt(time).message(new byte[] {'x'}, 0, 1);
        append(RecordType.FAILED, e.frameLength());
        return apply();
    }

    private Effects tick(final long atMillis)
    {
        time = Math.max(time, T0 + atMillis * MS);
        writer.claim(RecordDescriptor.HEADER_LENGTH);
        append(RecordType.TICK, RecordDescriptor.HEADER_LENGTH);
        return apply();
    }

    private Effects redrive(final String key)
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final int at = writer.claim(256);
        final RedriveRequestedRecord.Encoder e = new RedriveRequestedRecord.Encoder().wrap(writer.buffer(), at).key(k, 0, k.length);
        append(RecordType.REDRIVE_REQUESTED, e.frameLength());
        // as the sequence stage calls it, with somebody to answer
        final Effects fx = new Effects();
        sequencer.redriveRequested(time, new UnsafeBuffer(k), 0, k.length, TARGET, 0, fx);
        journalDerived(fx);
        return fx;
    }

    private void purge(final String key)
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final int at = writer.claim(256);
        final PurgeRequestedRecord.Encoder e = new PurgeRequestedRecord.Encoder().wrap(writer.buffer(), at).key(k, 0, k.length);
        append(RecordType.PURGE_REQUESTED, e.frameLength());
        apply();
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
        journalDerived(fx);
        return fx;
    }

    private void journalDerived(final Effects fx)
    {
        for (int i = 0; i < fx.derivedCount; i++)
        {
            final int at = writer.claim(TransitionRecord.FRAME_LENGTH);
            new TransitionRecord.Encoder().wrap(writer.buffer(), at).taskId(fx.derivedTaskId(i)).attempt(fx.derivedAttempt(i))
                .reason(fx.derivedReason(i)).time(fx.derivedTime(i));
            writer.commit(fx.derivedType(i), RecordDescriptor.FLAG_DERIVED, time, TransitionRecord.FRAME_LENGTH);
            writer.flush();
            final RecordType type = fx.derivedType(i);
            final int index = i;
            assertThat(feed.readRecordAt(writer.documentIndex(), writer.lastRecordOffset(), record -> sequencer.apply(record, new Effects())))
                .as("derived %s %d", type, index).isTrue();
        }
    }

    /** A second sequencer fed the whole journal, as an engine opening it would be. */
    private Sequencer replay()
    {
        final Sequencer replayed = new Sequencer(settings, new HandlerRegistry(List.of()), lookup);
        try (JournalReader all = journal.newReader())
        {
            all.readToEnd(record -> replayed.apply(record, new Effects()));
        }
        assertThat(replayed.derivedMismatches()).as(String.valueOf(replayed.firstMismatch())).isZero();
        return replayed;
    }

    private static List<String> derivedOf(final Effects fx)
    {
        final List<String> derived = new ArrayList<>();
        for (int i = 0; i < fx.derivedCount; i++)
        {
            derived.add(fx.derivedType(i) + "/" + fx.derivedAttempt(i) + "/" + fx.derivedReason(i));
        }
        return derived;
    }

    private static List<String> dump(final Sequencer s)
    {
        final List<String> entries = new ArrayList<>();
        s.deadLetters().forEach((sequence, taskId, keyHash, submitDocument, submitOffset, failureDocument, failureOffset, reason, attempts,
            submittedAt, deadLetteredAt) -> entries.add(sequence + "/" + taskId + "/" + keyHash + "/" + submitDocument + "/" + submitOffset +
            "/" + failureDocument + "/" + failureOffset + "/" + reason + "/" + attempts + "/" + submittedAt + "/" + deadLetteredAt));
        entries.add("next " + s.deadLetters().nextSequence() + ", live " + s.liveCount() + ", timers " + s.timerCount());
        return entries;
    }
}
