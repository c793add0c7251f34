package io.gyre.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Retained outcomes written to a snapshot and read back: every entry, in order, found by its key, including
 * when the ring has wrapped (the copy is in two pieces then).
 */
class RetainedOutcomesStateTest
{
    @Test
    void shouldReadBackEveryEntryWrittenFromAWrappedRing()
    {
        final RetainedOutcomes table = new RetainedOutcomes(512);
        final TaskRecord r = new TaskRecord();
        for (int i = 0; i < 900; i++)
        {
            r.reset();
            r.taskId = 1000 + i;
            r.keyHash = 0x9E3779B97F4A7C15L * (i + 1);
            r.state = TaskState.SUCCEEDED;
            r.attempt = 1 + i % 3;
            r.maxAttempts = 3;
            r.submitDocument = 50 + i;
            r.submitOffset = i;
            r.outcomeDocument = 60 + i;
            r.finishedAt = 7_000 + i;
            table.add(r);
            while (table.size() > 400)
            {
                table.evictOldest();
            }
        }
        // a redriven task's old outcome is forgotten: it keeps its ring slot but must not be found, before or after
        table.forget(table.find(0x9E3779B97F4A7C15L * 700, (document, offset) -> true));
        final StateWriter out = new StateWriter(64);
        final long oldest = table.writeTo(out);
        assertThat(oldest).isEqualTo(50 + 500);

        final RetainedOutcomes restored = new RetainedOutcomes(16);
        final StateReader in = new StateReader(out.buffer().capacity() == out.length() ? out.buffer() :
            new org.agrona.concurrent.UnsafeBuffer(out.buffer(), 0, out.length()));
        restored.readFrom(in);
        in.expectEnd();
        assertThat(restored.size()).isEqualTo(400);
        assertThat(restored.oldestFinishedAt()).isEqualTo(7_500);
        assertThat(restored.find(0x9E3779B97F4A7C15L * 700, (document, offset) -> true)).as("forgotten").isEqualTo(-1);
        for (int i = 500; i < 900; i++)
        {
            if (i == 699)
            {
                continue;
            }
            final int position = restored.find(0x9E3779B97F4A7C15L * (i + 1), (document, offset) -> true);
            assertThat(position).as("entry %d", i).isNotNegative();
            assertThat(restored.taskId(position)).isEqualTo(1000 + i);
            assertThat(restored.attempts(position)).isEqualTo(1 + i % 3);
            assertThat(restored.state(position)).isEqualTo(TaskState.SUCCEEDED);
        }
        assertThat(restored.find(0x9E3779B97F4A7C15L * 10, (document, offset) -> true)).isEqualTo(-1);
    }

    @Test
    void shouldRefuseAStateWhoseCountDoesNotFitItsBytes()
    {
        final StateWriter out = new StateWriter(64);
        out.putInt(1_000_000).putLong(1L);
        final StateReader in = new StateReader(new org.agrona.concurrent.UnsafeBuffer(out.buffer(), 0, out.length()));
        assertThatThrownBy(() -> new RetainedOutcomes(16).readFrom(in)).hasMessageContaining("bad count 1000000");
    }
}
