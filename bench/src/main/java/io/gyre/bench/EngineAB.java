package io.gyre.bench;

import io.gyre.engine.EngineConfig;
import io.gyre.engine.WaitStrategyOption;

import java.nio.file.Path;

/**
 * Two engine configurations compared on the same in-process workload ({@code noop} tasks, journaled, submitted as
 * fast as the engine takes them) in alternating rounds in one JVM ({@link AlternatingRounds}), a fresh engine and
 * journal each round. A configuration is a comma-separated list of settings over the defaults: {@code ring=N},
 * {@code metrics=true|false}, {@code threads=N} (stage threads), {@code wait=BACKOFF|SLEEPING|YIELDING|BLOCKING|BUSY_SPIN},
 * {@code retained=N} (outcomes kept for deduplication); {@code default} for none.
 * <pre>
 * java $FLAGS -Xmx4g -cp bench/target/benchmarks.jar io.gyre.bench.EngineAB A B [tasks per round, default 3000000] [rounds, default 10]
 * java $FLAGS -Xmx4g -cp bench/target/benchmarks.jar io.gyre.bench.EngineAB ring=16384 ring=4096
 * </pre>
 * Last line: {@code RESULT a=<A> b=<B> tasks_per_round=<n> a_per_s=<n> b_per_s=<n> ratio=<b/a> round_ratio_median=<n>
 * round_ratio_geomean=<n>}.
 */
public final class EngineAB
{
    private EngineAB()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length < 2)
        {
            System.err.println("usage: EngineAB A B [tasks per round] [rounds]   (A, B: default, or settings such as ring=4096,metrics=false)");
            System.exit(2);
        }
        final String a = args[0];
        final String b = args[1];
        final long tasks = args.length > 2 ? Long.parseLong(args[2]) : 3_000_000L;
        final int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        configure(EngineConfig.builder(Path.of(".")), a);   // a bad setting fails before anything runs
        configure(EngineConfig.builder(Path.of(".")), b);
        final AlternatingRounds result = AlternatingRounds.run("a", "b", rounds, (useB, warmUp) ->
            NoopTasks.rate(dir -> configure(EngineConfig.builder(dir), useB ? b : a), warmUp ? 1_000_000L : tasks));
        System.out.printf("RESULT a=%s b=%s tasks_per_round=%d %s%n", a, b, tasks, result.summary());
    }

    private static EngineConfig.Builder configure(final EngineConfig.Builder builder, final String settings)
    {
        if (settings.equals("default"))
        {
            return builder;
        }
        int ring = 0;
        for (final String setting : settings.split(","))
        {
            final int eq = setting.indexOf('=');
            if (eq <= 0)
            {
                throw new IllegalArgumentException("setting '" + setting + "': expected NAME=VALUE");
            }
            final String name = setting.substring(0, eq);
            final String value = setting.substring(eq + 1);
            switch (name)
            {
                case "ring" -> ring = Integer.parseInt(value);
                case "metrics" -> builder.metrics(Boolean.parseBoolean(value));
                case "threads" -> builder.pipelineThreads(Integer.parseInt(value));
                case "wait" -> builder.waitStrategy(WaitStrategyOption.valueOf(value));
                case "retained" -> builder.maxRetainedOutcomes(Integer.parseInt(value));
                default -> throw new IllegalArgumentException("setting '" + name + "': ring, metrics, threads, wait or retained");
            }
        }
        if (ring > 0)
        {
            // the timer fires per tick are bounded by the ring's size (at most ring/16)
            builder.ringSize(ring).timerFiresPerTick(Math.min(256, ring / 16));
        }
        return builder;
    }
}
