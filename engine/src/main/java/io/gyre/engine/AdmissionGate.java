package io.gyre.engine;

import com.lmax.disruptor.Sequence;

/**
 * Counts events in the ring that the execute stage has not yet passed, and admits new ones only below a
 * limit. This is what keeps the ring from deadlocking: the execute stage publishes follow-up events (inline
 * results, derived records) into the ring it consumes, which is safe only if the ring never fills with
 * events ahead of it. Submissions are admitted up to {@code ringSize/8}, other outside events (pool
 * results, ticks, cancels, status questions) up to {@code ringSize/4}; each event the execute stage
 * handles adds at most {@code 2 * timerFiresPerTick} follow-ups, so events ahead of it stay well below the
 * ring's size and the publish stage can always make room.
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
