package io.gyre.engine;

import com.lmax.disruptor.EventTranslatorOneArg;
import com.lmax.disruptor.EventTranslatorThreeArg;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.TimeoutException;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import io.gyre.journal.SubmittedRecord;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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
 *     are journaled before anyone sees them; it hands blocking attempts to the pool.</li>
 * <li>The publish stage delivers replies and releases the event.</li>
 * </ol>
 * The stages run on four threads, or fused on two (journal and sequence; execute and publish) or one, as
 * {@link EngineConfig#pipelineThreads()} says: order and contracts are the same, only the threads differ.
 * <p>
 * Thread safety: every public method may be called from any thread.
 */
public final class Engine implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final String VERSION = versionOf();
    private static final long STAGE_STOP_MILLIS = 10_000;

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
    private final AdmissionGate gate;
    private final ByteBudget budget;
    private final AtomicBoolean tickInFlight = new AtomicBoolean();
    private final JournalReader lookupReader;
    private final JournalReader submissionReader;
    private final JournalReader outcomeReader;
    private final BlockingPool pool;
    private final BlockingPool cpuPool;
    private final AsyncAttempts asyncs;
    private final SequenceStage sequenceStage;
    private final Disruptor<RingEvent> disruptor;
    private final List<Thread> stageThreadList = new CopyOnWriteArrayList<>();
    private final RingBuffer<RingEvent> ring;
    private final Ticker ticker;
    private final RecoveryReport recovery;
    private final AtomicLong stageFailures = new AtomicLong();
    private final AtomicInteger producers = new AtomicInteger();
    private volatile boolean accepting = true;
    private volatile boolean running = true;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicReference<EngineHealth> health = new AtomicReference<>(EngineHealth.ready(System.currentTimeMillis()));
    private final CompletableFuture<EngineHealth> closedFuture = new CompletableFuture<>();
    private final JournalStage journalStage;

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
        this.sequencer = new Sequencer(Settings.of(config), registry, lookupReader);

        // 0. Rebuild the state from the journal, through the same state machine the sequence stage runs.
        final long replayStart = System.nanoTime();
        final long replayed;
        try (JournalReader reader = journal.newReader())
        {
            final Effects scratch = new Effects();
            replayed = reader.readToEnd(record ->
            {
                scratch.reset();
                sequencer.apply(record, scratch);
            });
            if (reader.corrupted())
            {
                throw new JournalCorruptedException(config.journal().directory().toString(), reader.problems());
            }
        }
        final long replayNanos = System.nanoTime() - replayStart;
        if (sequencer.derivedMismatches() > 0)
        {
            LOG.warn("replay re-derived {} transitions differently from the journal; first: {}",
                sequencer.derivedMismatches(), sequencer.firstMismatch());
        }

        // 1..4. The ring and its stages, in pipeline order.
        this.journalStage = new JournalStage(
            journal.writer(), config.clock(), registry, journal.lastTimestampAtOpen(), VERSION, config.journal().directory().toString(),
            config.timerFiresPerTick(), config.journalOutageStopAfter() == null ? 0 : config.journalOutageStopAfter().toNanos(), health,
            this::stopAfterOutage);
        this.sequenceStage = new SequenceStage(sequencer, tickInFlight);
        final HandOff handOff = new HandOff(registry, config.maxOutputBytes(), gate, budget, config.clock(), () -> running);
        this.pool = new BlockingPool("blocking", config.blockingPoolThreads(), handOff);
        this.cpuPool = new BlockingPool("cpu", config.cpuPoolThreads(), handOff);
        this.asyncs = new AsyncAttempts(handOff);
        final ExecuteStage executeStage = new ExecuteStage(registry, config.maxOutputBytes(), gate, budget, pool, cpuPool, asyncs,
            config.clock(), submissionReader);
        final PublishStage publishStage = new PublishStage(outcomeReader, budget);

        disruptor = new Disruptor<>(RingEvent.FACTORY, config.ringSize(), stageThreads(config.pipelineThreads(), stageThreadList),
            ProducerType.MULTI, config.waitStrategy().create());
        disruptor.setDefaultExceptionHandler(new StageExceptionHandler());
        ring = disruptor.getRingBuffer();
        switch (config.pipelineThreads())
        {
            case 4 -> disruptor.handleEventsWith(journalStage)
                .then(sequenceStage)
                .then(executeStage)
                .then(publishStage);
            case 2 ->
            {
                final FusedStage first = new FusedStage(journalStage, sequenceStage, null, null, inlineFastPath(journalStage));
                first.ring(ring);
                disruptor.handleEventsWith(first)
                    .then(new FusedStage(null, null, executeStage, publishStage, null));
            }
            default ->
            {
                final FusedStage all = new FusedStage(journalStage, sequenceStage, executeStage, publishStage,
                    inlineFastPath(journalStage));
                all.ring(ring);
                disruptor.handleEventsWith(all);
            }
        }
        journalStage.ring(ring);
        executeStage.ring(ring);
        pool.ring(ring);
        cpuPool.ring(ring);
        asyncs.ring(ring);
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

        ticker = new Ticker(config.clock(), sequenceStage::nextWakeAt, journalStage::wakeAt, () -> !health.get().ready(), tickInFlight,
            this::publishTick);
        ticker.start();
        recovery = new RecoveryReport(replayed, replayNanos, journal.repairedTail(), sequenceStage.liveTasks(),
            startup.requeued, sequencer.derivedVerified(), leftovers.derivedCount);
        LOG.info("engine open on {}: replayed {} records in {} ms, {} live tasks, {} attempts requeued",
            config.journal().directory(), replayed, replayNanos / 1_000_000, recovery.liveTasks(), recovery.requeued());
    }

    /**
     * Open an engine on its journal, replaying what is there.
     *
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
            throw new IllegalStateException("task type " + config.handlers().get(started.size()).type() + " cannot start: " +
                ex.getMessage(), ex);
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
                LOG.warn("task type {}: close failed", handler.type(), ex);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Submitting

    /**
     * Submit a task; the listener hears that it was accepted, then its outcome (or that it was refused).
     * Blocks while the ring is at its admission limit (backpressure). Allocates nothing.
     *
     * @throws InvalidTaskException when the request is malformed (nothing is journaled).
     * @throws EngineClosedException when the engine is closing.
     */
    public void submit(final TaskRequest request, final OutcomeListener listener)
    {
        final long large = validate(request);
        enter();
        try
        {
            int idle = 0;
            while (!budget.tryAcquire(large))
            {
                checkAccepting(0);
                idle = pause(idle);
            }
            idle = 0;
            while (!gate.tryAcquireSubmit())
            {
                checkAccepting(large);
                idle = pause(idle);
            }
            ring.publishEvent(SUBMIT_TRANSLATOR, request, listener, this);
        }
        finally
        {
            producers.decrementAndGet();
        }
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
            ring.publishEvent(SUBMIT_TRANSLATOR, request, listener, this);
            return true;
        }
        finally
        {
            producers.decrementAndGet();
        }
    }

    /**
     * Submit a task and get its outcome as a future (completed on the engine's publish thread: do not
     * block in dependent actions, or use their async variants).
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
        final Requests.StatusRequest request = new Requests.StatusRequest(new String(bytes, StandardCharsets.UTF_8));
        enter();
        try
        {
            if (!gate.tryAcquireInternal())
            {
                return null;
            }
            ring.publishEvent(KEYED_TRANSLATOR, kind, new UnsafeBuffer(bytes), request);
        }
        finally
        {
            producers.decrementAndGet();
        }
        return request;
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
        return keyed(kind, key == null ? new byte[0] : key.getBytes(StandardCharsets.UTF_8));
    }

    private CompletableFuture<TaskStatus> keyed(final int kind, final byte[] bytes)
    {
        validateKey(bytes);
        final Requests.StatusRequest request = new Requests.StatusRequest(new String(bytes, StandardCharsets.UTF_8));
        enter();
        try
        {
            int idle = 0;
            while (!gate.tryAcquireInternal())
            {
                checkAccepting(0);
                idle = pause(idle);
            }
            ring.publishEvent(KEYED_TRANSLATOR, kind, new UnsafeBuffer(bytes), request);
        }
        finally
        {
            producers.decrementAndGet();
        }
        return request;
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
        if (registry.idOf(type) == HandlerRegistry.UNKNOWN)
        {
            throw new InvalidTaskException("type", "type=" + type + " is not a registered task type (registered: " + registry.names() + ")");
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
        return payloadLength > Blob.INLINE_CAPACITY ? payloadLength : 0;
    }

    private static void validateBackoff(final TaskRequest request)
    {
        if (request.backoffInitialMillis() < 1)
        {
            throw new InvalidTaskException("backoffInitialMillis", "backoffInitialMillis=" + request.backoffInitialMillis() + " must be at least 1");
        }
        if (request.backoffMaxMillis() < request.backoffInitialMillis())
        {
            throw new InvalidTaskException("backoffMaxMillis",
                "backoffMaxMillis=" + request.backoffMaxMillis() + " must be at least backoffInitialMillis=" + request.backoffInitialMillis());
        }
        if (!(request.backoffMultiplier() >= 1f && request.backoffMultiplier() <= 100f))
        {
            throw new InvalidTaskException("backoffMultiplier", "backoffMultiplier=" + request.backoffMultiplier() + " must be in [1, 100]");
        }
        if (!(request.backoffJitter() >= 0f && request.backoffJitter() <= 1f))
        {
            throw new InvalidTaskException("backoffJitter", "backoffJitter=" + request.backoffJitter() + " must be in [0, 1]");
        }
    }

    /**
     * Fill a SUBMIT event from a validated request, resolving every default now so the journal holds them.
     */
    private void fillSubmit(final RingEvent e, final TaskRequest request, final OutcomeListener listener)
    {
        final int handlerId = registry.idOf(request.type());
        final TaskHandler handler = registry.handler(handlerId);
        e.kind = RingEvent.SUBMIT;
        e.handlerId = handlerId;
        e.mode = registry.mode(handlerId).code();
        e.key.copyFrom(request.key(), 0, request.key().capacity());
        e.tenant.copyFrom(request.tenant(), 0, request.tenant().capacity());
        e.budgetBytes = e.payload.copyFrom(request.payload(), 0, request.payload().capacity());
        e.priority = request.priority().code();
        e.timeoutMillis = request.timeoutMillis() > 0 ? request.timeoutMillis() :
            handler.defaultTimeoutMillis() > 0 ? handler.defaultTimeoutMillis() : config.defaultTimeoutMillis();
        e.maxAttempts = request.maxAttempts() > 0 ? request.maxAttempts() :
            handler.defaultMaxAttempts() > 0 ? handler.defaultMaxAttempts() : config.defaultMaxAttempts();
        if (request.backoffJitter() >= 0)
        {
            e.backoffInitialMillis = request.backoffInitialMillis();
            e.backoffMaxMillis = request.backoffMaxMillis();
            e.backoffMultiplier = request.backoffMultiplier();
            e.backoffJitter = request.backoffJitter();
        }
        else
        {
            e.backoffInitialMillis = config.defaultBackoffInitialMillis();
            e.backoffMaxMillis = config.defaultBackoffMaxMillis();
            e.backoffMultiplier = config.defaultBackoffMultiplier();
            e.backoffJitter = config.defaultBackoffJitter();
        }
        e.taskFlags = request.deadLetter() ? SubmittedRecord.FLAG_DEAD_LETTER : 0;
        e.replyTo = listener;
        e.correlation = request.correlationId();
    }

    private boolean publishTick()
    {
        if (!running || !gate.tryAcquireInternal())
        {
            return false;
        }
        ring.publishEvent(TICK_TRANSLATOR, null);
        return true;
    }

    private void publishInternal(final int kind, final java.util.function.Consumer<RingEvent> fill)
    {
        int idle = 0;
        while (!gate.tryAcquireInternal())
        {
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
    }

    private void awaitStartup(final Requests.Startup startup)
    {
        try
        {
            if (!startup.done.await(60, TimeUnit.SECONDS) || startup.refused)
            {
                throw new IllegalStateException("engine could not journal its start on " + config.journal().directory() +
                    (startup.reason != null ? ": " + startup.reason : ""));
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", ex);
        }
        catch (final RuntimeException ex)
        {
            shutdownInternals(Duration.ZERO);
            throw ex;
        }
    }

    /**
     * Register as a producer, then check the engine still takes requests: close() waits for registered
     * producers, so nothing is published into a ring that has stopped.
     */
    private void enter()
    {
        producers.incrementAndGet();
        if (!accepting)
        {
            producers.decrementAndGet();
            throw closedException();
        }
    }

    private EngineClosedException closedException()
    {
        return new EngineClosedException("engine on " + config.journal().directory() + " is closing and takes no more requests");
    }

    private void checkAccepting(final long heldBytes)
    {
        if (!accepting)
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
     * @return tasks accepted and not yet finished (as of the sequence stage's last batch).
     */
    public int liveTasks()
    {
        return sequenceStage.liveTasks();
    }

    /**
     * @return events in the ring not yet passed by the execute stage.
     */
    public long ringBacklog()
    {
        return gate.ahead();
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
     * @return a future completed, with the final {@link #health()}, once the engine is closed: by
     *     {@link #close()}, or by itself after a journal outage longer than
     *     {@link EngineConfig.Builder#stopAfterJournalOutage} (then its reason says so). Completed on the
     *     closing thread.
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
     * Stop taking requests, let running work finish within the configured close timeout, then stop the
     * ring and close the journal. What did not finish is in the journal and runs after the next open.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        accepting = false;
        final long deadline = System.nanoTime() + config.closeTimeout().toNanos();
        while (producers.get() > 0)
        {
            Thread.onSpinWait();
        }
        while (System.nanoTime() < deadline && !quiescent())
        {
            LockSupport.parkNanos(1_000_000);
        }
        shutdownInternals(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
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
        return new InlineFastPath(journalStage, sequenceStage, registry, config.maxOutputBytes(), config.clock(), budget);
    }

    private boolean quiescent()
    {
        return gate.ahead() == 0 && pool.active() == 0 && cpuPool.active() == 0 && asyncs.active() == 0 &&
            sequenceStage.handedOffInUse() == 0 &&
            ring.getCursor() == ring.getMinimumGatingSequence();
    }

    private void shutdownInternals(final Duration remaining)
    {
        accepting = false;
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
        running = false;
        pool.shutdownNow();
        cpuPool.shutdownNow();
        asyncs.shutdown();
        try
        {
            disruptor.shutdown(Math.max(100, remaining.toMillis()), TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException ex)
        {
            LOG.warn("ring did not drain in time; halting it (unfinished work runs after the next open)");
            disruptor.halt();
        }
        awaitStageThreads();
        lookupReader.close();
        submissionReader.close();
        outcomeReader.close();
        journal.close();
        closeHandlers(config.handlers());
        final EngineHealth last = health.updateAndGet(h -> h.state() == EngineHealth.State.STOPPED ? h :
            new EngineHealth(EngineHealth.State.STOPPED, h.ready() ? "closed" : "closed while " + h.reason(), System.currentTimeMillis()));
        LOG.info("engine on {} closed", config.journal().directory());
        closedFuture.complete(last);
    }

    /**
     * The journal may be closed only once no stage thread can touch it: a stage halted mid-way may still be
     * finishing its batch (and its document, which holds the queue's write lock).
     */
    private void awaitStageThreads()
    {
        for (final Thread thread : stageThreadList)
        {
            try
            {
                thread.join(STAGE_STOP_MILLIS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
            if (thread.isAlive())
            {
                LOG.error("stage thread {} did not stop within {} ms (a handler blocking the ring?); closing the journal anyway",
                    thread.getName(), STAGE_STOP_MILLIS);
            }
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
            final Thread thread = new Thread(runnable, i < names.length ? names[i] : "gyre-stage-" + i);
            thread.setDaemon(true);
            created.add(thread);
            return thread;
        };
    }

    private static String versionOf()
    {
        final String version = Engine.class.getPackage().getImplementationVersion();
        return version != null ? version : "0.1.0-SNAPSHOT";
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
            LOG.error("stage failed on {} at sequence {}", event, sequence, ex);
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
