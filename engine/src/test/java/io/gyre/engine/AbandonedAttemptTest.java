package io.gyre.engine;

import io.gyre.journal.FailedRecord;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pooled handler that ignores being stopped (it never looks at {@code stopRequested()}, and swallows interrupts)
 * must not hold the pool other task types share: once its attempt timed out and {@code abandonAfter} passed, the pool
 * gives the slot back with a journaled late result and runs the next attempts on a thread started in its place.
 */
class AbandonedAttemptTest
{
    @TempDir
    Path dir;

    private final List<Engine> engines = new ArrayList<>();

    @AfterEach
    void closeAll()
    {
        engines.forEach(Engine::close);
    }

    private Engine open(final Deaf deaf, final int threads)
    {
        final Engine engine = Engine.open(EngineConfig.builder(dir).discoverHandlers(false).blockingPoolThreads(threads)
            .abandonAfter(Duration.ofMillis(200)).closeTimeout(Duration.ofMillis(200))
            .handler(deaf).handler(new TestHandlers.Flaky("quick", 0, true, ExecutionMode.BLOCKING)).build());
        engines.add(engine);
        return engine;
    }

    @Test
    void shouldGiveTheSlotOfAnAttemptWhoseHandlerNeverStopsBackToThePool() throws Exception
    {
        final Deaf deaf = new Deaf();
        final Engine engine = open(deaf, 1);

        // the pool's one thread taken by an attempt that times out and never returns
        final Outcome timedOut = engine.submit(new TaskRequest().key("deaf").type("deaf").timeoutMillis(100).maxAttempts(1))
            .get(10, TimeUnit.SECONDS);
        assertThat(timedOut.state()).isIn(TaskState.TIMED_OUT, TaskState.DEAD_LETTERED);
        assertThat(deaf.running.get()).isEqualTo(1);

        // another type on the same pool still runs: on the thread started in place of the stuck one
        final Outcome quick = engine.submit(new TaskRequest().key("quick").type("quick")).get(10, TimeUnit.SECONDS);
        assertThat(quick.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(deaf.running.get()).as("the stuck handler still runs").isEqualTo(1);
        assertThat(engine.abandonedBlockingAttempts()).as("its thread, counted as abandoned").isEqualTo(1);
        assertThat(engine.abandonedCpuAttempts()).isZero();

        // the handler returns at last: what it returns is dropped, the task keeps its outcome
        deaf.release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> deaf.running.get() == 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> engine.abandonedBlockingAttempts() == 0);
        assertThat(engine.status("deaf").join().state()).isEqualTo(timedOut.state());
        assertThat(engine.submit(new TaskRequest().key("quick2").type("quick")).get(10, TimeUnit.SECONDS).state())
            .isEqualTo(TaskState.SUCCEEDED);
        engines.remove(engine);
        engine.close();

        // journaled as a late FAILED result of the attempt, which a replay applies to the same state
        final List<String> lateFailures = new ArrayList<>();
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(dir).onRecord(record ->
        {
            if (record.type() == RecordType.FAILED && record.failed().errorKind() == FailedRecord.KIND_CANCELLED)
            {
                lateFailures.add(record.failed().message());
            }
        }));
        assertThat(report.derivedMismatches()).as(String.valueOf(report.firstMismatch())).isZero();
        assertThat(lateFailures).singleElement().satisfies(message -> assertThat(message).startsWith("abandoned: "));
        assertThat(report.tasksByState()).containsEntry(TaskState.SUCCEEDED, 2L);
    }

    @Test
    void shouldKeepTheSlotOnceAsManyThreadsAsThePoolHasAreAbandoned() throws Exception
    {
        final Deaf deaf = new Deaf();
        final Engine engine = open(deaf, 1);
        engine.submit(new TaskRequest().key("deaf-1").type("deaf").timeoutMillis(100).maxAttempts(1)).get(10, TimeUnit.SECONDS);
        // the first one abandoned, its replacement taken by a second deaf attempt: that one is not abandoned (a
        // thread more at most per thread of the pool), so the pool's slot stays held by it
        await().atMost(Duration.ofSeconds(10)).until(() -> engine.submit(new TaskRequest().key("probe").type("quick"))
            .get(10, TimeUnit.SECONDS).state() == TaskState.SUCCEEDED);
        engine.submit(new TaskRequest().key("deaf-2").type("deaf").timeoutMillis(100).maxAttempts(1)).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> deaf.running.get() == 2);
        Thread.sleep(600);
        final java.util.concurrent.CompletableFuture<Outcome> waiting = engine.submit(new TaskRequest().key("waits").type("quick"));
        Thread.sleep(300);
        assertThat(waiting).isNotDone();
        assertThat(engine.status("waits").join().state()).isEqualTo(TaskState.PENDING);

        // both handlers return: the waiting task runs
        deaf.release.countDown();
        assertThat(waiting.get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
    }

    /** BLOCKING: ignores being stopped and every interrupt until released. */
    static final class Deaf implements TaskHandler
    {
        final AtomicInteger running = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String type()
        {
            return "deaf";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context)
        {
            running.incrementAndGet();
            try
            {
                while (true)
                {
                    try
                    {
                        if (release.await(30, TimeUnit.SECONDS))
                        {
                            break;
                        }
                    }
                    catch (final InterruptedException ignored)
                    {
                        // deaf to it, on purpose
                    }
                }
                context.succeed("too late".getBytes(StandardCharsets.UTF_8));
            }
            finally
            {
                running.decrementAndGet();
            }
        }
    }
}
