package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskOutcome;
import io.gyre.engine.TaskRequest;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

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
     * Submit {@code count} tasks keyed {@code prefix} + a base-32 count, and wait for their outcomes.
     */
    static void submit(final Engine engine, final String prefix, final long count)
    {
        final AtomicLong outcomes = new AtomicLong();
        final OutcomeListener listener = new OutcomeListener()
        {
            @Override
            public void onAccepted(final long correlationId, final long taskId)
            {
            }

            @Override
            public void onOutcome(final TaskOutcome outcome)
            {
                outcomes.incrementAndGet();
            }
        };
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
            engine.submit(request.clear().key(key, 0, length).type("noop"), listener);
        }
        while (outcomes.get() < count)
        {
            LockSupport.parkNanos(100_000);
        }
    }
}
