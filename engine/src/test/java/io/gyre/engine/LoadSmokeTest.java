package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many tasks from one producer through a small ring, where follow-up events from the execute stage keep
 * meeting a full ring: must finish, every task succeeding. Not a benchmark (see the bench module), but the
 * system properties n, ring, ws, threads and retained let it be run by hand at other sizes.
 */
class LoadSmokeTest
{
    @TempDir
    Path dir;

    @Test
    void shouldCompleteManyTasksThroughASmallRing() throws Exception
    {
        final int n = Integer.getInteger("n", 200_000);
        final CountDownLatch done = new CountDownLatch(n);
        final AtomicLong succeeded = new AtomicLong();
        final OutcomeListener listener = outcome ->
        {
            if (outcome.state() == TaskState.SUCCEEDED)
            {
                succeeded.incrementAndGet();
            }
            done.countDown();
        };
        try (Engine engine = Engine.open(EngineConfig.builder(dir).ringSize(Integer.getInteger("ring", 1024)).maxRetainedOutcomes(Integer.getInteger("retained", 1_000_000)).pipelineThreads(Integer.getInteger("threads", 2)).timerFiresPerTick(16).waitStrategy(WaitStrategyOption.valueOf(System.getProperty("ws", "SLEEPING"))).build()))
        {
            final TaskRequest request = new TaskRequest().type("noop");
            final byte[] key = new byte[16];
            final long start = System.nanoTime();
            for (int i = 0; i < n; i++)
            {
                putLong(key, i);
                request.key(key, 0, 16).correlationId(i);
                engine.submit(request, listener);
            }
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
            final long nanos = System.nanoTime() - start;
            System.out.printf("%d tasks in %d ms: %.0f/s%n", n, nanos / 1_000_000, n * 1e9 / nanos);
            assertThat(succeeded.get()).isEqualTo(n);
            assertThat(engine.stageFailures()).isZero();
        }
    }

    private static void putLong(final byte[] b, final long v)
    {
        for (int i = 0; i < 8; i++)
        {
            b[i] = (byte)(v >>> (8 * i));
        }
    }
}
