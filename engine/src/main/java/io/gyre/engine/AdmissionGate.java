package io.gyre.engine;

import com.lmax.disruptor.Sequence;

/**
 * Counts events in the ring that the execute stage has not yet passed, and admits new ones only below a
 * limit: submissions up to {@code ringSize/8}, other outside events (pool results, ticks, cancels, status
 * questions) up to {@code ringSize/4}. So outside producers leave most of the ring to the follow-up events the
 * execute stage publishes into the ring it consumes (inline results, derived records), which it counts here too
 * ({@link #force}) and which are not limited: they may outgrow any share of the ring (an event's follow-ups start
 * attempts whose own events have follow-ups), and the execute stage never waits for room, it owes what does not fit
 * (see {@link ExecuteStage}). A count above the limit makes outside producers wait (or be refused) until the
 * execute stage has passed enough events.
 */
final class AdmissionGate
{
    private final Sequence ahead = new Sequence(0);
    private final long submitLimit;
    private final long internalLimit;

    AdmissionGate(final int ringSize)
    {
        submitLimit = ringSize / 8;
        internalLimit = ringSize / 4;
    }

    /** @return true when a submission may take a slot (and has taken it from the count). */
    boolean tryAcquireSubmit()
    {
        return tryAcquire(submitLimit);
    }

    /** @return true when another outside event may take a slot. */
    boolean tryAcquireInternal()
    {
        return tryAcquire(internalLimit);
    }

    private boolean tryAcquire(final long limit)
    {
        while (true)
        {
            final long current = ahead.get();
            if (current >= limit)
            {
                return false;
            }
            if (ahead.compareAndSet(current, current + 1))
            {
                return true;
            }
        }
    }

    /** A follow-up from the execute stage: always admitted. */
    void force(final int count)
    {
        ahead.addAndGet(count);
    }

    /** The execute stage passed this many events. */
    void release(final long count)
    {
        ahead.addAndGet(-count);
    }

    long ahead()
    {
        return ahead.get();
    }

    long submitLimit()
    {
        return submitLimit;
    }
}
