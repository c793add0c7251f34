package io.gyre.engine;

import com.lmax.disruptor.EventTranslatorOneArg;
import com.lmax.disruptor.EventTranslatorThreeArg;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.TimeoutException;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import io.gyre.journal.Journal;
import io.gyre.journal.SnapshotCorruptedException;
import io.gyre.journal.SnapshotStore;
import io.gyre.journal.JournalReader;
import io.gyre.journal.SubmittedRecord;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A Gyre engine embedded in this process: submit tasks, ask for their status, cancel them; every event is
 * journaled before anything is acknowledged, executed or answered, and opening an engine on an existing
 * journal replays it, so a crash loses nothing.
 *
 * <pre>
 *  submit / status / cancel ──▶ ┌──────────────────────────── ring (Disruptor) ─────────────────────────────┐
 *  pool results, ticks     ──▶  │ 1 journal ──▶ 2 sequence ──▶ 3 execute ──▶ 4 publish ──▶ listeners      │
 *                               │   append,      dedupe,        run inline,    acks, outcomes,           │
 *                               │   commit per   lifecycle,     hand off,      statuses                  │
 *                               │   batch        timers         stop           (after the journal write) │
 *                               └─────────────────────────────────▲──────┬────────────────────────────────┘
 *                                 inline results, derived records │      │ blocking attempts
 *                                 (published by stage 3)  ────────┘      ▼
 *                                                                  blocking pool ──results──▶ ring
 * </pre>
 *
 * <ol>
 * <li>The journal stage stamps each event's time and appends it; the batch's document is committed at the
 *     end of the batch, before any later stage sees the batch (invariant 1).</li>
 * <li>The sequence stage is the {@link Sequencer}: the only owner of task state. It decides from journaled
 *     events alone, so replay rebuilds the same state (invariant 4).</li>
 * <li>The execute stage runs inline attempts and publishes their results back into the ring, so they too
 *     are journaled before anyone sees them; it hands blocking attempts to the pool. It never waits for room in
 *     the ring it consumes (the room may be held by the events ahead of it): what finds none is owed and published
 *     as it passes them ({@link ExecuteStage}).</li>
 * <li>The publish stage delivers replies and releases the event.</li>
 * </ol>
 * The stages run on four threads, or fused on two (journal and sequence; execute and publish) or one, as
 * {@link EngineConfig#pipelineThreads()} says: order and contracts are the same, only the threads differ.
 * <p>
 * Thread safety: every public method may be called from any thread.
 */
public final class Engine implements AutoCloseable
{
    /**
     * The most attempts one task may make in all, redrives included (a redrive that would pass it is refused
     * with {@link RedriveOutcome#ATTEMPTS_LIMIT}): the width the dedupe table keeps attempt numbers in.
     */
    public static final int MAX_ATTEMPTS_PER_TASK = 4095;
    /** The most entries one page of {@link #deadLetters} holds. */
    public static final int MAX_DEAD_LETTER_PAGE = 1000;
    /** Status events queued per subscription, by default, before the next are dropped (see {@link #subscribe}). */
    public static final int DEFAULT_MAX_QUEUED_EVENTS = EventHub.DEFAULT_MAX_QUEUED;
    /** The largest queue a status subscription may have. */
    public static final int MAX_QUEUED_EVENTS = EventHub.MAX_MAX_QUEUED;

    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final byte[] NO_KEY = new byte[0];
    private static final String VERSION = versionOf();
    private static final long STAGE_STOP_MILLIS = 10_000;
    /** How long a stage may hold events without finishing one before {@link #stalledStage()} says so. */
    static final int STALL_SECONDS = 10;
    /** How long the ring may take to drain at the deadline: nothing publishes into it then but its own stages. */
    private static final long DRAIN_MILLIS = 5_000;

    private static final EventTranslatorThreeArg<RingEvent, TaskRequest, OutcomeListener, Engine> SUBMIT_TRANSLATOR =
        (event, sequence, request, listener, engine) -> engine.fillSubmit(event, request, listener);
    private static final EventTranslatorThreeArg<RingEvent, Integer, DirectBuffer, Object> KEYED_TRANSLATOR =
        (event, sequence, kind, key, target) ->
        {
            event.kind = kind;
            event.key.copyFrom(key, 0, key.capacity());
            event.replyTo = target;
            event.correlation = 0;
        };
    private static final EventTranslatorOneArg<RingEvent, Object> TICK_TRANSLATOR =
        (event, sequence, ignored) ->
        {
            event.kind = RingEvent.TICK;
            event.replyTo = null;
        };

    private final EngineConfig config;
    private final Journal journal;
    private final HandlerRegistry registry;
    private final Sequencer sequencer;
    /**
     * The task types the journal holds tasks of that no handler is installed for: a submission of one is answered
     * by its key's task or recorded outcome (see {@link RingEvent#SUBMIT_UNINSTALLED}), where a type nothing knows
     * is refused at once. Fixed after recovery: a type unknown to the registry enters the state only by replay.
     */
    private final java.util.Set<String> uninstalledTypes;
    private final AdmissionGate gate;
    private final ByteBudget budget;
    private final AtomicBoolean tickInFlight = new AtomicBoolean();
    private final JournalReader lookupReader;
    private final JournalReader submissionReader;
    private final JournalReader outcomeReader;
    /** The dead-letter answerer's: read on its thread only. */
    private final JournalReader deadLetterReader;
    private final DeadLetterAnswerer deadLetterAnswerer;
    /** Keys read back from the journal for log lines about attempts (rare: none on the normal path). */
    private final SubmissionKeys keys;
    /** Dead-letter queries published and not yet answered ({@link #deadLetterQuery}). */
    private final java.util.concurrent.atomic.AtomicInteger deadLetterQueries = new java.util.concurrent.atomic.AtomicInteger();
    private final BlockingPool pool;
    private final BlockingPool cpuPool;
    private final AsyncAttempts asyncs;
    /** For a wait with no deadline. */
    private static final long NO_DEADLINE = Long.MIN_VALUE;

    private final SequenceStage sequenceStage;
    private final ExecuteStage executeStage;
    /** The contexts inline attempts run in (the execute stage's, the one-pass path's): what a stalled stage is running. */
    private final java.util.List<AttemptContext> inlineContexts = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Status events: idle (no thread, nothing fed) until the first subscription. */
    private final EventHub events;
    private final Snapshotter snapshotter;
    private final EngineMetrics metrics;
    private final Disruptor<RingEvent> disruptor;
    private final List<Thread> stageThreadList = new CopyOnWriteArrayList<>();
    private final RingBuffer<RingEvent> ring;
    private final Ticker ticker;
    private final RecoveryReport recovery;
    private final AtomicLong stageFailures = new AtomicLong();
    /** The ring's stages (by thread), their names, and what {@link #stalledStage()} last saw of each (guarded by stages). */
    private final List<com.lmax.disruptor.EventHandlerIdentity> stages;
    private final List<String> stageNames;
    private final long[] stallSeen;
    private final long[] stallSince;
    /** Requests (submit, status, cancel) come in through it; closed when the stop begins. */
    private final Intake requests = new Intake();
    /** Results of attempts run off the ring come in through it; closed at the stop's deadline. */
    private final Intake results = new Intake();
    private final JournalStage journalStage;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private volatile StopReport stopReport;
    /** The thread running the stop: a callback of its answers that closes the engine again must not wait for itself. */
    private volatile Thread stopper;
    /** The final health, once the stop closed everything; {@link #closed()} completes with it after the stop's answers. */
    private EngineHealth closedHealth;
    /** The submissions the stop left without an outcome: taken from the stopped stages, answered before stop() returns. */
    private List<Unanswered> unanswered = List.of();
    private final AtomicReference<EngineHealth> health = new AtomicReference<>(EngineHealth.ready(System.currentTimeMillis()));
    private final CompletableFuture<EngineHealth> closedFuture = new CompletableFuture<>();

    private Engine(final EngineConfig config, final Journal journal)
    {
        this.config = config;
        this.journal = journal;
        this.registry = new HandlerRegistry(config.handlers());
        this.gate = new AdmissionGate(config.ringSize());
        this.budget = new ByteBudget(config.maxInFlightBytes());
        this.lookupReader = journal.newReader();
        this.submissionReader = journal.newReader();
        this.outcomeReader = journal.newReader();
        this.deadLetterReader = journal.newReader();
        this.deadLetterAnswerer = new DeadLetterAnswerer(new DeadLetterAnswers(deadLetterReader)::answer);
        this.keys = new SubmissionKeys(journal);
        // 0. Rebuild the state: from the newest usable snapshot and the journal after it, or from the whole
        // journal, through the same state machine the sequence stage runs.
        final Recovered recovered = recover(config, journal, registry, lookupReader);
        this.sequencer = recovered.sequencer;
        this.uninstalledTypes = java.util.Set.copyOf(sequencer.uninstalledTypes());
        final long replayed = recovered.replayed;
        final long replayNanos = recovered.replayNanos;
        final RecoveryReport.PreviousStop previousStop = sequencer.previousStop();
        if (sequencer.derivedMismatches() > 0)
        {
            // The state machine did not decide what the journal records: from the first mismatch on, its state is not
            // the one the journal's engine had (a result it applied there may be a late result here, a deadline may
            // fire that did not), so opening on it could start, fail or dead-letter tasks the journal says finished.
            // Refuse, as on corruption, before anything is journaled: the journal stays as it is.
            throw new JournalCorruptedException(config.journal().directory().toString(), "replay re-derived " +
                sequencer.derivedMismatches() + (sequencer.derivedMismatches() == 1 ? " transition" : " transitions") +
                " differently from the journal (first: " + sequencer.firstMismatch() + "), so the state it rebuilt is not the " +
                "one the journal records, and opening on it could change the outcome of finished tasks; the engine will not " +
                "start on it (inspect with: gyre replay --verify --journal " + config.journal().directory() + ")");
        }
        this.snapshotter = config.snapshots() ? new Snapshotter(journal, config) : null;
        if (snapshotter != null)
        {
            snapshotter.replayed(replayed);
            if (recovered.snapshot != null)
            {
                snapshotter.verified(recovered.snapshot.file());
            }
            recovered.unusable.forEach(snapshotter::unusable);
        }
        this.metrics = config.metrics() ? new EngineMetrics(registry.typesById()) : null;
        sequencer.metrics(metrics);
        if (metrics != null)
        {
            metrics.tenants(sequencer::tenantNames);
        }

        // 1..4. The ring and its stages, in pipeline order.
        this.journalStage = new JournalStage(
            journal.writer(), config.clock(), registry, journal.lastTimestampAtOpen(), VERSION, config.journal().directory().toString(),
            config.timerFiresPerTick(), config.journalOutageStopAfter() == null ? 0 : config.journalOutageStopAfter().toNanos(), health,
            this::stopAfterOutage);
        this.sequenceStage = new SequenceStage(sequencer, tickInFlight, snapshotter);
        this.events = new EventHub(journal, registry, sequenceStage::transitions, config.maxQueuedEventBytes());
        final HandOff handOff = new HandOff(registry, config.maxOutputBytes(), gate, budget, config.clock(), results, keys);
        this.pool = new BlockingPool("blocking", config.blockingPoolThreads(), config.blockingPoolQueue(), config.abandonAfter().toNanos(), handOff);
        this.cpuPool = new BlockingPool("cpu", config.cpuPoolThreads(), config.cpuPoolQueue(), config.abandonAfter().toNanos(), handOff);
        this.asyncs = new AsyncAttempts(handOff);
        this.executeStage = new ExecuteStage(registry, config.maxOutputBytes(), gate, budget, pool, cpuPool, asyncs,
            config.clock(), submissionReader, keys);
        inlineContexts.add(executeStage.inlineContext());
        final PublishStage publishStage = new PublishStage(outcomeReader, budget, registry, deadLetterAnswerer::offer);

        disruptor = new Disruptor<>(RingEvent.FACTORY, config.ringSize(), stageThreads(config.pipelineThreads(), stageThreadList),
            ProducerType.MULTI, config.waitStrategy().create());
        disruptor.setDefaultExceptionHandler(new StageExceptionHandler());
        ring = disruptor.getRingBuffer();
        switch (config.pipelineThreads())
        {
            case 4 ->
            {
                disruptor.handleEventsWith(journalStage)
                    .then(sequenceStage)
                    .then(executeStage)
                    .then(publishStage);
                stages = List.of(journalStage, sequenceStage, executeStage, publishStage);
                stageNames = List.of("journal", "sequence", "execute", "publish");
            }
            case 2 ->
            {
                final FusedStage first = new FusedStage(journalStage, sequenceStage, null, null, inlineFastPath(journalStage));
                first.ring(ring);
                final FusedStage second = new FusedStage(null, null, executeStage, publishStage, null);
                disruptor.handleEventsWith(first).then(second);
                stages = List.of(first, second);
                stageNames = List.of("journal-and-sequence (where inline tasks run)", "execute-and-publish");
            }
            default ->
            {
                final FusedStage all = new FusedStage(journalStage, sequenceStage, executeStage, publishStage,
                    inlineFastPath(journalStage));
                all.ring(ring);
                disruptor.handleEventsWith(all);
                stages = List.of(all);
                stageNames = List.of("engine");
            }
        }
        stallSeen = new long[stages.size()];
        stallSince = new long[stages.size()];
        java.util.Arrays.fill(stallSeen, Long.MIN_VALUE);
        journalStage.ring(ring);
        journalStage.metrics(metrics);
        executeStage.ring(ring);
        pool.ring(ring);
        cpuPool.ring(ring);
        asyncs.ring(ring);
        deadLetterAnswerer.start();
        disruptor.start();

        // Derived records a crash kept out of the journal go in first, then the start of this engine, which
        // queues interrupted attempts to run again.
        final Effects leftovers = new Effects();
        sequencer.expected().copyTo(leftovers);
        for (int i = 0; i < leftovers.derivedCount; i++)
        {
            final int index = i;
            publishInternal(RingEvent.DERIVED, e ->
            {
                e.derivedType = leftovers.derivedType(index);
                e.taskId = leftovers.derivedTaskId(index);
                e.attempt = leftovers.derivedAttempt(index);
                e.derivedReason = leftovers.derivedReason(index);
                e.derivedTime = leftovers.derivedTime(index);
            });
        }
        final Requests.Startup startup = new Requests.Startup();
        final Settings settings = Settings.of(config);
        publishInternal(RingEvent.ENGINE_STARTED, e ->
        {
            e.settings = settings;
            e.replyTo = startup;
        });
        awaitStartup(startup);

        // a tick while the execute stage owes the ring follow-ups: with the publish stage on a thread of its own, the room
        // they wait for may come after the execute stage has passed every event
        ticker = new Ticker(config.clock(), () -> executeStage.owing() > 0 ? 0 : sequenceStage.nextWakeAt(), journalStage::wakeAt,
            () -> !health.get().ready(), tickInFlight, this::publishTick);
        ticker.start();
        // the live tasks replay left, not those left once the start's first attempts and due timers have run (an outside
        // check saw the count vary between identical restarts, and below the attempts said to run again)
        recovery = new RecoveryReport(replayed, replayNanos, journal.repairedTail(), startup.live >= 0 ? startup.live :
            sequenceStage.liveTasks(),
            startup.requeued, sequencer.derivedVerified(), leftovers.derivedCount, previousStop,
            recovered.snapshot, recovered.snapshotNanos, recovered.skipped);
        LOG.info("engine open on {}: {}replayed {} records in {} ms, {} live tasks, {} attempts requeued, previous stop {}",
            config.journal().directory(), recovered.snapshot == null ? "" :
                "snapshot at event " + recovered.snapshot.eventId() + " loaded in " + recovered.snapshotNanos / 1_000_000 + " ms, ",
            replayed, replayNanos / 1_000_000, recovery.liveTasks(), recovery.requeued(), previousStop);
    }

    /** The state rebuilt at open, and how. */
    record Recovered(Sequencer sequencer, long replayed, long replayNanos, SnapshotInfo snapshot, long snapshotNanos,
                             List<String> skipped, List<java.nio.file.Path> unusable)
    {
    }

    /**
     * @throws IllegalStateException unless the journal has the record a snapshot was taken at, where it says:
     *     a snapshot of another journal (or of one since rewritten) must not be applied to this one.
     */
    static void requireSnapshotRecord(final JournalReader lookup, final SnapshotStore.Position position)
    {
        final long[] found = {-1};
        if (!lookup.readRecordAt(position.documentIndex(), position.offsetInDocument(), record -> found[0] = record.eventId()) ||
            found[0] != position.eventId())
        {
            throw new IllegalStateException("the journal has no record " + position.eventId() + " at document 0x" +
                Long.toHexString(position.documentIndex()) + " offset " + position.offsetInDocument() + " (a snapshot of another journal, or taken past where this one was since cut: a torn tail)");
        }
    }

    /**
     * Load the newest snapshot that passes its checks and matches this journal, then replay the records after
     * it; a damaged or mismatched snapshot is skipped (and reported) for the one before it, and without any,
     * the whole journal is replayed, which needs the journal to start at its first record.
     *
     * @throws JournalCorruptedException when the journal is damaged beyond a torn tail, or retention deleted
     *     its beginning and no snapshot covers it.
     */
    static Recovered recover(final EngineConfig config, final Journal journal, final HandlerRegistry registry,
                                     final JournalReader lookup)
    {
        final List<String> skipped = new java.util.ArrayList<>();
        final List<java.nio.file.Path> unusable = new java.util.ArrayList<>();
        final SnapshotStore store = SnapshotStore.of(config.journal().directory());
        final long loadStart = System.nanoTime();
        for (final SnapshotStore.Entry entry : store.list())
        {
            try
            {
                final SnapshotStore.Loaded loaded = store.load(entry);
                final SnapshotStore.Position position = loaded.position();
                requireSnapshotRecord(lookup, position);
                final Sequencer sequencer = new Sequencer(Settings.of(config), registry, lookup);
                final StateReader state = new StateReader(loaded.body());
                sequencer.restoreState(state);
                state.expectEnd();
                final long snapshotNanos = System.nanoTime() - loadStart;
                final long replayStart = System.nanoTime();
                final long replayed = replay(journal, sequencer, position, config);
                final SnapshotInfo info = new SnapshotInfo(entry.path(), position.eventId(), entry.sizeBytes(), 0, 0);
                return new Recovered(sequencer, replayed, System.nanoTime() - replayStart, info, snapshotNanos, skipped, unusable);
            }
            catch (final JournalCorruptedException ex)
            {
                throw ex;
            }
            catch (final SnapshotCorruptedException | IllegalStateException ex)
            {
                LOG.warn("snapshot {} not used: {}; trying an older one", entry.path().getFileName(), ex.getMessage());
                skipped.add(entry.path().getFileName() + ": " + ex.getMessage());
                unusable.add(entry.path());
            }
        }
        final Sequencer sequencer = new Sequencer(Settings.of(config), registry, lookup);
        final long replayStart = System.nanoTime();
        final long replayed = replay(journal, sequencer, null, config);
        return new Recovered(sequencer, replayed, System.nanoTime() - replayStart, null, 0, skipped, unusable);
    }

    /**
     * Apply the journal's records to the sequencer: those after {@code from}, or all when it is null.
     */
    private static long replay(final Journal journal, final Sequencer sequencer, final SnapshotStore.Position from,
                               final EngineConfig config)
    {
        try (JournalReader reader = journal.newReader())
        {
            if (from != null && !reader.moveToIndex(from.documentIndex()))
            {
                throw new IllegalStateException("the journal has no document " + from.documentIndex());
            }
            final ReplayDriver driver = new ReplayDriver(sequencer, from);
            // the checksums and the key hashes on the other core: during recovery nothing else runs, and this thread is what it waits for
            reader.checkChecksumsAhead(driver);
            reader.readToEnd(driver);
            if (reader.corrupted())
            {
                throw new JournalCorruptedException(config.journal().directory().toString(), reader.problems());
            }
            if (from == null && driver.firstEventId() > 1)
            {
                throw new JournalCorruptedException(config.journal().directory().toString(), "the journal starts at event " +
                    driver.firstEventId() + ": its beginning was deleted by retention, and no usable snapshot in " +
                    SnapshotStore.of(config.journal().directory()).directory() + " covers it");
            }
            return driver.applied();
        }
    }

    /**
     * Open an engine on its journal, replaying what is there.
     *
     * @throws TaskTypeStartException when a task type's {@link TaskHandler#start()} throws (the journal is not opened).
     * @throws JournalCorruptedException when the journal is damaged beyond a torn tail.
     * @throws io.gyre.journal.JournalException when the journal cannot be opened (e.g. another engine has it).
     */
    public static Engine open(final EngineConfig config)
    {
        final List<TaskHandler> started = new java.util.ArrayList<>();
        try
        {
            for (final TaskHandler handler : config.handlers())
            {
                handler.start();
                started.add(handler);
            }
        }
        catch (final RuntimeException ex)
        {
            closeHandlers(started);
            throw new TaskTypeStartException(config.handlers().get(started.size()).type(), ex);
        }
        final Journal journal;
        try
        {
            journal = Journal.openForAppend(config.journal());
        }
        catch (final RuntimeException | Error ex)
        {
            closeHandlers(started);
            throw ex;
        }
        try
        {
            return new Engine(config, journal);
        }
        catch (final RuntimeException | Error ex)
        {
            journal.close();
            closeHandlers(started);
            throw ex;
        }
    }

    private static void closeHandlers(final List<TaskHandler> handlers)
    {
        for (final TaskHandler handler : handlers)
        {
            try
            {
                handler.close();
            }
            catch (final RuntimeException ex)
            {
                LOG.atWarn().addKeyValue(TaskLog.TYPE, handler.type()).setCause(ex).log("task type {}: close failed", handler.type());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Submitting

    /**
     * Submit a task; the listener hears that it was accepted, then its outcome (or that it was refused).
     * Blocks while the ring is at its admission limit (backpressure). Allocates nothing. The listener is called on the
     * engine's publish thread and must return quickly: every other task's outcome waits while it blocks (see
     * {@link OutcomeListener}); hand slow work to a thread of your own. A listener may submit (the next task of a chain,
     * say): on the engine's own threads a submission never waits, it is admitted past the limit, since only those
     * threads open it; when the ring itself has no free slot it is refused with a {@link RequestRefusedException}
     * ({@link RejectReason#BUSY}), nothing journaled: not in practice with one or two stage threads, often under load
     * with four, whose publish stage runs behind the others (see {@link EngineConfig#pipelineThreads()}).
     *
     * @throws InvalidTaskException when the request is malformed (nothing is journaled).
     * @throws EngineClosedException when the engine is closing.
     * @throws RequestRefusedException on one of the engine's own threads, when it has no room it could wait for there.
     */
    public void submit(final TaskRequest request, final OutcomeListener listener)
    {
        final long large = validate(request);
        enter();
        try
        {
            final boolean ownThread = onStageThread();
            int idle = 0;
            while (!budget.tryAcquire(large))
            {
                if (ownThread)
                {
                    throw ownThreadBusy("large payloads it holds are at their limit");
                }
                checkAccepting(0);
                idle = pause(idle);
            }
            idle = 0;
            while (!gate.tryAcquireSubmit())
            {
                if (ownThread)
                {
                    // what holds the gate shut is passed by this very thread: admitted over the limit, as the execute stage's
                    // follow-ups are (a listener submits at most as many tasks as outcomes reach it)
                    gate.force(1);
                    break;
                }
                checkAccepting(large);
                idle = pause(idle);
            }
            if (!ownThread)
            {
                ring.publishEvent(SUBMIT_TRANSLATOR, request, listener, this);
            }
            else if (!ring.tryPublishEvent(SUBMIT_TRANSLATOR, request, listener, this))
            {
                gate.release(1);
                budget.release(large);
                throw ownThreadBusy("its ring is full");
            }
        }
        finally
        {
            requests.exit();
        }
    }

    /**
     * @return true on one of this engine's stage threads (in an outcome listener, a future's dependent action, a
     *     handler running inline): a request made there must not wait for room in the ring, which only the stages make,
     *     this thread's among them. An outside check of this engine wedged it so: a listener submitting the next task of a
     *     chain under load.
     */
    private boolean onStageThread()
    {
        return Thread.currentThread() instanceof StageThread stage && stage.owner == stageThreadList;
    }

    private RequestRefusedException ownThreadBusy(final String why)
    {
        return new RequestRefusedException(RejectReason.BUSY, "the engine cannot take this request on its own thread now (" + why +
            "): it would wait for room that only this thread makes; make it from a thread of your own, or again later");
    }

    /**
     * As {@link #submit(TaskRequest, OutcomeListener)}, but never waits.
     *
     * @return false when the engine is at its admission limit: nothing was submitted; try again later.
     */
    public boolean trySubmit(final TaskRequest request, final OutcomeListener listener)
    {
        final long large = validate(request);
        enter();
        try
        {
            if (!budget.tryAcquire(large))
            {
                return false;
            }
            if (!gate.tryAcquireSubmit())
            {
                budget.release(large);
                return false;
            }
            if (!onStageThread())
            {
                ring.publishEvent(SUBMIT_TRANSLATOR, request, listener, this);
                return true;
            }
            if (!ring.tryPublishEvent(SUBMIT_TRANSLATOR, request, listener, this))
            {
                gate.release(1);
                budget.release(large);
                return false;
            }
            return true;
        }
        finally
        {
            requests.exit();
        }
    }

    /**
     * Submit a task and get its outcome as a future (completed on the engine's publish thread: do not
     * block in dependent actions, or use their async variants). When the engine stops before the task finishes,
     * the future completes exceptionally with a {@link TaskUnfinishedException}, on the thread that stops it (see
     * {@link #stop()}).
     *
     * @throws InvalidTaskException when the request is malformed (nothing is journaled).
     * @throws EngineClosedException when the engine is closing.
     */
    public CompletableFuture<Outcome> submit(final TaskRequest request)
    {
        final Requests.FutureOutcome future = new Requests.FutureOutcome();
        submit(request, future);
        return future;
    }

    /**
     * @return what the engine knows of the task with this key.
     */
    public CompletableFuture<TaskStatus> status(final String key)
    {
        return keyed(RingEvent.STATUS, key);
    }

    /**
     * Cancel the task with this key: a waiting task ends CANCELLED at once; a running one is asked to stop
     * and ends CANCELLED (a late result of it is journaled but changes nothing).
     *
     * @return the task's status after the request (not found, already finished, or cancelled).
     */
    public CompletableFuture<TaskStatus> cancel(final String key)
    {
        return keyed(RingEvent.CANCEL, key);
    }

    /**
     * As {@link #status(String)}, for a key given as its bytes (keys are bytes; a String key is its UTF-8).
     */
    public CompletableFuture<TaskStatus> status(final byte[] key)
    {
        return keyed(RingEvent.STATUS, key);
    }

    /**
     * As {@link #cancel(String)}, for a key given as its bytes.
     */
    public CompletableFuture<TaskStatus> cancel(final byte[] key)
    {
        return keyed(RingEvent.CANCEL, key);
    }

    /**
     * As {@link #status(byte[])}, but never waits: null when the engine is at its admission limit (nothing
     * was asked; try again later).
     */
    public CompletableFuture<TaskStatus> tryStatus(final byte[] key)
    {
        return tryKeyed(RingEvent.STATUS, key);
    }

    /**
     * As {@link #cancel(byte[])}, but never waits: null when the engine is at its admission limit (nothing
     * was cancelled; try again later).
     */
    public CompletableFuture<TaskStatus> tryCancel(final byte[] key)
    {
        return tryKeyed(RingEvent.CANCEL, key);
    }

    private CompletableFuture<TaskStatus> tryKeyed(final int kind, final byte[] bytes)
    {
        validateKey(bytes);
        return publish(kind, bytes, new Requests.StatusRequest(new String(bytes, StandardCharsets.UTF_8)), false);
    }

    /**
     * A type name as a message shows it: a character outside printable ASCII (types are made of it) as a backslash,
     * {@code u} and four hex digits (U+0085 as {@code \\u0085}).
     */
    private static String printable(final String type)
    {
        final StringBuilder shown = new StringBuilder(type.length());
        for (int i = 0; i < type.length(); i++)
        {
            final char c = type.charAt(i);
            if (c >= 0x20 && c < 0x7F)
            {
                shown.append(c);
            }
            else
            {
                shown.append(String.format("\\u%04x", (int)c));
            }
        }
        return shown.toString();
    }

    private void validateKey(final byte[] bytes)
    {
        if (bytes.length == 0 || bytes.length > config.maxKeyBytes())
        {
            throw new InvalidTaskException("key", "key must be 1 to " + config.maxKeyBytes() + " bytes (was " + bytes.length + ")");
        }
    }

    private CompletableFuture<TaskStatus> keyed(final int kind, final String key)
    {
        // a key UTF-8 cannot encode (an unpaired surrogate) would be asked for as another ("?"): refused by name
        if (key == null)
        {
            throw new InvalidTaskException("key", "key is required (it is null)");
        }
        return keyed(kind, TaskRequest.utf8("key", key));
    }

    private CompletableFuture<TaskStatus> keyed(final int kind, final byte[] bytes)
    {
        validateKey(bytes);
        return publish(kind, bytes, new Requests.StatusRequest(new String(bytes, StandardCharsets.UTF_8)), true);
    }

    /**
     * Publish a keyed request (status, cancel, and the dead-letter requests; an empty key where the request
     * needs none), waiting for room in the ring or not.
     *
     * @return the request, or null when it would have had to wait and {@code wait} is false.
     */
    private <T> T publish(final int kind, final byte[] key, final T request, final boolean wait)
    {
        enter();
        try
        {
            final boolean ownThread = onStageThread();
            int idle = 0;
            while (!gate.tryAcquireInternal())
            {
                if (!wait)
                {
                    return null;
                }
                if (ownThread)
                {
                    // as a submission from this thread: the gate opens only as this thread passes events
                    gate.force(1);
                    break;
                }
                checkAccepting(0);
                idle = pause(idle);
            }
            if (!ownThread)
            {
                ring.publishEvent(KEYED_TRANSLATOR, kind, new UnsafeBuffer(key), request);
            }
            else if (!ring.tryPublishEvent(KEYED_TRANSLATOR, kind, new UnsafeBuffer(key), request))
            {
                gate.release(1);
                if (!wait)
                {
                    return null;
                }
                throw ownThreadBusy("its ring is full");
            }
        }
        finally
        {
            requests.exit();
        }
        return request;
    }

    // ------------------------------------------------------------------------------------------------
    // Dead letters

    /**
     * A page of the dead-letter list, oldest first: the entries whose cursor is greater than {@code after}
     * (0 for the first page), at most {@code limit}. Listed by the sequence stage from its state, then completed
     * from the journal on a thread of its own (never the stages'); nothing is journaled. It fails with an
     * {@link IllegalStateException} at once when {@value DeadLetterAnswerer#MAX_WAITING} queries are already between their
     * publication and their answer.
     *
     * @throws InvalidTaskException when {@code after} is negative or {@code limit} is not in [1, {@value #MAX_DEAD_LETTER_PAGE}].
     */
    public CompletableFuture<DeadLetterPage> deadLetters(final long after, final int limit)
    {
        validatePage(after, limit);
        return deadLetterQuery(NO_KEY, new Requests.DeadLetterList(after, limit), true);
    }

    /**
     * As {@link #deadLetters}, but never waits: null when the engine is at its admission limit.
     */
    public CompletableFuture<DeadLetterPage> tryDeadLetters(final long after, final int limit)
    {
        validatePage(after, limit);
        return deadLetterQuery(NO_KEY, new Requests.DeadLetterList(after, limit), false);
    }

    /**
     * @return the dead letter of this key with its original request and last error, or empty when the key has
     *     none (never dead-lettered, redriven or purged since).
     */
    public CompletableFuture<Optional<DeadLetterDetails>> deadLetter(final String key)
    {
        final byte[] bytes = keyBytes(key);
        return deadLetterQuery(bytes, new Requests.DeadLetterShow(key), true);
    }

    /**
     * As {@link #deadLetter(String)} for a key given as its bytes, but never waits: null when the engine is at
     * its admission limit.
     */
    public CompletableFuture<Optional<DeadLetterDetails>> tryDeadLetter(final byte[] key)
    {
        validateKey(key);
        return deadLetterQuery(key, new Requests.DeadLetterShow(new String(key, StandardCharsets.UTF_8)), false);
    }

    /**
     * Publish a dead-letter query, unless {@value DeadLetterAnswerer#MAX_WAITING} are already between their publication
     * and their answer: then it fails at once, before the sequence stage lists anything for it (listing a page copies
     * up to a thousand entries: a client pipelining queries would otherwise take the stage's time from every other
     * client's tasks only to have them refused after).
     *
     * @return the query, or null when it would have had to wait for room in the ring and {@code wait} is false.
     */
    private <T, Q extends Requests.DeadLetterQuery<T>> CompletableFuture<T> deadLetterQuery(final byte[] key, final Q query,
        final boolean wait)
    {
        if (deadLetterQueries.incrementAndGet() > DeadLetterAnswerer.MAX_WAITING)
        {
            deadLetterQueries.decrementAndGet();
            return CompletableFuture.failedFuture(new DeadLetterAnswerer.DeadLetterQueriesBusyException(
                DeadLetterAnswerer.MAX_WAITING + " dead-letter queries are waiting to be answered; retry later"));
        }
        final Q published;
        try
        {
            published = publish(RingEvent.DEAD_LETTER_QUERY, key, query, wait);
        }
        catch (final RuntimeException ex)
        {
            deadLetterQueries.decrementAndGet();
            throw ex;
        }
        if (published == null)
        {
            deadLetterQueries.decrementAndGet();
            return null;
        }
        published.whenComplete((answer, failure) -> deadLetterQueries.decrementAndGet());
        return published;
    }

    /**
     * Run the dead-lettered task of this key again: journaled, then it becomes live under the same key and
     * task id with a fresh budget of its max attempts (numbered on from its last attempt), runs at the next
     * tick, and its new outcome replaces the old one for deduplication (a submission of the key joins it).
     * A key that is not dead-lettered changes nothing; the result says why.
     */
    public CompletableFuture<RedriveResult> redrive(final String key)
    {
        final byte[] bytes = keyBytes(key);
        return publish(RingEvent.REDRIVE, bytes, new Requests.RedriveRequest(key), true);
    }

    /**
     * As {@link #redrive(String)} for a key given as its bytes, but never waits: null when the engine is at
     * its admission limit (nothing was journaled).
     */
    public CompletableFuture<RedriveResult> tryRedrive(final byte[] key)
    {
        validateKey(key);
        return publish(RingEvent.REDRIVE, key, new Requests.RedriveRequest(new String(key, StandardCharsets.UTF_8)), false);
    }

    /**
     * Remove the dead letter of this key from the list (journaled). The task's outcome stays remembered for
     * deduplication (a resubmission is answered DEAD_LETTERED until the dedupe window forgets it).
     */
    public CompletableFuture<PurgeResult> purgeDeadLetter(final String key)
    {
        final byte[] bytes = keyBytes(key);
        return publish(RingEvent.PURGE, bytes, new Requests.PurgeRequest(key), true);
    }

    /**
     * Remove every dead letter from the list (journaled), as {@link #purgeDeadLetter} does one.
     */
    public CompletableFuture<PurgeResult> purgeDeadLetters()
    {
        return publish(RingEvent.PURGE, NO_KEY, new Requests.PurgeRequest(null), true);
    }

    /**
     * As {@link #purgeDeadLetter} (or, with a null key, {@link #purgeDeadLetters}), but never waits: null when
     * the engine is at its admission limit (nothing was journaled).
     */
    public CompletableFuture<PurgeResult> tryPurgeDeadLetters(final byte[] key)
    {
        if (key == null)
        {
            return publish(RingEvent.PURGE, NO_KEY, new Requests.PurgeRequest(null), false);
        }
        validateKey(key);
        return publish(RingEvent.PURGE, key, new Requests.PurgeRequest(new String(key, StandardCharsets.UTF_8)), false);
    }

    /**
     * @return entries in the dead-letter list (as of the sequence stage's last batch).
     */
    public int deadLetterCount()
    {
        return sequenceStage.deadLetters();
    }

    /**
     * @return tasks that would have been dead-lettered but found the list at {@link EngineConfig#maxDeadLetters()}
     *     (they ended FAILED or TIMED_OUT instead), since this engine's journal began.
     */
    public long deadLetterOverflows()
    {
        return sequenceStage.deadLetterOverflows();
    }

    private byte[] keyBytes(final String key)
    {
        final byte[] bytes = key == null ? NO_KEY : TaskRequest.utf8("key", key);
        validateKey(bytes);
        return bytes;
    }

    private static void validatePage(final long after, final int limit)
    {
        if (after < 0)
        {
            throw new InvalidTaskException("after", "after=" + after + " must not be negative (0: from the first dead letter)");
        }
        if (limit < 1 || limit > MAX_DEAD_LETTER_PAGE)
        {
            throw new InvalidTaskException("limit", "limit=" + limit + " must be in [1, " + MAX_DEAD_LETTER_PAGE + "]");
        }
    }

    /**
     * @return the number of payload bytes this request would hold against the in-flight budget.
     * @throws InvalidTaskException naming the first malformed field.
     */
    private long validate(final TaskRequest request)
    {
        final String type = request.type();
        if (type == null)
        {
            throw new InvalidTaskException("type", "type is required");
        }
        final boolean uninstalled = request.handlerId(registry) == HandlerRegistry.UNKNOWN;
        if (uninstalled && !uninstalledTypes.contains(type))
        {
            throw new InvalidTaskException("type", "type=" + printable(type) + " is not a registered task type (registered: " + registry.names() + ")");
        }
        final int keyLength = request.key().capacity();
        if (keyLength == 0)
        {
            throw new InvalidTaskException("key", "key is required: an idempotency key of 1 to " + config.maxKeyBytes() + " bytes");
        }
        if (keyLength > config.maxKeyBytes())
        {
            throw new InvalidTaskException("key", "key of " + keyLength + " bytes exceeds maxKeyBytes=" + config.maxKeyBytes());
        }
        final int payloadLength = request.payload().capacity();
        if (payloadLength > config.maxPayloadBytes())
        {
            throw new InvalidTaskException("payload",
                "payload of " + payloadLength + " bytes exceeds maxPayloadBytes=" + config.maxPayloadBytes());
        }
        if (request.tenant().capacity() > config.maxTenantBytes())
        {
            throw new InvalidTaskException("tenant",
                "tenant of " + request.tenant().capacity() + " bytes exceeds maxTenantBytes=" + config.maxTenantBytes());
        }
        if (request.priority() == null)
        {
            throw new InvalidTaskException("priority", "priority is required");
        }
        if (request.timeoutMillis() < 0)
        {
            throw new InvalidTaskException("timeoutMillis", "timeoutMillis=" + request.timeoutMillis() + " must not be negative");
        }
        if (request.maxAttempts() < 0 || request.maxAttempts() > 1000)
        {
            throw new InvalidTaskException("maxAttempts", "maxAttempts=" + request.maxAttempts() + " must be in [0, 1000] (0: the default)");
        }
        if (request.backoffJitter() >= 0 || request.backoffInitialMillis() != 0 || request.backoffMaxMillis() != 0 ||
            request.backoffMultiplier() != 0)
        {
            validateBackoff(request);
        }
        if (!uninstalled)
        {
            request.resolvedMode = resolveMode(request);
        }
        // a submission of an uninstalled type carries only its key and tenant through the ring: no payload held
        return payloadLength > Blob.INLINE_CAPACITY && !uninstalled ? payloadLength : 0;
    }

    /**
     * Where this task runs, as its type's handler says for its payload ({@link TaskHandler#executionMode(DirectBuffer,
     * int, int)}): asked here, before a slot of the ring is claimed, since a handler's code may throw, and a throw while
     * a slot is being filled would still publish it, half filled (an outside check's plugin threw there: the slot went
     * through the ring with the key, payload and listener of the request that last used it).
     *
     * @throws InvalidTaskException (field {@code payload}) when the handler throws.
     */
    private ExecutionMode resolveMode(final TaskRequest request)
    {
        final int handlerId = request.handlerId(registry);
        try
        {
            return registry.mode(handlerId, request.payload(), 0, request.payload().capacity());
        }
        catch (final RuntimeException | LinkageError | StackOverflowError | AssertionError ex)
        {
            throw new InvalidTaskException("payload", "type=" + printable(request.type()) +
                ": its handler's executionMode(payload) threw " + ex + " (nothing journaled)");
        }
    }

    private static void validateBackoff(final TaskRequest request)
    {
        final String problem = Backoff.problem(request.backoffInitialMillis(), request.backoffMaxMillis(), request.backoffMultiplier(),
            request.backoffJitter());
        if (problem != null)
        {
            throw new InvalidTaskException(problem.substring(0, problem.indexOf('=')), problem);
        }
    }

    /**
     * Fill a SUBMIT event from a validated request, resolving every default now so the journal holds them.
     */
    private void fillSubmit(final RingEvent e, final TaskRequest request, final OutcomeListener listener)
    {
        final int handlerId = request.handlerId(registry);
        if (handlerId == HandlerRegistry.UNKNOWN)
        {
            // a type the journal knows but no handler runs (validate let only those through): answered by the key
            e.kind = RingEvent.SUBMIT_UNINSTALLED;
            e.handlerId = handlerId;
            e.key.copyFrom(request.key(), 0, request.key().capacity());
            e.keyHash = KeyHasher.hash(request.key(), 0, request.key().capacity());
            e.tenant.copyFrom(request.tenant(), 0, request.tenant().capacity());
            e.budgetBytes = 0;
            e.replyTo = listener;
            e.correlation = request.correlationId();
            return;
        }
        // nothing here calls a handler's code: a throw would publish this slot half filled (see resolveMode)
        e.kind = RingEvent.SUBMIT;
        e.handlerId = handlerId;
        e.mode = request.resolvedMode.code();
        e.key.copyFrom(request.key(), 0, request.key().capacity());
        e.keyHash = KeyHasher.hash(request.key(), 0, request.key().capacity());
        e.tenant.copyFrom(request.tenant(), 0, request.tenant().capacity());
        e.budgetBytes = e.payload.copyFrom(request.payload(), 0, request.payload().capacity());
        e.priority = request.priority().code();
        final int typeTimeout = registry.defaultTimeoutMillis(handlerId);
        final int typeAttempts = registry.defaultMaxAttempts(handlerId);
        e.timeoutMillis = request.timeoutMillis() > 0 ? request.timeoutMillis() : typeTimeout > 0 ? typeTimeout : config.defaultTimeoutMillis();
        e.maxAttempts = request.maxAttempts() > 0 ? request.maxAttempts() : typeAttempts > 0 ? typeAttempts : config.defaultMaxAttempts();
        final Backoff backoff = request.backoffJitter() >= 0 ? null : registry.defaultBackoff(handlerId);
        if (request.backoffJitter() >= 0)
        {
            e.backoffInitialMillis = request.backoffInitialMillis();
            e.backoffMaxMillis = request.backoffMaxMillis();
            e.backoffMultiplier = request.backoffMultiplier();
            e.backoffJitter = request.backoffJitter();
        }
        else if (backoff != null)
        {
            e.backoffInitialMillis = backoff.initialMillis();
            e.backoffMaxMillis = backoff.maxMillis();
            e.backoffMultiplier = backoff.multiplier();
            e.backoffJitter = backoff.jitter();
        }
        else
        {
            e.backoffInitialMillis = config.defaultBackoffInitialMillis();
            e.backoffMaxMillis = config.defaultBackoffMaxMillis();
            e.backoffMultiplier = config.defaultBackoffMultiplier();
            e.backoffJitter = config.defaultBackoffJitter();
        }
        e.taskFlags = request.deadLetter() ? SubmittedRecord.FLAG_DEAD_LETTER | SubmittedRecord.FLAG_DEAD_LETTER_TIMEOUT : 0;
        e.replyTo = listener;
        e.correlation = request.correlationId();
    }

    private boolean publishTick()
    {
        if (gate.tryAcquireInternal())
        {
            ring.publishEvent(TICK_TRANSLATOR, null);
            return true;
        }
        if (executeStage.owing() > 0)
        {
            // what the execute stage owes counts in the gate, and with the publish stage on a thread of its own (4 stage
            // threads) a tick is what lets it pay: the tick must not wait behind it (one is in flight at a time)
            gate.force(1);
            if (ring.tryPublishEvent(TICK_TRANSLATOR, null))
            {
                return true;
            }
            gate.release(1);
        }
        return false;
    }

    private void publishInternal(final int kind, final java.util.function.Consumer<RingEvent> fill)
    {
        publishInternal(kind, fill, NO_DEADLINE);
    }

    /**
     * @param deadlineNanos {@link System#nanoTime()} past which to give up waiting for room, or {@link #NO_DEADLINE}.
     * @return false when given up: nothing was published.
     */
    private boolean publishInternal(final int kind, final java.util.function.Consumer<RingEvent> fill, final long deadlineNanos)
    {
        int idle = 0;
        while (!gate.tryAcquireInternal())
        {
            if (deadlineNanos != NO_DEADLINE && System.nanoTime() - deadlineNanos >= 0)
            {
                return false;
            }
            idle = pause(idle);
        }
        final long sequence = ring.next();
        final RingEvent e = ring.get(sequence);
        try
        {
            e.kind = kind;
            e.replyTo = null;
            fill.accept(e);
        }
        finally
        {
            ring.publish(sequence);
        }
        return true;
    }

    /**
     * Publish the ENGINE_STOP event that journals the stop's beginning (its deadline: the record's time plus
     * {@code timeout}), waiting for room no later than the deadline (a ring stuck behind a handler may never
     * make room).
     */
    private boolean publishStopping(final long timeout, final long deadlineNanos)
    {
        int idle = 0;
        while (!gate.tryAcquireInternal())
        {
            if (System.nanoTime() >= deadlineNanos)
            {
                return false;
            }
            idle = pause(idle);
        }
        final long sequence = ring.next();
        final RingEvent e = ring.get(sequence);
        e.kind = RingEvent.ENGINE_STOP;
        e.replyTo = null;
        e.stopTimeoutNanos = timeout;
        ring.publish(sequence);
        return true;
    }

    private void awaitStartup(final Requests.Startup startup)
    {
        try
        {
            // in slices, to say so when a stage is stuck: the start runs the attempts a crash interrupted again, and an
            // inline one that never returns holds the start (an outside check's server never listened, and said nothing)
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String stalled = null;
            while (!startup.done.await(1, TimeUnit.SECONDS) && System.nanoTime() < deadline)
            {
                if (stalled == null && (stalled = stalledStage()) != null)
                {
                    LOG.warn("the engine has not finished starting on {}: {}", config.journal().directory(), stalled);
                }
            }
            if (startup.done.getCount() > 0 || startup.refused)
            {
                final String stuck = stalled != null ? stalled : stalledStage();
                throw new IllegalStateException("engine could not journal its start on " + config.journal().directory() +
                    (startup.reason != null ? ": " + startup.reason : stuck != null ? ": " + stuck : ""));
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", ex);
        }
        catch (final RuntimeException ex)
        {
            abortStart();
            throw ex;
        }
    }

    /**
     * Step in through the requests door, or refuse: once the stop has begun, nothing is published for a
     * request, and the stop waits for requests already inside before it goes on.
     */
    private void enter()
    {
        if (!requests.enter())
        {
            throw closedException();
        }
    }

    private EngineClosedException closedException()
    {
        return new EngineClosedException("engine on " + config.journal().directory() + " is closing and takes no more requests");
    }

    private void checkAccepting(final long heldBytes)
    {
        if (!requests.isOpen())
        {
            budget.release(heldBytes);
            throw closedException();
        }
    }

    /**
     * Spin, then yield, then park briefly: how a producer waits for room without burning a core.
     */
    private static int pause(final int iteration)
    {
        if (iteration < 100)
        {
            Thread.onSpinWait();
        }
        else if (iteration < 200)
        {
            Thread.yield();
        }
        else
        {
            LockSupport.parkNanos(50_000);
        }
        return iteration + 1;
    }

    // ------------------------------------------------------------------------------------------------
    // Status events

    /**
     * Subscribe to the lifecycle transitions of tasks (all, or those passing {@code filter}), delivered to
     * {@code listener} in order on a thread of the subscription's own, with a queue of
     * {@value #DEFAULT_MAX_QUEUED_EVENTS} events. See {@link #subscribe(EventFilter, TaskEventListener, Executor, int)}.
     */
    public EventSubscription subscribe(final EventFilter filter, final TaskEventListener listener)
    {
        final java.util.concurrent.ExecutorService own = java.util.concurrent.Executors.newSingleThreadExecutor(runnable ->
        {
            final Thread thread = new Thread(runnable, "gyre-events-delivery");
            thread.setDaemon(true);
            return thread;
        });
        try
        {
            return subscribe(filter, listener, own, true, DEFAULT_MAX_QUEUED_EVENTS);
        }
        catch (final RuntimeException ex)
        {
            own.shutdown();
            throw ex;
        }
    }

    /**
     * Subscribe to the lifecycle transitions of tasks: every one, or those of tasks passing {@code filter} (type,
     * tenant, key prefix; every field set must match). Each {@link TaskEvent} is decided from a record already in
     * the journal. The subscription sees the transitions decided from about the moment this returns (every one
     * decided after it returns), until it is closed or the engine stops (then the listener hears
     * {@link TaskEventListener#onClosed()} after the events queued).
     * <p>
     * The engine never waits for a subscriber: events wait in the subscription's queue of at most
     * {@code maxQueued}, drained to the listener by tasks run on {@code executor} (one at a time); when it is
     * full, further events are dropped and counted, and the listener hears
     * {@link TaskEventListener#onEventsLost} in their place. Costs nothing while nobody subscribes.
     *
     * @param executor runs the deliveries; must not block in {@code execute}. An event loop, a thread of your own.
     * @param maxQueued events queued at most, 1 to {@value #MAX_QUEUED_EVENTS}.
     * @throws InvalidTaskException when the filter names a type that is not registered, or a tenant or key
     *     prefix longer than the engine allows ({@code field()} says which: type, tenant, keyPrefix).
     * @throws EngineClosedException when the engine is closing.
     */
    public EventSubscription subscribe(final EventFilter filter, final TaskEventListener listener, final Executor executor,
                                       final int maxQueued)
    {
        return subscribe(filter, listener, executor, false, maxQueued);
    }

    private EventSubscription subscribe(final EventFilter filter, final TaskEventListener listener, final Executor executor,
                                        final boolean ownsExecutor, final int maxQueued)
    {
        java.util.Objects.requireNonNull(filter, "filter");
        java.util.Objects.requireNonNull(listener, "listener");
        java.util.Objects.requireNonNull(executor, "executor");
        if (maxQueued < 1 || maxQueued > MAX_QUEUED_EVENTS)
        {
            throw new IllegalArgumentException("maxQueued=" + maxQueued + " must be in [1, " + MAX_QUEUED_EVENTS + "]");
        }
        if (filter.type() != null && registry.idOf(filter.type()) == HandlerRegistry.UNKNOWN)
        {
            throw new InvalidTaskException("type", "type=" + filter.type() + " is not a registered task type (registered: " +
                registry.names() + ")");
        }
        final byte[] tenant = filter.tenant();
        if (tenant != null && tenant.length > config.maxTenantBytes())
        {
            throw new InvalidTaskException("tenant", "tenant of " + tenant.length + " bytes exceeds maxTenantBytes=" + config.maxTenantBytes());
        }
        final byte[] prefix = filter.keyPrefix();
        if (prefix != null && prefix.length > config.maxKeyBytes())
        {
            throw new InvalidTaskException("keyPrefix", "key prefix of " + prefix.length + " bytes exceeds maxKeyBytes=" + config.maxKeyBytes());
        }
        if (!requests.isOpen())
        {
            throw closedException();
        }
        return events.subscribe(filter, listener, executor, ownsExecutor, maxQueued);
    }

    /**
     * @return status subscriptions open now.
     */
    public int eventSubscriptions()
    {
        return events.subscriptionCount();
    }

    /**
     * @return transitions the engine's status event feed dropped because its reader fell behind (every
     *     subscription was told, as an upper bound); 0 in a healthy engine.
     */
    public long eventsLostInFeed()
    {
        return events.lostInFeed();
    }

    /**
     * A test seam: the status event hub.
     */
    EventHub eventHub()
    {
        return events;
    }

    // ------------------------------------------------------------------------------------------------
    // Lifecycle and inspection

    /**
     * @return what opening this engine found in its journal and did about it.
     */
    public RecoveryReport recovery()
    {
        return recovery;
    }

    public EngineConfig config()
    {
        return config;
    }

    /**
     * @return the status events waiting for their subscribers over all subscriptions, in estimated bytes of heap: at
     *     most {@link EngineConfig#maxQueuedEventBytes()}.
     */
    public long queuedEventBytes()
    {
        return events.queuedEventBytes();
    }

    /**
     * @return threads of the blocking pool still running attempts the pool gave up on ({@link EngineConfig#abandonAfter()}):
     *     each was replaced, so the pool has this many threads more than its size while they run.
     */
    public int abandonedBlockingAttempts()
    {
        return pool.abandoned();
    }

    /**
     * @return as {@link #abandonedBlockingAttempts()}, for the CPU pool.
     */
    public int abandonedCpuAttempts()
    {
        return cpuPool.abandoned();
    }

    /**
     * @return attempts handed to the blocking pool that wait in its queue for a thread ({@link EngineConfig#blockingPoolQueue()}):
     *     RUNNING in the journal, not yet started.
     */
    public int queuedBlockingAttempts()
    {
        return pool.queued();
    }

    /**
     * @return as {@link #queuedBlockingAttempts()}, for the CPU pool.
     */
    public int queuedCpuAttempts()
    {
        return cpuPool.queued();
    }

    /**
     * @return tasks accepted and not yet finished (as of the sequence stage's last batch).
     */
    public int liveTasks()
    {
        return sequenceStage.liveTasks();
    }

    /**
     * @return events published to the ring that the journal stage has not yet flushed to the journal (or kept,
     *     during an outage): how far the journal is behind the submissions.
     */
    public long journalLag()
    {
        return Math.max(0, ring.getCursor() - journalStage.through());
    }

    /**
     * @return {bytes, files} of the journal's cycle files on disk (reads the directory; for monitoring).
     */
    public long[] journalDiskUsage()
    {
        return journal.diskUsage();
    }

    /**
     * @return the handlers of this engine's task types: configured, built in and discovered (for monitoring: e.g. a handler's
     *     {@link TaskHandler#gauges gauges}).
     */
    public java.util.List<TaskHandler> handlers()
    {
        final java.util.List<TaskHandler> all = new java.util.ArrayList<>(registry.size());
        for (int id = 0; id < registry.size(); id++)
        {
            all.add(registry.handler(id));
        }
        return all;
    }

    /**
     * @return events in the ring not yet passed by the execute stage, and the follow-up events that stage owes the ring
     *     (results and derived records it found no room for yet, when its own follow-ups outgrow the ring): more than the
     *     ring's size when it does. Outside producers wait (or are refused BUSY) while it is above their share.
     */
    public long ringBacklog()
    {
        return gate.ahead();
    }

    /**
     * Snapshot the engine's state now, at the current end of the journal (besides the periodic snapshots):
     * the next open loads it and replays only what is journaled after it. Applies journal retention after. A
     * snapshot still being written when this one is asked for (a periodic one, say) is waited for, and this one
     * taken after it.
     *
     * @return completes when the snapshot is on disk; fails when snapshots are off, the engine closes first, or
     *     it cannot be written.
     */
    public CompletableFuture<SnapshotInfo> snapshot()
    {
        final CompletableFuture<SnapshotInfo> result = new CompletableFuture<>();
        requestSnapshot(result, 0, true, NO_DEADLINE);
        return result;
    }

    /**
     * Ask the sequence stage for a snapshot, completing {@code result} with it; while one is still being written (a
     * periodic one, which holds less than the journal does by now), ask again once it is done, until {@code result}
     * completes or is given up (completed by the caller).
     *
     * @param mode the SNAPSHOT event's correlation: 0, or {@link SequenceStage#SNAPSHOT_IF_CHANGED}.
     * @param asRequest whether it is a caller's request, refused once the engine stops taking them (the close's own is not).
     * @param deadlineNanos {@link System#nanoTime()} past which the request is given up when the ring takes no event (the
     *     close's, whose ring may be stuck behind a handler), or {@link #NO_DEADLINE}.
     */
    private void requestSnapshot(final CompletableFuture<SnapshotInfo> result, final long mode, final boolean asRequest,
        final long deadlineNanos)
    {
        if (result.isDone())
        {
            return;
        }
        if (asRequest)
        {
            try
            {
                enter();
            }
            catch (final RuntimeException ex)
            {
                result.completeExceptionally(ex);
                return;
            }
        }
        final CompletableFuture<SnapshotInfo> reply = new CompletableFuture<>();
        final boolean published;
        try
        {
            published = publishInternal(RingEvent.SNAPSHOT, e ->
            {
                e.replyTo = reply;
                e.correlation = mode;
            }, deadlineNanos);
        }
        finally
        {
            if (asRequest)
            {
                requests.exit();
            }
        }
        if (!published)
        {
            result.completeExceptionally(new java.util.concurrent.TimeoutException("the ring took no event before the deadline"));
            return;
        }
        reply.whenComplete((info, failure) ->
        {
            if (failure == null)
            {
                result.complete(info);
            }
            else if (failure instanceof Snapshotter.SnapshotBusyException)
            {
                CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS).execute(() -> requestSnapshot(result, mode, asRequest, deadlineNanos));
            }
            else
            {
                result.completeExceptionally(failure);
            }
        });
    }

    /**
     * @return snapshots this engine has written (periodic, requested and at close).
     */
    public long snapshotsWritten()
    {
        return snapshotter == null ? 0 : snapshotter.written();
    }

    /**
     * @return the last snapshot this engine wrote, or null when it has written none.
     */
    public SnapshotInfo lastSnapshot()
    {
        return snapshotter == null ? null : snapshotter.last();
    }

    /**
     * @return what the engine counted and timed since it opened, by task type; null when metrics are off.
     */
    public EngineMetrics metrics()
    {
        return metrics;
    }

    /**
     * @return whether the engine takes requests (false once it is closing).
     */
    public boolean accepting()
    {
        return requests.isOpen();
    }

    /**
     * @return whether the engine takes work now, and if not why (e.g. its journal cannot be written): an
     *     immutable value, cheap to read from any thread as often as wanted.
     */
    public EngineHealth health()
    {
        return health.get();
    }

    /**
     * Whether a stage of the ring holds events without moving: a handler stuck inline (it runs on a stage's thread)
     * stops every task behind it, while {@link #health()} still says READY (the journal may go on acknowledging
     * submissions until the ring is full). Measured by comparing what each call sees with the last: call it
     * periodically (the readiness probe does); a stage is reported once it has held events without finishing one for
     * {@value #STALL_SECONDS} s across calls.
     *
     * @return null when every stage moves or has nothing to do, else which stage is stuck, for how long, and how many
     *     events wait for it.
     */
    public String stalledStage()
    {
        return stalledStage(TimeUnit.SECONDS.toNanos(STALL_SECONDS));
    }

    /**
     * @return "; running now: task N (type T, attempt A)" for an inline handler running at this moment, or nothing (read
     *     from another thread: a diagnostic, which may be a moment old).
     */
    private String runningInline()
    {
        for (final AttemptContext context : inlineContexts)
        {
            final String running = context.runningNow();
            if (running != null)
            {
                return "; running now: " + running;
            }
        }
        return "";
    }

    String stalledStage(final long stallNanos)
    {
        synchronized (stages)
        {
            final long cursor = ring.getCursor();
            final long now = System.nanoTime();
            String stalled = null;
            // what each stage may take is what the stage before it has finished (the first: what was published), so a
            // stage waiting behind a stuck one is not stuck itself
            long available = cursor;
            for (int i = 0; i < stages.size(); i++)
            {
                final long at = disruptor.getSequenceValueFor(stages.get(i));
                final long mayTake = available;
                available = at;
                if (at >= mayTake || at != stallSeen[i])
                {
                    stallSeen[i] = at;
                    stallSince[i] = now;
                    continue;
                }
                final long seconds = TimeUnit.NANOSECONDS.toSeconds(now - stallSince[i]);
                if (stalled == null && now - stallSince[i] >= stallNanos)
                {
                    stalled = "the " + stageNames.get(i) + " stage has finished no event for " + seconds + " s with " + (mayTake - at) +
                        " waiting for it: a handler stuck on its thread? (tasks behind it get no outcome)" + runningInline();
                }
            }
            return stalled;
        }
    }

    /**
     * {@link #health()} is what the journal stage last found, and an idle engine writes nothing: its journal's disk
     * may have filled since. This measures it now (any thread), as the next document's check would.
     *
     * @return null when the journal's file system has room for a document and the configured free space, else why
     *     not (the next submission would be refused {@code JOURNAL_UNAVAILABLE} with this).
     */
    public String journalSpaceShortage()
    {
        return journal.spaceShortage();
    }

    /**
     * @return a future completed, with the final {@link #health()}, once the engine is closed: by
     *     {@link #close()}, or by itself after a journal outage longer than
     *     {@link EngineConfig.Builder#stopAfterJournalOutage} (then its reason says so). Completed on the
     *     closing thread, after the stop answered the submissions whose tasks it left unfinished (see {@link #stop()}).
     */
    public CompletableFuture<EngineHealth> closed()
    {
        return closedFuture;
    }

    /**
     * The journal has been unwritable longer than configured: close the engine, on a thread of its own (the
     * journal stage asks, and close() waits for the stages).
     */
    private void stopAfterOutage()
    {
        final Thread stopper = new Thread(this::close, "gyre-journal-outage-stop");
        stopper.setDaemon(true);
        stopper.start();
    }

    /**
     * A test seam: the journal's writer, to inject write faults into.
     */
    io.gyre.journal.JournalWriter journalWriter()
    {
        return journal.writer();
    }

    /**
     * @return exceptions that escaped a stage (bugs); 0 in a healthy engine.
     */
    public long stageFailures()
    {
        return stageFailures.get();
    }

    /**
     * Stop the engine as {@link #stop()} does.
     */
    @Override
    public void close()
    {
        stop();
    }

    /**
     * Stop gracefully, within {@link EngineConfig#closeTimeout()}, and say what was left:
     * <ol>
     * <li>Take no more requests (they get {@link EngineClosedException}, the engine's SHUTTING_DOWN) and journal
     *     ENGINE_STOP (STOPPING): from here no attempt starts; waiting work stays where it is.</li>
     * <li>Wait until the attempts running finish, or the deadline. Their outcomes are journaled and answered
     *     as usual; timers still fire.</li>
     * <li>At the deadline, take no more results, tell the attempts still running to stop (their stop actions
     *     run, pool threads are interrupted), let the ring drain and its threads end.</li>
     * <li>Journal ENGINE_STOP (STOPPED), the last record: what was left, and the attempts interrupted, which
     *     run again (once) after the next open. Close the journal.</li>
     * </ol>
     * Then every submission still waiting for a task left unfinished (pending, running, waiting to retry, holding
     * an outcome; joined submissions of its key too) gets its last answer from this engine, once, before this
     * returns, on this thread: a future from {@link #submit(TaskRequest)} completes exceptionally with a
     * {@link TaskUnfinishedException} (naming the key and the state the task was left in), a listener hears
     * {@link OutcomeListener#onOutcome} with an {@link TaskOutcome#unfinished() unfinished} outcome. Neither is the
     * task's outcome: the task is journaled and still live, and carries on after the next open, where submitting the
     * key again joins it or returns its outcome. (Only if a stage thread did not end, stuck in a handler, can this
     * thread not read who waits: then they hear nothing, as it logs.) A submission racing with the stop is either
     * refused at once with {@link EngineClosedException} (nothing journaled), or got in first and is answered like
     * any other: with its task's outcome, or as unfinished.
     * <p>
     * Any thread may call it; a second call waits for the first and returns the same report (at once when made from
     * a callback of the answers above, or of {@link #closed()}). Not from a listener otherwise (it would wait for
     * itself).
     *
     * @return what was left, as the stop record says.
     */
    public StopReport stop()
    {
        if (!closed.compareAndSet(false, true))
        {
            if (Thread.currentThread() == stopper)
            {
                // from a callback of this very stop (an answer below, or what completing closed() runs)
                return stopReport;
            }
            try
            {
                stopped.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            return stopReport;
        }
        stopper = Thread.currentThread();
        try
        {
            stopReport = stopGracefully();
            // everything is closed: a callback may call close() (it returns at once) or submit (it is refused)
            answerUnfinished();
            if (closedHealth != null)
            {
                closedFuture.complete(closedHealth);
            }
        }
        finally
        {
            stopper = null;
            stopped.countDown();
        }
        return stopReport;
    }

    /**
     * @return true once {@link #stop()} has returned: the engine answers nothing more.
     */
    public boolean isClosed()
    {
        return stopped.getCount() == 0;
    }

    private StopReport stopGracefully()
    {
        final long timeout = config.closeTimeout().toNanos();
        final long deadlineNanos = System.nanoTime() + timeout;
        final long beganAtHere = config.clock().nanoTime();
        requests.close();
        LOG.info("engine on {} stopping: no new requests, no new attempts; up to {} ms for the {} attempts running off the ring " +
            "and the outcomes held until a time within it", config.journal().directory(), timeout / 1_000_000, attemptsRunning());
        if (!publishStopping(timeout, deadlineNanos))
        {
            LOG.warn("engine on {}: the ring took no event before the deadline, so the stop's beginning is not journaled (attempts may " +
                "have started meanwhile); its end is, with what it left, once the stages have passed what is in the ring",
                config.journal().directory());
        }
        boolean quiet;
        while (!(quiet = quiescent()) && System.nanoTime() < deadlineNanos)
        {
            LockSupport.parkNanos(1_000_000);
        }
        // what follows the deadline shares one grace period, so that a stage stuck in a handler delays the stop by
        // STAGE_STOP_MILLIS at most (each wait had its own: 27 s past a 2 s closeTimeout, an outside check found)
        final long graceEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STAGE_STOP_MILLIS);
        finalSnapshot(graceEnd);

        // the deadline (or quiet): nothing more comes into the ring; what still runs is told to stop
        stopTicker();
        results.close();
        pool.stopAll();
        cpuPool.stopAll();
        asyncs.stopAll();
        final boolean drained = drainRing(Math.min(DRAIN_MILLIS, millisUntil(graceEnd)));
        final boolean stagesEnded = awaitStageThreads(graceEnd);
        StopReport report = null;
        String unrecordedBecause = "the engine's stages did not stop in time";
        if (drained && stagesEnded)
        {
            // every stage thread has ended: this thread may read the state machine and take the writer over
            // the times the STOPPING record journaled (the close thread's own, had it none)
            final long beganAt = sequencer.stopBeganAt() != 0 ? sequencer.stopBeganAt() : beganAtHere;
            final long recordedDeadline = sequencer.stopBeganAt() != 0 ? sequencer.stopDeadline() : beganAtHere + timeout;
            final Sequencer.StopLeft left = sequencer.stopLeft(io.gyre.journal.EngineStopRecord.MAX_LISTED);
            if (journalStage.appendStopped(beganAt, recordedDeadline, quiet, left))
            {
                final List<StopReport.Attempt> listed = new java.util.ArrayList<>(left.taskIds().length);
                for (int i = 0; i < left.taskIds().length; i++)
                {
                    listed.add(new StopReport.Attempt(left.taskIds()[i], left.attempts()[i]));
                }
                report = new StopReport(beganAt, recordedDeadline, quiet, true, left.pending(), left.running(),
                    left.retryWaiting(), left.held(), listed, null);
            }
            else
            {
                unrecordedBecause = "the journal could not write it";
            }
        }
        else
        {
            LOG.error("engine on {}: the ring did not drain or a stage thread did not end; no stop record is written",
                config.journal().directory());
        }
        if (report == null)
        {
            report = StopReport.unrecorded(beganAtHere, beganAtHere + timeout, quiet, unrecordedBecause);
        }
        if (stagesEnded)
        {
            // before the journal closes: a future's answer names its key, read back from the submission
            unanswered = takeUnanswered();
        }
        else
        {
            LOG.error("engine on {}: a stage thread did not end, so the state cannot be read; submissions still waiting for their " +
                "tasks get no answer from this engine (their tasks carry on after the next open)", config.journal().directory());
        }
        closeResources();
        LOG.info("engine on {} stopped: {}", config.journal().directory(), report.describe());
        return report;
    }

    /**
     * A submission whose task the stop left unfinished, and the task as it was left.
     *
     * @param key the submission's key when the target is a future (its exception names it), else null.
     */
    private record Unanswered(Object target, long correlation, long taskId, TaskState state, int attempts, long submittedAt,
                              long startedAt, long queueNanos, long executionNanos, String key)
    {
    }

    /**
     * @return every submission still waiting for a live task's outcome, taken from the state machine (the stages
     *     have ended: this thread may read it), which forgets them.
     */
    private List<Unanswered> takeUnanswered()
    {
        final List<Unanswered> taken = new java.util.ArrayList<>();
        sequencer.takeWaiters((target, correlation, r) ->
        {
            if (target instanceof OutcomeListener)
            {
                final String key = target instanceof Requests.FutureOutcome ? keys.keyAt(r.submitDocument, r.submitOffset) : null;
                taken.add(new Unanswered(target, correlation, r.taskId, r.state, r.attempt, r.submittedAt, r.startedAt, r.queueNanos(),
                    r.executionNanos, key));
            }
        });
        return taken;
    }

    /**
     * Answer each submission the stop left without an outcome, once: a future completes exceptionally with a
     * {@link TaskUnfinishedException}, a listener hears an {@link TaskOutcome#unfinished() unfinished} outcome (then,
     * a {@link BatchingOutcomeListener}, the end of the batch). On this thread: the engine's have ended.
     */
    private void answerUnfinished()
    {
        final List<Unanswered> left = unanswered;
        unanswered = List.of();
        if (left.isEmpty())
        {
            return;
        }
        final TaskOutcome view = new TaskOutcome();
        final java.util.Set<BatchingOutcomeListener> batching = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        final List<BatchingOutcomeListener> batchingInOrder = new java.util.ArrayList<>();
        int failed = 0;
        for (final Unanswered u : left)
        {
            view.reset(u.correlation(), u.taskId())
                .completed(u.state(), u.attempts(), false)
                .times(u.submittedAt(), u.startedAt(), 0)
                .accounting(u.queueNanos(), u.executionNanos())
                .error(TaskUnfinishedException.message(null, u.taskId(), u.state()));
            try
            {
                if (u.target() instanceof Requests.FutureOutcome future)
                {
                    future.unfinished(u.key(), view);
                }
                else
                {
                    ((OutcomeListener)u.target()).onOutcome(view);
                    if (u.target() instanceof BatchingOutcomeListener listener && batching.add(listener))
                    {
                        batchingInOrder.add(listener);
                    }
                }
            }
            catch (final Throwable t)
            {
                failed++;
                LOG.atWarn().setCause(t).log("a listener threw on the answer that the engine stopped before task {} finished", u.taskId());
            }
        }
        for (final BatchingOutcomeListener listener : batchingInOrder)
        {
            try
            {
                listener.onEndOfBatch();
            }
            catch (final Throwable t)
            {
                failed++;
                LOG.warn("a listener failed at the end of the stop's answers", t);
            }
        }
        LOG.info("engine on {}: told {} submission(s) their tasks were left unfinished (they carry on after the next open){}",
            config.journal().directory(), left.size(), failed == 0 ? "" : "; " + failed + " listener call(s) threw");
    }

    /** @return the milliseconds from now to {@code nanoTime} ({@link System#nanoTime()}), at least 1. */
    private static long millisUntil(final long nanoTime)
    {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanoTime - System.nanoTime()));
    }

    /**
     * At close, snapshot what was journaled since the last snapshot, so the next open replays (almost)
     * nothing, waiting for it up to {@code graceEnd} ({@link System#nanoTime()}). A failure is logged: the journal still
     * holds everything.
     */
    private void finalSnapshot(final long graceEnd)
    {
        if (snapshotter == null)
        {
            return;
        }
        final CompletableFuture<SnapshotInfo> result = new CompletableFuture<>();
        requestSnapshot(result, SequenceStage.SNAPSHOT_IF_CHANGED, false, graceEnd);
        try
        {
            result.get(millisUntil(graceEnd), TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex)
        {
            LOG.warn("no snapshot at close ({}); the next open replays the journal since the last one", ex.toString());
        }
        finally
        {
            // given up, or done: no further attempt after the stages stop
            result.cancel(false);
        }
    }

    /**
     * @return the one-pass path for inline attempts, unless {@code -Dgyre.engine.inlineOnJournalThread=false}
     *     (a diagnostic switch, to measure what it is worth: see BENCHMARKS.md).
     */
    private InlineFastPath inlineFastPath(final JournalStage journalStage)
    {
        if (!Boolean.parseBoolean(System.getProperty("gyre.engine.inlineOnJournalThread", "true")))
        {
            return null;
        }
        final InlineFastPath path = new InlineFastPath(journalStage, sequenceStage, registry, config.maxOutputBytes(), config.clock(), budget, keys);
        inlineContexts.add(path.context());
        return path;
    }

    /**
     * @return true when nothing is left to finish: no attempt runs on a pool or as an async attempt, and the
     *     ring holds no event and the execute stage owes it none (so no dispatch is on its way to a pool). The sequencer's own count of slots in
     *     use is not asked: a slot whose attempt has gone without a result (refused by a stopping pool, or
     *     superseded by a retry before its late result came) would keep it above zero with nothing to wait for.
     */
    private boolean quiescent()
    {
        return gate.ahead() == 0 && executeStage.owing() == 0 && ring.getCursor() == ring.getMinimumGatingSequence() &&
            pool.active() == 0 && cpuPool.active() == 0 && asyncs.active() == 0 && sequencer.heldDueInStop() == 0;
    }

    private int attemptsRunning()
    {
        return pool.active() + cpuPool.active() + asyncs.active();
    }

    /**
     * The engine could not journal its start: stop what runs, without records (the opening thread closes the
     * journal and the handlers).
     */
    private void abortStart()
    {
        requests.close();
        results.close();
        pool.stopAll();
        cpuPool.stopAll();
        asyncs.stopAll();
        if (!drainRing(100))
        {
            LOG.warn("ring did not drain while aborting the start");
        }
        awaitStageThreads();
        deadLetterAnswerer.close();
        lookupReader.close();
        submissionReader.close();
        outcomeReader.close();
        deadLetterReader.close();
        keys.close();
    }

    private void stopTicker()
    {
        try
        {
            if (ticker != null)
            {
                ticker.stop();
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Let the stages finish every event in the ring (nothing publishes into it any more but the stages
     * themselves), then stop them; halt them when that takes longer than {@code millis} (a stage stuck in a
     * handler).
     *
     * @return true when the ring drained.
     */
    private boolean drainRing(final long millis)
    {
        try
        {
            disruptor.shutdown(millis, TimeUnit.MILLISECONDS);
            return true;
        }
        catch (final TimeoutException ex)
        {
            LOG.warn("ring did not drain within {} ms; halting it (unfinished work runs after the next open)", millis);
            disruptor.halt();
            return false;
        }
    }

    private void closeResources()
    {
        // status events first: their thread reads the journal, and hands out what the stopped stages decided last
        events.close();
        if (snapshotter != null)
        {
            snapshotter.close();
        }
        // the queries the stopped stages handed over are answered first: they read the journal
        deadLetterAnswerer.close();
        lookupReader.close();
        submissionReader.close();
        outcomeReader.close();
        deadLetterReader.close();
        keys.close();
        journal.close();
        closeHandlers(config.handlers());
        final EngineHealth last = health.updateAndGet(h -> h.state() == EngineHealth.State.STOPPED ? h :
            new EngineHealth(EngineHealth.State.STOPPED, h.ready() ? "closed" : "closed while " + h.reason(), System.currentTimeMillis()));
        LOG.info("engine on {} closed", config.journal().directory());
        closedHealth = last;
    }

    /**
     * The journal may be closed only once no stage thread can touch it: a stage halted mid-way may still be
     * finishing its batch (and its document, which holds the queue's write lock).
     */
    private boolean awaitStageThreads()
    {
        return awaitStageThreads(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STAGE_STOP_MILLIS));
    }

    private boolean awaitStageThreads(final long until)
    {
        boolean ended = true;
        for (final Thread thread : stageThreadList)
        {
            try
            {
                thread.join(millisUntil(until));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return false;
            }
            if (thread.isAlive())
            {
                ended = false;
                LOG.error("stage thread {} did not stop in time (a handler blocking the ring?); closing the journal anyway",
                    thread.getName());
            }
        }
        return ended;
    }

    /**
     * A thread of an engine's pipeline stages, so that a request made on it is known for one ({@link #onStageThread()}).
     */
    private static final class StageThread extends Thread
    {
        /** The engine's list of its stage threads: which engine this one is of. */
        final Object owner;

        StageThread(final Runnable runnable, final String name, final Object owner)
        {
            super(runnable, name);
            this.owner = owner;
        }
    }

    private static ThreadFactory stageThreads(final int threads, final List<Thread> created)
    {
        final String[] names = threads == 4 ? new String[] {"gyre-journal", "gyre-sequence", "gyre-execute", "gyre-publish"} :
            threads == 2 ? new String[] {"gyre-journal-sequence", "gyre-execute-publish"} : new String[] {"gyre-engine"};
        final AtomicInteger next = new AtomicInteger();
        return runnable ->
        {
            final int i = next.getAndIncrement();
            final Thread thread = new StageThread(runnable, i < names.length ? names[i] : "gyre-stage-" + i, created);
            thread.setDaemon(true);
            created.add(thread);
            return thread;
        };
    }

    private static String versionOf()
    {
        return buildVersion(Engine.class.getPackage().getImplementationVersion());
    }

    /**
     * @return this build's version, as {@code gyre --version} prints it and every {@code ENGINE_STARTED} record journals
     *     it: the project's version and the commit it was built from ({@code 0.1.0-SNAPSHOT+1263bd7e}, {@code -dirty} added
     *     when the sources had uncommitted changes), when run from gyre's jar; the version alone otherwise.
     */
    public static String version()
    {
        return VERSION;
    }

    /**
     * @param manifestVersion the jar's {@code Implementation-Version}, or null.
     * @return it, with a commit the build could not name (not a git checkout: the manifest keeps the placeholder) as
     *     {@code unknown}.
     */
    static String buildVersion(final String manifestVersion)
    {
        if (manifestVersion == null)
        {
            return "0.1.0-SNAPSHOT";
        }
        final int placeholder = manifestVersion.indexOf("${");
        return placeholder < 0 ? manifestVersion : manifestVersion.substring(0, placeholder) + "unknown";
    }

    /**
     * A throwable escaping a stage is a bug: count it and log it with the event, and keep the ring going.
     */
    private final class StageExceptionHandler implements ExceptionHandler<RingEvent>
    {
        @Override
        public void handleEventException(final Throwable ex, final long sequence, final RingEvent event)
        {
            stageFailures.incrementAndGet();
            final org.slf4j.spi.LoggingEventBuilder line = LOG.atError().setCause(ex);
            if (event != null && TaskLog.enabled(line))
            {
                // the task's fields as far as the event carries them: a submission its key, type and (once journaled)
                // task id; a request by key its key; an attempt's result or a derived record its task id and attempt
                // (their key and type are in the sequencer's index, which a failed stage must not lean on). The state
                // is the sequencer's, which may be what failed: left out. Other events are about no task.
                switch (event.kind)
                {
                    case RingEvent.SUBMIT -> TaskLog.task(line, event.journaled ? event.eventId : 0, TaskLog.keyOf(event),
                        registry.typeOf(event.handlerId), 0, null);
                    case RingEvent.SUBMIT_UNINSTALLED, RingEvent.CANCEL, RingEvent.STATUS, RingEvent.REDRIVE ->
                        TaskLog.task(line, 0, TaskLog.keyOf(event), null, 0, null);
                    case RingEvent.COMPLETION, RingEvent.DERIVED -> TaskLog.task(line, event.taskId, null, null, event.attempt, null);
                    default ->
                    {
                    }
                }
            }
            line.log("stage failed on {} at sequence {}", event, sequence);
        }

        @Override
        public void handleOnStartException(final Throwable ex)
        {
            stageFailures.incrementAndGet();
            LOG.error("stage failed to start", ex);
        }

        @Override
        public void handleOnShutdownException(final Throwable ex)
        {
            LOG.error("stage failed to shut down", ex);
        }
    }
}
