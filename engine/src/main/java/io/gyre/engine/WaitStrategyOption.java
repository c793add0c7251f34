package io.gyre.engine;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;

/**
 * How the ring's stage threads wait for work. Each trades idle CPU for wake-up latency; on a machine with
 * fewer cores than stages, spinning strategies starve each other (see BENCHMARKS.md for measurements).
 */
public enum WaitStrategyOption
{
    /** Park on a lock and condition: no CPU when idle, microseconds to wake. */
    BLOCKING,
    /**
     * Spin, yield, then park until the next publication, or the progress of the stage waited on, wakes the thread:
     * a wake-up per hand-off rather than SLEEPING's timed parks, and no CPU to speak of when idle (see
     * {@link BackoffWaitStrategy}). The default.
     */
    BACKOFF,
    /** Spin, then yield, then park for a short time (about 50 µs here) again and again: fast under load. */
    SLEEPING,
    /** Spin, then yield the core: fast, but a whole core per stage when idle. */
    YIELDING,
    /** Spin: lowest latency, and a core per stage forever; only with a core for every stage. */
    BUSY_SPIN;

    WaitStrategy create()
    {
        switch (this)
        {
            case BLOCKING:
                return new BlockingWaitStrategy();
            case BACKOFF:
                return new BackoffWaitStrategy();
            case SLEEPING:
                return new SleepingWaitStrategy();
            case YIELDING:
                return new YieldingWaitStrategy();
            case BUSY_SPIN:
                return new BusySpinWaitStrategy();
            default:
                throw new IllegalStateException(name());
        }
    }
}
