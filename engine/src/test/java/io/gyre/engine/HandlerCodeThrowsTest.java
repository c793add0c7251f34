package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordType;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A handler's own code that runs as a task is submitted ({@link TaskHandler#executionMode(DirectBuffer, int, int)})
 * may throw. It used to run while the submission filled its ring slot, and the Disruptor publishes a slot whatever its
 * filler throws: the slot went through the ring half filled, with the key, payload and listener of the request that
 * used it last (an outside check's plugin: 751 SUBMITTED records for 300 tasks, and answers to other requests). Now it
 * runs before a slot is claimed: the submission is refused as invalid, nothing journaled, and no other task is touched.
 */
class HandlerCodeThrowsTest
{
    @TempDir
    Path dir;

    /** Echoes; its executionMode throws for the payload "boom". */
    static final class Picky extends TestHandlers.Typed
    {
        Picky()
        {
            super("picky", ExecutionMode.INLINE);
        }

        @Override
        public ExecutionMode executionMode(final DirectBuffer payload, final int offset, final int length)
        {
            if (length == 4 && payload.getStringWithoutLengthAscii(offset, length).equals("boom"))
            {
                throw new IllegalStateException("cannot classify boom");
            }
            return ExecutionMode.INLINE;
        }

        @Override
        public void execute(final TaskContext context)
        {
            final DirectBuffer payload = context.payload();
            final byte[] bytes = new byte[payload.capacity()];
            payload.getBytes(0, bytes);
            context.succeed(bytes);
        }
    }

    @Test
    void shouldRefuseTheSubmissionBeforeItTakesARingSlot() throws Exception
    {
        final int ring = 64;
        final List<String> keys = new ArrayList<>();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).ringSize(ring).handler(new Picky()).build()))
        {
            // go round the ring twice, so that every slot holds an earlier submission's key and listener
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < ring; i++)
                {
                    final String key = "k-" + round + "-" + i;
                    keys.add(key);
                    assertThat(engine.submit(new TaskRequest().key(key).type("picky").payload(key)).get(10, TimeUnit.SECONDS).outputAsString())
                        .isEqualTo(key);
                }
                final String boom = "boom-" + round;
                final Throwable refused = catchThrowable(() -> engine.submit(new TaskRequest().key(boom).type("picky").payload("boom")));
                assertThat(refused).isInstanceOf(InvalidTaskException.class)
                    .hasMessageContaining("type=picky").hasMessageContaining("cannot classify boom");
                assertThat(((InvalidTaskException)refused).field()).isEqualTo("payload");
            }
            final Outcome after = engine.submit(new TaskRequest().key("after").type("picky").payload("fine")).get(10, TimeUnit.SECONDS);
            assertThat(after.outputAsString()).isEqualTo("fine");
            keys.add("after");
            assertThat(engine.status("boom-0").get(10, TimeUnit.SECONDS).found()).isFalse();
        }
        // one SUBMITTED and one SUCCEEDED per accepted key, nothing else submitted
        final List<String> submitted = new ArrayList<>();
        final int[] succeeded = {0};
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                if (record.type() == RecordType.SUBMITTED)
                {
                    submitted.add(record.submitted().key());
                }
                else if (record.type() == RecordType.SUCCEEDED)
                {
                    succeeded[0]++;
                }
            });
            assertThat(reader.problems()).isEmpty();
        }
        assertThat(submitted).containsExactlyElementsOf(keys);
        assertThat(succeeded[0]).isEqualTo(keys.size());
    }
}
