package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.RecoveryReport;
import io.gyre.engine.SnapshotInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Recovery time with and without a snapshot, by journal length: for each task count, journals that many
 * {@code noop} tasks (snapshots off, so the journal is the only record), then opens the engine three ways
 * and times each open:
 * <ol>
 * <li><b>full replay</b>: no snapshot, the whole journal (records per second is the replay rate);</li>
 * <li>then a snapshot is taken at the end of the journal, and a few thousand more tasks are journaled after it;</li>
 * <li><b>from the snapshot</b>: the snapshot is loaded and only the journal after it replayed.</li>
 * </ol>
 * The engine keeps the last million outcomes for deduplication by default, so the state (and the snapshot) is
 * the same size at 1 M and 20 M tasks: recovery from a snapshot should not grow with the journal.
 * <pre>
 * ./gyre bench recovery [counts, default 1000000,20000000]
 * </pre>
 * Last line per count: {@code RESULT tasks=<n> records=<n> full_replay_ms=<n> replay_records_per_s=<n>
 * snapshot_bytes=<n> snapshot_capture_ms=<n> snapshot_recovery_ms=<n> records_after_snapshot=<n>}.
 */
public final class RecoveryBench
{
    private static final int AFTER_SNAPSHOT = 10_000;

    private RecoveryBench()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("recovery", "[task counts, comma-separated, default 1000000,20000000]", 1, args, RecoveryBench::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final String[] counts = in.string(0, "1000000,20000000").split(",", -1);   // an empty one is refused, not dropped
        final long[] tasks = new long[counts.length];
        for (int i = 0; i < counts.length; i++)
        {
            tasks[i] = in.positiveLong(counts[i].trim(), "task count");
        }
        for (final long count : tasks)
        {
            run(count);
        }
    }

    private static void run(final long tasks) throws Exception
    {
        final Path dir = TempDirectories.create("gyre-recovery-" + tasks);
        try
        {
            final long journalStart = System.nanoTime();
            try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
            {
                NoopTasks.submit(engine, "t", tasks);
            }
            System.out.printf("journaled %,d noop tasks in %.1f s (%,d MiB of journal)%n", tasks,
                (System.nanoTime() - journalStart) / 1e9, journalBytes(dir) >> 20);

            final long fullStart = System.nanoTime();
            final RecoveryReport full;
            try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
            {
                full = engine.recovery();
            }
            final long fullOpenNanos = System.nanoTime() - fullStart;
            System.out.printf("full replay: open %,d ms, %,d records replayed in %,d ms = %,.0f records/s%n",
                fullOpenNanos / 1_000_000, full.recordsReplayed(), full.replayNanos() / 1_000_000,
                full.recordsReplayed() * 1e9 / full.replayNanos());

            final SnapshotInfo snapshot;
            try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
            {
                snapshot = engine.snapshot().get(120, TimeUnit.SECONDS);
                NoopTasks.submit(engine, "after", AFTER_SNAPSHOT);
                // no snapshot at close: delete any, keeping the one at the journal's end
            }
            try (Stream<Path> files = Files.list(dir.resolve("snapshots")))
            {
                for (final Path file : files.toList())
                {
                    if (!file.equals(snapshot.file()))
                    {
                        Files.delete(file);
                    }
                }
            }
            final long snapshotStart = System.nanoTime();
            final RecoveryReport fromSnapshot;
            try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
            {
                fromSnapshot = engine.recovery();
            }
            final long snapshotOpenNanos = System.nanoTime() - snapshotStart;
            System.out.printf("from snapshot (%,d bytes, state copied in %,d ms): open %,d ms, loaded in %,d ms, %,d records after it replayed in %,d ms%n",
                snapshot.bytes(), snapshot.captureNanos() / 1_000_000, snapshotOpenNanos / 1_000_000,
                fromSnapshot.snapshotLoadNanos() / 1_000_000, fromSnapshot.recordsReplayed(), fromSnapshot.replayNanos() / 1_000_000);
            System.out.printf("RESULT tasks=%d records=%d full_replay_ms=%d replay_records_per_s=%.0f snapshot_bytes=%d " +
                    "snapshot_capture_ms=%d snapshot_recovery_ms=%d records_after_snapshot=%d%n",
                tasks, full.recordsReplayed(), full.replayNanos() / 1_000_000, full.recordsReplayed() * 1e9 / full.replayNanos(),
                snapshot.bytes(), snapshot.captureNanos() / 1_000_000,
                (fromSnapshot.snapshotLoadNanos() + fromSnapshot.replayNanos()) / 1_000_000, fromSnapshot.recordsReplayed());
        }
        finally
        {
            TempDirectories.delete(dir);
        }
    }

    private static long journalBytes(final Path dir) throws Exception
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
