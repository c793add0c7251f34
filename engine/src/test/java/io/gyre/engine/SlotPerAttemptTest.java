package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pool slot belongs to an attempt, not to its task: an attempt that ran past its timeout (its handler
 * ignoring the stop) keeps its slot while the task's next attempt takes another, and gives it back when its
 * late result comes. When slots were kept per task, the next attempt's slot replaced the first's, which was
 * never given back: the pool lost a slot for good.
 */
class SlotPerAttemptTest
{
    @TempDir
    Path dir;

    /** BLOCKING: its first attempt runs 400 ms whatever it is told; later ones return at once. */
    static final class Lagging implements TaskHandler
    {
        final AtomicInteger finished = new AtomicInteger();

        @Override
        public String type()
        {
            return "lagging";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context)
        {
            if (context.attempt() == 1)
            {
                final long until = System.nanoTime() + 400_000_000L;
                while (System.nanoTime() < until)
                {
                    try
                    {
                        Thread.sleep(10);
                    }
                    catch (final InterruptedException ignored)
                    {
                        // a handler that does not stop when told
                    }
                }
            }
            finished.incrementAndGet();
            context.succeed(("attempt " + context.attempt()).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** BLOCKING: succeeds only when two of its tasks run at once. */
    static final class Pair implements TaskHandler
    {
        private final CyclicBarrier barrier = new CyclicBarrier(2);

        @Override
        public String type()
        {
            return "pair";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            try
            {
                barrier.await(10, TimeUnit.SECONDS);
            }
            catch (final java.util.concurrent.TimeoutException ex)
            {
                context.fail(false, "the other task of the pair never ran alongside: a pool slot is missing");
                return;
            }
            context.succeed("together".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldGiveBackTheSlotOfAnAttemptThatFinishedAfterItsTaskMovedOn() throws Exception
    {
        final Lagging lagging = new Lagging();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).blockingPoolThreads(2)
            .defaultBackoff(1, 1, 1f, 0f).handler(lagging).handler(new Pair()).build()))
        {
            final Outcome outcome = engine.submit(new TaskRequest().key("late").type("lagging").timeoutMillis(50).maxAttempts(2)
                .deadLetter(false)).get(10, TimeUnit.SECONDS);
            assertThat(outcome.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(outcome.attempts()).isEqualTo(2);
            assertThat(outcome.outputAsString()).isEqualTo("attempt 2");

            // both slots must come back: the second attempt's at once, the first's when its late result arrives
            final CompletableFuture<Outcome> first = engine.submit(new TaskRequest().key("p1").type("pair").deadLetter(false));
            final CompletableFuture<Outcome> second = engine.submit(new TaskRequest().key("p2").type("pair").deadLetter(false));
            assertThat(first.get(20, TimeUnit.SECONDS).state()).as(first.get().toString()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(second.get(20, TimeUnit.SECONDS).state()).as(second.get().toString()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(lagging.finished.get()).isEqualTo(2);
        }
    }
}
