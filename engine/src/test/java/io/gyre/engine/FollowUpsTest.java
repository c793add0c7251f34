package io.gyre.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The execute stage publishes follow-up events (derived records, inline attempts' results, results ASYNC handlers
 * report on its own thread) into the ring it consumes. It must never wait for room there: the room it would wait for
 * is held by the events ahead of it, which only it can pass. An outside check wedged a server so, for good: 10,000
 * http attempts run again after a restart, failing at once (their host's breaker open), each failure starting the next
 * waiting attempt, filled the ring with follow-ups, and the execute stage waited in the ring's {@code next()} forever.
 */
class FollowUpsTest
{
    private static final int TASKS = 3_000;

    @TempDir
    Path dir;

    private enum Report
    {
        /** Never: the attempt stays running. */
        NEVER,
        /** Fails retryably on the thread that starts it (the execute stage), as an http call to a host whose breaker is open. */
        FAIL_AT_ONCE,
        /** Fails retryably from another thread, as an http call to a port nothing listens on. */
        FAIL_FROM_ELSEWHERE
    }

    /**
     * ASYNC, with a concurrency limit as http's: each attempt holds a slot, and an attempt's end starts the next task
     * waiting for one.
     */
    private static final class Fragile implements TaskHandler
    {
        final AtomicInteger attempts = new AtomicInteger();
        private final Report report;
        private final ExecutorService elsewhere = Executors.newSingleThreadExecutor();

        Fragile(final Report report)
        {
            this.report = report;
        }

        @Override
        public String type()
        {
            return "fragile";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.ASYNC;
        }

        @Override
        public int maxConcurrency()
        {
            return 10_000;
        }

        @Override
        public void execute(final TaskContext context)
        {
            attempts.incrementAndGet();
            switch (report)
            {
                case FAIL_AT_ONCE -> context.fail(true, "host unavailable");
                case FAIL_FROM_ELSEWHERE -> elsewhere.execute(() -> context.fail(true, "connection refused"));
                default ->
                {
                }
            }
        }

        @Override
        public void close()
        {
            elsewhere.shutdownNow();
        }
    }

    private static EngineConfig.Builder config(final Path journal, final TaskHandler handler, final int pipelineThreads)
    {
        return EngineConfig.builder(journal).ringSize(64).pipelineThreads(pipelineThreads).handler(handler)
            .closeTimeout(Duration.ofMillis(200));
    }

    /**
     * Every layout: with the publish stage on a thread of its own (4), what is owed is paid on ticks too.
     */
    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void attemptsRunAgainAfterARestartThatFailAtOnceNeverWedgeTheRing(final int pipelineThreads) throws Exception
    {
        final Path journal = dir.resolve("journal");
        final Fragile holding = new Fragile(Report.NEVER);
        try (Engine engine = Engine.open(config(journal, holding, pipelineThreads).build()))
        {
            final List<CompletableFuture<Outcome>> accepted = new ArrayList<>();
            for (int i = 0; i < TASKS; i++)
            {
                accepted.add(engine.submit(new TaskRequest().key("f" + i).type("fragile").maxAttempts(4).backoff(1, 1, 1.0f, 0f)
                    .deadLetter(false)));
            }
            await().atMost(60, TimeUnit.SECONDS).until(() -> holding.attempts.get() == TASKS);
        }

        final Fragile failing = new Fragile(Report.FAIL_AT_ONCE);
        try (Engine engine = Engine.open(config(journal, failing, pipelineThreads).build()))
        {
            assertThat(engine.recovery().requeued()).isEqualTo(TASKS);
            // as replay left them, whatever has run since the start (it was counted after: 802 of 952 in an outside check)
            assertThat(engine.recovery().liveTasks()).isEqualTo(TASKS);
            // every task runs its attempts again from the interrupted one, fails them, then ends FAILED: nothing waits on a
            // wedged ring
            await().atMost(120, TimeUnit.SECONDS).until(() -> engine.liveTasks() == 0);
            assertThat(failing.attempts.get()).isGreaterThanOrEqualTo(3 * TASKS);
            for (int i = 0; i < TASKS; i++)
            {
                final TaskStatus status = engine.status("f" + i).get(30, TimeUnit.SECONDS);
                assertThat(status.state()).as("f" + i).isEqualTo(TaskState.FAILED);
                assertThat(status.attempts()).as("f" + i).isEqualTo(4);
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> engine.ringBacklog() == 0);
        }
    }

    /**
     * An outside check's upgrade: 3,000 http tasks to a closed port, their retries all due when the engine opens again
     * (the server was down past their backoff); it wedged with 952 attempts running, 5 times in 5.
     */
    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void retriesAllDueWhenTheEngineOpensNeverWedgeTheRing(final int pipelineThreads) throws Exception
    {
        final Path journal = dir.resolve("journal");
        final Fragile refused = new Fragile(Report.FAIL_FROM_ELSEWHERE);
        try (Engine engine = Engine.open(config(journal, refused, pipelineThreads).build()))
        {
            for (int i = 0; i < TASKS; i++)
            {
                engine.submit(new TaskRequest().key("r" + i).type("fragile").maxAttempts(2).backoff(5_000, 5_000, 1.0f, 0f));
            }
            await().atMost(60, TimeUnit.SECONDS).until(() -> refused.attempts.get() >= TASKS);
        }
        // the retries fall due while no engine runs
        Thread.sleep(5_500);

        final Fragile refusedAgain = new Fragile(Report.FAIL_FROM_ELSEWHERE);
        try (Engine engine = Engine.open(config(journal, refusedAgain, pipelineThreads).build()))
        {
            await().atMost(120, TimeUnit.SECONDS).until(() -> engine.liveTasks() == 0);
            for (int i = 0; i < TASKS; i++)
            {
                final TaskStatus status = engine.status("r" + i).get(30, TimeUnit.SECONDS);
                assertThat(status.state()).as("r" + i).isEqualTo(TaskState.DEAD_LETTERED);
                assertThat(status.attempts()).as("r" + i).isEqualTo(2);
            }
            // every follow-up counted in the admission gate once, and given back once passed
            await().atMost(10, TimeUnit.SECONDS).until(() -> engine.ringBacklog() == 0);
        }
    }
}
