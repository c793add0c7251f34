package io.gyre.ingress.server;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of a server, for its health and metrics; updated by every event loop.
 */
public final class ServerStats
{
    private final LongAdder open = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder frames = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder busy = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();
    private final LongAdder authFailures = new LongAdder();

    void opened()
    {
        open.increment();
        accepted.increment();
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

    /** @return request frames received after handshakes. */
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
}
