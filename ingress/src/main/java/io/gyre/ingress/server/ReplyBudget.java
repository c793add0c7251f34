package io.gyre.ingress.server;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The server-wide bound on reply bytes held for clients: encoded by the engine's publish thread (or wherever a
 * reply future completes) and not yet taken by a socket. Each {@link Outbox} counts its own bytes against its
 * connection's budget and adds them here; past the total, the connection holding the most is closed, so a few
 * clients that do not read cannot take the direct memory the engine and every other connection need.
 * <p>
 * Any thread: the counts are atomic, and one thread at a time looks for the connection to close.
 */
final class ReplyBudget
{
    private final long perConnection;
    private final long total;
    private final Supplier<? extends Iterable<Outbox>> outboxes;
    private final AtomicLong held = new AtomicLong();
    private final AtomicBoolean shedding = new AtomicBoolean();

    /**
     * @param outboxes the outboxes of the open connections, to pick the one to close (null: none to pick, as in
     *     tests of a single connection).
     */
    ReplyBudget(final long perConnection, final long total, final Supplier<? extends Iterable<Outbox>> outboxes)
    {
        this.perConnection = perConnection;
        this.total = total;
        this.outboxes = outboxes;
    }

    static ReplyBudget of(final ServerConfig config)
    {
        return new ReplyBudget(config.maxReplyBytes(), config.totalReplyBudget(), null);
    }

    long perConnection()
    {
        return perConnection;
    }

    long total()
    {
        return total;
    }

    /** @return reply bytes held over all connections. */
    long held()
    {
        return held.get();
    }

    /**
     * Count bytes an outbox now holds; past the total, close the connection holding the most.
     */
    void add(final long bytes)
    {
        if (held.addAndGet(bytes) > total && outboxes != null)
        {
            shed();
        }
    }

    /** Bytes an outbox no longer holds (written to its socket, or released). */
    void remove(final long bytes)
    {
        held.addAndGet(-bytes);
    }

    /**
     * Close the open connection holding the most reply bytes, unless connections already closing for holding
     * too much will bring the total back under the limit once their bytes are released.
     */
    private void shed()
    {
        if (!shedding.compareAndSet(false, true))
        {
            return;                                         // another thread is picking: it sees these bytes too
        }
        try
        {
            long releasing = 0;
            Outbox largest = null;
            for (final Outbox outbox : outboxes.get())
            {
                final long bytes = outbox.heldBytes();
                if (outbox.overflowed())
                {
                    releasing += bytes;
                }
                else if (largest == null || bytes > largest.heldBytes())
                {
                    largest = outbox;
                }
            }
            if (largest != null && held.get() - releasing > total)
            {
                largest.overflow("the server holds " + held.get() + " bytes of unread replies over all connections, more than its " +
                    "maxTotalReplyBytes=" + total + ", and this connection the most (" + largest.heldBytes() + ")");
            }
        }
        finally
        {
            shedding.set(false);
        }
    }
}
