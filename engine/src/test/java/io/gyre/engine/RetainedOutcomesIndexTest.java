package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The retained-outcome index against a model (a queue of entries in finishing order): after every change, each
 * entry in the window is found with its own task id, and no key that was evicted or forgotten is found. The keys
 * are made to crowd a few home buckets, so buckets overflow into their neighbours, chains of several buckets
 * form and come apart as the oldest entries go, and many keys share a fingerprint (the high half of the hash)
 * while differing in the rest; the sequence numbers start below 2<sup>32</sup> so the run crosses their wrap.
 */
class RetainedOutcomesIndexTest
{
    private static final long[] SEQUENCE_STARTS = {0L, (1L << 32) - 700};

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void shouldFindExactlyTheEntriesInTheWindow(final int start)
    {
        final SplittableRandom random = new SplittableRandom(42 + start);
        final RetainedOutcomes table = RetainedOutcomes.startingAt(512, SEQUENCE_STARTS[start]);
        final ArrayDeque<long[]> window = new ArrayDeque<>();   // {keyHash, taskId}, oldest first; taskId 0 = forgotten
        final Map<Long, Long> liveByKey = new HashMap<>();
        final List<Long> gone = new ArrayList<>();
        final TaskRecord r = new TaskRecord();
        long nextTaskId = 1;
        int limit = 300;
        for (int step = 0; step < 20_000; step++)
        {
            if (step % 2_000 == 0)
            {
                limit = 50 + random.nextInt(460);   // the window grows and shrinks, so chains form and empty
            }
            final int op = random.nextInt(10);
            if (op < 7)
            {
                final long keyHash = crowdedKey(random);
                if (liveByKey.containsKey(keyHash))
                {
                    continue;
                }
                r.reset();
                r.taskId = nextTaskId++;
                r.keyHash = keyHash;
                r.state = TaskState.SUCCEEDED;
                r.attempt = 1;
                r.maxAttempts = 1;
                table.add(r);
                window.addLast(new long[] {keyHash, r.taskId});
                liveByKey.put(keyHash, r.taskId);
                gone.remove(keyHash);
                while (table.size() > limit)
                {
                    table.evictOldest();
                    final long[] oldest = window.removeFirst();
                    if (oldest[1] != 0)
                    {
                        liveByKey.remove(oldest[0]);
                        gone.add(oldest[0]);
                    }
                }
            }
            else if (op < 8 && !liveByKey.isEmpty())
            {
                // forget a live entry, as a redrive does
                final long[] victim = window.stream().filter(e -> e[1] != 0).skip(random.nextInt(liveByKey.size())).findFirst().orElseThrow();
                table.forget(table.find(victim[0], (document, offset) -> true));
                liveByKey.remove(victim[0]);
                gone.add(victim[0]);
                victim[1] = 0;
            }
            else if (op < 9 && table.size() > 0)
            {
                table.evictOldest();
                final long[] oldest = window.removeFirst();
                if (oldest[1] != 0)
                {
                    liveByKey.remove(oldest[0]);
                    gone.add(oldest[0]);
                }
            }
            assertThat(table.size()).isEqualTo(window.size());
            assertThat(table.live()).as("step %d: the entries that answer a key", step).isEqualTo(liveByKey.size());
            if (step % 97 == 0 || step > 19_000)
            {
                for (final Map.Entry<Long, Long> e : liveByKey.entrySet())
                {
                    final int position = table.find(e.getKey(), (document, offset) -> true);
                    assertThat(position).as("step %d: key %x in the window", step, e.getKey()).isNotNegative();
                    assertThat(table.taskId(position)).isEqualTo(e.getValue());
                }
                for (final long key : gone)
                {
                    assertThat(table.find(key, (document, offset) -> true)).as("step %d: key %x gone", step, key).isEqualTo(-1);
                }
            }
            if (gone.size() > 2_000)
            {
                gone.subList(0, 1_000).clear();
            }
        }
    }

    /**
     * Forgotten entries stay counted apart through the ring's growth (which renumbers the window) and a snapshot, and
     * the limit on entries that answer a key trims past them: a redrive does not shorten any other key's window.
     */
    @Test
    void shouldTrimToTheEntriesThatAnswerAKeyWhateverWasForgotten()
    {
        final RetainedOutcomes table = RetainedOutcomes.startingAt(4, (1L << 32) - 3);
        final TaskRecord r = new TaskRecord();
        for (long id = 1; id <= 3; id++)
        {
            add(table, r, id);
        }
        table.forget(table.find(keyOf(2), (document, offset) -> true));
        table.forget(table.find(keyOf(1), (document, offset) -> true));
        assertThat(table.live()).isEqualTo(1);
        for (long id = 4; id <= 40; id++)
        {
            add(table, r, id);          // past the first capacity: the ring grows
        }
        assertThat(table.size()).isEqualTo(40);
        assertThat(table.live()).isEqualTo(38);
        table.trimTo(10, false);
        assertThat(table.live()).isEqualTo(10);
        assertThat(table.size()).isEqualTo(10);
        assertThat(table.find(keyOf(31), (document, offset) -> true)).isNotNegative();
        assertThat(table.find(keyOf(30), (document, offset) -> true)).isEqualTo(-1);

        // forgotten again, then counted or not as the journal's setting says
        table.forget(table.find(keyOf(35), (document, offset) -> true));
        final RetainedOutcomes copy = RetainedOutcomes.startingAt(4, 0);
        final StateWriter out = new StateWriter(64);
        table.writeTo(out);
        copy.readFrom(new StateReader(new org.agrona.concurrent.UnsafeBuffer(out.buffer(), 0, out.length())));
        for (final RetainedOutcomes t : List.of(table, copy))
        {
            assertThat(t.live()).isEqualTo(9);
            t.trimTo(8, true);
            assertThat(t.size()).isEqualTo(8);
            assertThat(t.live()).isEqualTo(7);
            t.trimTo(7, false);
            assertThat(t.live()).isEqualTo(7);
            assertThat(t.find(keyOf(40), (document, offset) -> true)).isNotNegative();
        }
    }

    private static long keyOf(final long id)
    {
        return id * 0x9E3779B97F4A7C15L;
    }

    private static void add(final RetainedOutcomes table, final TaskRecord r, final long id)
    {
        r.reset();
        r.taskId = id;
        r.keyHash = keyOf(id);
        r.state = TaskState.SUCCEEDED;
        r.attempt = 1;
        r.maxAttempts = 1;
        table.add(r);
    }

    /**
     * A hash whose home is one of four buckets out of 256, and whose high half is one of a few values.
     */
    private static long crowdedKey(final SplittableRandom random)
    {
        final long fingerprint = random.nextInt(8);
        final long middle = random.nextInt(1 << 16);
        final long home = random.nextInt(4) * 61L;
        return fingerprint << 32 | middle << 8 | home;
    }
}
