package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskOutcome;
import io.gyre.engine.TaskRequest;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * What pending {@code wait} tasks cost: opens an engine, measures the heap in use after a full GC, submits
 * N waits of ten minutes (all acknowledged, i.e. journaled and held on the engine's timer), measures again,
 * and prints the difference per task, with the JVM's live threads before and after (a wait needs none). Then it
 * cancels them all and measures once more: what the engine still holds once they are gone (their outcomes kept for
 * deduplication, capped here at a thousand, and whatever its tables did not give back).
 * <pre>
 * ./gyre bench pending-waits [count, default 1000000]
 * </pre>
 */
public final class PendingWaits
{
    private PendingWaits()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("pending-waits", "[count, default 1000000]", 1, args, PendingWaits::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final int count = in.positiveInt(0, "count", 1_000_000);
        final Path dir = TempDirectories.create("gyre-pending-waits");
        final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).maxLiveTasks(count + 1000).admission(100, 100).maxRetainedOutcomes(1000).build()))
        {
            // warm the path (and the JIT) with a few, finished
            final TaskRequest request = new TaskRequest();
            final AtomicLong accepted = new AtomicLong();
            final AtomicLong outcomes = new AtomicLong();
            final AtomicLong rejected = new AtomicLong();
            final OutcomeListener listener = new OutcomeListener()
            {
                @Override
                public void onAccepted(final long correlationId, final long taskId)
                {
                    accepted.incrementAndGet();
                }

                @Override
                public void onOutcome(final TaskOutcome outcome)
                {
                    if (outcome.rejected())
                    {
                        rejected.incrementAndGet();
                    }
                    outcomes.incrementAndGet();
                }
            };
            for (int i = 0; i < 1000; i++)
            {
                engine.submit(request.clear().key("warm-" + i).type("wait").payload("PT0S"), listener);
            }
            while (outcomes.get() < 1000)
            {
                LockSupport.parkNanos(1_000_000);
            }
            final long threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            final long before = usedAfterGc(memory);
            accepted.set(0);
            final long start = System.nanoTime();
            final byte[] key = new byte[16];
            for (int i = 0; i < count; i++)
            {
                for (int b = 0, v = i; b < 8; b++, v >>>= 4)
                {
                    key[b] = (byte)('a' + (v & 0xF));
                }
                engine.submit(request.clear().key(key, 0, 8).type("wait").payload("PT10M"), listener);
            }
            while (accepted.get() + rejected.get() < count)
            {
                LockSupport.parkNanos(1_000_000);
            }
            if (rejected.get() > 0)
            {
                throw new IllegalStateException(rejected.get() + " of " + count + " waits were refused: the measure needs them all pending");
            }
            final double seconds = (System.nanoTime() - start) / 1e9;
            final long after = usedAfterGc(memory);
            final long threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
            System.out.printf("pending waits: %,d accepted in %.1f s (%,.0f/s); outcomes so far %d%n",
                count, seconds, count / seconds, outcomes.get() - 1000);
            System.out.printf("heap used after GC: %,d MB before, %,d MB with them pending: %,d bytes per pending wait%n",
                before >> 20, after >> 20, (after - before) / count);
            System.out.printf("live threads: %d before, %d with them pending%n", threadsBefore, threadsAfter);

            final AtomicLong cancelled = new AtomicLong();
            for (int i = 0; i < count; i++)
            {
                for (int b = 0, v = i; b < 8; b++, v >>>= 4)
                {
                    key[b] = (byte)('a' + (v & 0xF));
                }
                engine.cancel(java.util.Arrays.copyOf(key, 8)).whenComplete((status, failure) -> cancelled.incrementAndGet());
                while (i - cancelled.get() > 10_000)
                {
                    LockSupport.parkNanos(100_000);
                }
            }
            while (cancelled.get() < count)
            {
                LockSupport.parkNanos(1_000_000);
            }
            final long afterCancel = usedAfterGc(memory);
            System.out.printf("heap used after GC once all were cancelled: %,d MB (%,d MB more than before them)%n",
                afterCancel >> 20, (afterCancel - before) >> 20);
        }
        TempDirectories.delete(dir);
    }

    private static long usedAfterGc(final MemoryMXBean memory) throws InterruptedException
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
