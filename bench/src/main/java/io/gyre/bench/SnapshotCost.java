package io.gyre.bench;

import io.gyre.engine.EngineConfig;

/**
 * What periodic snapshots cost in throughput: the same in-process workload ({@code noop} tasks, journaled,
 * a million outcomes retained for deduplication, so each snapshot copies and writes about 72 MB) with
 * snapshots off and with a snapshot every {@code every} records, in alternating rounds in the same JVM
 * ({@link AlternatingRounds}) so the machine's noise hits both alike. Prints each round and the medians.
 * <pre>
 * ./gyre bench snapshot-cost [tasks per round, default 6000000] [every, default 2000000] [rounds, default 3]
 * </pre>
 * Last line: {@code RESULT tasks_per_round=<n> snapshot_every=<n> off_per_s=<n> on_per_s=<n> ratio=<on/off>
 * round_ratio_median=<n> round_ratio_geomean=<n> snapshots=<n>}.
 */
public final class SnapshotCost
{
    private SnapshotCost()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("snapshot-cost", "[tasks per round, default 6000000] [records between snapshots, default 2000000] [rounds, default 3]", 3, args, SnapshotCost::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final long tasks = in.positiveLong(0, "tasks per round", 6_000_000L);
        final long every = in.positiveLong(1, "records between snapshots", 2_000_000L);
        final int rounds = in.positiveInt(2, "rounds", 3);
        final long[] snapshots = new long[1];
        final AlternatingRounds result = AlternatingRounds.run("off", "on", rounds, (snapshotsOn, warmUp) ->
            NoopTasks.rate(dir -> EngineConfig.builder(dir).snapshots(snapshotsOn).snapshotEveryRecords(every), warmUp ? 1_000_000L : tasks,
                engine ->
                {
                    if (!warmUp)
                    {
                        snapshots[0] += engine.snapshotsWritten();
                    }
                }));
        System.out.printf("RESULT tasks_per_round=%d snapshot_every=%d %s snapshots=%d%n", tasks, every, result.summary(), snapshots[0]);
    }
}
