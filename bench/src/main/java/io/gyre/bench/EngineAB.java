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
 * ./gyre bench engine-ab A B [tasks per round, default 3000000] [rounds, default 10]
 * ./gyre bench engine-ab ring=16384 ring=4096
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
        BenchArgs.run("engine-ab", "A B [tasks per round, default 3000000] [rounds, default 10]"
            + "   (A, B: default, or settings such as ring=4096,metrics=false,threads=2,wait=BACKOFF,retained=1000000)", 4, args, EngineAB::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final String a = in.required(0, "configuration A");
        final String b = in.required(1, "configuration B");
        final long tasks = in.positiveLong(2, "tasks per round", 3_000_000L);
        final int rounds = in.positiveInt(3, "rounds", 10);
        check(in, a);   // a bad setting fails before anything runs
        check(in, b);
        final AlternatingRounds result = AlternatingRounds.run("a", "b", rounds, (useB, warmUp) ->
            NoopTasks.rate(dir -> configure(EngineConfig.builder(dir), useB ? b : a), warmUp ? 1_000_000L : tasks));
        System.out.printf("RESULT a=%s b=%s tasks_per_round=%d %s%n", a, b, tasks, result.summary());
    }

    /**
     * A usage error when the settings are not ones {@link #configure} takes, or the engine refuses them.
     */
    static void check(final BenchArgs in, final String settings)
    {
        try
        {
            configure(EngineConfig.builder(Path.of(".")), settings).build();
        }
        catch (final IllegalArgumentException ex)
        {
            // the setting's own errors name it; the engine's name the field
            in.fail(ex.getMessage().startsWith("setting '") ? ex.getMessage() : "configuration '" + settings + "': " + ex.getMessage());
        }
    }

    private static EngineConfig.Builder configure(final EngineConfig.Builder builder, final String settings)
    {
        if (settings.equals("default"))
        {
            return builder;
        }
        int ring = 0;
        final java.util.Set<String> seen = new java.util.HashSet<>();
        for (final String setting : settings.split(",", -1))
        {
            final int eq = setting.indexOf('=');
            if (eq <= 0)
            {
                throw new IllegalArgumentException("setting '" + setting + "': expected NAME=VALUE");
            }
            final String name = setting.substring(0, eq);
            if (!seen.add(name))
            {
                throw new IllegalArgumentException("setting '" + setting + "': " + name + " is given twice");
            }
            final String value = setting.substring(eq + 1);
            switch (name)
            {
                case "ring" -> ring = number(setting, value);
                case "metrics" -> builder.metrics(bool(setting, value));
                case "threads" -> builder.pipelineThreads(number(setting, value));
                case "wait" -> builder.waitStrategy(waitStrategy(setting, value));
                case "retained" -> builder.maxRetainedOutcomes(number(setting, value));
                default -> throw new IllegalArgumentException("setting '" + setting + "': the names are ring, metrics, threads, wait and retained");
            }
        }
        if (ring > 0)
        {
            // the timer fires per tick are bounded by the ring's size (at most ring/16)
            builder.ringSize(ring).timerFiresPerTick(Math.min(256, ring / 16));
        }
        return builder;
    }

    private static int number(final String setting, final String value)
    {
        try
        {
            return Integer.parseInt(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("setting '" + setting + "': '" + value + "' is not a whole number");
        }
    }

    private static boolean bool(final String setting, final String value)
    {
        if (!value.equals("true") && !value.equals("false"))
        {
            throw new IllegalArgumentException("setting '" + setting + "': true or false");
        }
        return Boolean.parseBoolean(value);
    }

    private static WaitStrategyOption waitStrategy(final String setting, final String value)
    {
        try
        {
            return WaitStrategyOption.valueOf(value);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("setting '" + setting + "': one of " + java.util.Arrays.toString(WaitStrategyOption.values()));
        }
    }
}
