package io.gyre.engine;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The stage threads' default wait: Disruptor's {@link SleepingWaitStrategy} while work comes often, and no CPU
 * to speak of while none comes.
 * <ol>
 * <li>As {@link SleepingWaitStrategy}: spin 100 times, yield 100 times, then park for the shortest time the
 *     kernel gives (about 50 µs here). Under load a stage thread never gets further, so this is the same
 *     strategy as before, at the same latency.</li>
 * <li>Idle for {@link #DEEP_AFTER_NANOS} (100 ms) of those short parks, it parks for up to
 *     {@code deepParkNanos} at a time, and a publication into the ring wakes it at once
 *     ({@link #signalAllWhenBlocking}, which Disruptor calls on every publication and when a stage is
 *     halted).</li>
 * </ol>
 * Each short park costs a timer and a wake-up: on this VM SleepingWaitStrategy alone kept an idle engine's two
 * stage threads at about 21 % of a core each (BENCHMARKS.md). The publisher pays one volatile read per
 * publication, and an unpark only when a stage sleeps deeply.
 * <p>
 * A wake-up can come late, never be lost: a stage only ever waits longer, by at most {@code deepParkNanos} (a
 * millisecond by default), and only after 100 ms of idleness. That happens to a stage that waits on an earlier
 * stage rather than on the publishers, if the earlier one spends more than 100 ms on a batch (a journal
 * outage): nothing signals a stage's progress, so the later one sees it at the end of its deep park. And the
 * publisher's read of the sleeper count is not fenced against its publication (a fence would cost every
 * publication); with Disruptor's multi-producer ring the claim that precedes the publication is one, a
 * single-producer ring would leave the same one-park bound.
 * <p>
 * Thread safety: shared by every stage thread of a ring and by its publishers.
 */
final class BackoffWaitStrategy implements WaitStrategy
{
    /** Idle time in short parks before a stage parks deeply. */
    static final long DEEP_AFTER_NANOS = 100_000_000L;
    /** The longest deep park by default, and so the longest delay a missed wake-up adds. */
    static final long DEFAULT_DEEP_PARK_NANOS = 1_000_000L;

    private static final int SPINS = 100;
    private static final int YIELDS = 100;
    /** As {@link SleepingWaitStrategy}'s: as short as the kernel allows. */
    private static final long SHORT_PARK_NANOS = 100L;
    /** Stage threads that can sleep deeply at once and be woken; more (none in this engine) just park shorter. */
    private static final int SLOTS = 16;

    private final long deepParkNanos;
    /**
     * Read by every publication, written only when a stage falls into or out of a deep sleep: a Disruptor
     * {@link Sequence}, padded on both sides, so that no field written often shares its cache line.
     */
    private final Sequence deepSleepers = new Sequence(0);
    private final AtomicReferenceArray<Thread> sleepers = new AtomicReferenceArray<>(SLOTS);

    BackoffWaitStrategy()
    {
        this(DEFAULT_DEEP_PARK_NANOS);
    }

    /**
     * @param deepParkNanos the longest deep park (tests make it long, to see that a publication wakes a sleeper).
     */
    BackoffWaitStrategy(final long deepParkNanos)
    {
        this.deepParkNanos = deepParkNanos;
    }

    @Override
    public long waitFor(final long sequence, final Sequence cursor, final Sequence dependentSequence, final SequenceBarrier barrier)
        throws AlertException
    {
        long available;
        int counter = SPINS + YIELDS;
        long idleSince = 0;
        while ((available = dependentSequence.get()) < sequence)
        {
            barrier.checkAlert();
            if (counter > YIELDS)
            {
                counter--;
            }
            else if (counter > 0)
            {
                counter--;
                Thread.yield();
            }
            else
            {
                final long now = System.nanoTime();
                if (idleSince == 0)
                {
                    idleSince = now;
                }
                if (now - idleSince < DEEP_AFTER_NANOS)
                {
                    LockSupport.parkNanos(SHORT_PARK_NANOS);
                }
                else
                {
                    parkDeeply(sequence, dependentSequence, barrier);
                }
            }
        }
        return available;
    }

    private void parkDeeply(final long sequence, final Sequence dependentSequence, final SequenceBarrier barrier)
    {
        final Thread self = Thread.currentThread();
        int slot = -1;
        for (int i = 0; i < SLOTS && slot < 0; i++)
        {
            if (sleepers.compareAndSet(i, null, self))
            {
                slot = i;
            }
        }
        if (slot < 0)
        {
            LockSupport.parkNanos(SHORT_PARK_NANOS);
            return;
        }
        // registered before the last look (the increment is a full fence), so a publication after that look sees
        // the sleeper, bar the race in the class comment
        deepSleepers.incrementAndGet();
        try
        {
            if (dependentSequence.get() < sequence && !barrier.isAlerted())
            {
                LockSupport.parkNanos(this, deepParkNanos);
            }
        }
        finally
        {
            deepSleepers.addAndGet(-1);
            sleepers.set(slot, null);
        }
    }

    @Override
    public void signalAllWhenBlocking()
    {
        if (deepSleepers.get() > 0)
        {
            for (int i = 0; i < SLOTS; i++)
            {
                final Thread sleeper = sleepers.get(i);
                if (sleeper != null)
                {
                    LockSupport.unpark(sleeper);
                }
            }
        }
    }

    /** @return stage threads sleeping deeply now (for tests and diagnostics). */
    int deepSleepers()
    {
        return (int)deepSleepers.get();
    }
}
