package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;

import java.nio.file.Path;

/**
 * What periodic snapshots cost in throughput: the same in-process workload ({@code noop} tasks, journaled,
 * a million outcomes retained for deduplication, so each snapshot copies and writes about 72 MB) with
 * snapshots off and with a snapshot every {@code every} records, alternating in the same JVM so the machine's
 * noise hits both alike. Prints each round and the ratio of the medians.
 * <pre>
 * java $FLAGS -Xmx8g -cp bench/target/benchmarks.jar io.gyre.bench.SnapshotCost [tasks per round, default 6000000] [every, default 2000000] [rounds, default 3]
 * </pre>
 * Last line: {@code RESULT tasks_per_round=<n> snapshot_every=<n> off_per_s=<n> on_per_s=<n> ratio=<on/off> snapshots=<n>}.
 */
public final class SnapshotCost
{
    private SnapshotCost()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final long tasks = args.length > 0 ? Long.parseLong(args[0]) : 6_000_000L;
        final long every = args.length > 1 ? Long.parseLong(args[1]) : 2_000_000L;
        final int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        round(false, 1_000_000, every);   // warm up the JIT on both paths
        round(true, 1_000_000, every);
        final double[] off = new double[rounds];
        final double[] on = new double[rounds];
        long snapshots = 0;
        for (int r = 0; r < rounds; r++)
        {
            off[r] = round(false, tasks, every)[0];
            final double[] result = round(true, tasks, every);
            on[r] = result[0];
            snapshots += (long)result[1];
            System.out.printf("round %d: off %,.0f tasks/s, on %,.0f tasks/s (%d snapshots)%n", r + 1, off[r], on[r], (long)result[1]);
        }
        java.util.Arrays.sort(off);
        java.util.Arrays.sort(on);
        final double offMedian = off[rounds / 2];
        final double onMedian = on[rounds / 2];
        System.out.printf("RESULT tasks_per_round=%d snapshot_every=%d off_per_s=%.0f on_per_s=%.0f ratio=%.3f snapshots=%d%n",
            tasks, every, offMedian, onMedian, onMedian / offMedian, snapshots);
    }

    /**
     * @return tasks per second, and snapshots written.
     */
    private static double[] round(final boolean snapshots, final long tasks, final long every) throws Exception
    {
        final Path dir = TempDirectories.create("gyre-snapshot-cost");
        try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(snapshots).snapshotEveryRecords(every).build()))
        {
            final long start = System.nanoTime();
            NoopTasks.submit(engine, "", tasks);
            final double rate = tasks * 1e9 / (System.nanoTime() - start);
            return new double[] {rate, engine.snapshotsWritten()};
        }
        finally
        {
            TempDirectories.delete(dir);
        }
    }
}
