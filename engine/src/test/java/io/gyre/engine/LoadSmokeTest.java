package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

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
            final java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            for (final java.lang.management.ThreadInfo info : mx.dumpAllThreads(false, false))
            {
                if (info.getThreadName().startsWith("gyre") || info.getThreadName().equals("main"))
                {
                    System.out.printf("  %s cpu %d ms%n", info.getThreadName(), mx.getThreadCpuTime(info.getThreadId()) / 1_000_000);
                }
            }
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
