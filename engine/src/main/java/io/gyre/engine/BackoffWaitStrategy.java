package io.gyre.engine;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The stage threads' default wait: spin, yield, then sleep until woken, so that a stage takes up no CPU while no
 * work comes and is back within a wake-up when it does.
 * <ol>
 * <li>Spin 100 times, then yield 100 times (as Disruptor's {@link SleepingWaitStrategy}): under load a stage
 *     thread rarely gets further.</li>
 * <li>Then park, for up to {@code deepParkNanos} at a time, until woken: by a publication into the ring
 *     ({@link #signalAllWhenBlocking}, which Disruptor calls on every publication and when a stage is halted), or by
 *     the progress of the stage it waits on (a stage's {@link BatchEventProcessor} publishes how far it got, then
 *     asks this strategy for more, which wakes the sleepers first).</li>
 * </ol>
 * Before, step 2 was {@link SleepingWaitStrategy}'s park of the shortest time the kernel gives (about 50 µs here,
 * the timer slack) for 100 ms before a deep sleep: each hand-off between two idle stages cost up to that park, where
 * a wake-up costs a few µs. At 20,000 tasks/s over TCP this took 15 to 35 µs off the median and more off the tails
 * (BENCHMARKS.md); an idle stage also wakes less often.
 * <p>
 * A wake-up is never lost: the waker publishes (a sequence), fences, then looks for sleepers; a sleeper registers
 * (a full fence), then looks at the sequence once more before it parks: one of the two sees the other. A sleeper is
 * taken out of its slot by the one who wakes it, so it is unparked once, not by every publication until it runs. The
 * deep park's bound is a last resort (more sleepers than slots park briefly instead). The publisher pays a fence and
 * a volatile read per publication, and an unpark only when a stage sleeps.
 * <p>
 * Thread safety: shared by every stage thread of a ring and by its publishers.
 */
final class BackoffWaitStrategy implements WaitStrategy
{
    /** The longest deep park by default. */
    static final long DEFAULT_DEEP_PARK_NANOS = 1_000_000L;

    private static final int SPINS = 100;
    private static final int YIELDS = 100;
    /** For a sleeper with no slot: as short as the kernel allows. */
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
        // A stage asks for more right after publishing how far it got (Disruptor's BatchEventProcessor sets its
        // sequence, then waits again): a later stage asleep on that progress is woken here.
        signalAllWhenBlocking();
        long available;
        int counter = SPINS + YIELDS;
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
                parkDeeply(sequence, dependentSequence, barrier);
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
            sleepers.compareAndSet(slot, self, null);
        }
    }

    @Override
    public void signalAllWhenBlocking()
    {
        // the caller's publication (an event, a stage's progress) ordered before the look at the sleepers, as a
        // sleeper's registration is before its last look at the sequence: one of the two sees the other
        VarHandle.fullFence();
        if (deepSleepers.get() > 0)
        {
            for (int i = 0; i < SLOTS; i++)
            {
                // taken out of its slot by the one who wakes it: a sleeper is unparked once, not by every publication
                // until it runs again
                final Thread sleeper = sleepers.get(i);
                if (sleeper != null && sleepers.compareAndSet(i, sleeper, null))
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
