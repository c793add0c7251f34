package io.gyre.tasks.http;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The response body bytes all calls in flight of one transport may hold together ({@code http.max-buffered-bytes}).
 * <p>
 * {@code max-response-bytes} bounds one body, {@code max-concurrency} the calls: their product (10 GiB by default) bounds
 * nothing a heap can hold, and an outside check ran a server out of memory with 1,500 calls each within both limits.
 * Each body reserves its buffer's capacity here before allocating it and gives it back once, when the call ends: a call
 * whose growth does not fit stops reading and fails, retryably, instead of taking the heap from every other call.
 * <p>
 * Thread-safe, lock-free: reservations come from the client's threads, releases from any thread ending a call.
 */
final class BufferBudget
{
    private final long limit;
    private final AtomicLong held = new AtomicLong();

    /**
     * @param limit the most bytes the bodies may hold together.
     */
    BufferBudget(final long limit)
    {
        this.limit = limit;
    }

    /**
     * Take bytes from the budget, if they fit.
     *
     * @param bytes how many, at least 0.
     * @return true when reserved (to be given back with {@link #release}), false when the bodies already hold too much
     *     for them: nothing is reserved then.
     */
    boolean tryReserve(final long bytes)
    {
        while (true)
        {
            final long current = held.get();
            if (bytes > limit - current)
            {
                return false;
            }
            if (held.compareAndSet(current, current + bytes))
            {
                return true;
            }
        }
    }

    /**
     * Give back bytes taken with {@link #tryReserve}.
     */
    void release(final long bytes)
    {
        held.addAndGet(-bytes);
    }

    /**
     * @return the most bytes the bodies may hold together.
     */
    long limit()
    {
        return limit;
    }

    /**
     * @return the bytes the bodies of the calls in flight hold now (for tests).
     */
    long held()
    {
        return held.get();
    }

    /**
     * A body could not grow within the budget: the engine's limit, not the host's fault, so it does not count against
     * the host's breaker, and the call may be retried once other bodies are done.
     */
    static final class ExhaustedException extends IOException
    {
        private static final long serialVersionUID = 1L;

        ExhaustedException(final long limit)
        {
            super("response bodies being read already hold http." + HttpSettings.MAX_BUFFERED_BYTES + "=" + limit + " bytes");
        }
    }
}
