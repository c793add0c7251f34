package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskRequest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Submits {@code noop} tasks under distinct keys as fast as the engine takes them, and waits for every outcome:
 * the load of the in-process benchmarks that measure something else (recovery, snapshots).
 */
final class NoopTasks
{
    private NoopTasks()
    {
    }

    /**
     * One round of an in-process comparison: a fresh engine on a fresh journal in a temporary directory, configured
     * by {@code config}, given {@code count} tasks; closed and deleted after.
     *
     * @return tasks per second, from the first submission to the last outcome.
     */
    static double rate(final Function<Path, EngineConfig.Builder> config, final long count) throws Exception
    {
        return rate(config, count, engine ->
        {
        });
    }

    /**
     * As {@link #rate(Function, long)}, handing the engine to {@code afterRun} once the tasks are done, before it
     * is closed (to read what it counted).
     */
    static double rate(final Function<Path, EngineConfig.Builder> config, final long count, final Consumer<Engine> afterRun)
        throws Exception
    {
        final Path dir = TempDirectories.create("gyre-noop-rate");
        try (Engine engine = Engine.open(config.apply(dir).build()))
        {
            final CpuTimes cpu = new CpuTimes();
            final long start = System.nanoTime();
            submit(engine, "", count);
            final double rate = count * 1e9 / (System.nanoTime() - start);
            System.out.println(cpu.perTask(count));
            afterRun.accept(engine);
            return rate;
        }
        finally
        {
            TempDirectories.delete(dir);
        }
    }

    /**
     * Submit {@code count} tasks keyed {@code prefix} + a base-32 count, and wait for their outcomes.
     */
    static void submit(final Engine engine, final String prefix, final long count)
    {
        submit(engine, "noop", prefix, count);
    }

    /**
     * As {@link #submit(Engine, String, long)}, tasks of another type (with no payload).
     */
    static void submit(final Engine engine, final String type, final String prefix, final long count)
    {
        final AtomicLong outcomes = new AtomicLong();
        final OutcomeListener listener = outcome -> outcomes.incrementAndGet();
        final TaskRequest request = new TaskRequest();
        final byte[] prefixBytes = prefix.getBytes(StandardCharsets.US_ASCII);
        final byte[] key = new byte[prefixBytes.length + 13];
        System.arraycopy(prefixBytes, 0, key, 0, prefixBytes.length);
        for (long i = 0; i < count; i++)
        {
            int length = prefixBytes.length;
            for (long v = i; ; v >>>= 5)
            {
                key[length++] = (byte)('a' + (v & 0x1F));
                if (v < 32)
                {
                    break;
                }
            }
            engine.submit(request.clear().key(key, 0, length).type(type), listener);
        }
        while (outcomes.get() < count)
        {
            LockSupport.parkNanos(100_000);
        }
    }
}
