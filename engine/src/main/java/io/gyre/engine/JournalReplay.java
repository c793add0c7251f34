package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalProblem;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Replays a journal, read only, through the engine's state machine, to inspect it: what records it holds,
 * what state every task ends in, whether the state machine re-derives the transitions it recorded, and
 * what is damaged. It changes nothing, so it can run while an engine has the journal open.
 */
public final class JournalReplay
{
    private JournalReplay()
    {
    }

    /**
     * What to replay and what to watch.
     *
     * @param directory the journal directory.
     * @param rollCycle its roll cycle name.
     * @param fromIndex a document index to start at, or -1 for the start (from elsewhere, tasks submitted
     *     before it are unknown, so their later records change nothing).
     * @param onRecord called with each record (for printing), or null.
     * @param onTransition called with each lifecycle move, or null.
     * @param onProgress called every {@code progressEvery} records with the count so far, or null.
     * @param progressEvery how often to report progress.
     */
    public record Options(
        Path directory,
        String rollCycle,
        long fromIndex,
        Consumer<RecordView> onRecord,
        TransitionObserver onTransition,
        Consumer<Progress> onProgress,
        long progressEvery)
    {
        public static Options of(final Path directory)
        {
            return new Options(directory, JournalConfig.DEFAULT_ROLL_CYCLE, -1, null, null, null, 1_000_000);
        }

        public Options withRollCycle(final String value)
        {
            return new Options(directory, value, fromIndex, onRecord, onTransition, onProgress, progressEvery);
        }

        public Options from(final long index)
        {
            return new Options(directory, rollCycle, index, onRecord, onTransition, onProgress, progressEvery);
        }

        public Options onRecord(final Consumer<RecordView> value)
        {
            return new Options(directory, rollCycle, fromIndex, value, onTransition, onProgress, progressEvery);
        }

        public Options onTransition(final TransitionObserver value)
        {
            return new Options(directory, rollCycle, fromIndex, onRecord, value, onProgress, progressEvery);
        }

        public Options onProgress(final Consumer<Progress> value, final long every)
        {
            return new Options(directory, rollCycle, fromIndex, onRecord, onTransition, value, every);
        }
    }

    /**
     * How far a replay has got.
     *
     * @param records records read so far.
     * @param lastIndex the last document index read.
     * @param lastTimestamp the timestamp of the last record read.
     * @param journalLastIndex the journal's last document index when the replay started.
     */
    public record Progress(long records, long lastIndex, long lastTimestamp, long journalLastIndex)
    {
    }

    /**
     * What a replay found.
     *
     * @param recordsByType how many records of each type.
     * @param tasksByState how many known tasks end in each state.
     * @param records records read.
     * @param documents documents read.
     * @param firstIndex first document index read (or -1 when none).
     * @param lastIndex last document index read (or -1).
     * @param firstTimestamp timestamp of the first record (or 0).
     * @param lastTimestamp timestamp of the last record (or 0).
     * @param firstEventId event id of the first record (or -1).
     * @param lastEventId event id of the last record (or -1).
     * @param problems torn tails and corruption found.
     * @param derivedVerified derived records re-derived identically.
     * @param derivedMismatches derived records re-derived differently (or not at all).
     * @param firstMismatch a description of the first mismatch, or null.
     * @param pendingTimers timers pending at the end.
     * @param replayNanos how long the replay took.
     * @param deadLetters entries in the dead-letter list at the end.
     */
    public record Report(
        Map<RecordType, Long> recordsByType,
        Map<TaskState, Long> tasksByState,
        long records,
        long documents,
        long firstIndex,
        long lastIndex,
        long firstTimestamp,
        long lastTimestamp,
        long firstEventId,
        long lastEventId,
        List<JournalProblem> problems,
        long derivedVerified,
        long derivedMismatches,
        String firstMismatch,
        int pendingTimers,
        long replayNanos,
        int deadLetters)
    {
        /**
         * @return true when the journal holds damage beyond a torn tail, or the state machine disagrees with it.
         */
        public boolean corrupted()
        {
            return derivedMismatches > 0 || problems.stream().anyMatch(p -> p.kind() == JournalProblem.Kind.CORRUPTION);
        }
    }

    /**
     * Replay a journal as the options say.
     *
     * @throws io.gyre.journal.JournalException when there is no journal there.
     */
    public static Report run(final Options options)
    {
        final JournalConfig config = JournalConfig.of(options.directory()).withRollCycle(options.rollCycle());
        final EngineConfig defaults = EngineConfig.builder(options.directory()).rollCycle(options.rollCycle()).build();
        try (Journal journal = Journal.openReadOnly(config);
             JournalReader lookup = journal.newReader();
             JournalReader reader = journal.newReader())
        {
            final Sequencer sequencer = new Sequencer(Settings.of(defaults), new HandlerRegistry(List.of()), lookup);
            sequencer.observer(options.onTransition());
            if (options.fromIndex() >= 0 && !reader.moveToIndex(options.fromIndex()))
            {
                throw new IllegalArgumentException("index=0x" + Long.toHexString(options.fromIndex()) + " is not in the journal");
            }
            final long journalLastIndex = journal.lastIndex();
            final Map<RecordType, Long> byType = new EnumMap<>(RecordType.class);
            final long[] first = {-1, 0, -1};
            final long[] last = {-1, 0, -1};
            final long start = System.nanoTime();
            final Effects scratch = new Effects();
            final long every = Math.max(1, options.progressEvery());
            reader.readToEnd(record ->
            {
                if (first[0] < 0)
                {
                    first[0] = record.documentIndex();
                    first[1] = record.timestamp();
                    first[2] = record.eventId();
                }
                last[0] = record.documentIndex();
                last[1] = record.timestamp();
                last[2] = record.eventId();
                byType.merge(record.type(), 1L, Long::sum);
                if (options.onRecord() != null)
                {
                    options.onRecord().accept(record);
                }
                scratch.reset();
                sequencer.apply(record, scratch);
                if (options.onProgress() != null && reader.recordsRead() % every == 0)
                {
                    options.onProgress().accept(new Progress(reader.recordsRead(), record.documentIndex(), record.timestamp(), journalLastIndex));
                }
            });
            return new Report(
                Collections.unmodifiableMap(byType),
                Collections.unmodifiableMap(sequencer.countByState()),
                reader.recordsRead(),
                reader.documentsRead(),
                first[0], last[0], first[1], last[1], first[2], last[2],
                reader.problems(),
                sequencer.derivedVerified(),
                sequencer.derivedMismatches(),
                sequencer.firstMismatch(),
                sequencer.timerCount(),
                System.nanoTime() - start,
                sequencer.deadLetterCount());
        }
    }
}
