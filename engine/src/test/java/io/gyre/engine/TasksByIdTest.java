package io.gyre.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TasksByIdTest
{
    @Test
    void behavesAsAMapWhateverTheIdsSpread()
    {
        for (final int slots : new int[] {1, 8, 1024})
        {
            final Random random = new Random(slots);
            final TasksById tasks = new TasksById(slots);
            final Map<Long, TaskRecord> reference = new HashMap<>();
            final List<Long> live = new ArrayList<>();
            long nextId = random.nextInt(1000);
            for (int step = 0; step < 200_000; step++)
            {
                final int action = random.nextInt(10);
                if (action == 9 && !live.isEmpty())
                {
                    // replace a live task's record
                    final long id = live.get(random.nextInt(live.size()));
                    final TaskRecord r = new TaskRecord();
                    tasks.put(id, r);
                    reference.put(id, r);
                }
                else if (action < 4 || live.isEmpty())
                {
                    final long id = nextId;
                    nextId += 1 + random.nextInt(3);
                    final TaskRecord r = new TaskRecord();
                    r.taskId = id;
                    tasks.put(id, r);
                    reference.put(id, r);
                    live.add(id);
                }
                else if (action < 8)
                {
                    // mostly the oldest (tasks end in about the order they began), now and then any
                    final int at = random.nextInt(4) == 0 ? random.nextInt(live.size()) : 0;
                    final long id = live.remove(at);
                    assertThat(tasks.remove(id)).isSameAs(reference.remove(id));
                    assertThat(tasks.remove(id)).isNull();
                }
                else
                {
                    final long id = random.nextBoolean() && !live.isEmpty() ? live.get(random.nextInt(live.size())) : nextId + random.nextInt(5);
                    assertThat(tasks.get(id)).isSameAs(reference.get(id));
                    assertThat(tasks.containsKey(id)).isEqualTo(reference.containsKey(id));
                }
                assertThat(tasks.size()).isEqualTo(reference.size());
            }
            final Set<TaskRecord> iterated = new HashSet<>();
            tasks.forEach(iterated::add);
            assertThat(iterated).containsExactlyInAnyOrderElementsOf(reference.values());
            assertThat(tasks.sortedIds()).containsExactly(reference.keySet().stream().sorted().mapToLong(Long::longValue).toArray());
            assertThat(tasks.isEmpty()).isEqualTo(reference.isEmpty());
        }
    }

    @Test
    void aLongLivedTaskKeepsItsSlotAndTheOthersOverflow()
    {
        final TasksById tasks = new TasksById(4);
        final TaskRecord old = new TaskRecord();
        tasks.put(8, old);
        final TaskRecord[] young = new TaskRecord[3];
        for (int i = 0; i < young.length; i++)
        {
            young[i] = new TaskRecord();
            tasks.put(12 + 4L * i, young[i]);   // the same slot as 8
        }
        assertThat(tasks.overflowed()).isEqualTo(3);
        assertThat(tasks.get(8)).isSameAs(old);
        assertThat(tasks.get(16)).isSameAs(young[1]);
        assertThat(tasks.remove(8)).isSameAs(old);
        assertThat(tasks.get(12)).as("still found once the slot is free").isSameAs(young[0]);
        final TaskRecord replaced = new TaskRecord();
        tasks.put(16, replaced);
        assertThat(tasks.get(16)).isSameAs(replaced);
        assertThat(tasks.size()).isEqualTo(3);
        assertThat(tasks.overflowed()).as("16 moved to its free slot").isEqualTo(2);
        assertThat(tasks.sortedIds()).containsExactly(12, 16, 20);
    }

    @Test
    void slotsArePowersOfTwo()
    {
        assertThatThrownBy(() -> new TasksById(1000)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1000");
    }

    @Test
    void shouldGiveTheOverflowsRoomBackOnceTheTasksThatOverflowedEnd()
    {
        final TasksById byId = new TasksById(1 << 10);
        final int tasks = 100_000;
        for (long id = 1; id <= tasks; id++)
        {
            byId.put(id, new TaskRecord());
        }
        assertThat(byId.overflowed()).isEqualTo(tasks - (1 << 10));
        final int grown = byId.overflowCapacity();
        assertThat(grown).isGreaterThanOrEqualTo(2 * (tasks - (1 << 10)));
        for (long id = 1; id <= tasks - 100; id++)
        {
            assertThat(byId.remove(id)).isNotNull();
        }
        assertThat(byId.size()).isEqualTo(100);
        assertThat(byId.overflowCapacity()).as("compacted as it emptied (from %d)", grown).isLessThanOrEqualTo(4096);
        for (long id = tasks - 99; id <= tasks; id++)
        {
            assertThat(byId.get(id)).isNotNull();
        }
    }
}
