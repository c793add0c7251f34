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
 * at most {@code maxQueued} events (the ones in hand for delivery included; plus one loss notice between each
 * two), so what a subscription costs is bounded whatever its listener does.
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
    private final RepeatedWarnings listenerFailures = new RepeatedWarnings();
    private final Executor executor;
    private final boolean ownsExecutor;
    private final int maxQueued;
    private final EventHub hub;
    private final Runnable drain = this::drain;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean closedNotified = new AtomicBoolean();
    /** The delivery task's (one runs at a time). */
    private final Object[] batch = new Object[DRAIN_BATCH];

    // guarded by this
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private long pendingLost;
    private boolean pendingUpperBound;
    private long lost;
    /** Events offered and not yet delivered (in the queue, or taken by the delivery task and not delivered yet). */
    private final java.util.concurrent.atomic.AtomicInteger eventsQueued = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * The estimated bytes of the events counted in {@link #eventsQueued}, also counted in the hub's total
     * ({@link EventHub#reserveEventBytes}); given back to it exactly once, at delivery or when the subscription ends.
     */
    private final java.util.concurrent.atomic.AtomicLong bytesQueued = new java.util.concurrent.atomic.AtomicLong();
    /** The delivery task's (one at a time). */
    private volatile long delivered;
    private boolean ending;
    private volatile boolean closed;
    private volatile boolean paused;
    /** Ended by the hub for holding the most of the bound over all subscriptions ({@link #overflow()}). */
    private volatile boolean overflowed;
    /** The hub's: offered something since the hub last {@link #signal() signalled} it. */
    boolean touched;

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
    public long delivered()
    {
        return delivered;
    }

    /** @return events dropped so far (see {@link TaskEventListener#onEventsLost}). */
    public synchronized long lost()
    {
        return lost;
    }

    /** @return events waiting for the listener now. */
    public int queued()
    {
        return Math.max(0, eventsQueued.get());
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
            eventsQueued.set(0);
        }
        unqueueAll();
        hub.remove(this);
        schedule();
    }

    // ------------------------------------------------------------------------------------------------
    // The hub's thread

    /**
     * Queue an event that matched the filter, or count it lost when the queue is full.
     * <p>
     * On a {@code firstOffer}, returns false when only the bound over all subscriptions stands in the way: the hub may
     * then end the subscription holding the most and offer the event again, not as a first offer: it is queued or
     * counted lost. Delivery starts at the
     * next {@link #signal()}: the hub signals once per batch it reads, not once per event, so a busy stream
     * wakes the executor once per batch.
     */
    boolean offer(final TaskEvent event, final boolean firstOffer)
    {
        synchronized (this)
        {
            if (closed || ending)
            {
                return true;
            }
            if (eventsQueued.get() >= maxQueued)
            {
                pendingLost++;
                lost++;
                return true;
            }
            final long bytes = bytes(event);
            if (!hub.reserveEventBytes(bytes))
            {
                if (firstOffer)
                {
                    return false;       // the bound over all subscriptions: the hub may make room and offer again
                }
                pendingLost++;
                lost++;
                return true;
            }
            bytesQueued.addAndGet(bytes);
            if (pendingLost > 0)
            {
                queue.add(new Lost(pendingLost, pendingUpperBound));
                pendingLost = 0;
                pendingUpperBound = false;
            }
            queue.add(event);
            eventsQueued.incrementAndGet();
        }
        return true;
    }

    /** @return the estimated bytes of the events queued for this subscription now. */
    long queuedBytes()
    {
        return bytesQueued.get();
    }

    /**
     * Ended by the hub: its queued events took the most of the bound over all subscriptions when another
     * subscription's event found no room. Its queue is dropped; the listener hears {@link TaskEventListener#onOverflow()},
     * then {@link TaskEventListener#onClosed()}, on its executor.
     */
    void overflow()
    {
        overflowed = true;
        close();
    }

    /**
     * Deliver what was offered (unless the listener paused delivery).
     */
    void signal()
    {
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
        signal();
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
                    eventsQueued.set(0);
                }
                unqueueAll();
                hub.remove(this);
                notifyClosed();
            }
        }
    }

    private void drain()
    {
        boolean any = false;
        final Object[] batch = this.batch;
        try
        {
            // take a batch at once (one lock for the lot: the hub offers under the same lock), deliver it while the
            // listener is ready, and put back what it was not ready for, in order
            final int taken = take(batch);
            int n = 0;
            for (; n < taken && !closed; n++)
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
                any = true;
                final Object item = batch[n];
                batch[n] = null;
                deliver(item);
                if (item instanceof TaskEvent)
                {
                    // it leaves the count only now: what is in hand counts toward the bound
                    delivered++;
                    eventsQueued.decrementAndGet();
                    unqueue(bytes((TaskEvent)item));
                }
            }
            if (n < taken)
            {
                putBack(batch, n, taken);
            }
            if (any)
            {
                listener.onEndOfBatch();
            }
        }
        catch (final RuntimeException ex)
        {
            listenerFailed("at the end of a batch", ex);
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

    /** A listener that throws on every event is warned of once a minute at most (on the subscription's executor). */
    private void listenerFailed(final String when, final RuntimeException ex)
    {
        final long since = listenerFailures.occurred(System.nanoTime());
        if (since > 0)
        {
            LOG.warn("status event listener of subscription {} ({}) failed {}{}", id, filter, when, RepeatedWarnings.since(since), ex);
        }
        else
        {
            LOG.debug("status event listener of subscription {} ({}) failed {}", id, filter, when, ex);
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
            listenerFailed("on " + item, ex);
        }
    }

    /**
     * @return how many items (events and loss notices, in order) were moved into {@code into}; a loss counted
     *     after the last queued event comes last.
     */
    private synchronized int take(final Object[] into)
    {
        if (closed)
        {
            return 0;
        }
        int n = 0;
        Object item;
        while (n < into.length && (item = queue.poll()) != null)
        {
            into[n++] = item;
        }
        if (n < into.length && pendingLost > 0)
        {
            into[n++] = new Lost(pendingLost, pendingUpperBound);
            pendingLost = 0;
            pendingUpperBound = false;
        }
        return n;
    }

    /**
     * Items taken but not delivered (the listener stopped being ready) go back to the front of the queue.
     */
    private synchronized void putBack(final Object[] items, final int from, final int to)
    {
        for (int i = to - 1; i >= from; i--)
        {
            final Object item = items[i];
            items[i] = null;
            if (!closed)
            {
                queue.addFirst(item);
            }
        }
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
            if (overflowed)
            {
                listener.onOverflow();
            }
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

    /**
     * @return what an event queued takes of the heap, estimated: its object and arrays' headers and fields, its key and
     *     tenant, its error's characters (its type name is shared). Conservative rather than exact.
     */
    static long bytes(final TaskEvent event)
    {
        final String error = event.error();
        return EVENT_FIXED_BYTES + event.key().length + event.tenant().length + (error == null ? 0 : 56L + 2L * error.length());
    }

    /** An event's object, its key's and tenant's array headers, and the queue's reference to it. */
    private static final long EVENT_FIXED_BYTES = 160;

    /** An event delivered: its bytes leave this subscription's count and the hub's, unless the subscription ended first. */
    private void unqueue(final long bytes)
    {
        while (true)
        {
            final long now = bytesQueued.get();
            final long taken = Math.min(now, bytes);
            if (taken <= 0)
            {
                return;
            }
            if (bytesQueued.compareAndSet(now, now - taken))
            {
                hub.releaseEventBytes(taken);
                return;
            }
        }
    }

    /** The subscription ended: whatever bytes it still counts go back to the hub. */
    private void unqueueAll()
    {
        hub.releaseEventBytes(bytesQueued.getAndSet(0));
    }

    /** A loss notice in the queue, where the events it counts would have been. */
    private record Lost(long count, boolean upperBound)
    {
    }
}
