package io.gyre.ingress.server;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of a server, for its health and metrics; updated by every event loop.
 */
public final class ServerStats
{
    private final LongAdder open = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder connectionsRefused = new LongAdder();
    private final LongAdder frames = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder busy = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();
    private final LongAdder authFailures = new LongAdder();
    private final LongAdder slowConsumers = new LongAdder();
    private final AtomicInteger subscriptions = new AtomicInteger();
    private final LongAdder eventsSent = new LongAdder();
    private final LongAdder eventsLost = new LongAdder();

    /**
     * @return whether a subscription may open (fewer than {@code max} are): then it counts as open.
     */
    boolean tryOpenSubscription(final int max)
    {
        while (true)
        {
            final int now = subscriptions.get();
            if (now >= max)
            {
                return false;
            }
            if (subscriptions.compareAndSet(now, now + 1))
            {
                return true;
            }
        }
    }

    void subscriptionClosed()
    {
        subscriptions.decrementAndGet();
    }

    void eventSent()
    {
        eventsSent.increment();
    }

    void eventsLost(final long count)
    {
        eventsLost.add(count);
    }

    /** @return status event subscriptions open now. */
    public int subscriptions()
    {
        return subscriptions.get();
    }

    /** @return EVENT frames written to subscribers. */
    public long eventsSent()
    {
        return eventsSent.sum();
    }

    /** @return status events dropped for subscribers that did not keep up (EVENTS_LOST told them). */
    public long eventsLost()
    {
        return eventsLost.sum();
    }

    void opened()
    {
        open.increment();
        accepted.increment();
    }

    void connectionRefused()
    {
        connectionsRefused.increment();
    }

    void closed()
    {
        open.decrement();
    }

    void frame()
    {
        frames.increment();
    }

    void refused()
    {
        rejected.increment();
    }

    void busy()
    {
        busy.increment();
    }

    void protocolError()
    {
        protocolErrors.increment();
    }

    void authFailure()
    {
        authFailures.increment();
    }

    void slowConsumer()
    {
        slowConsumers.increment();
    }

    /** @return connections open now. */
    public long openConnections()
    {
        return open.sum();
    }

    /** @return connections accepted since the server started. */
    public long connectionsAccepted()
    {
        return accepted.sum();
    }

    /** @return connections refused over the connection limit (TOO_MANY_CONNECTIONS), not counted as accepted. */
    public long connectionsRefused()
    {
        return connectionsRefused.sum();
    }

    /** @return whole frames received and taken, every one: the handshake's HELLO and the requests after it. */
    public long frames()
    {
        return frames.sum();
    }

    /** @return requests refused by the server itself (REJECTED frames it wrote: invalid, busy, shutting down). */
    public long refusals()
    {
        return rejected.sum();
    }

    /** @return submissions refused with BUSY. */
    public long busyRejections()
    {
        return busy.sum();
    }

    /** @return connections closed for a protocol error. */
    public long protocolErrors()
    {
        return protocolErrors.sum();
    }

    /** @return handshakes refused for a missing or wrong token. */
    public long authFailures()
    {
        return authFailures.sum();
    }

    /** @return connections closed with SLOW_CONSUMER: they held more unread reply bytes than a budget allows. */
    public long slowConsumers()
    {
        return slowConsumers.sum();
    }
}
