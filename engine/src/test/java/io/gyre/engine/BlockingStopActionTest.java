package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stop action ({@link TaskContext#onStop}) that blocks must not hold up other tasks: a cancel or a timeout is decided
 * on a stage thread, which ran the actions itself (an outside check's plugin blocked in one: every client stalled for
 * its length at each timeout). They run on a thread of their own now.
 */
class BlockingStopActionTest
{
    @TempDir
    Path dir;

    static final class StopBlocks extends TestHandlers.Typed
    {
        final CountDownLatch stopping = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        StopBlocks()
        {
            super("stop-blocks", ExecutionMode.ASYNC);
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.onStop(() ->
            {
                stopping.countDown();
                try
                {
                    release.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    @Test
    void shouldAnswerOtherTasksWhileAStopActionBlocks() throws Exception
    {
        final StopBlocks handler = new StopBlocks();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).handler(handler).closeTimeout(java.time.Duration.ofSeconds(1)).build()))
        {
            engine.submit(new TaskRequest().key("stuck").type("stop-blocks"));
            assertThat(engine.cancel("stuck").get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.CANCELLED);
            assertThat(handler.stopping.await(10, TimeUnit.SECONDS)).as("the stop action ran").isTrue();
            // the action blocks now: other tasks go through the ring all the same
            for (int i = 0; i < 100; i++)
            {
                assertThat(engine.submit(new TaskRequest().key("other-" + i).type("echo").payload("x")).get(5, TimeUnit.SECONDS).state())
                    .isEqualTo(TaskState.SUCCEEDED);
            }
        }
        finally
        {
            handler.release.countDown();
        }
    }
}
