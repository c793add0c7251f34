package io.gyre.engine.testing;

import io.gyre.engine.JournalReplay;
import io.gyre.engine.TaskState;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every task's lifecycle as the journal tells it: replays a journal read only and records each task's
 * states in order. Shared with other modules' tests through the engine's test-jar.
 */
public final class TaskHistory
{
    private final Map<Long, List<TaskState>> states = new LinkedHashMap<>();
    private final JournalReplay.Report report;

    private TaskHistory(final Path journal)
    {
        report = JournalReplay.run(JournalReplay.Options.of(journal).onTransition((taskId, from, to, attempt, timestamp) ->
            states.computeIfAbsent(taskId, id -> new ArrayList<>()).add(to)));
    }

    /**
     * Replay the journal in this directory (it may be open by an engine).
     */
    public static TaskHistory of(final Path journal)
    {
        return new TaskHistory(journal);
    }

    /**
     * @return the states the task went through, first PENDING; empty when the journal has no such task.
     */
    public List<TaskState> states(final long taskId)
    {
        return Collections.unmodifiableList(states.getOrDefault(taskId, List.of()));
    }

    public Map<Long, List<TaskState>> all()
    {
        return Collections.unmodifiableMap(states);
    }

    public JournalReplay.Report report()
    {
        return report;
    }
}
