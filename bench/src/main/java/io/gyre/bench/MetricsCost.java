package io.gyre.bench;

import io.gyre.engine.EngineConfig;


/**
 * What the engine's metrics cost in throughput: the same in-process workload ({@code noop} tasks, journaled,
 * default configuration) with metrics off and on, in alternating rounds in the same JVM ({@link AlternatingRounds}),
 * each round a fresh engine on a fresh journal. Prints each round, the medians and the median of the rounds'
 * ratios.
 * <pre>
 * java $FLAGS -Xmx4g -cp bench/target/benchmarks.jar io.gyre.bench.MetricsCost [tasks per round, default 3000000] [rounds, default 10]
 * </pre>
 * Last line: {@code RESULT tasks_per_round=<n> off_per_s=<n> on_per_s=<n> ratio=<on/off> round_ratio_median=<n> round_ratio_geomean=<n>}.
 */
public final class MetricsCost
{
    private MetricsCost()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final long tasks = args.length > 0 ? Long.parseLong(args[0]) : 3_000_000L;
        final int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        final AlternatingRounds result = AlternatingRounds.run("off", "on", rounds, (metricsOn, warmUp) ->
            NoopTasks.rate(dir -> EngineConfig.builder(dir).metrics(metricsOn), warmUp ? 1_000_000L : tasks));
        System.out.printf("RESULT tasks_per_round=%d %s%n", tasks, result.summary());
    }
}
