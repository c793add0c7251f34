package io.gyre.engine;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the engine counts and times, by task type (counts and accounting totals also by tenant, bounded to a
 * hundred tenants and "(other)", see {@link TenantIndex}): recorded by the one thread that makes each decision (the
 * sequence stage for lifecycle counts and task latencies, the journal stage for append latency), read by any
 * thread. Recording allocates nothing: counts are single-writer increments published with release
 * semantics; task latencies are noted in a plain array and put into HdrHistograms once per batch of the sequence
 * stage ({@link BatchedLatencies}: one writer critical section per batch, not two atomic operations per value);
 * the journal's append latency, once per batch anyway, goes to a {@link SingleWriterRecorder}. Readers swap the
 * writer's histograms for empty ones and add what they held to cumulative ones.
 * <p>
 * Replay records nothing: the engine attaches its metrics to the state machine once the journal is replayed.
 */
public final class EngineMetrics
{
    /** What is counted, per task type. */
    public enum Count
    {
        /** A new task accepted. */
        ACCEPTED,
        /** A submission joined the same key's task in flight. */
        JOINED,
        /** A submission answered with the key's recorded outcome. */
        DUPLICATE,
        /** Refused: the engine was at its live-task limit. */
        REJECTED_CAPACITY,
        /** Refused: the engine was near its limit, for this priority. */
        REJECTED_BUSY,
        /** Refused: too many submissions waiting for the same key. */
        REJECTED_TOO_MANY_WAITERS,
        /** Refused: the journal could not record the submission. */
        REJECTED_JOURNAL_UNAVAILABLE,
        /** An attempt started (inline, or handed to a pool or an async handler). */
        ATTEMPT_STARTED,
        /** An attempt failed with a retryable error. */
        ATTEMPT_FAILED_RETRYABLE,
        /** An attempt failed with a permanent error. */
        ATTEMPT_FAILED_PERMANENT,
        /** An attempt ran past its timeout. */
        ATTEMPT_TIMED_OUT,
        /** A retry was scheduled. */
        RETRY_SCHEDULED,
        /** Final states. */
        SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, DEAD_LETTERED;

        private static final Count[] VALUES = values();
    }

    /** What is timed, per task type. */
    public enum Latency
    {
        /**
         * From acceptance to the moment the first attempt's handler started (waiting for its batch, a slot, a
         * thread), as the attempt's result reports it: the span a task's accounting counts as queue time. A first
         * attempt that never reports (timed out, cancelled, interrupted by a stop) is not in it.
         */
        QUEUE_WAIT,
        /** An attempt's own run, as its handler reported it (start to result). */
        EXECUTION,
        /** From acceptance to the outcome's journal record (the moment it can be published). */
        END_TO_END;

        private static final Latency[] VALUES = values();
    }

    /** What the sequence stage reports of its state at the end of each batch. */
    public enum Gauge
    {
        /** Tasks waiting for their turn to run inline (behind a stop, or in the ring's order). */
        WAITING_INLINE,
        /** Tasks waiting for a slot of the blocking pool. */
        WAITING_BLOCKING,
        /** Tasks waiting for a slot of the async handlers' limit. */
        WAITING_ASYNC,
        /** Tasks waiting for a slot of the CPU pool. */
        WAITING_CPU,
        /** Attempts holding a slot of the blocking pool. */
        RUNNING_BLOCKING,
        /** Attempts holding an async slot. */
        RUNNING_ASYNC,
        /** Attempts holding a slot of the CPU pool. */
        RUNNING_CPU,
        /** Timers pending: retries, waits, deadlines, held outcomes' releases. */
        TIMERS,
        /** Finished tasks remembered for deduplication. */
        RETAINED_OUTCOMES;

        private static final Gauge[] VALUES = values();
    }

    private static final long HIGHEST_NANOS = 3_600_000_000_000L;
    private static final int DIGITS = 2;

    /** Tenant ids counted apart: every id the {@link TenantIndex} gives; a larger one (restored state) counts as other. */
    private static final int TENANTS = TenantIndex.LIMIT + 2;
    private static final int SUMS = 2;
    private static final int SUM_QUEUE = 0;
    private static final int SUM_EXECUTION = 1;

    private final List<String> types;
    private final int typeCount;
    private final AtomicLongArray counts;
    private final AtomicLongArray sums;
    private final AtomicLongArray gauges = new AtomicLongArray(Gauge.VALUES.length);
    private volatile java.util.function.Supplier<List<String>> tenantNames = () -> List.of(TenantIndex.NONE_NAME);
    private final BatchedLatencies latencies;
    private final SingleWriterRecorder journalAppend = new SingleWriterRecorder(HIGHEST_NANOS, DIGITS);
    private final Histogram journalCumulative = new Histogram(HIGHEST_NANOS, DIGITS);

    /**
     * @param typeNames the task types, by handler id; an extra slot counts types no handler has.
     */
    EngineMetrics(final List<String> typeNames)
    {
        final List<String> names = new ArrayList<>(typeNames);
        names.add("unknown");
        this.types = Collections.unmodifiableList(names);
        this.typeCount = names.size();
        this.counts = new AtomicLongArray(typeCount * TENANTS * Count.VALUES.length);
        this.sums = new AtomicLongArray(typeCount * TENANTS * SUMS);
        this.latencies = new BatchedLatencies(typeCount * Latency.VALUES.length, HIGHEST_NANOS, DIGITS);
    }

