package io.gyre.engine;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static io.gyre.engine.TaskState.CANCELLED;
import static io.gyre.engine.TaskState.DEAD_LETTERED;
import static io.gyre.engine.TaskState.FAILED;
import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RETRY_WAIT;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.TaskState.TIMED_OUT;

/**
 * The task lifecycle as one table: the only moves the engine makes. A move not in it is a bug and throws.
 *
 * <pre>
 *   PENDING ──dispatch──▶ RUNNING ──success──▶ SUCCEEDED
 *      │ ▲                 │  │ │ └─failure, no retry─▶ FAILED | DEAD_LETTERED
 *      │ └──restart────────┘  │ └──timeout, no retry─▶ TIMED_OUT
 *      │                      └──failure or timeout, attempts left──▶ RETRY_WAIT ──due──▶ RUNNING | PENDING
 *      └──cancel──▶ CANCELLED ◀──cancel── RUNNING, RETRY_WAIT
 *
 *   DEAD_LETTERED ──redrive──▶ RETRY_WAIT (due at once, with a fresh budget of attempts)
 * </pre>
 * Every other terminal state is final; DEAD_LETTERED is terminal too (an outcome is recorded, waiters are
 * answered) until an operator redrives it.
 */
public final class TaskTransitions
{
    private static final Map<TaskState, EnumSet<TaskState>> ALLOWED = new EnumMap<>(TaskState.class);
    private static final boolean[][] MATRIX;

    static
    {
        ALLOWED.put(PENDING, EnumSet.of(RUNNING, CANCELLED));
        ALLOWED.put(RUNNING, EnumSet.of(SUCCEEDED, FAILED, DEAD_LETTERED, TIMED_OUT, RETRY_WAIT, CANCELLED, PENDING));
        ALLOWED.put(RETRY_WAIT, EnumSet.of(RUNNING, PENDING, CANCELLED));
        ALLOWED.put(DEAD_LETTERED, EnumSet.of(RETRY_WAIT));
        for (final TaskState state : TaskState.values())
        {
            ALLOWED.putIfAbsent(state, EnumSet.noneOf(TaskState.class));
        }
        final TaskState[] states = TaskState.values();
        MATRIX = new boolean[states.length][states.length];
        for (final TaskState from : states)
        {
            for (final TaskState to : ALLOWED.get(from))
            {
                MATRIX[from.ordinal()][to.ordinal()] = true;
            }
        }
    }

    private TaskTransitions()
    {
    }

    /**
     * @return true when the lifecycle allows moving from {@code from} to {@code to}.
     */
    public static boolean allowed(final TaskState from, final TaskState to)
    {
        return MATRIX[from.ordinal()][to.ordinal()];
    }

    /**
     * @return the states {@code from} may move to.
     */
    public static Set<TaskState> allowedFrom(final TaskState from)
    {
        return EnumSet.copyOf(ALLOWED.get(from));
    }

    /**
     * @throws IllegalTaskStateTransitionException when the move is not in the table.
     */
    public static void check(final long taskId, final TaskState from, final TaskState to)
    {
        if (!allowed(from, to))
        {
            throw new IllegalTaskStateTransitionException(taskId, from, to);
        }
    }
}
