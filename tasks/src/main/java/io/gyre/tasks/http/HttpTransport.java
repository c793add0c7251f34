package io.gyre.tasks.http;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.tasks.http.HostBreakers.HostBreaker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What calls go through: one JDK {@link HttpClient}, the bounded executor it runs on, and the per-host
 * breakers. Built from one {@link HttpSettings}; thread-safe.
 * <p>
 * Threads: the client's one selector thread does all network I/O; {@code executor-threads} threads
 * ({@code gyre-http-N-M}) process responses and report results. Neither grows with the calls in flight: a
 * call waiting for its response holds no thread. (The client's default executor is an unbounded cached
 * pool, which is why it gets this one.)
 * <p>
 * Memory: the response bodies of the calls in flight hold at most {@code max-buffered-bytes} together (one
 * {@link BufferBudget}); each holds about what arrived, never what its server declared.
 * <p>
 * One JDK 17 behaviour this cannot change: {@code sendAsync} completes each response's future through a
 * no-op on the JVM's default async pool, the common {@link ForkJoinPool}, or, when that pool's parallelism is
 * 1 (machines with 1 or 2 cores), a new thread for each response. Those threads live for that no-op only;
 * {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=2} removes them (a warning says so at start).
 */
final class HttpTransport
{
    private static final Logger LOG = LoggerFactory.getLogger(HttpTransport.class);
    private static final AtomicInteger TRANSPORTS = new AtomicInteger();

    private final HttpSettings settings;
    private final ExecutorService executor;
    /** Deadlines of the calls in flight (one thread; a call that completes first cancels its own). */
    private final ScheduledThreadPoolExecutor deadlines;
    private final HttpClient client;
    private final HostBreakers breakers;
    private final BufferBudget budget;

    HttpTransport(final HttpSettings settings)
    {
        this.settings = settings;
        final ThreadFactory threads = daemonThreads("gyre-http-" + TRANSPORTS.incrementAndGet() + "-");
        // fixed size; the queue only ever holds completions of calls already in flight, which the engine bounds
        this.executor = new ThreadPoolExecutor(settings.executorThreads(), settings.executorThreads(), 0, TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(), threads);
        this.client = HttpClient.newBuilder()
            .executor(executor)
            .connectTimeout(Duration.ofMillis(settings.connectTimeoutMillis()))
            .followRedirects(HttpClient.Redirect.NEVER) // a redirect must not lead past the allowlist
            .version(settings.version())
            .build();
        this.breakers = new HostBreakers(settings);
        this.budget = new BufferBudget(settings.maxBufferedBytes());
        this.deadlines = new ScheduledThreadPoolExecutor(1, daemonThreads("gyre-http-deadlines-" + TRANSPORTS.get() + "-"));
        deadlines.setRemoveOnCancelPolicy(true);
        if (ForkJoinPool.getCommonPoolParallelism() < 2)
        {
            LOG.warn("the JVM's common pool has {} thread: the JDK HTTP client starts a thread for each response it " +
                "completes (a no-op it runs on the default async pool); start the JVM with " +
                "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2 to bound them", ForkJoinPool.getCommonPoolParallelism());
        }
    }

    HttpSettings settings()
    {
        return settings;
    }

    /**
     * Start a call, unless the host's breaker refuses it (on the engine's execute stage; returns at once).
     *
     * @throws TaskFailure (retryable) when the breaker is open, saying so.
     */
    void call(final TaskContext context, final HttpTaskInput input) throws TaskFailure
    {
        final HostBreaker breaker = breakers.forHost(input.host());
        if (!breaker.tryAcquire())
        {
            throw TaskFailure.retryable(breaker.refusal());
        }
        new HttpCall(context, input, breaker, budget, settings.maxResponseBytes(), settings.connectTimeoutMillis(),
            settings.breakerMinTimeoutMillis()).start(client, executor, deadlines);
    }

    /**
     * @return the state of a host's breaker ({@code host:port}), or null before the first call to it.
     */
    CircuitBreaker.State breakerState(final String host)
    {
        return breakers.state(host);
    }

    /**
     * @return the bytes the response bodies of the calls in flight hold (for tests).
     */
    long bufferedBytes()
    {
        return budget.held();
    }

    void gauges(final io.gyre.engine.GaugeSink sink)
    {
        breakers.gauges(sink);
    }

    /**
     * Stop the executor; calls still in flight are abandoned. On JDK 17 the client has no close: its selector
     * thread ends once the client is unreachable.
     */
    void close()
    {
        executor.shutdownNow();
        deadlines.shutdownNow();
    }

    private static ThreadFactory daemonThreads(final String prefix)
    {
        final AtomicInteger count = new AtomicInteger();
        return runnable ->
        {
            final Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
