package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same end-to-end workload under each pipeline layout and wait strategy (each subclass one
 * configuration): inline and blocking tasks, duplicates, retries and cancels from several threads through a
 * small ring, so follow-up events from the execute stage meet a full ring. It must finish (no deadlock),
 * give every submission exactly one outcome, and replay deterministically.
 */
abstract class AbstractEngineConfigurationTest
{
    @TempDir
    Path dir;

    abstract EngineConfig.Builder configure(EngineConfig.Builder builder);

    @Test
    void shouldServeAMixedWorkloadThroughASmallRingAndReplayIt() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final TestHandlers.Flaky slow = new TestHandlers.Flaky("slow", 1, true, ExecutionMode.BLOCKING);
        final int producers = 3;
        final int perProducer = 4_000;
        final Map<Long, TaskState> outcomes = new ConcurrentHashMap<>();
        final AtomicInteger duplicates = new AtomicInteger();
        final CountDownLatch done = new CountDownLatch(producers * perProducer);
        final OutcomeListener listener = outcome ->
        {
            if (outcome.duplicate())
            {
                duplicates.incrementAndGet();
            }
            else if (!outcome.rejected())
            {
                outcomes.merge(outcome.taskId(), outcome.state(), (a, b) -> a == b ? a : null);
            }
            done.countDown();
        };
        try (Engine engine = Engine.open(configure(EngineConfig.builder(dir).ringSize(64).timerFiresPerTick(4)
            .blockingPoolThreads(2).handler(flaky).handler(slow)).build()))
        {
            final Thread[] threads = new Thread[producers];
            for (int p = 0; p < producers; p++)
            {
                final int producer = p;
                threads[p] = new Thread(() ->
                {
                    final TaskRequest request = new TaskRequest().backoff(1, 2, 2f, 0f);
                    for (int i = 0; i < perProducer; i++)
                    {
                        final int n = ThreadLocalRandom.current().nextInt(100);
                        final String type = n < 60 ? "echo" : n < 80 ? "noop" : n < 95 ? "flaky" : "slow";
                        // one in ten resubmits a recent key of this producer
                        final int id = n % 10 == 0 && i > 0 ? i - 1 : i;
                        engine.submit(request.key(producer + "-" + id).type(type).payload("v" + id).correlationId(i), listener);
                        if (n == 7)
                        {
                            engine.cancel(producer + "-" + id);
                        }
                    }
                });
                threads[p].start();
            }
            for (final Thread thread : threads)
            {
                thread.join(120_000);
            }
            assertThat(done.await(120, TimeUnit.SECONDS)).as("every submission answered").isTrue();
            assertThat(engine.stageFailures()).isZero();
        }
        assertThat(outcomes.values()).doesNotContainNull()
            .allSatisfy(state -> assertThat(state).isIn(TaskState.SUCCEEDED, TaskState.CANCELLED));
        final TaskHistory history = TaskHistory.of(dir);
        assertThat(history).replaysDeterministically();
        assertThat(history.report().tasksByState().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(outcomes.size());
        assertThat(history.report().derivedVerified()).isPositive();
    }

    static final class BackoffOnTwoThreadsTest extends AbstractEngineConfigurationTest
    {
        @Override
        EngineConfig.Builder configure(final EngineConfig.Builder builder)
        {
            return builder.waitStrategy(WaitStrategyOption.BACKOFF).pipelineThreads(2);
        }
    }

    static final class SleepingOnTwoThreadsTest extends AbstractEngineConfigurationTest
    {
        @Override
        EngineConfig.Builder configure(final EngineConfig.Builder builder)
        {
            return builder.waitStrategy(WaitStrategyOption.SLEEPING).pipelineThreads(2);
        }
    }

    static final class BlockingOnFourThreadsTest extends AbstractEngineConfigurationTest
    {
        @Override
        EngineConfig.Builder configure(final EngineConfig.Builder builder)
        {
            return builder.waitStrategy(WaitStrategyOption.BLOCKING).pipelineThreads(4);
        }
    }

    static final class YieldingOnOneThreadTest extends AbstractEngineConfigurationTest
    {
        @Override
        EngineConfig.Builder configure(final EngineConfig.Builder builder)
        {
            return builder.waitStrategy(WaitStrategyOption.YIELDING).pipelineThreads(1);
        }
    }

    static final class BusySpinOnOneThreadTest extends AbstractEngineConfigurationTest
    {
        @Override
        EngineConfig.Builder configure(final EngineConfig.Builder builder)
        {
            return builder.waitStrategy(WaitStrategyOption.BUSY_SPIN).pipelineThreads(1);
        }
    }
}
