package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskRequest;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Resubmissions of finished keys, in process: N {@code echo} tasks under fresh keys, then the same N keys again,
 * round after round, each answered with its recorded outcome (read back from the journal: the key compared with
 * the one journaled, the outcome read from its record), as a client resending after a reconnect is.
 * <pre>
 * ./gyre bench duplicates [keys, default 1000000] [rounds of duplicates, default 3]
 * </pre>
 * Last line: {@code RESULT keys=<n> fresh_per_s=<n> duplicates_per_s=<median of the rounds>}.
 */
public final class DuplicateSubmissions
{
    private DuplicateSubmissions()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("duplicates", "[keys, default 1000000] [rounds of duplicates, default 3]", 2, args, DuplicateSubmissions::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final int keys = in.positiveInt(0, "keys", 1_000_000);
        final int rounds = in.positiveInt(1, "rounds of duplicates", 3);
        final Path dir = TempDirectories.create("gyre-duplicates");
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
        {
            final AtomicLong outcomes = new AtomicLong();
            final AtomicLong duplicates = new AtomicLong();
            final OutcomeListener listener = outcome ->
            {
                if (outcome.duplicate())
                {
                    duplicates.incrementAndGet();
                }
                outcomes.incrementAndGet();
            };
            final byte[][] names = new byte[keys][];
            for (int i = 0; i < keys; i++)
            {
                names[i] = ("key-" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            }
            final byte[] payload = "{\"x\":1}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            final TaskRequest request = new TaskRequest();
            final double[] rates = new double[rounds + 1];
            for (int r = 0; r <= rounds; r++)
            {
                final long target = outcomes.get() + keys;
                final long start = System.nanoTime();
                for (int i = 0; i < keys; i++)
                {
                    engine.submit(request.clear().key(names[i], 0, names[i].length).type("echo").payload(payload, 0, payload.length), listener);
                }
                while (outcomes.get() < target)
                {
                    LockSupport.parkNanos(100_000);
                }
                rates[r] = keys * 1e9 / (System.nanoTime() - start);
                System.out.printf("round %d (%s): %,.0f tasks/s%n", r, r == 0 ? "fresh keys" : "duplicates", rates[r]);
            }
            if (duplicates.get() != (long)keys * rounds)
            {
                throw new IllegalStateException(duplicates.get() + " duplicates answered, expected " + (long)keys * rounds);
            }
            final double[] dup = java.util.Arrays.copyOfRange(rates, 1, rates.length);
            java.util.Arrays.sort(dup);
            System.out.printf("RESULT keys=%d fresh_per_s=%.0f duplicates_per_s=%.0f%n", keys, rates[0], dup[dup.length / 2]);
        }
        finally
        {
            TempDirectories.delete(dir);
        }
    }
}
