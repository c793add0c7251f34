package io.gyre.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * Reply targets the engine makes for its own asynchronous API (the publish stage completes them).
 */
final class Requests
{
    private Requests()
    {
    }

    /** Completes a future with an immutable copy of the outcome. */
    static final class FutureOutcome extends CompletableFuture<Outcome> implements OutcomeListener
    {
        @Override
        public void onOutcome(final TaskOutcome outcome)
        {
            complete(outcome.toOutcome());
        }
    }

    /** Completes a future with a task's status (for status and cancel requests). */
    static final class StatusRequest extends CompletableFuture<TaskStatus>
    {
        final String key;

        StatusRequest(final String key)
        {
            this.key = key;
        }
    }

    /** Tells the opening thread the engine's first event went through every stage. */
    static final class Startup
    {
        final CountDownLatch done = new CountDownLatch(1);
        volatile long requeued = -1;
        volatile boolean refused;
        volatile String reason;
    }
}
