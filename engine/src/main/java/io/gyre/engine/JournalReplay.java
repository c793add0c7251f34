package io.gyre.engine;

import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalException;
import io.gyre.journal.SnapshotStore;
import io.gyre.journal.JournalProblem;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import org.agrona.DirectBuffer;

import java.nio.file.Path;
import java.util.ArrayList;
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
     * @param snapshot start from this snapshot file's state and replay only the records after it; {@link #LATEST}
     *     for the newest usable one in the journal's snapshots directory; null to replay the whole journal.
     */
    public record Options(
        Path directory,
        String rollCycle,
        long fromIndex,
        Consumer<RecordView> onRecord,
        TransitionObserver onTransition,
        Consumer<Progress> onProgress,
        long progressEvery,
        Path snapshot)
    {
        /** As {@link #snapshot}: the newest usable snapshot. */
        public static final Path LATEST = Path.of("latest");

        public static Options of(final Path directory)
        {
            return new Options(directory, JournalConfig.DEFAULT_ROLL_CYCLE, -1, null, null, null, 1_000_000, null);
        }

        public Options fromSnapshot(final Path value)
        {
            return new Options(directory, rollCycle, fromIndex, onRecord, onTransition, onProgress, progressEvery, value);
        }

        public Options withRollCycle(final String value)
        {
            return new Options(directory, value, fromIndex, onRecord, onTransition, onProgress, progressEvery, snapshot);
        }

        public Options from(final long index)
        {
            return new Options(directory, rollCycle, index, onRecord, onTransition, onProgress, progressEvery, snapshot);
        }

        public Options onRecord(final Consumer<RecordView> value)
        {
            return new Options(directory, rollCycle, fromIndex, value, onTransition, onProgress, progressEvery, snapshot);
        }

        public Options onTransition(final TransitionObserver value)
        {
            return new Options(directory, rollCycle, fromIndex, onRecord, value, onProgress, progressEvery, snapshot);
        }

        public Options onProgress(final Consumer<Progress> value, final long every)
        {
            return new Options(directory, rollCycle, fromIndex, onRecord, onTransition, value, every, snapshot);
        }
    }

    /**
     * How far a replay has got.
     *
     * @param records records read so far.
     * @param lastIndex the last document index read.
     * @param lastTimestamp the timestamp of the last record read.
     * @param journalLastIndex the journal's last document index when the replay started.
     * @param replayNanos how long the replay has run (from its first read, the journal open already).
     */
    public record Progress(long records, long lastIndex, long lastTimestamp, long journalLastIndex, long replayNanos)
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
     * @param pendingTimers timers pending at the end that still apply (not those of tasks that have since finished).
     * @param replayNanos how long the replay took.
     * @param snapshot the snapshot the replay started from, or null.
     * @param snapshotEventId the last record that snapshot includes, or -1.
     * @param snapshotsSkipped snapshots found unusable while looking for the newest usable one, each with why.
     * @param runs the engine runs the journal records, in order.
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
        Path snapshot,
        long snapshotEventId,
        List<String> snapshotsSkipped,
        List<Run> runs,
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
     * One engine's run on the journal, from its ENGINE_STARTED record to its stop record (or to the next
     * start, or the end of the journal, when it has none).
     *
     * @param startedAt when it started (epoch nanoseconds), or 0 when the replay began after its start.
     * @param startEventId the event id of its ENGINE_STARTED record, or -1 when the replay began after it.
     * @param pid its process id, or -1 when unknown.
     * @param engineVersion the version that wrote it, or "" when unknown.
     * @param stopBeganAt when its stop began (the STOPPING record), or 0 when none was journaled.
     * @param stop what its STOPPED record says it left, or null when it has none.
     * @param followed true when another engine started after it.
     */
    public record Run(long startedAt, long startEventId, int pid, String engineVersion, long stopBeganAt, StopReport stop, boolean followed)
    {
        /**
         * @return how the run ended: CLEAN with a stop record; CRASH without one, before another start; OPEN
         *     without one at the end of the journal (still running, or it crashed).
         */
        public Ending ending()
        {
            return stop != null ? Ending.CLEAN : followed ? Ending.CRASH : Ending.OPEN;
        }
    }

    /**
     * How an engine run ended, as far as the journal says.
     */
    public enum Ending
    {
        /** It wrote its stop record. */
        CLEAN,
        /** Another engine started after it, and it wrote no stop record: killed, crashed, or its stop could not be recorded. */
        CRASH,
        /** The journal ends without its stop record: it is still running, or it crashed last. */
        OPEN
    }

    /**
     * Collects the runs while a journal is read.
     */
    private static final class Runs
    {
        final List<Run> done = new ArrayList<>();
        Run current;

        void onRecord(final RecordView record)
        {
            if (record.type() == RecordType.ENGINE_STARTED)
            {
                if (current != null)
                {
                    done.add(new Run(current.startedAt(), current.startEventId(), current.pid(), current.engineVersion(),
                        current.stopBeganAt(), current.stop(), true));
                }
                current = new Run(record.timestamp(), record.eventId(), record.engineStarted().pid(),
                    record.engineStarted().engineVersion(), 0, null, false);
            }
            else if (record.type() == RecordType.ENGINE_STOP)
            {
                final Run run = current != null ? current : new Run(0, -1, -1, "", 0, null, false);
                final EngineStopRecord.Decoder d = record.engineStop();
                current = d.phase() == EngineStopRecord.PHASE_STOPPING ?
                    new Run(run.startedAt(), run.startEventId(), run.pid(), run.engineVersion(), d.beganAt(), run.stop(), false) :
                    new Run(run.startedAt(), run.startEventId(), run.pid(), run.engineVersion(), d.beganAt(), StopReport.of(d), false);
            }
        }

        List<Run> all()
        {
            final List<Run> runs = new ArrayList<>(done);
            if (current != null)
            {
                runs.add(current);
            }
            return Collections.unmodifiableList(runs);
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
            final HandlerRegistry registry = HandlerRegistry.forReplay();
            Sequencer sequencer = new Sequencer(Settings.of(defaults), registry, lookup);
            final List<String> skipped = new ArrayList<>();
            SnapshotStore.Loaded loaded = null;
            if (options.snapshot() != null)
            {
                if (options.fromIndex() >= 0)
                {
                    throw new IllegalArgumentException("a replay starts from a snapshot or from an index, not both");
                }
                final SnapshotStore store = SnapshotStore.of(options.directory());
                final List<SnapshotStore.Entry> candidates = options.snapshot().equals(Options.LATEST) ? store.list() :
                    List.of(SnapshotStore.entryOf(options.snapshot()));
                for (final SnapshotStore.Entry entry : candidates)
                {
                    try
                    {
                        final SnapshotStore.Loaded candidate = store.load(entry);
                        Engine.requireSnapshotRecord(lookup, candidate.position());
                        final Sequencer restored = new Sequencer(Settings.of(defaults), registry, lookup);
                        final StateReader state = new StateReader(candidate.body());
                        restored.restoreState(state);
                        state.expectEnd();
                        if (!reader.moveToIndex(candidate.position().documentIndex()))
                        {
                            throw new IllegalStateException("its document 0x" + Long.toHexString(candidate.position().documentIndex()) +
                                " is not in this journal");
                        }
                        sequencer = restored;
                        loaded = candidate;
                        break;
                    }
                    catch (final JournalException | IllegalStateException ex)
                    {
                        skipped.add(entry.path().getFileName() + ": " + ex.getMessage());
                    }
                }
                if (loaded == null)
                {
                    throw new IllegalArgumentException("no usable snapshot" + (skipped.isEmpty() ? " in " + store.directory() :
                        ": " + String.join("; ", skipped)));
                }
            }
            sequencer.observer(options.onTransition());
            if (options.fromIndex() >= 0 && !reader.moveToIndex(options.fromIndex()))
            {
                throw new IllegalArgumentException("index=0x" + Long.toHexString(options.fromIndex()) + " is not in the journal");
            }
            final SnapshotStore.Position from = loaded == null ? null : loaded.position();
            final Sequencer replaying = sequencer;
            final long journalLastIndex = journal.lastIndex();
            // counted by ordinal, not merged into a map: a boxed count per record costs more than the record's own replay
            final long[] byType = new long[RecordType.values().length];
            final long[] first = {-1, 0, -1};
            final long[] last = {-1, 0, -1};
            // records after the snapshot, when starting from one (the reader also reads those before it in its document)
            final long[] replayed = {0};
            final long start = System.nanoTime();
            final ReplayDriver driver = new ReplayDriver(replaying, from);
            final long every = Math.max(1, options.progressEvery());
            final Runs runs = new Runs();
            reader.checkChecksumsAhead(driver);
            reader.readToEnd(new RecordHandler()
            {
                @Override
                public void onDocument(final DirectBuffer document, final long documentIndex)
                {
                    driver.onDocument(document, documentIndex);
                }

                @Override
                public void onDocument(final DirectBuffer document, final long documentIndex, final int lookedAheadSlot)
                {
                    driver.onDocument(document, documentIndex, lookedAheadSlot);
                }

                private long nextProgress = every;

                @Override
                public void onRecord(final RecordView record)
                {
                    if (from != null && from.includes(record.documentIndex(), record.offsetInDocument()))
                    {
                        return;
                    }
                    replayed[0]++;
                    if (first[0] < 0)
                    {
                        first[0] = record.documentIndex();
                        first[1] = record.timestamp();
                        first[2] = record.eventId();
                    }
                    last[0] = record.documentIndex();
                    last[1] = record.timestamp();
                    last[2] = record.eventId();
                    byType[record.type().ordinal()]++;
                    if (options.onRecord() != null)
                    {
                        options.onRecord().accept(record);
                    }
                    runs.onRecord(record);
                    driver.onRecord(record);
                    if (options.onProgress() != null && reader.recordsRead() >= nextProgress)
                    {
                        nextProgress = (reader.recordsRead() / every + 1) * every;
                        options.onProgress().accept(new Progress(reader.recordsRead(), record.documentIndex(), record.timestamp(), journalLastIndex,
                            System.nanoTime() - start));
                    }
                }
            });
            final Map<RecordType, Long> counts = new EnumMap<>(RecordType.class);
            for (final RecordType type : RecordType.values())
            {
                if (byType[type.ordinal()] > 0)
                {
                    counts.put(type, byType[type.ordinal()]);
                }
            }
            return new Report(
                Collections.unmodifiableMap(counts),
                Collections.unmodifiableMap(sequencer.countByState()),
                replayed[0],
                reader.documentsRead(),
                first[0], last[0], first[1], last[1], first[2], last[2],
                reader.problems(),
                sequencer.derivedVerified(),
                sequencer.derivedMismatches(),
                sequencer.firstMismatch(),
                sequencer.timerCount(),
                System.nanoTime() - start,
                loaded == null ? null : loaded.entry().path(),
                loaded == null ? -1 : loaded.position().eventId(),
                List.copyOf(skipped),
                runs.all(),
                sequencer.deadLetterCount());
        }
    }
}
