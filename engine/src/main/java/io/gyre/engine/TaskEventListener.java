package io.gyre.engine;

/**
 * Hears the status events of one subscription ({@link Engine#subscribe}), in order, on the subscription's
 * executor: never two calls at once, and never on an engine thread. A listener that is slow only fills its own
 * subscription's bounded queue; beyond it, events are dropped and counted, and it hears
 * {@link #onEventsLost} before the next event it gets.
 */
public interface TaskEventListener
{
    /**
     * The next event of the subscription.
     */
    void onEvent(TaskEvent event);

    /**
     * Events were dropped here, between the last event delivered and the next: the subscription's queue was
     * full, or (with {@code upperBound} true) the engine's own event buffer was, and then the count includes
     * transitions that may not have matched the filter. Re-read what matters with a status request.
     *
     * @param count events missed (at most, when {@code upperBound}).
     */
    default void onEventsLost(final long count, final boolean upperBound)
    {
    }

    /**
     * Asked before each delivery: false pauses delivery (events queue up, then drop) until
     * {@link EventSubscription#resume()} is called. A socket writer answers whether its socket takes more.
     */
    default boolean ready()
    {
        return true;
    }

    /**
     * After a run of deliveries (to flush what they wrote, say).
     */
    default void onEndOfBatch()
    {
    }

    /**
     * The subscription is being ended by the engine, right before {@link #onClosed()}: the events queued for it took
     * the most of the engine's bound on events queued over all subscriptions ({@link EngineConfig#maxQueuedEventBytes()})
     * when another subscription's event found no room. Its queued events are dropped. Subscribe again, and re-read what
     * matters with status requests.
     */
    default void onOverflow()
    {
    }

    /**
     * The subscription ended: closed by its owner, or its engine stopped (after the events queued were
     * delivered). Called once; nothing follows.
     */
    default void onClosed()
    {
    }
}
