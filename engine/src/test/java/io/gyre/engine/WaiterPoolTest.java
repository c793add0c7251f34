package io.gyre.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WaiterPoolTest
{
    @Test
    void shouldKeepEachTasksWaitersAndGiveABurstsRoomBackOnceAllAreAnswered()
    {
        final WaiterPool pool = new WaiterPool();
        final List<Integer> heads = new ArrayList<>();
        for (int task = 0; task < 100_000; task++)
        {
            int head = -1;
            for (int w = 0; w <= task % 3; w++)
            {
                head = pool.push(head, "t" + task, task * 10L + w);
            }
            heads.add(head);
        }
        assertThat(pool.capacity()).isGreaterThanOrEqualTo(200_000);
        for (int task = 0; task < 100_000; task++)
        {
            final List<Long> correlations = new ArrayList<>();
            for (int w = heads.get(task); w >= 0; w = pool.next(w))
            {
                assertThat(pool.target(w)).isEqualTo("t" + task);
                correlations.add(pool.correlation(w));
            }
            final List<Long> expected = new ArrayList<>();
            for (int w = task % 3; w >= 0; w--)
            {
                expected.add(task * 10L + w);
            }
            assertThat(correlations).as("the waiters of task %d, the last pushed first", task).isEqualTo(expected);
            if (task < 99_999)
            {
                pool.freeList(heads.get(task));
            }
        }
        assertThat(pool.capacity()).as("one task still waits: the arrays stay").isGreaterThanOrEqualTo(200_000);
        pool.freeList(heads.get(99_999));
        assertThat(pool.capacity()).as("all answered").isEqualTo(1024);
        final int head = pool.push(-1, "again", 7);
        assertThat(pool.target(head)).isEqualTo("again");
        assertThat(pool.next(head)).isEqualTo(-1);
    }
}
