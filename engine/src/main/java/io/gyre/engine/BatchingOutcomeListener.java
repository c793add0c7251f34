package io.gyre.engine;

/**
 * An {@link OutcomeListener} that also hears when the publish stage ends a batch in which it was given at
 * least one reply: the moment to hand what it gathered to another thread in one piece (a network
 * connection flushes once per batch, not once per reply). Called on the publish thread, at most once per
 * batch, after that batch's last reply to this listener; and once after the {@link TaskOutcome#unfinished()
 * unfinished} answers a stop gives it, on the thread stopping the engine (see {@link OutcomeListener}).
 */
public abstract class BatchingOutcomeListener implements OutcomeListener
{
    // the publish stage's batch this listener is enlisted in; written and read by the publish thread only
    long enlistedInBatch = -1;

    /**
     * The publish stage ended a batch in which this listener had replies. Must not block.
     */
    public abstract void onEndOfBatch();
}
