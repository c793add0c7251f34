package io.gyre.bench;

import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskOutcome;
import io.gyre.engine.TaskState;

import java.util.concurrent.atomic.AtomicLong;

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
     * Wait (spinning, then yielding) until {@code count} outcomes have arrived.
     */
    void awaitCount(final long count)
    {
        int spins = 0;
        while (outcomes.get() < count)
        {
            if (++spins < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }
}
