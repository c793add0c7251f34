package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.RecoveryReport;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Recovery as a restart sees it: a fresh JVM opens an engine (snapshots off) on an existing journal, which
 * it replays in full, and closes it. Run it in alternation with the jar of another build on the same journal
 * to compare replay rates cold (the JIT still compiling, the journal's pages mapped for the first time).
 * <pre>
 * ./gyre bench cold-open JOURNAL_DIR
 * </pre>
 * Make the journal with {@code ReplayRate TASKS RETAINED 1 JOURNAL_DIR} or {@code RecoveryBench}; each open
 * appends a few records to it. Last line: {@code RESULT open_ms=<n> records=<n> replay_ms=<n> records_per_s=<n>}.
 */
public final class ColdOpen
{
    private ColdOpen()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("cold-open", "JOURNAL_DIR   (a journal, as RecoveryBench or gyre serve left it)", 1, args, ColdOpen::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final Path dir = Path.of(in.required(0, "JOURNAL_DIR"));
        if (!Files.exists(dir.resolve("metadata.cq4t")))
        {
            // opening an engine on a directory without a journal would start one there
            in.fail("JOURNAL_DIR '" + dir + "' holds no journal (no metadata.cq4t)");
        }
        final long start = System.nanoTime();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
        {
            final RecoveryReport report = engine.recovery();
            System.out.printf("RESULT open_ms=%d records=%d replay_ms=%d records_per_s=%.0f%n", (System.nanoTime() - start) / 1_000_000,
                report.recordsReplayed(), report.replayNanos() / 1_000_000, report.recordsReplayed() * 1e9 / report.replayNanos());
        }
    }
}
