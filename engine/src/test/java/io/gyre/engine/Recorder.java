package io.gyre.engine;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/**
 * An {@link OutcomeListener} that keeps what it hears, in order, for tests to wait on and inspect.
 */
final class Recorder implements OutcomeListener
{
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<Outcome> outcomes = new CopyOnWriteArrayList<>();

    @Override
    public void onAccepted(final long correlationId, final long taskId)
    {
        events.add("accepted " + correlationId + " task " + taskId);
    }

    @Override
    public void onOutcome(final TaskOutcome outcome)
    {
        outcomes.add(outcome.toOutcome());
        events.add("outcome " + outcome.correlationId() + " " + (outcome.rejected() ? "REJECTED " + outcome.rejectReason() : outcome.state()));
    }

    List<Outcome> awaitOutcomes(final int count)
    {
        await().until(() -> outcomes.size() >= count);
        return outcomes;
    }
}
