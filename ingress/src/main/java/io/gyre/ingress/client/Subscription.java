package io.gyre.ingress.client;

import io.gyre.engine.EventFilter;
import io.gyre.engine.TaskEvent;
import io.gyre.engine.TaskEventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A status event subscription held by a {@link GyreClient} ({@link GyreClient#subscribe}): the server pushes
 * EVENT frames, and EVENTS_LOST when it had to drop some, which this hands to its listener on the client's I/O
 * thread, in order (do not block there: while the listener is slow the client reads nothing, the server's
 * buffer for it fills, and it drops events and says how many).
 * <p>
 * It lasts until {@link #unsubscribe()}, or the connection drops (then {@link #ended()} fails: the events of
 * the time without a connection are not replayed; subscribe again, and re-read what matters with status
 * requests), or the client closes. The listener hears {@link TaskEventListener#onClosed()} once, at the end.
 * Thread safety: every public method may be called from any thread.
 */
public final class Subscription implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);

    private final GyreClient client;
    private final long id;
    private final EventFilter filter;
    private final TaskEventListener listener;
    private final int serverMaxQueued;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile long events;
    private volatile long lost;
    private volatile boolean open = true;

    Subscription(final GyreClient client, final long id, final EventFilter filter, final TaskEventListener listener, final int serverMaxQueued)
    {
        this.client = client;
        this.id = id;
        this.filter = filter;
        this.listener = listener;
        this.serverMaxQueued = serverMaxQueued;
    }

    /** @return the correlation id of its SUBSCRIBE, which its EVENT frames carry. */
    public long id()
    {
        return id;
    }

    public EventFilter filter()
    {
        return filter;
    }

    /** @return how many events the server queues for this subscription before it drops (its SUBSCRIBED says). */
    public int serverMaxQueued()
    {
        return serverMaxQueued;
    }

    /** @return events received. */
    public long events()
    {
        return events;
    }

    /** @return events the server said it dropped for this subscription. */
    public long lost()
    {
        return lost;
    }

    public boolean isOpen()
    {
        return open;
    }

    /**
     * @return completes when the subscription ends: normally after {@link #unsubscribe()} or the client's
     *     close; exceptionally ({@link GyreClientException}) when the connection dropped.
     */
    public CompletableFuture<Void> ended()
    {
        return ended;
    }

    /**
     * End the subscription: the server sends no event of it after its UNSUBSCRIBED reply (events already on
     * their way still come before it).
     *
     * @return completes once the server confirmed, or at once when it had ended already.
     */
    public CompletableFuture<Void> unsubscribe()
    {
        if (!open)
        {
            return CompletableFuture.completedFuture(null);
        }
        return client.unsubscribe(this);
    }

    /**
     * {@link #unsubscribe()} and wait for it (up to the client's request timeout; not at all when called from
     * the listener, on the client's I/O thread, which the confirmation needs); a failure to confirm is ignored:
     * the subscription is over for this client either way.
     */
    @Override
    public void close()
    {
        if (client.onIoThread())
        {
            unsubscribe();
            end(null);
            return;
        }
        try
        {
            unsubscribe().get(client.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final Exception ex)
        {
            LOG.debug("unsubscribe of {} not confirmed: {}", id, ex.toString());
        }
        end(null);
    }

    // ------------------------------------------------------------------------------------------------
    // The client's I/O thread

    void deliver(final TaskEvent event)
    {
        if (!open)
        {
            return;
        }
        events++;
        try
        {
            listener.onEvent(event);
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("status event listener of subscription {} failed on {}", id, event, ex);
        }
    }

    void lost(final long count, final boolean upperBound)
    {
        if (!open)
        {
            return;
        }
        lost += count;
        try
        {
            listener.onEventsLost(count, upperBound);
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("status event listener of subscription {} failed on {} lost", id, count, ex);
        }
    }

    /**
     * @param failure why it ended, when not asked to; null when unsubscribed or closed.
     */
    synchronized void end(final GyreClientException failure)
    {
        if (!open)
        {
            return;
        }
        open = false;
        try
        {
            listener.onClosed();
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("status event listener of subscription {} failed on close", id, ex);
        }
        if (failure == null)
        {
            ended.complete(null);
        }
        else
        {
            ended.completeExceptionally(failure);
        }
    }

    @Override
    public String toString()
    {
        return "Subscription[" + id + " " + filter + (open ? "" : " ended") + "]";
    }
}
