package io.gyre.engine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of large payloads and outputs held by events in the ring (those that do not fit an event's inline
 * arrays). Submissions wait while the budget is spent; results of work already running are charged
 * without waiting, so they can never be the ones stuck.
 */
final class ByteBudget
{
    private final AtomicLong used = new AtomicLong();
    private final long limit;

    ByteBudget(final long limit)
    {
        this.limit = limit;
    }

    boolean tryAcquire(final long bytes)
    {
        if (bytes == 0)
        {
            return true;
        }
        while (true)
        {
            final long current = used.get();
            if (current > 0 && current + bytes > limit)
            {
                return false;
            }
            if (used.compareAndSet(current, current + bytes))
            {
                return true;
            }
        }
    }

    void force(final long bytes)
    {
        if (bytes != 0)
        {
            used.addAndGet(bytes);
        }
    }

    void release(final long bytes)
    {
        if (bytes != 0)
        {
            used.addAndGet(-bytes);
        }
    }

    long used()
    {
        return used.get();
    }
}
