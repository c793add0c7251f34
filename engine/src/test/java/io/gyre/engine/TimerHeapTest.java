package io.gyre.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TimerHeapTest
{
    @Test
    void shouldFireByDueTimeThenInsertionAndGiveItsMemoryBackOnceEmptied()
    {
        final TimerHeap heap = new TimerHeap();
        final Random random = new Random(7);
        final int timers = 200_000;
        for (int i = 0; i < timers; i++)
        {
            heap.add(random.nextInt(1000), i, 1, TimerHeap.RETRY);
        }
        assertThat(heap.capacity()).isGreaterThanOrEqualTo(timers);
        long lastDue = -1;
        long lastTask = -1;
        int fired = 0;
        while (heap.size() > 0)
        {
            final long due = heap.peekDue();
            final long task = heap.taskIdAt(0);
            assertThat(due).isGreaterThanOrEqualTo(lastDue);
            if (due == lastDue)
            {
                assertThat(task).as("timers due together fire in insertion order").isGreaterThan(lastTask);
            }
            lastDue = due;
            lastTask = task;
            heap.poll();
            fired++;
            assertThat(heap.capacity()).as("capacity with %d left", heap.size()).isLessThanOrEqualTo(Math.max(64, 4 * heap.size() + 4));
        }
        assertThat(fired).isEqualTo(timers);
        assertThat(heap.capacity()).isEqualTo(64);
        assertThat(heap.peekDue()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void shouldShrinkWhenDeadTimersAreDroppedInBulkAndKeepTheOthersInOrder()
    {
        final TimerHeap heap = new TimerHeap();
        for (int i = 0; i < 100_000; i++)
        {
            heap.add(1_000 - i % 1_000, i, 1, TimerHeap.DEADLINE);
        }
        final int dropped = heap.removeIf((task, attempt) -> task % 1_000 != 0);
        assertThat(dropped).isEqualTo(99_900);
        assertThat(heap.size()).isEqualTo(100);
        assertThat(heap.capacity()).isBetween(128, 512);
        final List<Long> order = new ArrayList<>();
        while (heap.size() > 0)
        {
            assertThat(heap.peekDue()).isEqualTo(1_000);
            order.add(heap.taskIdAt(0));
            heap.poll();
        }
        final List<Long> expected = new ArrayList<>();
        for (long i = 0; i < 100_000; i += 1_000)
        {
            expected.add(i);
        }
        assertThat(order).isEqualTo(expected);
        heap.add(5, 1, 1, TimerHeap.RETRY);
        assertThat(heap.peekDue()).isEqualTo(5);
    }
}
