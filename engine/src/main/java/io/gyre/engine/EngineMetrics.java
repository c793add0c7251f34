package io.gyre.engine;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the engine counts and times, by task type: recorded by the one thread that makes each decision (the
 * sequence stage for lifecycle counts and task latencies, the journal stage for append latency), read by any
 * thread. Recording allocates nothing: counts are single-writer increments published with release
 * semantics, latencies go to HdrHistogram {@link SingleWriterRecorder}s, which a reader swaps for an
 * interval histogram and adds to a cumulative one.
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
        /** From acceptance to the first attempt's start (waiting for a slot). */
        QUEUE_WAIT,
        /** An attempt's own run, as its handler reported it (start to result). */
        EXECUTION,
        /** From acceptance to the outcome's journal record (the moment it can be published). */
        END_TO_END;

        private static final Latency[] VALUES = values();
    }

    private static final long HIGHEST_NANOS = 3_600_000_000_000L;
    private static final int DIGITS = 2;

    private final List<String> types;
    private final int typeCount;
    private final AtomicLongArray counts;
    private final SingleWriterRecorder[] recorders;
    private final Histogram[] cumulative;
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
        this.counts = new AtomicLongArray(typeCount * Count.VALUES.length);
        this.recorders = new SingleWriterRecorder[typeCount * Latency.VALUES.length];
        this.cumulative = new Histogram[recorders.length];
        for (int i = 0; i < recorders.length; i++)
        {
            recorders[i] = new SingleWriterRecorder(HIGHEST_NANOS, DIGITS);
            cumulative[i] = new Histogram(HIGHEST_NANOS, DIGITS);
        }
    }

    private int type(final int handlerId)
    {
        return handlerId < 0 || handlerId >= typeCount - 1 ? typeCount - 1 : handlerId;
    }

    // ---- recording: one writer thread per kind (see the class comment)

    void count(final int handlerId, final Count what)
    {
        final int i = type(handlerId) * Count.VALUES.length + what.ordinal();
        counts.lazySet(i, counts.get(i) + 1);
    }

    void record(final int handlerId, final Latency what, final long nanos)
    {
        recorders[type(handlerId) * Latency.VALUES.length + what.ordinal()].recordValue(Math.min(HIGHEST_NANOS, Math.max(0, nanos)));
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
     * @return how many times {@code what} happened to tasks of this type since the engine opened.
     */
    public long count(final String type, final Count what)
    {
        final int t = types.indexOf(type);
        return t < 0 ? 0 : counts.get(t * Count.VALUES.length + what.ordinal());
    }

    /**
     * @return a copy of the latencies of this type since the engine opened, in nanoseconds.
     */
    public synchronized Histogram latency(final String type, final Latency what)
    {
        final int t = types.indexOf(type);
        if (t < 0)
        {
            return new Histogram(HIGHEST_NANOS, DIGITS);
        }
        final int i = t * Latency.VALUES.length + what.ordinal();
        cumulative[i].add(recorders[i].getIntervalHistogram());
        return cumulative[i].copy();
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
