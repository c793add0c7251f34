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
 * java $FLAGS -Xmx2g -cp bench/target/benchmarks.jar io.gyre.bench.PooledTasksAB cpu 0 default [tasks per round, default 300000] [rounds, default 6]
 * java $FLAGS -Xmx2g -cp bench/target/benchmarks.jar io.gyre.bench.PooledTasksAB blocking 0 16
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
        if (args.length < 3 || !(args[0].equals("cpu") || args[0].equals("blocking")))
        {
            System.err.println("usage: PooledTasksAB cpu|blocking QUEUE_A QUEUE_B [tasks per round] [rounds]   (QUEUE: a number, or default)");
            System.exit(2);
        }
        final boolean cpu = args[0].equals("cpu");
        final String a = args[1];
        final String b = args[2];
        final long tasks = args.length > 3 ? Long.parseLong(args[3]) : 300_000L;
        final int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 6;
        final AlternatingRounds result = AlternatingRounds.run("a", "b", rounds, (useB, warmUp) ->
            rate(cpu, useB ? b : a, warmUp ? tasks / 3 : tasks));
        System.out.printf("RESULT mode=%s a=%s b=%s tasks_per_round=%d %s%n", args[0], a, b, tasks, result.summary());
    }

    private static double rate(final boolean cpu, final String queue, final long count) throws Exception
    {
        final Path dir = TempDirectories.create("gyre-pooled-ab");
        final EngineConfig.Builder builder = EngineConfig.builder(dir).discoverHandlers(false)
            .handler(new Nothing(cpu ? ExecutionMode.CPU : ExecutionMode.BLOCKING));
        if (!queue.equals("default"))
        {
            final int size = Integer.parseInt(queue);
            if (cpu)
            {
                builder.cpuPoolQueue(size);
            }
            else
            {
                builder.blockingPoolQueue(size);
            }
        }
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
