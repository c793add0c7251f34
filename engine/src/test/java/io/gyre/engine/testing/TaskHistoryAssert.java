package io.gyre.engine.testing;

import io.gyre.engine.TaskState;
import org.assertj.core.api.AbstractAssert;

import java.util.List;

/**
 * Domain assertions on a journal's task histories:
 * {@code assertThat(history).task(id).hasStates(PENDING, RUNNING, SUCCEEDED)}.
 */
public final class TaskHistoryAssert extends AbstractAssert<TaskHistoryAssert, TaskHistory>
{
    private long taskId;

    private TaskHistoryAssert(final TaskHistory actual)
    {
        super(actual, TaskHistoryAssert.class);
    }

    public static TaskHistoryAssert assertThat(final TaskHistory history)
    {
        return new TaskHistoryAssert(history);
    }

    public TaskHistoryAssert task(final long id)
    {
        taskId = id;
        return this;
    }

    /**
     * The task went through exactly these states, in this order.
     */
    public TaskHistoryAssert hasStates(final TaskState... expected)
    {
        isNotNull();
        final List<TaskState> states = actual.states(taskId);
        if (!states.equals(List.of(expected)))
        {
            failWithMessage("expected task %d to go through %s but it went through %s", taskId, List.of(expected), states);
        }
        return this;
    }

    /**
     * The journal replays cleanly: no corruption, and every derived record re-derived identically.
     */
    public TaskHistoryAssert replaysDeterministically()
    {
        isNotNull();
        if (actual.report().corrupted() || actual.report().derivedMismatches() > 0)
        {
            failWithMessage("expected a clean, deterministic replay but got problems %s and %d derived mismatches (first: %s)",
                actual.report().problems(), actual.report().derivedMismatches(), actual.report().firstMismatch());
        }
        return this;
    }
}
