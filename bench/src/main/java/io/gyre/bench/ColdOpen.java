package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.RecoveryReport;

import java.nio.file.Path;

/**
 * Recovery as a restart sees it: a fresh JVM opens an engine (snapshots off) on an existing journal, which
 * it replays in full, and closes it. Run it in alternation with the jar of another build on the same journal
 * to compare replay rates cold (the JIT still compiling, the journal's pages mapped for the first time).
 * <pre>
 * java $FLAGS -Xmx8g -cp bench/target/benchmarks.jar io.gyre.bench.ColdOpen JOURNAL_DIR
 * </pre>
 * Make the journal with {@code ReplayRate TASKS RETAINED 1 JOURNAL_DIR} or {@code RecoveryBench}; each open
 * appends a few records to it. Last line: {@code RESULT open_ms=<n> records=<n> replay_ms=<n> records_per_s=<n>}.
 */
public final class ColdOpen
{
    private ColdOpen()
    {
    }

    public static void main(final String[] args)
    {
        if (args.length != 1)
        {
            System.err.println("usage: ColdOpen JOURNAL_DIR");
            System.exit(2);
        }
        final long start = System.nanoTime();
        try (Engine engine = Engine.open(EngineConfig.builder(Path.of(args[0])).snapshots(false).build()))
        {
            final RecoveryReport report = engine.recovery();
            System.out.printf("RESULT open_ms=%d records=%d replay_ms=%d records_per_s=%.0f%n", (System.nanoTime() - start) / 1_000_000,
                report.recordsReplayed(), report.replayNanos() / 1_000_000, report.recordsReplayed() * 1e9 / report.replayNanos());
        }
    }
}
