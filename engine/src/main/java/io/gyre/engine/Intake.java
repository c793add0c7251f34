package io.gyre.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A door that threads publishing into the ring from outside it pass through, which the engine closes when
 * it stops: {@link #close()} waits for the threads inside, so once it returns nothing more comes in through
 * this door. The engine has two: one for requests (submit, status, cancel), closed when the stop begins,
 * and one for the results of attempts run off the ring, closed at the deadline.
 * <p>
 * Thread safety: any thread may enter and leave; one thread closes.
 */
final class Intake
{
    private final AtomicInteger inside = new AtomicInteger();
    private volatile boolean open = true;

    /**
     * Step in: call {@link #exit()} afterwards, whatever happens.
     *
     * @return false when the door is closed (the caller is not inside and must not publish).
     */
    boolean enter()
    {
        inside.incrementAndGet();
        if (!open)
        {
            inside.decrementAndGet();
            return false;
        }
        return true;
    }

    void exit()
    {
        inside.decrementAndGet();
    }

    /**
     * @return whether the door is open: a thread inside that waits (for ring room) checks this to give up.
     */
    boolean isOpen()
    {
        return open;
    }

    /**
     * Close the door and wait until every thread inside has left (they check {@link #isOpen()} while they
     * wait, so they leave soon).
     */
    void close()
    {
        open = false;
        int idle = 0;
        while (inside.get() > 0)
        {
            if (idle++ < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                LockSupport.parkNanos(50_000);
            }
        }
    }
}
