package io.gyre.engine;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.WriterReaderPhaser;

/**
 * A set of HdrHistograms written by one thread at a time and read by any, at the cost of two atomic operations per
 * batch of values rather than per value.
 * <p>
 * HdrHistogram's {@code SingleWriterRecorder} enters and leaves a {@link WriterReaderPhaser} critical section around
 * every value: two atomic increments, each a full fence on x86, for every value recorded. Three latencies per task
 * made that the larger part of what metrics cost the engine (see BENCHMARKS.md, metrics on and off). Here the writer
 * only notes each value (histogram, value) in a plain array, and {@link #flush()} puts the lot into the active
 * histograms inside one critical section: at the end of each of the writer's batches, and when the array is full.
 * A reader {@link #read(int) reads} the same way as with the recorder: it swaps the active and inactive
 * sets, waits for a critical section in progress to end ({@link WriterReaderPhaser#flipPhase()}), and adds what was
 * recorded since the previous read to a cumulative histogram. Values noted but not yet flushed are seen by the next
 * read after the writer's batch ends.
 * <p>
 * Threads: {@link #record} and {@link #flush} on the writer's thread (one thread at a time, handed over with a
 * happens-before edge, as the engine's stages are); {@link #read} from any thread.
 */
final class BatchedLatencies
{
    /** Values noted between flushes at most: a batch of the sequence stage records about three per task. */
    private static final int PENDING = 1024;

    private final long highest;
    private final WriterReaderPhaser phaser = new WriterReaderPhaser();
    private volatile Histogram[] active;
    private Histogram[] inactive;
    private final Histogram[] cumulative;

    // the writer's
    private final int[] pendingIndex = new int[PENDING];
    private final long[] pendingValue = new long[PENDING];
    private int pending;

    /**
     * @param count histograms in the set.
     * @param highest the largest value recorded (larger ones are recorded as this).
     * @param digits significant decimal digits kept.
     */
    BatchedLatencies(final int count, final long highest, final int digits)
    {
        this.highest = highest;
        active = new Histogram[count];
        inactive = new Histogram[count];
        cumulative = new Histogram[count];
        for (int i = 0; i < count; i++)
        {
            active[i] = new Histogram(highest, digits);
            inactive[i] = new Histogram(highest, digits);
            cumulative[i] = new Histogram(highest, digits);
        }
    }

    /**
     * Note a value for histogram {@code index} (clamped to 0 .. highest); it is recorded at the next {@link #flush()}.
     */
    void record(final int index, final long value)
    {
        if (pending == PENDING)
        {
            flush();
        }
        pendingIndex[pending] = index;
        pendingValue[pending] = Math.min(highest, Math.max(0, value));
        pending++;
    }

    /**
     * Record the values noted since the last flush: one critical section for all of them.
     */
    void flush()
    {
        final int n = pending;
        if (n == 0)
        {
            return;
        }
        final long token = phaser.writerCriticalSectionEnter();
        try
        {
            final Histogram[] into = active;
            for (int i = 0; i < n; i++)
            {
                into[pendingIndex[i]].recordValue(pendingValue[i]);
            }
        }
        finally
        {
            phaser.writerCriticalSectionExit(token);
        }
        pending = 0;
    }

    /**
     * @return a copy of everything histogram {@code index} recorded (flushed) so far.
     */
    synchronized Histogram read(final int index)
    {
        phaser.readerLock();
        try
        {
            final Histogram[] wasActive = active;
            active = inactive;
            inactive = wasActive;
            // the writer may still be recording into the old set: wait until it left its critical section
            phaser.flipPhase();
            for (int i = 0; i < wasActive.length; i++)
            {
                final Histogram interval = wasActive[i];
                if (interval.getTotalCount() > 0)
                {
                    cumulative[i].add(interval);
                    interval.reset();
                }
            }
            return cumulative[index].copy();
        }
        finally
        {
            phaser.readerUnlock();
        }
    }
}
