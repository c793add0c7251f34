package io.gyre.engine;

import io.gyre.journal.EngineStartedRecord;
import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.RecordDescriptor;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.SucceededRecord;
import io.gyre.journal.TransitionRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * How replay reads ENGINE_STOP records, on journals written record by record: runs that ended cleanly,
 * crashed, or are still open; attempts a stop record lists go back to PENDING, and a result of one journaled
 * after the stop counts for nothing; a stop record that disagrees with the state machine is a mismatch.
 */
class StopRecordReplayTest
{
    private static final long T0 = 1_763_856_000_000_000_000L;
    private static final long TICK = 1_000_000L;

    @TempDir
    Path dir;

    @Test
    void shouldTellCleanRunsFromCrashedOnesAndInterruptEveryAttemptOnce()
    {
        try (Script script = new Script(dir))
        {
            script.started();                                  // run 1, crashes with task 2 running
            final long task = script.submitted("k", ExecutionMode.BLOCKING);
            script.startedAttempt(task, 1);
            script.started();                                  // run 2 requeues and runs it again, then stops cleanly
            script.startedAttempt(task, 1);
            script.stopping(5_000_000_000L);
            script.stopped(0, 1, 0, 0, task, 1);
            script.succeeded(task, 1);                         // a late result after the stop: changes nothing
            script.started();                                  // run 3 runs it again: its result counts
            script.startedAttempt(task, 1);
            script.succeeded(task, 1);
        }

        final List<TaskState> states = new ArrayList<>();
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir)
            .onTransition((taskId, from, to, attempt, timestamp) -> states.add(to)));
        assertThat(report.derivedMismatches()).as(report.firstMismatch()).isZero();
        assertThat(report.corrupted()).isFalse();
        assertThat(states).containsExactly(PENDING, RUNNING, PENDING, RUNNING, PENDING, RUNNING, SUCCEEDED);
        assertThat(report.tasksByState()).containsOnly(Map.entry(SUCCEEDED, 1L));

        assertThat(report.runs()).extracting(JournalReplay.Run::ending)
            .containsExactly(JournalReplay.Ending.CRASH, JournalReplay.Ending.CLEAN, JournalReplay.Ending.OPEN);
        final JournalReplay.Run clean = report.runs().get(1);
        assertThat(clean.pid()).isEqualTo(4242);
        assertThat(clean.stopBeganAt()).isEqualTo(clean.stop().beganAt());
        assertThat(clean.stop().deadline() - clean.stop().beganAt()).isEqualTo(5_000_000_000L);
        assertThat(clean.stop().interrupted()).containsExactly(new StopReport.Attempt(2, 1));
        assertThat(clean.stop().running()).isEqualTo(1);
        assertThat(report.runs().get(0).stop()).isNull();
        assertThat(report.runs().get(0).followed()).isTrue();
        assertThat(report.runs().get(2).followed()).isFalse();
    }

    /**
     * After a crash, the attempt that was running goes back ahead of the tasks that waited behind it (engines since
     * {@code requeueFirst}); journals written before that setting existed requeued it behind them, and replay as decided.
     */
    @Test
    void shouldRequeueAnInterruptedAttemptFirstOnlyWhereTheJournalSaysSo()
    {
        for (final boolean first : new boolean[] {true, false})
        {
            final Path journal = dir.resolve("requeue-" + first);
            final Map<String, Long> settings = new java.util.LinkedHashMap<>(
                Settings.of(EngineConfig.builder(Path.of("unused")).discoverHandlers(false).blockingPoolThreads(1).blockingPoolQueue(0).build())
                    .asMap());
            if (!first)
            {
                settings.remove("requeueFirst");
            }
            try (Script script = new Script(journal))
            {
                script.started(settings);                      // run 1: A runs on the only slot, B and C wait; it crashes
                final long a = script.submitted("a", ExecutionMode.BLOCKING);
                script.startedAttempt(a, 1);
                final long b = script.submitted("b", ExecutionMode.BLOCKING);
                script.submitted("c", ExecutionMode.BLOCKING);
                script.started(settings);                      // run 2 starts A again first, or B
                script.startedAttempt(first ? a : b, 1);
            }
            final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(journal));
            assertThat(report.derivedMismatches()).as(first + ": " + report.firstMismatch()).isZero();
            assertThat(report.tasksByState()).containsOnly(Map.entry(RUNNING, 1L), Map.entry(PENDING, 2L));
        }
    }

    @Test
    void shouldKeepAnAttemptPendingWhenItsResultComesAfterTheStopRecord()
    {
        try (Script script = new Script(dir))
        {
            script.started();
            final long task = script.submitted("k", ExecutionMode.BLOCKING);
            script.startedAttempt(task, 1);
            script.stopping(1_000_000_000L);
            script.stopped(0, 1, 0, 0, task, 1);
            script.succeeded(task, 1);
        }
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(report.derivedMismatches()).isZero();
        assertThat(report.tasksByState()).containsOnly(Map.entry(PENDING, 1L));
        assertThat(report.runs()).singleElement().satisfies(run -> assertThat(run.ending()).isEqualTo(JournalReplay.Ending.CLEAN));
    }

    @Test
    void shouldReportAStopRecordListingAnAttemptThatIsNotRunningAsAMismatch()
    {
        try (Script script = new Script(dir))
        {
            script.started();
            script.submitted("k", ExecutionMode.INLINE);       // waits for nothing: it runs inline, and has no result yet
            script.stopping(1_000_000_000L);
            script.stopped(0, 0, 0, 0, 99, 1);
        }
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir));
        assertThat(report.derivedMismatches()).isEqualTo(2);
        assertThat(report.firstMismatch()).isEqualTo("stop record leaves 0 pending, 0 running, 0 waiting to retry, 0 held " +
            "where the state machine has 0, 1, 0, 0");
        assertThat(report.corrupted()).isTrue();
    }

    @Test
    void shouldStartNothingBetweenTheStopRecordsAndTheNextStart()
    {
        try (Script script = new Script(dir))
        {
            script.started();
            script.stopping(1_000_000_000L);
            final long task = script.submitted("k", ExecutionMode.BLOCKING); // cannot happen live; replay decides as the live engine would
            script.stopped(1, 0, 0, 0, -1, 0);
            script.started();
            script.startedAttempt(task, 1);
        }
        final List<TaskState> states = new ArrayList<>();
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir)
            .onTransition((taskId, from, to, attempt, timestamp) -> states.add(to)));
        assertThat(report.derivedMismatches()).as(report.firstMismatch()).isZero();
        assertThat(states).containsExactly(PENDING, RUNNING);
    }

    /**
     * Writes a journal record by record, as an engine would have, one document per record.
     */
    private static final class Script implements AutoCloseable
    {
        private final Journal journal;
        private final JournalWriter writer;
        private long time = T0;
        private long stopBeganAt;
        private long stopDeadline;

        Script(final Path dir)
        {
            journal = Journal.openForAppend(JournalConfig.of(dir));
            writer = journal.writer();
        }

        void started()
        {
            started(Settings.of(EngineConfig.builder(Path.of("unused")).discoverHandlers(false).build()).asMap());
        }

        /** An ENGINE_STARTED carrying these settings (as an older engine's would, without the ones it did not know). */
        void started(final Map<String, Long> settings)
        {
            final int offset = writer.claim(1024);
            final EngineStartedRecord.Encoder encoder = new EngineStartedRecord.Encoder().wrap(writer.buffer(), offset)
                .pid(4242).engineVersion("test");
            settings.forEach(encoder::setting);
            commit(RecordType.ENGINE_STARTED, 0, encoder.frameLength());
        }

        long submitted(final String key, final ExecutionMode mode)
        {
            final byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
            final byte[] type = "work".getBytes(StandardCharsets.UTF_8);
            final int offset = writer.claim(1024);
            final SubmittedRecord.Encoder encoder = new SubmittedRecord.Encoder().wrap(writer.buffer(), offset)
                .timeoutMillis(0).maxAttempts(3).backoff(100, 1000, 2f, 0f).priority(1).executionMode(mode.code()).taskFlags(0)
                .key(bytes, 0, bytes.length).taskType(type, 0, type.length).tenant(new byte[0], 0, 0).payload(new byte[0], 0, 0);
            return commit(RecordType.SUBMITTED, 0, encoder.frameLength());
        }

        void startedAttempt(final long taskId, final int attempt)
        {
            final int offset = writer.claim(TransitionRecord.FRAME_LENGTH);
            new TransitionRecord.Encoder().wrap(writer.buffer(), offset).taskId(taskId).attempt(attempt).reason(0).time(0);
            commit(RecordType.STARTED, RecordDescriptor.FLAG_DERIVED, TransitionRecord.FRAME_LENGTH);
        }

        void succeeded(final long taskId, final int attempt)
        {
            final int offset = writer.claim(1024);
            final SucceededRecord.Encoder encoder = new SucceededRecord.Encoder().wrap(writer.buffer(), offset)
                .taskId(taskId).attempt(attempt).startedAt(time).finishedAt(time + 1).output(new byte[0], 0, 0);
            commit(RecordType.SUCCEEDED, 0, encoder.frameLength());
        }

        void stopping(final long timeoutNanos)
        {
            stopBeganAt = time + TICK;                       // the time commit stamps it with
            stopDeadline = stopBeganAt + timeoutNanos;
            final int offset = writer.claim(EngineStopRecord.frameLength(0));
            final EngineStopRecord.Encoder encoder = new EngineStopRecord.Encoder().wrap(writer.buffer(), offset)
                .phase(EngineStopRecord.PHASE_STOPPING).beganAt(stopBeganAt).deadline(stopDeadline);
            commit(RecordType.ENGINE_STOP, 0, encoder.frameLength());
        }

        /**
         * @param listedTaskId the one attempt listed, or -1 for none.
         */
        void stopped(final int pending, final int running, final int retryWaiting, final int held, final long listedTaskId, final int attempt)
        {
            final int offset = writer.claim(EngineStopRecord.frameLength(1));
            final EngineStopRecord.Encoder encoder = new EngineStopRecord.Encoder().wrap(writer.buffer(), offset)
                .phase(EngineStopRecord.PHASE_STOPPED).beganAt(stopBeganAt).deadline(stopDeadline)
                .left(pending, running, retryWaiting, held);
            if (listedTaskId >= 0)
            {
                encoder.listed(listedTaskId, attempt);
            }
            commit(RecordType.ENGINE_STOP, 0, encoder.frameLength());
        }

        private long commit(final RecordType type, final int flags, final int frameLength)
        {
            time += TICK;
            final long eventId = writer.commit(type, flags, time, frameLength);
            writer.flush();
            return eventId;
        }

        @Override
        public void close()
        {
            journal.close();
        }
    }
}
