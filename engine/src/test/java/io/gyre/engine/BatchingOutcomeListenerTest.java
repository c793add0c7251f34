package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A batching listener hears the end of every publish batch in which it got replies, once, after them;
 * a listener with no replies in a batch hears nothing.
 */
class BatchingOutcomeListenerTest
{
    @TempDir
    Path dir;

    static final class Gathering extends BatchingOutcomeListener
    {
        final List<Integer> batches = new ArrayList<>();
        int repliesInBatch;
        volatile int outcomes;
        volatile int repliesUnflushed;

        @Override
        public void onAccepted(final long correlationId, final long taskId)
        {
            repliesInBatch++;
            repliesUnflushed = repliesInBatch;
        }

        @Override
        public void onOutcome(final TaskOutcome outcome)
        {
            repliesInBatch++;
            repliesUnflushed = repliesInBatch;
            outcomes++;
        }

        @Override
        public void onEndOfBatch()
        {
            batches.add(repliesInBatch);
            repliesInBatch = 0;
            repliesUnflushed = 0;
        }
    }

    @Test
    void everyReplyIsFollowedByTheEndOfItsBatch()
    {
        final Gathering a = new Gathering();
        final Gathering idle = new Gathering();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
        {
            final TaskRequest request = new TaskRequest();
            for (int i = 0; i < 5000; i++)
            {
                engine.submit(request.clear().key("b-" + i).type("noop").correlationId(i), a);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> a.outcomes == 5000 && a.repliesUnflushed == 0);
        }
        // read after close, which joined the publish thread
        assertThat(a.batches).allMatch(n -> n > 0);
        assertThat(a.batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(10_000);
        assertThat(idle.batches).isEmpty();
    }
}
