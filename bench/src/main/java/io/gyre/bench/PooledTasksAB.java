package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;

import java.nio.file.Path;

/**
 * Tasks handed to a pool ({@code CPU} or {@code BLOCKING}), whose handler does nothing, submitted in process as fast as
 * the engine takes them: what the hand-off itself costs. Compares two sizes of the pool's queue in alternating rounds
 * in one JVM ({@link AlternatingRounds}), a fresh engine and journal each round.
 * <pre>
 * ./gyre bench pooled-ab cpu 0 default [tasks per round, default 300000] [rounds, default 6]
 * ./gyre bench pooled-ab blocking 0 16
 * </pre>
 * A queue is a number of attempts, or {@code default} for the engine's. Last line: {@code RESULT mode=<cpu|blocking>
 * a=<queue> b=<queue> tasks_per_round=<n> a_per_s=<n> b_per_s=<n> ratio=<b/a> round_ratio_median=<n>
 * round_ratio_geomean=<n>}.
 */
public final class PooledTasksAB
{
    private PooledTasksAB()
    {
    }

    /** A task type of the given mode that succeeds with no output. */
    private record Nothing(ExecutionMode mode) implements TaskHandler
    {
        @Override
        public String type()
        {
            return "nothing";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return mode;
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.succeed(0);
        }
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("pooled-ab", "cpu|blocking QUEUE_A QUEUE_B [tasks per round, default 300000] [rounds, default 6]"
            + "   (QUEUE: the pool's queue, a whole number or default)", 5, args, PooledTasksAB::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final String mode = in.required(0, "the pool (cpu or blocking)");
        if (!mode.equals("cpu") && !mode.equals("blocking"))
        {
            in.fail("the pool '" + mode + "' must be cpu or blocking");
        }
        final boolean cpu = mode.equals("cpu");
        final String a = queue(in, cpu, in.required(1, "QUEUE_A"), "QUEUE_A");
        final String b = queue(in, cpu, in.required(2, "QUEUE_B"), "QUEUE_B");
        final long tasks = in.positiveLong(3, "tasks per round", 300_000L);
        final int rounds = in.positiveInt(4, "rounds", 6);
        final AlternatingRounds result = AlternatingRounds.run("a", "b", rounds, (useB, warmUp) ->
            rate(cpu, useB ? b : a, warmUp ? tasks / 3 : tasks));
        System.out.printf("RESULT mode=%s a=%s b=%s tasks_per_round=%d %s%n", mode, a, b, tasks, result.summary());
    }

    private static String queue(final BenchArgs in, final boolean cpu, final String queue, final String what)
    {
        if (!queue.equals("default"))
        {
            try
            {
                config(cpu, queue, Path.of(".")).build();   // a bad queue fails before anything runs
            }
            catch (final IllegalArgumentException ex)
            {
                in.fail(what + " '" + queue + "': " + ex.getMessage());
            }
        }
        return queue;
    }

    private static EngineConfig.Builder config(final boolean cpu, final String queue, final Path dir)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).discoverHandlers(false)
            .handler(new Nothing(cpu ? ExecutionMode.CPU : ExecutionMode.BLOCKING));
        if (!queue.equals("default"))
        {
            final int size;
            try
            {
                size = Integer.parseInt(queue);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("not a whole number or default");
            }
            if (cpu)
            {
                builder.cpuPoolQueue(size);
            }
            else
            {
                builder.blockingPoolQueue(size);
            }
        }
        return builder;
    }

    private static double rate(final boolean cpu, final String queue, final long count) throws Exception
    {
        final Path dir = TempDirectories.create("gyre-pooled-ab");
        final EngineConfig.Builder builder = config(cpu, queue, dir);
        try (Engine engine = Engine.open(builder.build()))
        {
            final long start = System.nanoTime();
            NoopTasks.submit(engine, "nothing", "", count);
            return count * 1e9 / (System.nanoTime() - start);
        }
        finally
        {
            TempDirectories.delete(dir);
        }
    }
}
