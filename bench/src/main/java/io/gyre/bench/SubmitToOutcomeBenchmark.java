package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.EventFilter;
import io.gyre.engine.EventSubscription;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.WaitStrategyOption;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * (b) In-process submit to outcome, journaled: {@code noop} tasks with unique 16-byte keys through the
 * allocation-free callback API, pipelined ({@value #TASKS} in flight per invocation), for each wait strategy
 * and pipeline layout. Each operation is one task, from submission to its outcome delivered to the
 * listener, its two records (SUBMITTED, SUCCEEDED) in the journal before the outcome is delivered.
 * Run with {@code -prof gc} for the allocation per task ({@code gc.alloc.rate.norm}). {@code -p subscriber=counting,stalled}
 * adds a status event subscription (see {@link #subscriber}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SubmitToOutcomeBenchmark extends AbstractBenchmark
{
    static final int TASKS = 10_000;

    @Param({"BACKOFF", "SLEEPING", "YIELDING", "BLOCKING", "BUSY_SPIN"})
    String waitStrategy;

    @Param({"1", "2", "4"})
    int pipelineThreads;

    @Param({"1000000"})
    int retainedOutcomes;

    /** Whether the engine counts and times (issue 6's target: on within 5% of off). */
    @Param({"true"})
    boolean metrics;

    /**
     * A status event subscription attached for the whole run: {@code none}; {@code filtered}, one whose filter no
     * task passes (the cost of the feed and the event thread alone); {@code counting}, every event to a listener
     * that counts it; {@code stalled}, every event to a listener that blocks on its first one for good (its queue
     * fills and the rest are dropped). Issue 6: with subscribers the engine never waits for them.
     */
    @Param({"none"})
    String subscriber;

    private Path dir;
    private Engine engine;
    private final CountingListener listener = new CountingListener();
    private final TaskRequest request = new TaskRequest().type("noop");
    private final byte[] key = new byte[16];
    private long submitted;
    private final java.util.concurrent.atomic.AtomicLong events = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    private EventSubscription subscription;

    @Setup(Level.Trial)
    public void open()
    {
        dir = TempDirectories.create("submit-bench");
        engine = Engine.open(EngineConfig.builder(dir)
            .waitStrategy(WaitStrategyOption.valueOf(waitStrategy))
            .pipelineThreads(pipelineThreads)
            .maxRetainedOutcomes(retainedOutcomes)
            .metrics(metrics)
            .build());
        switch (subscriber)
        {
            case "none" ->
            {
            }
            case "filtered" -> subscription = engine.subscribe(EventFilter.all().withKeyPrefix("no task has this key"),
                event -> events.incrementAndGet());
            case "counting" -> subscription = engine.subscribe(EventFilter.all(), event -> events.incrementAndGet());
            case "stalled" -> subscription = engine.subscribe(EventFilter.all(), event ->
            {
                try
                {
                    release.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
            default -> throw new IllegalArgumentException("subscriber=" + subscriber + ": none, filtered, counting or stalled");
        }
    }

    @TearDown(Level.Trial)
    public void close()
    {
        release.countDown();
        if (subscription != null)
        {
            System.out.println("\nsubscriber " + subscriber + ": " + (subscriber.equals("counting") ? events.get() : subscription.delivered()) +
                " events delivered, " + subscription.lost() + " dropped, " + engine.eventsLostInFeed() + " dropped by the feed");
            subscription.close();
        }
        engine.close();
        TempDirectories.delete(dir);
        if (listener.unexpected.get() != 0)
        {
            throw new IllegalStateException(listener.unexpected.get() + " tasks did not simply succeed");
        }
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long submitToOutcome()
    {
        for (int i = 0; i < TASKS; i++)
        {
            final long n = submitted++;
            for (int b = 0; b < 8; b++)
            {
                key[b] = (byte)(n >>> (8 * b));
            }
            engine.submit(request.key(key, 0, key.length), listener);
        }
        listener.awaitCount(submitted);
        return submitted;
    }
}
