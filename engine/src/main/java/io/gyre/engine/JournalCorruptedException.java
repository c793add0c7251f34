package io.gyre.engine;

import io.gyre.journal.JournalProblem;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The journal holds damage beyond a torn tail, so replaying it cannot be trusted to rebuild the engine's
 * state; the engine refuses to start on it. Inspect it with {@code gyre replay --verify}.
 */
public final class JournalCorruptedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final transient List<JournalProblem> problems;

    public JournalCorruptedException(final String journal, final List<JournalProblem> problems)
    {
        super("journal " + journal + " is corrupted; the engine will not start on it (inspect with: gyre replay --verify --journal " +
            journal + "):\n  " + problems.stream().map(JournalProblem::toString).collect(Collectors.joining("\n  ")));
        this.problems = List.copyOf(problems);
    }

    /**
     * @param problem why the journal cannot rebuild the state (e.g. its beginning is gone and no snapshot covers it).
     */
    public JournalCorruptedException(final String journal, final String problem)
    {
        super("journal " + journal + " cannot be recovered: " + problem);
        this.problems = List.of();
    }

    public List<JournalProblem> problems()
    {
        return problems;
    }
}
