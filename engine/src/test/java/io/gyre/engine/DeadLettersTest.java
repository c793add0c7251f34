package io.gyre.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The dead-letter list's own structure: order and cursors, finding by key (hash collisions included),
 * removing from anywhere, squeezing holes out, and rebuilding a list from what {@link DeadLetters#forEach} sees.
 */
class DeadLettersTest
{
    /** Key checks by submission offset: entry n's "key" is its submit offset. */
    private static RetainedOutcomes.KeyCheck key(final int submitOffset)
    {
        return (document, offset) -> offset == submitOffset;
    }

    private static long add(final DeadLetters list, final long task, final long hash)
    {
        return list.add(task, hash, 100 + task, (int)task, 200 + task, (int)task * 2, 2, 3, 1000 + task, 2000 + task);
    }

    private static List<Long> tasksFrom(final DeadLetters list, final long cursor, final int limit)
    {
        final List<Long> tasks = new ArrayList<>();
        for (int slot = list.firstAfter(cursor); slot >= 0 && tasks.size() < limit; slot = list.next(slot))
        {
            tasks.add(list.taskId(slot));
        }
        return tasks;
    }

    @Test
    void shouldNumberEntriesInOrderAndPageFromACursor()
    {
        final DeadLetters list = new DeadLetters();
        for (long task = 1; task <= 5; task++)
        {
            assertThat(add(list, task * 10, task)).isEqualTo(task);
        }
        assertThat(list.size()).isEqualTo(5);
        assertThat(list.nextSequence()).isEqualTo(6);
        assertThat(tasksFrom(list, 0, 2)).containsExactly(10L, 20L);
        assertThat(tasksFrom(list, 2, 10)).containsExactly(30L, 40L, 50L);
        assertThat(tasksFrom(list, 5, 10)).isEmpty();
        assertThat(tasksFrom(list, 99, 10)).isEmpty();

        final int third = list.find(3, key(30));
        assertThat(list.sequence(third)).isEqualTo(3);
        assertThat(list.submitDocument(third)).isEqualTo(130);
        assertThat(list.failureDocument(third)).isEqualTo(230);
        assertThat(list.failureOffset(third)).isEqualTo(60);
        assertThat(list.reason(third)).isEqualTo(2);
        assertThat(list.attempts(third)).isEqualTo(3);
        assertThat(list.submittedAt(third)).isEqualTo(1030);
        assertThat(list.deadLetteredAt(third)).isEqualTo(2030);
        list.remove(third);
        assertThat(tasksFrom(list, 2, 10)).as("a removed entry is skipped").containsExactly(40L, 50L);
        assertThat(tasksFrom(list, 0, 10)).containsExactly(10L, 20L, 40L, 50L);
        assertThat(list.find(3, key(30))).isNegative();
        assertThat(add(list, 60, 6)).as("sequences are never reused").isEqualTo(6);
        assertThatThrownBy(() -> list.remove(third)).isInstanceOf(IllegalStateException.class).hasMessageContaining("holds no entry");
    }

    @Test
    void shouldFindEachOfTwoKeysThatShareAHash()
    {
        final DeadLetters list = new DeadLetters();
        add(list, 1, 77);
        add(list, 2, 77);
        add(list, 3, 78);
        assertThat(list.mayContain(77)).isTrue();
        assertThat(list.mayContain(79)).isFalse();
        assertThat(list.taskId(list.find(77, key(1)))).isEqualTo(1);
        assertThat(list.taskId(list.find(77, key(2)))).isEqualTo(2);
        assertThat(list.find(77, key(3))).as("same hash, other key").isNegative();

        list.remove(list.find(77, key(2)));
        assertThat(list.taskId(list.find(77, key(1)))).isEqualTo(1);
        list.remove(list.find(77, key(1)));
        assertThat(list.mayContain(77)).isFalse();
        assertThat(list.taskId(list.find(78, key(3)))).isEqualTo(3);
    }

    @Test
    void shouldSqueezeOutHolesWhenFullKeepingOrderAndIndex()
    {
        final DeadLetters list = new DeadLetters();
        for (long task = 1; task <= 1000; task++)
        {
            add(list, task, task % 37);
            if (task % 3 == 0)
            {
                list.remove(list.find(task % 37, key((int)task)));
            }
        }
        assertThat(list.size()).isEqualTo(667);
        final List<Long> expected = new ArrayList<>();
        for (long task = 1; task <= 1000; task++)
        {
            if (task % 3 != 0)
            {
                expected.add(task);
                assertThat(list.taskId(list.find(task % 37, key((int)task)))).isEqualTo(task);
            }
        }
        assertThat(tasksFrom(list, 0, 2000)).containsExactlyElementsOf(expected);
        assertThat(tasksFrom(list, 500, 3)).containsExactly(502L, 503L, 505L);
        assertThat(list.sequence(list.firstAfter(500))).isEqualTo(502);
    }

    @Test
    void shouldClearEverythingAndCarryOnNumbering()
    {
        final DeadLetters list = new DeadLetters();
        add(list, 1, 1);
        add(list, 2, 2);
        assertThat(list.clear()).isEqualTo(2);
        assertThat(list.size()).isZero();
        assertThat(list.firstAfter(0)).isNegative();
        assertThat(list.mayContain(1)).isFalse();
        assertThat(add(list, 3, 1)).isEqualTo(3);
        assertThat(tasksFrom(list, 0, 10)).containsExactly(3L);
        assertThat(list.clear()).isEqualTo(1);
        assertThat(list.clear()).isZero();
    }

    @Test
    void shouldRebuildAnEqualListFromWhatForEachSees()
    {
        final DeadLetters list = new DeadLetters();
        for (long task = 1; task <= 40; task++)
        {
            add(list, task, task % 5);
        }
        list.remove(list.find(2, key(7)));
        list.remove(list.find(0, key(40)));

        final DeadLetters copy = new DeadLetters();
        list.forEach(copy::restore);
        copy.restoreNextSequence(list.nextSequence());

        assertThat(dump(copy)).isEqualTo(dump(list)).hasSize(38);
        assertThat(copy.nextSequence()).isEqualTo(41);
        assertThat(copy.taskId(copy.find(3, key(13)))).isEqualTo(13);
        assertThat(add(copy, 41, 1)).isEqualTo(add(list, 41, 1)).isEqualTo(41);
    }

    @Test
    void shouldRefuseARestoreOutOfOrder()
    {
        final DeadLetters list = new DeadLetters();
        list.restore(5, 1, 1, 0, 0, -1, 0, 1, 1, 0, 0);
        assertThatThrownBy(() -> list.restore(5, 2, 2, 0, 0, -1, 0, 1, 1, 0, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("sequence=5 must be at least nextSequence=6");
        assertThatThrownBy(() -> list.restore(9, 0, 2, 0, 0, -1, 0, 1, 1, 0, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("taskId=0 must be positive");
        assertThatThrownBy(() -> list.restoreNextSequence(3))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("nextSequence=3 must be at least 6");
    }

    private static List<String> dump(final DeadLetters list)
    {
        final List<String> entries = new ArrayList<>();
        list.forEach((sequence, taskId, keyHash, submitDocument, submitOffset, failureDocument, failureOffset, reason, attempts,
            submittedAt, deadLetteredAt) -> entries.add(sequence + "/" + taskId + "/" + keyHash + "/" + submitDocument + "/" + submitOffset +
            "/" + failureDocument + "/" + failureOffset + "/" + reason + "/" + attempts + "/" + submittedAt + "/" + deadLetteredAt));
        return entries;
    }
}
