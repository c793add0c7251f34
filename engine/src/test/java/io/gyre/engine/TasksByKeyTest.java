package io.gyre.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TasksByKeyTest
{
    @Test
    void findsEveryLiveTaskByItsHashAndNothingElseWhileGrowing()
    {
        // few distinct low bits (many tasks per bucket, and equal hashes) and full 64-bit hashes
        for (final long hashMask : new long[] {0x7L, 0xFFFF_0000_0000_000FL, -1L})
        {
            final Random random = new Random(hashMask);
            final TasksByKey byKey = new TasksByKey(4);
            final List<TaskRecord> live = new ArrayList<>();
            for (int step = 0; step < 100_000; step++)
            {
                final int action = random.nextInt(10);
                if (action < 4 || live.isEmpty())
                {
                    final TaskRecord r = new TaskRecord();
                    r.keyHash = random.nextLong() & hashMask;
                    byKey.add(r);
                    live.add(r);
                }
                else if (action < 8)
                {
                    // mostly the oldest (tasks end in about the order they began), now and then any
                    final TaskRecord r = live.remove(random.nextInt(4) == 0 ? random.nextInt(live.size()) : 0);
                    assertThat(byKey.remove(r)).isTrue();
                    assertThat(byKey.remove(r)).isFalse();
                    assertThat(r.nextByKey).isNull();
                }
                else
                {
                    final long hash = random.nextBoolean() ? live.get(random.nextInt(live.size())).keyHash : random.nextLong() & hashMask;
                    final Set<TaskRecord> expected = Collections.newSetFromMap(new IdentityHashMap<>());
                    live.stream().filter(r -> r.keyHash == hash).forEach(expected::add);
                    assertThat(matching(byKey, hash)).isEqualTo(expected);
                }
                assertThat(byKey.size()).isEqualTo(live.size());
                assertThat(byKey.buckets()).isGreaterThanOrEqualTo(2 * live.size());
            }
            // every task is still found after the growths, and the chains hold nothing else
            for (final TaskRecord r : live)
            {
                assertThat(matching(byKey, r.keyHash)).contains(r);
            }
        }
    }

    @Test
    void bucketsDoubleWhenTasksReachHalfTheirNumber()
    {
        final TasksByKey byKey = new TasksByKey(2);
        final Set<Long> hashes = new HashSet<>();
        final Random random = new Random(7);
        for (int i = 0; i < 1000; i++)
        {
            final TaskRecord r = new TaskRecord();
            r.keyHash = random.nextLong();
            hashes.add(r.keyHash);
            byKey.add(r);
            assertThat(byKey.buckets()).isGreaterThanOrEqualTo(2 * byKey.size());
        }
        assertThat(byKey.buckets()).isEqualTo(2048);
        for (final long hash : hashes)
        {
            assertThat(matching(byKey, hash)).hasSize(1);
        }
    }

    @Test
    void refusesABucketCountThatIsNotAPowerOfTwo()
    {
        assertThatThrownBy(() -> new TasksByKey(3)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initialBuckets=3");
        assertThatThrownBy(() -> new TasksByKey(0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static Set<TaskRecord> matching(final TasksByKey byKey, final long hash)
    {
        final Set<TaskRecord> found = Collections.newSetFromMap(new IdentityHashMap<>());
        for (TaskRecord r = byKey.chain(hash); r != null; r = r.nextByKey)
        {
            if (r.keyHash == hash)
            {
                assertThat(found.add(r)).as("a task twice in its chain").isTrue();
            }
        }
        return found;
    }

    @Test
    void shouldHalveItsBucketsAsABurstOfTasksEndsAndStillFindTheRest()
    {
        final Random random = new Random(11);
        final TasksByKey byKey = new TasksByKey(TasksByKey.INITIAL_BUCKETS);
        final List<TaskRecord> live = new ArrayList<>();
        for (int i = 0; i < 200_000; i++)
        {
            final TaskRecord r = new TaskRecord();
            r.keyHash = random.nextLong();
            byKey.add(r);
            live.add(r);
        }
        assertThat(byKey.buckets()).isGreaterThanOrEqualTo(400_000);
        while (live.size() > 10)
        {
            final TaskRecord r = live.remove(live.size() - 1 - random.nextInt(Math.min(live.size(), 100)));
            assertThat(byKey.remove(r)).isTrue();
            assertThat(byKey.buckets()).as("at most eight buckets a task, or the initial number")
                .isLessThanOrEqualTo(Math.max(TasksByKey.INITIAL_BUCKETS, 8 * byKey.size() + 8));
            if (live.size() % 9_973 == 0)
            {
                for (final TaskRecord left : live)
                {
                    assertThat(matching(byKey, left.keyHash)).contains(left);
                }
            }
        }
        assertThat(byKey.buckets()).isEqualTo(TasksByKey.INITIAL_BUCKETS);
        for (final TaskRecord left : live)
        {
            assertThat(matching(byKey, left.keyHash)).contains(left);
        }
    }
}
