package io.gyre.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A subscription to status events ({@link Engine#subscribe}): a bounded queue the engine's event hub fills,
 * drained to its {@link TaskEventListener} by tasks run on its executor.
 * <p>
 * The rule that keeps a slow subscriber from slowing anyone: the hub never waits for a subscription. It
 * queues each matching event while fewer than {@code maxQueued} events are queued; beyond, it drops the event
 * and counts it. The listener then hears {@link TaskEventListener#onEventsLost} with the count, in its place
 * in the order: after the events queued before the drop, before the next one queued after it. The queue holds
 * at most {@code maxQueued} events (plus one loss notice between each two), so what a subscription costs is
 * bounded whatever its listener does.
 * <p>
 * Thread safety: every public method may be called from any thread.
 */
public final class EventSubscription implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(EventSubscription.class);
    /** Deliveries per task on the executor, so one busy subscription does not hold a shared executor for long. */
    private static final int DRAIN_BATCH = 256;

    private final long id;
    private final EventFilter filter;
    private final TaskEventListener listener;
    private final Executor executor;
    private final boolean ownsExecutor;
    private final int maxQueued;
    private final EventHub hub;
    private final Runnable drain = this::drain;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean closedNotified = new AtomicBoolean();

    // guarded by this
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private int eventsQueued;
    private long pendingLost;
    private boolean pendingUpperBound;
    private long lost;
    private long delivered;
    private boolean ending;
    private volatile boolean closed;
    private volatile boolean paused;

    EventSubscription(
        final long id,
        final EventFilter filter,
        final TaskEventListener listener,
        final Executor executor,
        final boolean ownsExecutor,
        final int maxQueued,
        final EventHub hub)
    {
        this.id = id;
        this.filter = filter;
        this.listener = listener;
        this.executor = executor;
        this.ownsExecutor = ownsExecutor;
        this.maxQueued = maxQueued;
        this.hub = hub;
    }

    /** @return this subscription's number in its engine (1, 2, ...). */
    public long id()
    {
        return id;
    }

    public EventFilter filter()
    {
        return filter;
    }

    /** @return the most events queued for the listener before the next are dropped. */
    public int maxQueued()
    {
        return maxQueued;
    }

    /** @return events handed to the listener so far. */
    public synchronized long delivered()
    {
        return delivered;
    }

    /** @return events dropped so far (see {@link TaskEventListener#onEventsLost}). */
    public synchronized long lost()
    {
        return lost;
    }

    /** @return events waiting for the listener now. */
    public synchronized int queued()
    {
        return eventsQueued;
    }

    /** @return true once closed, or ended by its engine stopping. */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Deliver again after the listener's {@link TaskEventListener#ready()} said false.
     */
    public void resume()
    {
        paused = false;
        if (hasWork())
        {
            schedule();
        }
    }

    /**
     * End the subscription: nothing more is delivered (events queued are dropped); the listener hears
     * {@link TaskEventListener#onClosed()}. Idempotent.
     */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            queue.clear();
            eventsQueued = 0;
        }
        hub.remove(this);
        schedule();
    }

    // ------------------------------------------------------------------------------------------------
    // The hub's thread

    /**
     * Queue an event that matched the filter, or count it lost when the queue is full.
     */
    void offer(final TaskEvent event)
    {
        synchronized (this)
        {
            if (closed || ending)
            {
                return;
            }
            if (eventsQueued >= maxQueued)
            {
                pendingLost++;
                lost++;
                return;
            }
            if (pendingLost > 0)
            {
                queue.add(new Lost(pendingLost, pendingUpperBound));
                pendingLost = 0;
                pendingUpperBound = false;
            }
            queue.add(event);
            eventsQueued++;
        }
        if (!paused)
        {
            schedule();
        }
    }

    /**
     * Transitions were lost before filtering (the engine's event buffer overflowed): they may or may not have
     * matched, so the count is an upper bound.
     */
    void lostUpstream(final long count)
    {
        synchronized (this)
        {
            if (closed || ending)
            {
                return;
            }
            pendingLost += count;
            pendingUpperBound = true;
            lost += count;
        }
        if (!paused)
        {
            schedule();
        }
    }

    /**
     * The engine stops: deliver what is queued, then end.
     */
    void end()
    {
        synchronized (this)
        {
            ending = true;
        }
        schedule();
    }

    // ------------------------------------------------------------------------------------------------
    // Delivery, on the executor

    private void schedule()
    {
        if (!scheduled.get() && scheduled.compareAndSet(false, true))
        {
            try
            {
                executor.execute(drain);
            }
            catch (final RejectedExecutionException ex)
            {
                // the executor is gone (an event loop shut down): nobody will deliver; end here
                scheduled.set(false);
                synchronized (this)
                {
                    closed = true;
                    queue.clear();
                    eventsQueued = 0;
                }
                hub.remove(this);
                notifyClosed();
            }
        }
    }

    private void drain()
    {
        boolean any = false;
        try
        {
            for (int n = 0; n < DRAIN_BATCH && !closed; n++)
            {
                if (!listener.ready())
                {
                    paused = true;
                    // resume() may have run between the check and the flag: look once more
                    if (!listener.ready())
                    {
                        break;
                    }
                    paused = false;
                }
                final Object item = poll();
                if (item == null)
                {
                    break;
                }
                any = true;
                deliver(item);
            }
            if (any)
            {
                listener.onEndOfBatch();
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("status event listener of subscription {} ({}) failed", id, filter, ex);
        }
        finally
        {
            scheduled.set(false);
        }
        if (closed || endedAndEmpty())
        {
            if (!closed)
            {
                closed = true;
                hub.remove(this);
            }
            notifyClosed();
        }
        else if (!paused && hasWork())
        {
            schedule();
        }
    }

    private void deliver(final Object item)
    {
        try
        {
            if (item instanceof TaskEvent event)
            {
                listener.onEvent(event);
            }
            else
            {
                final Lost gap = (Lost)item;
                listener.onEventsLost(gap.count, gap.upperBound);
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("status event listener of subscription {} ({}) failed on {}", id, filter, item, ex);
        }
    }

    private synchronized Object poll()
    {
        if (closed)
        {
            return null;
        }
        final Object item = queue.poll();
        if (item instanceof TaskEvent)
        {
            eventsQueued--;
            delivered++;
            return item;
        }
        if (item != null)
        {
            return item;
        }
        if (pendingLost > 0)
        {
            final Lost gap = new Lost(pendingLost, pendingUpperBound);
            pendingLost = 0;
            pendingUpperBound = false;
            return gap;
        }
        return null;
    }

    private synchronized boolean hasWork()
    {
        return !queue.isEmpty() || pendingLost > 0 || ending || closed;
    }

    private synchronized boolean endedAndEmpty()
    {
        return ending && queue.isEmpty() && pendingLost == 0;
    }

    private void notifyClosed()
    {
        if (!closedNotified.compareAndSet(false, true))
        {
            return;
        }
        try
        {
            listener.onClosed();
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("status event listener of subscription {} ({}) failed on close", id, filter, ex);
        }
        finally
        {
            if (ownsExecutor)
            {
                ((ExecutorService)executor).shutdown();
            }
        }
    }

    @Override
    public String toString()
    {
        return "EventSubscription[" + id + " " + filter + (closed ? " closed" : "") + "]";
    }

    /** A loss notice in the queue, where the events it counts would have been. */
    private record Lost(long count, boolean upperBound)
    {
    }
}
