package io.gyre.engine;

import org.agrona.concurrent.EpochNanoClock;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Sends TICK events when the sequence stage has something due (a timer, or work that can start), one at a
 * time. Time reaches the state machine only through journaled events, so a tick is how a retry or a
 * timeout fires, the same way on every replay.
 * <p>
 * While the journal cannot be written, ticks would not be journaled (their timers stay due): then it ticks
 * only when the journal stage wants to probe the journal, so an idle engine still finds out it is writable
 * again; and after an outage, while the journal stage has kept results left to journal.
 */
final class Ticker implements Runnable
{
    private static final long MAX_PARK_NANOS = 1_000_000L;
    private static final long MIN_PARK_NANOS = 50_000L;

    private final EpochNanoClock clock;
    private final LongSupplier nextWakeAt;
    private final LongSupplier journalWakeAt;
    private final BooleanSupplier journalDown;
    private final AtomicBoolean tickInFlight;
    private final BooleanSupplier publishTick;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param nextWakeAt when the sequence stage next needs a tick, by {@code clock}.
     * @param journalWakeAt when the journal stage next needs one, by {@link System#nanoTime()} (0: now).
     * @param journalDown whether the journal cannot be written now.
     */
    Ticker(
        final EpochNanoClock clock,
        final LongSupplier nextWakeAt,
        final LongSupplier journalWakeAt,
        final BooleanSupplier journalDown,
        final AtomicBoolean tickInFlight,
        final BooleanSupplier publishTick)
    {
        this.clock = clock;
        this.nextWakeAt = nextWakeAt;
        this.journalWakeAt = journalWakeAt;
        this.journalDown = journalDown;
        this.tickInFlight = tickInFlight;
        this.publishTick = publishTick;
        this.thread = new Thread(this, "gyre-ticker");
        this.thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    @Override
    public void run()
    {
        while (running)
        {
            final long journalDue = journalWakeAt.getAsLong();
            final boolean journalWants = journalDue != Long.MAX_VALUE && journalDue <= System.nanoTime();
            final long due = journalDown.getAsBoolean() ? Long.MAX_VALUE : nextWakeAt.getAsLong();
            final long now = clock.nanoTime();
            if ((due <= now || journalWants) && tickInFlight.compareAndSet(false, true))
            {
                if (!publishTick.getAsBoolean())
                {
                    tickInFlight.set(false);
                }
            }
            final long wait = due == Long.MAX_VALUE ? MAX_PARK_NANOS : due - now;
            LockSupport.parkNanos(Math.max(MIN_PARK_NANOS, Math.min(MAX_PARK_NANOS, wait)));
        }
    }

    void stop() throws InterruptedException
    {
        running = false;
        LockSupport.unpark(thread);
        thread.join(5_000);
    }
}
