package io.gyre.engine;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A context of an attempt that ends when its handler returns (every mode but ASYNC) serves the next attempts too, of
 * any task. A handler that keeps it and reports later, from a thread of its own, must not decide another task's
 * outcome: an outside check's did (a `set` task ended with its output). The late call now throws on the caller's
 * thread, and every other task ends with its own output.
 */
class LateReportTest
{
    @TempDir
    Path dir;

    /** Succeeds at once with "mine", then keeps its context and, from a thread of its own, reports "HIJACK" on it. */
    static final class LateReporter extends TestHandlers.Typed
    {
        final ConcurrentLinkedQueue<Throwable> refusals = new ConcurrentLinkedQueue<>();
        final CountDownLatch tries;

        LateReporter(final ExecutionMode mode, final int tries)
        {
            super("late", mode);
            this.tries = new CountDownLatch(tries);
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.succeed("mine".getBytes(StandardCharsets.UTF_8));
            final Thread late = new Thread(() ->
            {
                for (int i = 0; i < 200; i++)
                {
                    try
                    {
                        context.succeed("HIJACK".getBytes(StandardCharsets.UTF_8));
                    }
                    catch (final IllegalStateException ex)
                    {
                        refusals.add(ex);
                    }
                    try
                    {
                        context.fail(false, "HIJACK");
                    }
                    catch (final IllegalStateException ex)
                    {
                        refusals.add(ex);
                    }
                    Thread.onSpinWait();
                }
                tries.countDown();
            });
            late.setDaemon(true);
            late.start();
        }
    }

    /** Echoes its payload, in the given mode. */
    static final class Echo extends TestHandlers.Typed
    {
        Echo(final ExecutionMode mode)
        {
            super("good", mode);
        }

        @Override
        public void execute(final TaskContext context)
        {
            final byte[] bytes = new byte[context.payloadLength()];
            context.payload().getBytes(0, bytes);
            context.succeed(bytes);
        }
    }

    @ParameterizedTest
    @EnumSource(value = ExecutionMode.class, names = {"INLINE", "CPU", "BLOCKING"})
    void shouldNotLetALateReportDecideAnotherTasksOutcome(final ExecutionMode mode) throws Exception
    {
        final int late = 20;
        final LateReporter reporter = new LateReporter(mode, late);
        try (Engine engine = Engine.open(EngineConfig.builder(dir).handler(reporter).handler(new Echo(mode))
            .cpuPoolThreads(1).blockingPoolThreads(1).build()))
        {
            final List<CompletableFuture<Outcome>> good = new ArrayList<>();
            final List<CompletableFuture<Outcome>> bad = new ArrayList<>();
            for (int i = 0; i < 4_000; i++)
            {
                if (i % 200 == 0)
                {
                    bad.add(engine.submit(new TaskRequest().key("late-" + i).type("late")));
                }
                good.add(engine.submit(new TaskRequest().key("good-" + i).type("good").payload("g" + i)));
            }
            for (int i = 0; i < good.size(); i++)
            {
                final Outcome outcome = good.get(i).get(30, TimeUnit.SECONDS);
                assertThat(outcome.state()).as("good-%d", i).isEqualTo(TaskState.SUCCEEDED);
                assertThat(outcome.outputAsString()).as("good-%d", i).isEqualTo("g" + i * 1);
            }
            for (final CompletableFuture<Outcome> future : bad)
            {
                final Outcome outcome = future.get(30, TimeUnit.SECONDS);
                assertThat(outcome.state()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(outcome.outputAsString()).isEqualTo("mine");
            }
            assertThat(reporter.tries.await(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reporter.refusals).as("late reports refused").hasSize(late * 200 * 2);
        assertThat(reporter.refusals.peek()).hasMessageContaining("succeed() on a TaskContext whose attempt is over");
    }
}
