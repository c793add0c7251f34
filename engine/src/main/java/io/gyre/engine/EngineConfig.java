package io.gyre.engine;

import io.gyre.journal.JournalConfig;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.OffsetEpochNanoClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything an engine is built from; immutable and validated once, by {@link Builder#build()}, which
 * names the offending setting and value ({@code ringSize=1000 must be a power of two}).
 * <p>
 * Settings that change the sequence stage's decisions (live task, retained outcome and dead-letter limits,
 * retention, pool size, timer fan-out) are journaled when the engine starts, so a journal replays the same under any
 * later configuration.
 */
public record EngineConfig(
    JournalConfig journal,
    int ringSize,
    WaitStrategyOption waitStrategy,
    int pipelineThreads,
    int maxKeyBytes,
    int maxTenantBytes,
    int maxPayloadBytes,
    int maxOutputBytes,
    long maxInFlightBytes,
    long maxQueuedEventBytes,
    int maxLiveTasks,
    int maxRetainedOutcomes,
    Duration outcomeRetention,
    int blockingPoolThreads,
    int cpuPoolThreads,
    int blockingPoolQueue,
    int cpuPoolQueue,
    int maxAsyncInFlight,
    int maxWaitersPerTask,
    int lowPriorityAdmissionPercent,
    int normalPriorityAdmissionPercent,
    int defaultTimeoutMillis,
    int defaultMaxAttempts,
    int defaultBackoffInitialMillis,
    int defaultBackoffMaxMillis,
    float defaultBackoffMultiplier,
    float defaultBackoffJitter,
    int timerFiresPerTick,
    int maxDeadLetters,
    Duration closeTimeout,
    Duration abandonAfter,
    boolean snapshots,
    long snapshotEveryRecords,
    Duration snapshotInterval,
    int snapshotsKept,
    Duration journalRetention,
    boolean metrics,
    Duration journalOutageStopAfter,
    EpochNanoClock clock,
    List<TaskHandler> handlers,
    Map<String, String> handlerSettings,
    Path pluginsDirectory)
{
    /** Largest task type name, in bytes. */
    public static final int MAX_TYPE_BYTES = 64;
    /** Timers fired per tick when not set, for a ring of 4096 slots or more (a smaller one gets ringSize/16). */
    public static final int DEFAULT_TIMER_FIRES_PER_TICK = 256;
    private static final int TIMER_FIRES_NOT_SET = Integer.MIN_VALUE;
    /** CPU attempts waiting in the CPU pool's queue, per thread of it, when not set. */
    public static final int CPU_QUEUE_PER_THREAD = 4;
    /** Largest queue of a pool. */
    public static final int MAX_POOL_QUEUE = 65_536;
    /** Largest ring, in slots (2^20): see {@link Builder#ringSize}. */
    public static final int MAX_RING_SIZE = 1 << 20;
    /**
     * Heap a ring slot takes, rounded up: the preallocated event and its buffers measured about 1.7 KiB on a 64-bit
     * JVM with compressed pointers. {@link Builder#build()} refuses a ring whose slots take more than half the heap.
     */
    public static final int RING_SLOT_BYTES = 2048;

    public EngineConfig
    {
        handlers = List.copyOf(handlers);
        handlerSettings = Map.copyOf(handlerSettings);
    }

    /**
     * @param journalDirectory where the journal lives.
     * @return a builder with every default set.
     */
    public static Builder builder(final Path journalDirectory)
    {
        return new Builder(journalDirectory);
    }

    /**
     * Fills and validates a configuration. Defaults: see each setter.
     */
    public static final class Builder
    {
        private final Path journalDirectory;
        private String rollCycle = JournalConfig.DEFAULT_ROLL_CYCLE;
        private int ringSize = 4 * 1024;
        private WaitStrategyOption waitStrategy = WaitStrategyOption.BACKOFF;
        private int pipelineThreads = 2;
        private int maxKeyBytes = 256;
        private int maxTenantBytes = 64;
        private int maxPayloadBytes = 1 << 20;
        private int maxOutputBytes = 1 << 20;
        private long maxInFlightBytes = 64L << 20;
        private long maxQueuedEventBytes;
        private int maxLiveTasks = 1_000_000;
        private int maxRetainedOutcomes = 1_000_000;
        private Duration outcomeRetention = Duration.ofHours(24);
        private int blockingPoolThreads = 16;
        private int cpuPoolThreads = Runtime.getRuntime().availableProcessors();
        private int blockingPoolQueue;
        private int cpuPoolQueue;
        /** Whether {@link #cpuPoolQueue} was set; if not, {@link #CPU_QUEUE_PER_THREAD} per thread of the CPU pool. */
        private boolean cpuPoolQueueSet;
        private int maxAsyncInFlight = 10_000;
        private int maxWaitersPerTask = 64;
        private int lowPriorityAdmissionPercent = 80;
        private int normalPriorityAdmissionPercent = 95;
        private int defaultTimeoutMillis = 30_000;
        private int defaultMaxAttempts = 3;
        private int defaultBackoffInitialMillis = 100;
        private int defaultBackoffMaxMillis = 60_000;
        private float defaultBackoffMultiplier = 2.0f;
        private float defaultBackoffJitter = 0.2f;
        /** Not set: {@link #DEFAULT_TIMER_FIRES_PER_TICK}, or less for a small ring. */
        private int timerFiresPerTick = TIMER_FIRES_NOT_SET;
        private int maxDeadLetters = 100_000;
        private Duration closeTimeout = Duration.ofSeconds(10);
        private Duration abandonAfter = Duration.ofSeconds(10);
        private static final Duration MAX_CLOSE_TIMEOUT = Duration.ofDays(1);
        private boolean snapshots = true;
        private long snapshotEveryRecords = 10_000_000L;
        private Duration snapshotInterval = Duration.ofMinutes(10);
        private int snapshotsKept = 2;
        private Duration journalRetention = Duration.ofDays(7);
        private boolean metrics = true;
        private Duration journalOutageStopAfter;
        private long journalMinFreeBytes = JournalConfig.DEFAULT_MIN_FREE_BYTES;
        private EpochNanoClock clock;
        private final List<TaskHandler> handlers = new ArrayList<>();
        private boolean builtInHandlers = true;
        private boolean discoverHandlers = true;
        private Path pluginsDirectory;
        private final Map<String, String> handlerSettings = new LinkedHashMap<>();

        private Builder(final Path journalDirectory)
        {
            this.journalDirectory = Objects.requireNonNull(journalDirectory, "journalDirectory");
        }

        /** Chronicle Queue roll cycle of the journal's files; default FAST_DAILY. */
        public Builder rollCycle(final String value)
        {
            rollCycle = value;
            return this;
        }

        /**
         * Slots in the ring, a power of two from 64 to {@link EngineConfig#MAX_RING_SIZE} (2^20); default 4096. Each slot is an
         * event preallocated when the engine opens, with its small buffers (about {@link EngineConfig#RING_SLOT_BYTES} bytes of
         * heap), so {@link #build()} also refuses a ring taking more than half of this JVM's maximum heap (about
         * 2^19 slots with -Xmx2g). Submissions take at most an eighth of it ahead of
         * the execute stage (see {@code AdmissionGate}). Not more by default: a deeper ring holds more events written
         * but not yet read, and on this project's measurements (BENCHMARKS.md, ring size) 4096 ran about 5 % faster
         * than 16384, the events a stage reads still being in the cache the producer wrote them to.
         */
        public Builder ringSize(final int value)
        {
            ringSize = value;
            return this;
        }

        /** How stage threads wait; default BACKOFF (see BENCHMARKS.md). */
        public Builder waitStrategy(final WaitStrategyOption value)
        {
            waitStrategy = value;
            return this;
        }

        /**
         * Threads the four stages run on: 4 (one each), 2 (journal+sequence, execute+publish) or 1 (all);
         * default 2 (see BENCHMARKS.md: on 2 cores four stage threads starve each other).
         */
        public Builder pipelineThreads(final int value)
        {
            pipelineThreads = value;
            return this;
        }

        /** Largest idempotency key, bytes; default 256. */
        public Builder maxKeyBytes(final int value)
        {
            maxKeyBytes = value;
            return this;
        }

        /** Largest tenant name, bytes; default 64. */
        public Builder maxTenantBytes(final int value)
        {
            maxTenantBytes = value;
            return this;
        }

        /** Largest payload, bytes; default 1 MiB. */
        public Builder maxPayloadBytes(final int value)
        {
            maxPayloadBytes = value;
            return this;
        }

        /** Largest output a handler may produce, bytes; default 1 MiB. A larger one fails the task. */
        public Builder maxOutputBytes(final int value)
        {
            maxOutputBytes = value;
            return this;
        }

        /** Payload and output bytes held in the ring at once before submissions wait; default 64 MiB. */
        public Builder maxInFlightBytes(final long value)
        {
            maxInFlightBytes = value;
            return this;
        }

        /**
         * Heap the status events waiting for their subscribers may take over all subscriptions, in bytes (each event
         * counted at an estimate of its size: its key, tenant, error and a fixed part); when an event finds no room, the
         * subscription holding the most is ended ({@link TaskEventListener#onOverflow()}), or the event dropped and
         * counted lost when that is its own. Bounds what many slow subscribers cost together, where each
         * subscription's own queue bounds one. 0 (the default): a sixteenth of the JVM's maximum heap.
         */
        public Builder maxQueuedEventBytes(final long value)
        {
            maxQueuedEventBytes = value;
            return this;
        }

        /** Tasks not yet finished, beyond which submissions are rejected with CAPACITY; default 1,000,000. */
        public Builder maxLiveTasks(final int value)
        {
            maxLiveTasks = value;
            return this;
        }

        /** Finished tasks remembered for deduplication, oldest forgotten first; default 1,000,000. */
        public Builder maxRetainedOutcomes(final int value)
        {
            maxRetainedOutcomes = value;
            return this;
        }

        /** How long a finished task's outcome is remembered for deduplication; default 24 hours. */
        public Builder outcomeRetention(final Duration value)
        {
            outcomeRetention = value;
            return this;
        }

        /**
         * Threads of the pool BLOCKING handlers run on; default 16. With {@link #blockingPoolQueue}, the most BLOCKING
         * attempts RUNNING at once.
         */
        public Builder blockingPoolThreads(final int value)
        {
            blockingPoolThreads = value;
            return this;
        }

        /**
         * Threads of the pool CPU handlers run on; default one per core. With {@link #cpuPoolQueue}, the most CPU attempts
         * RUNNING at once.
         */
        public Builder cpuPoolThreads(final int value)
        {
            cpuPoolThreads = value;
            return this;
        }

        /**
         * BLOCKING attempts handed to their pool beyond its threads, to wait there for a thread; default 0. An attempt
         * is RUNNING from its hand-off, and its timeout counts from then: a queue keeps the pool's threads busy while
         * results travel through the ring to free their slots (more tasks a second for short work), at the price of
         * that wait inside the timeout. At most 65,536. The attempts waiting run by priority, then in hand-off order.
         */
        public Builder blockingPoolQueue(final int value)
        {
            blockingPoolQueue = value;
            return this;
        }

        /**
         * CPU attempts handed to their pool beyond its threads, to wait there for a thread (see
         * {@link #blockingPoolQueue}); default four per thread of the CPU pool. At most 65,536.
         */
        public Builder cpuPoolQueue(final int value)
        {
            cpuPoolQueue = value;
            cpuPoolQueueSet = true;
            return this;
        }

        /** ASYNC attempts that may be in flight at once, all types together; default 10,000. */
        public Builder maxAsyncInFlight(final int value)
        {
            maxAsyncInFlight = value;
            return this;
        }

        /**
         * Load shedding by priority: LOW submissions are refused ({@link RejectReason#BUSY}) once the live tasks
         * reach {@code lowPercent} of {@link #maxLiveTasks}, NORMAL ones at {@code normalPercent}; HIGH ones are
         * refused only at the limit ({@link RejectReason#CAPACITY}). Defaults 80 and 95; 100 and 100 turn
         * shedding off.
         */
        public Builder admission(final int lowPercent, final int normalPercent)
        {
            lowPriorityAdmissionPercent = lowPercent;
            normalPriorityAdmissionPercent = normalPercent;
            return this;
        }

        /** Submissions of one key that may wait for its running task; default 64. */
        public Builder maxWaitersPerTask(final int value)
        {
            maxWaitersPerTask = value;
            return this;
        }

        /** Attempt timeout when neither task nor type gives one, milliseconds; default 30,000. */
        public Builder defaultTimeoutMillis(final int value)
        {
            defaultTimeoutMillis = value;
            return this;
        }

        /** Attempts when neither task nor type says; default 3. */
        public Builder defaultMaxAttempts(final int value)
        {
            defaultMaxAttempts = value;
            return this;
        }

        /** Default backoff between attempts: 100 ms, doubling, at most 60 s, 20% jitter. */
        public Builder defaultBackoff(final int initialMillis, final int maxMillis, final float multiplier, final float jitter)
        {
            defaultBackoffInitialMillis = initialMillis;
            defaultBackoffMaxMillis = maxMillis;
            defaultBackoffMultiplier = multiplier;
            defaultBackoffJitter = jitter;
            return this;
        }

        /**
         * Timers fired, and tasks dispatched, per tick at most: at most ringSize/16; by default 256, or
         * ringSize/16 for a ring smaller than 4096 slots.
         */
        public Builder timerFiresPerTick(final int value)
        {
            timerFiresPerTick = value;
            return this;
        }

        /**
         * Tasks the dead-letter list holds at most (until redriven or purged); default 100,000. When it is
         * full, a task that would be dead-lettered ends FAILED (or TIMED_OUT) instead, as if submitted with
         * {@code deadLetter(false)}, and {@link Engine#deadLetterOverflows()} counts it. 0 turns
         * dead-lettering off.
         */
        public Builder maxDeadLetters(final int value)
        {
            maxDeadLetters = value;
            return this;
        }

        /**
         * How long {@link Engine#stop()} (and close()) lets the attempts running finish before telling them to
         * stop: the deadline of a graceful stop; 0 to 1 day, default 10 s. A stage held by a handler that does not
         * return (stuck inline) is waited for at most 10 s more, then the stop closes the journal without it.
         */
        public Builder closeTimeout(final Duration value)
        {
            closeTimeout = value;
            return this;
        }

        /**
         * How long a pooled attempt ({@link ExecutionMode#BLOCKING} or {@link ExecutionMode#CPU}) told to stop, because
         * it timed out or was cancelled, may keep its pool thread before the pool gives up on it: its slot is given
         * back (a late result, journaled: "abandoned ..."), so that a handler that ignores being stopped does not hold
         * the pool shared with other task types for good, and the pool starts a thread in place of the one still
         * running it. At most as many threads as the pool has are abandoned at once; beyond that a stuck attempt keeps
         * its slot until its handler returns. 100 ms to 1 day, default 10 s.
         */
        public Builder abandonAfter(final Duration value)
        {
            abandonAfter = value;
            return this;
        }

        /**
         * Whether the engine snapshots its state (so a restart replays only the journal after the newest
         * snapshot) and applies journal retention; default true. Without snapshots nothing is ever deleted.
         */
        public Builder snapshots(final boolean value)
        {
            snapshots = value;
            return this;
        }

        /** Journal records applied between periodic snapshots; default 10,000,000. */
        public Builder snapshotEveryRecords(final long value)
        {
            snapshotEveryRecords = value;
            return this;
        }

        /** Longest time between periodic snapshots (when anything was journaled since); default 10 minutes. */
        public Builder snapshotInterval(final Duration value)
        {
            snapshotInterval = value;
            return this;
        }

        /** Snapshots kept (the newest; older ones are fallbacks when a newer one is damaged); default 2. */
        public Builder snapshotsKept(final int value)
        {
            snapshotsKept = value;
            return this;
        }

        /**
         * What the engine does when its journal cannot be written (disk full, an I/O error). By default (null)
         * it waits: it refuses submissions with {@link RejectReason#JOURNAL_UNAVAILABLE}, probes the journal,
         * and resumes by itself once a write succeeds, however long that takes. With a duration, it stops
         * cleanly (as {@link Engine#close()} does, writing nothing more) once the journal has been unwritable
         * that long, so a supervisor can restart it or move it; {@link Engine#closed()} tells when.
         */
        public Builder stopAfterJournalOutage(final Duration value)
        {
            journalOutageStopAfter = value;
            return this;
        }

        /**
         * How long journal files are kept once no kept snapshot needs them: a file is deleted when it ended
         * longer ago than this and every kept snapshot starts after it; default 7 days.
         */
        public Builder journalRetention(final Duration value)
        {
            journalRetention = value;
            return this;
        }

        /**
         * Whether the engine counts and times what it does, by task type ({@link Engine#metrics()}); default true.
         * Off, nothing is recorded (to measure what recording costs: see BENCHMARKS.md).
         */
        public Builder metrics(final boolean value)
        {
            metrics = value;
            return this;
        }

        /**
         * Disk space the journal leaves free: it refuses to write a document (and the engine refuses work,
         * {@link RejectReason#JOURNAL_UNAVAILABLE}) unless its file system has room for the document plus
         * this much; default 64 MiB, at least 1 MiB. See docs/JOURNAL.md, "When the journal cannot be written".
         */
        public Builder journalMinFreeBytes(final long value)
        {
            journalMinFreeBytes = value;
            return this;
        }

        /** The clock the journal stage stamps events with; default the system clock. */
        public Builder clock(final EpochNanoClock value)
        {
            if (value == null)
            {
                throw invalid("clock", null, "must be set");
            }
            clock = value;
            return this;
        }

        /** Add a task type. */
        public Builder handler(final TaskHandler value)
        {
            handlers.add(Objects.requireNonNull(value, "handler"));
            return this;
        }

        /**
         * Whether task types are looked up with {@link java.util.ServiceLoader} on the class path (and in the
         * plugins directory, when one is set); default true. Explicitly added handlers take precedence over
         * found ones of the same type, found ones over the built-in ones.
         */
        public Builder discoverHandlers(final boolean value)
        {
            discoverHandlers = value;
            return this;
        }

        /**
         * A directory of plugin jars: each jar gets its own class loader (whose parent is the engine's) and
         * its {@code META-INF/services/io.gyre.engine.TaskHandler} types are added. Read when the configuration
         * is built; a missing directory means no plugins. Default: none.
         */
        public Builder pluginsDirectory(final Path value)
        {
            pluginsDirectory = value;
            return this;
        }

        /**
         * A setting for a task type: {@code name} is the type, a dot, and the handler's own setting
         * ({@code http.allowed-hosts}). See {@link TaskHandler#configure}.
         */
        public Builder handlerSetting(final String name, final String value)
        {
            handlerSettings.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Whether the built-in task types (noop, echo) are registered; default true. */
        public Builder builtInHandlers(final boolean value)
        {
            builtInHandlers = value;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming the first setting out of range and its value.
         */
        public EngineConfig build()
        {
            if (journalMinFreeBytes < JournalConfig.MIN_MIN_FREE_BYTES || journalMinFreeBytes > (1L << 40))
            {
                throw invalid("journalMinFreeBytes", journalMinFreeBytes, "must be in [" + JournalConfig.MIN_MIN_FREE_BYTES + ", 2^40]");
            }
            final JournalConfig journalConfig = JournalConfig.of(journalDirectory).withRollCycle(rollCycle).withMinFreeBytes(journalMinFreeBytes);
            if (ringSize < 64 || Integer.bitCount(ringSize) != 1)
            {
                throw invalid("ringSize", ringSize, "must be a power of two, at least 64");
            }
            if (ringSize > MAX_RING_SIZE)
            {
                throw invalid("ringSize", ringSize, "must be at most " + MAX_RING_SIZE + " (2^20)");
            }
            final long maxHeap = Runtime.getRuntime().maxMemory();
            final long ringBytes = (long)ringSize * RING_SLOT_BYTES;
            if (maxHeap != Long.MAX_VALUE && ringBytes > maxHeap / 2)
            {
                throw invalid("ringSize", ringSize, String.format(java.util.Locale.ROOT,
                    "needs %.1f GiB of heap for its slots (about %d bytes each, taken at start), more than half of this JVM's " +
                    "maximum heap (%.1f GiB): lower it, or give the JVM more heap (-Xmx; JAVA_OPTS for ./gyre)",
                    ringBytes / (double)(1L << 30), RING_SLOT_BYTES, maxHeap / (double)(1L << 30)));
            }
            Objects.requireNonNull(waitStrategy, "waitStrategy");
            if (pipelineThreads != 1 && pipelineThreads != 2 && pipelineThreads != 4)
            {
                throw invalid("pipelineThreads", pipelineThreads, "must be 1, 2 or 4");
            }
            range("maxKeyBytes", maxKeyBytes, 1, 4096);
            range("maxTenantBytes", maxTenantBytes, 0, 1024);
            range("maxPayloadBytes", maxPayloadBytes, 0, 4 << 20);
            range("maxOutputBytes", maxOutputBytes, 0, 4 << 20);
            if (maxQueuedEventBytes != 0 && (maxQueuedEventBytes < (64L << 10) || maxQueuedEventBytes > (1L << 40)))
            {
                throw invalid("maxQueuedEventBytes", maxQueuedEventBytes, "must be 0 (a sixteenth of the heap) or in [65536, 2^40]");
            }
            if (maxInFlightBytes < Math.max(maxPayloadBytes, maxOutputBytes) || maxInFlightBytes > (1L << 40))
            {
                throw invalid("maxInFlightBytes", maxInFlightBytes, "must be in [max(maxPayloadBytes, maxOutputBytes), 2^40]");
            }
            range("maxLiveTasks", maxLiveTasks, 1, 100_000_000);
            range("maxRetainedOutcomes", maxRetainedOutcomes, 0, 100_000_000);
            final long tableBytes = RetainedOutcomes.bytesFor(maxRetainedOutcomes);
            if (maxHeap != Long.MAX_VALUE && tableBytes > maxHeap / 4 * 3)
            {
                throw invalid("maxRetainedOutcomes", maxRetainedOutcomes, String.format(java.util.Locale.ROOT,
                    "needs %.1f GiB of heap for its table (taken at start), more than three quarters of this JVM's maximum heap " +
                    "(%.1f GiB): lower it, or give the JVM more heap (-Xmx; JAVA_OPTS for ./gyre)", tableBytes / (double)(1L << 30),
                    maxHeap / (double)(1L << 30)));
            }
            if (outcomeRetention == null || outcomeRetention.isNegative() || outcomeRetention.compareTo(Duration.ofDays(3650)) > 0)
            {
                throw invalid("outcomeRetention", outcomeRetention, "must be between 0 and 3650 days");
            }
            range("blockingPoolThreads", blockingPoolThreads, 1, 4096);
            range("cpuPoolThreads", cpuPoolThreads, 1, 1024);
            range("blockingPoolQueue", blockingPoolQueue, 0, MAX_POOL_QUEUE);
            if (cpuPoolQueueSet)
            {
                range("cpuPoolQueue", cpuPoolQueue, 0, MAX_POOL_QUEUE);
            }
            range("maxAsyncInFlight", maxAsyncInFlight, 1, 10_000_000);
            range("maxWaitersPerTask", maxWaitersPerTask, 1, 65_536);
            if (normalPriorityAdmissionPercent < 1 || normalPriorityAdmissionPercent > 100)
            {
                throw invalid("normalPriorityAdmissionPercent", normalPriorityAdmissionPercent, "must be in [1, 100] (admission(low, normal))");
            }
            if (lowPriorityAdmissionPercent < 1 || lowPriorityAdmissionPercent > normalPriorityAdmissionPercent)
            {
                throw invalid("lowPriorityAdmissionPercent", lowPriorityAdmissionPercent, "must be in [1, normalPriorityAdmissionPercent=" +
                    normalPriorityAdmissionPercent + "] (admission(low, normal))");
            }
            range("defaultTimeoutMillis", defaultTimeoutMillis, 1, Integer.MAX_VALUE);
            range("defaultMaxAttempts", defaultMaxAttempts, 1, 1000);
            range("defaultBackoffInitialMillis", defaultBackoffInitialMillis, 1, 86_400_000);
            range("defaultBackoffMaxMillis", defaultBackoffMaxMillis, defaultBackoffInitialMillis, 86_400_000);
            if (!(defaultBackoffMultiplier >= 1.0f && defaultBackoffMultiplier <= 100f))
            {
                throw invalid("defaultBackoffMultiplier", defaultBackoffMultiplier, "must be in [1, 100]");
            }
            if (!(defaultBackoffJitter >= 0f && defaultBackoffJitter <= 1f))
            {
                throw invalid("defaultBackoffJitter", defaultBackoffJitter, "must be in [0, 1]");
            }
            // a follow-up budget per tick that a small ring cannot hold: the default shrinks with the ring, a value
            // set is checked
            final int timerFiresPerTick = this.timerFiresPerTick == TIMER_FIRES_NOT_SET ?
                Math.min(DEFAULT_TIMER_FIRES_PER_TICK, ringSize / 16) : this.timerFiresPerTick;
            range("timerFiresPerTick", timerFiresPerTick, 1, 65_536);
            if (timerFiresPerTick > ringSize / 16)
            {
                throw invalid("timerFiresPerTick", timerFiresPerTick, "must be at most ringSize/16 (" + ringSize / 16 + ")");
            }
            range("maxDeadLetters", maxDeadLetters, 0, 10_000_000);
            if (closeTimeout == null)
            {
                throw invalid("closeTimeout", null, "must be set");
            }
            if (closeTimeout.isNegative())
            {
                throw invalid("closeTimeout", closeTimeout, "must not be negative");
            }
            if (closeTimeout.compareTo(MAX_CLOSE_TIMEOUT) > 0)
            {
                throw invalid("closeTimeout", closeTimeout, "must be at most " + MAX_CLOSE_TIMEOUT);
            }
            if (abandonAfter == null)
            {
                throw invalid("abandonAfter", null, "must be set");
            }
            if (abandonAfter.compareTo(Duration.ofMillis(100)) < 0 || abandonAfter.compareTo(Duration.ofDays(1)) > 0)
            {
                throw invalid("abandonAfter", abandonAfter, "must be at least 100 ms and at most 1 day");
            }
            range("snapshotEveryRecords", snapshotEveryRecords, 1, Long.MAX_VALUE);
            if (snapshotInterval == null)
            {
                throw invalid("snapshotInterval", null, "must be set");
            }
            if (snapshotInterval.compareTo(Duration.ofSeconds(1)) < 0)
            {
                throw invalid("snapshotInterval", snapshotInterval, "must be at least 1 second");
            }
            range("snapshotsKept", snapshotsKept, 1, 100);
            if (journalRetention == null)
            {
                throw invalid("journalRetention", null, "must be set");
            }
            if (journalRetention.isNegative())
            {
                throw invalid("journalRetention", journalRetention, "must not be negative");
            }
            if (journalOutageStopAfter != null &&
                (journalOutageStopAfter.isNegative() || journalOutageStopAfter.isZero() || journalOutageStopAfter.compareTo(Duration.ofDays(365)) > 0))
            {
                throw invalid("stopAfterJournalOutage", journalOutageStopAfter, "must be more than 0 and at most 365 days (or unset: wait for the journal)");
            }
            final List<TaskHandler> all = HandlerDiscovery.assemble(
                builtInHandlers ? BuiltInHandlers.all() : List.of(),
                discoverHandlers ? HandlerDiscovery.fromClassPath() : List.of(),
                discoverHandlers && pluginsDirectory != null ? HandlerDiscovery.fromPlugins(pluginsDirectory) : List.of(),
                handlers);
            HandlerRegistry.validate(all);
            HandlerDiscovery.configure(all, handlerSettings);
            return new EngineConfig(journalConfig, ringSize, waitStrategy, pipelineThreads, maxKeyBytes, maxTenantBytes, maxPayloadBytes,
                maxOutputBytes, maxInFlightBytes,
                maxQueuedEventBytes != 0 ? maxQueuedEventBytes : Math.max(1L << 20, Runtime.getRuntime().maxMemory() / 16), maxLiveTasks, maxRetainedOutcomes, outcomeRetention, blockingPoolThreads,
                cpuPoolThreads, blockingPoolQueue, cpuPoolQueueSet ? cpuPoolQueue : CPU_QUEUE_PER_THREAD * cpuPoolThreads,
                maxAsyncInFlight, maxWaitersPerTask, lowPriorityAdmissionPercent, normalPriorityAdmissionPercent, defaultTimeoutMillis, defaultMaxAttempts, defaultBackoffInitialMillis, defaultBackoffMaxMillis,
                defaultBackoffMultiplier, defaultBackoffJitter, timerFiresPerTick, maxDeadLetters, closeTimeout, abandonAfter,
                snapshots, snapshotEveryRecords, snapshotInterval, snapshotsKept, journalRetention, metrics, journalOutageStopAfter,
                clock != null ? clock : new OffsetEpochNanoClock(), all, handlerSettings, pluginsDirectory);
        }

        private static void range(final String name, final long value, final long min, final long max)
        {
            if (value < min || value > max)
            {
                throw invalid(name, value, "must be in [" + min + ", " + max + "]");
            }
        }

        private static IllegalArgumentException invalid(final String name, final Object value, final String rule)
        {
            return new IllegalArgumentException(name + "=" + value + " " + rule);
        }
    }
}
