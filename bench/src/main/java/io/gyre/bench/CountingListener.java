package io.gyre.bench;

import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskOutcome;
import io.gyre.engine.TaskState;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts outcomes (and failures, which a benchmark run must not have), allocation-free.
 */
final class CountingListener implements OutcomeListener
{
    final AtomicLong outcomes = new AtomicLong();
    final AtomicLong unexpected = new AtomicLong();

    @Override
    public void onOutcome(final TaskOutcome outcome)
    {
        if (outcome.state() != TaskState.SUCCEEDED || outcome.duplicate())
        {
            unexpected.incrementAndGet();
        }
        outcomes.lazySet(outcomes.get() + 1);
    }

    /**
     * Wait until {@code count} outcomes have arrived: a few spins, then parking. Not yielding: on two cores a
     * waiting thread that yields stays runnable and takes CPU time from the threads doing the work it waits for.
     */
    void awaitCount(final long count)
    {
        awaitCount(outcomes, count);
    }

    /**
     * Wait until {@code counter} reaches {@code count} (see {@link #awaitCount(long)}).
     */
    static void awaitCount(final AtomicLong counter, final long count)
    {
        int spins = 0;
        while (counter.get() < count)
        {
            if (++spins < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                LockSupport.parkNanos(20_000);
            }
        }
    }
}
