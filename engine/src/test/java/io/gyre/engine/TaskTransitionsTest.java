package io.gyre.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static io.gyre.engine.TaskState.CANCELLED;
import static io.gyre.engine.TaskState.DEAD_LETTERED;
import static io.gyre.engine.TaskState.FAILED;
import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RETRY_WAIT;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.TaskState.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every pair of states: the allowed moves are exactly the lifecycle's, every other move throws naming both.
 */
class TaskTransitionsTest
{
    private static final Set<List<TaskState>> ALLOWED = Set.of(
        List.of(PENDING, RUNNING),
        List.of(PENDING, CANCELLED),
        List.of(RUNNING, SUCCEEDED),
        List.of(RUNNING, FAILED),
        List.of(RUNNING, DEAD_LETTERED),
        List.of(RUNNING, TIMED_OUT),
        List.of(RUNNING, RETRY_WAIT),
        List.of(RUNNING, CANCELLED),
        List.of(RUNNING, PENDING),
        List.of(RETRY_WAIT, RUNNING),
        List.of(RETRY_WAIT, PENDING),
        List.of(RETRY_WAIT, CANCELLED),
        List.of(DEAD_LETTERED, RETRY_WAIT));

    static Stream<Arguments> everyPair()
    {
        final List<Arguments> pairs = new ArrayList<>();
        for (final TaskState from : TaskState.values())
        {
            for (final TaskState to : TaskState.values())
            {
                pairs.add(Arguments.of(from, to));
            }
        }
        return pairs.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("everyPair")
    void shouldAllowExactlyTheLifecycleMoves(final TaskState from, final TaskState to)
    {
        final boolean allowed = ALLOWED.contains(List.of(from, to));
        assertThat(TaskTransitions.allowed(from, to)).isEqualTo(allowed);
        if (allowed)
        {
            TaskTransitions.check(7, from, to);
            assertThat(TaskTransitions.allowedFrom(from)).contains(to);
        }
        else
        {
            assertThatThrownBy(() -> TaskTransitions.check(7, from, to))
                .isInstanceOf(IllegalTaskStateTransitionException.class)
                .hasMessage("task 7 cannot move from " + from + " to " + to)
                .satisfies(ex ->
                {
                    assertThat(((IllegalTaskStateTransitionException)ex).from()).isEqualTo(from);
                    assertThat(((IllegalTaskStateTransitionException)ex).to()).isEqualTo(to);
                });
        }
    }

    @ParameterizedTest
    @MethodSource("finalStates")
    void shouldLeaveNoWayOutOfAFinalState(final TaskState terminal)
    {
        assertThat(terminal.terminal()).isTrue();
        assertThat(TaskTransitions.allowedFrom(terminal)).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void shouldLeaveADeadLetteredTaskOnlyByARedriveToRetryWait()
    {
        assertThat(DEAD_LETTERED.terminal()).isTrue();
        assertThat(TaskTransitions.allowedFrom(DEAD_LETTERED)).containsExactly(RETRY_WAIT);
    }

    static Stream<TaskState> finalStates()
    {
        return EnumSet.of(SUCCEEDED, FAILED, CANCELLED, TIMED_OUT).stream();
    }
}