    private int type(final int handlerId)
    {
        return handlerId < 0 || handlerId >= typeCount - 1 ? typeCount - 1 : handlerId;
    }

    private static int tenant(final int tenant)
    {
        return tenant < 0 || tenant >= TENANTS ? TenantIndex.OTHER : tenant;
    }

    void tenants(final java.util.function.Supplier<List<String>> names)
    {
        tenantNames = names;
    }

    // ---- recording: one writer thread per kind (see the class comment)

    void count(final int handlerId, final int tenant, final Count what)
    {
        final int i = (type(handlerId) * TENANTS + tenant(tenant)) * Count.VALUES.length + what.ordinal();
        counts.lazySet(i, counts.get(i) + 1);
    }

    /**
     * A task's final state with its accounting: counted, and its queue and execution time added to its type's and
     * tenant's totals.
     */
    void finished(final int handlerId, final int tenant, final Count state, final long queueNanos, final long executionNanos)
    {
        count(handlerId, tenant, state);
        final int i = (type(handlerId) * TENANTS + tenant(tenant)) * SUMS;
        sums.lazySet(i + SUM_QUEUE, sums.get(i + SUM_QUEUE) + queueNanos);
        sums.lazySet(i + SUM_EXECUTION, sums.get(i + SUM_EXECUTION) + executionNanos);
    }

    /**
     * Note a latency of a task of this type: readers see it once the writer's batch ends ({@link #endBatch()}).
     */
    void record(final int handlerId, final Latency what, final long nanos)
    {
        latencies.record(type(handlerId) * Latency.VALUES.length + what.ordinal(), nanos);
    }

    /**
     * The sequence stage's batch ended: the latencies it noted are recorded, for readers to see.
     */
    void endBatch()
    {
        latencies.flush();
    }

    void gauge(final Gauge which, final long value)
    {
        gauges.lazySet(which.ordinal(), value);
    }

    void recordJournalAppend(final long nanos)
    {
        journalAppend.recordValue(Math.min(HIGHEST_NANOS, Math.max(0, nanos)));
    }

    // ---- reading: any thread

    /**
     * @return the task types counted, the last one "unknown" (submissions of types this engine has no handler for).
     */
    public List<String> types()
    {
        return types;
    }

    /**
     * @return the gauge's value at the end of the sequence stage's last batch.
     */
    public long gauge(final Gauge which)
    {
        return gauges.get(which.ordinal());
    }

    /**
     * @return the tenants counted apart, by id: "" for tasks that named none, "(other)" for every tenant past
     *     the first hundred the engine saw, then each of those (at most a hundred: the label's cardinality is bounded).
     */
    public List<String> tenants()
    {
        final List<String> names = tenantNames.get();
        return names.size() > TENANTS ? names.subList(0, TENANTS) : names;
    }

    /**
     * @return how many times {@code what} happened to tasks of this type since the engine opened, all tenants.
     */
    public long count(final String type, final Count what)
    {
        final int t = types.indexOf(type);
        if (t < 0)
        {
            return 0;
        }
        long total = 0;
        for (int tenant = 0; tenant < TENANTS; tenant++)
        {
            total += counts.get((t * TENANTS + tenant) * Count.VALUES.length + what.ordinal());
        }
        return total;
    }

    /**
     * @param tenant a name from {@link #tenants()}.
     * @return how many times {@code what} happened to tasks of this type and tenant since the engine opened.
     */
    public long count(final String type, final String tenant, final Count what)
    {
        final int t = types.indexOf(type);
        final int n = tenants().indexOf(tenant);
        return t < 0 || n < 0 ? 0 : counts.get((t * TENANTS + n) * Count.VALUES.length + what.ordinal());
    }

    /**
     * @param tenant a name from {@link #tenants()}.
     * @return the queue time (acceptance to first start) of this type's and tenant's finished tasks, added up, in nanoseconds.
     */
    public long queueNanos(final String type, final String tenant)
    {
        return sum(type, tenant, SUM_QUEUE);
    }

    /**
     * @param tenant a name from {@link #tenants()}.
     * @return the run time of every attempt of this type's and tenant's finished tasks, added up, in nanoseconds.
     */
    public long executionNanos(final String type, final String tenant)
    {
        return sum(type, tenant, SUM_EXECUTION);
    }

    private long sum(final String type, final String tenant, final int which)
    {
        final int t = types.indexOf(type);
        final int n = tenants().indexOf(tenant);
        return t < 0 || n < 0 ? 0 : sums.get((t * TENANTS + n) * SUMS + which);
    }

    /**
     * @return a copy of the latencies of this type since the engine opened, in nanoseconds.
     */
    public Histogram latency(final String type, final Latency what)
    {
        final int t = types.indexOf(type);
        if (t < 0)
        {
            return new Histogram(HIGHEST_NANOS, DIGITS);
        }
        return latencies.read(t * Latency.VALUES.length + what.ordinal());
    }

    /**
     * @return a copy of the journal's batch append-and-commit latencies since the engine opened, in nanoseconds.
     */
    public synchronized Histogram journalAppend()
    {
        journalCumulative.add(journalAppend.getIntervalHistogram());
        return journalCumulative.copy();
    }
}
