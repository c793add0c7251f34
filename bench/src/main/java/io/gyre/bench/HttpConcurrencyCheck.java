package io.gyre.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.OutcomeListener;
import io.gyre.engine.TaskOutcome;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import io.gyre.engine.WaitStrategyOption;
import io.gyre.journal.JvmFlags;
import io.gyre.tasks.http.HttpHandler;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code http} task type's concurrency check: {@code calls} http tasks (default 10,000) submitted at once
 * to an in-process engine, each a GET to a local server that answers after {@code delayMillis} (default
 * 1,000), so that they are in flight together; {@code rounds} times (default 2: the first on a cold JVM and
 * new connections, the next on kept-alive ones). Each round checks that every task succeeded with status
 * 200, and prints the wall time, where the time went, the engine JVM's live threads (before, and the peak
 * during the round), the threads it started, the peak heap used, and the server's peak of requests waiting
 * at once; then a line
 * <pre>
 * RESULT round=... calls=... succeeded=... wall_ms=... server_peak_in_flight=... threads_before=... threads_peak=... threads_started=... heap_peak_mb=...
 * </pre>
 * Exit code 0, or 1 when any task did not succeed. {@code -Dgyre.check.waitStrategy=BLOCKING} changes the
 * engine's wait strategy.
 * <p>
 * The server ({@link #serve}) is the JDK's {@link HttpServer} in a child JVM, with two handler threads that
 * only schedule each answer on a two-thread timer: it holds no thread per request either. It runs in its
 * own process because both ends of 10,000 loopback connections in one would need more file descriptors
 * than a default limit (20,000 here) allows, and so that the threads counted are the engine's alone.
 * <pre>
 * ./gyre bench http-concurrency [calls [delayMillis [rounds]]]
 * </pre>
 */
public final class HttpConcurrencyCheck
{
    private static final String SERVER = "--server";
    private static final String LISTENING = "listening on ";

    private HttpConcurrencyCheck()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length > 0 && SERVER.equals(args[0]))
        {
            serve(Integer.parseInt(args[1]));
            return;
        }
        BenchArgs.run("http-concurrency", "[calls, default 10000] [server delay in ms, default 1000] [rounds, default 2]", 3, args, HttpConcurrencyCheck::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final int calls = in.positiveInt(0, "calls", 10_000);
        final int delayMillis = in.nonNegativeInt(1, "server delay in ms", 1_000);
        final int rounds = in.positiveInt(2, "rounds", 2);
        System.exit(run(calls, delayMillis, rounds, System.out) ? 0 : 1);
    }

    private static boolean run(final int calls, final int delayMillis, final int rounds, final PrintStream out) throws Exception
    {
        final Process server = startServer(delayMillis);
        final Path dir = TempDirectories.create("gyre-http-check-");
        final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        try
        {
            final int port = awaitPort(server);
            final HttpHandler http = new HttpHandler();
            final EngineConfig config = EngineConfig.builder(dir)
                .waitStrategy(WaitStrategyOption.valueOf(System.getProperty("gyre.check.waitStrategy", "SLEEPING")))
                .handler(http)
                .handlerSetting("http.allowed-hosts", "127.0.0.1:" + port)
                .handlerSetting("http.max-concurrency", Integer.toString(calls))
                .maxAsyncInFlight(Math.max(calls, 10_000))
                .build();
            try (Engine engine = Engine.open(config))
            {
                final String payload = "{\"url\":\"http://127.0.0.1:" + port + "/delay\",\"timeoutMillis\":60000}";
                // one call first: the client's selector and executor threads exist before the baseline is taken
                final Checker warmUp = new Checker(1);
                engine.submit(new TaskRequest().key("warm-up").type(HttpHandler.TYPE).payload(payload).timeoutMillis(60_000), warmUp);
                warmUp.await(Duration.ofSeconds(30));
                stats(port); // starts the server's figures afresh

                out.printf(Locale.ROOT, "http concurrency check: %d GET calls at once, %d rounds, server answers after %d ms; JVM %s, " +
                        "%d cores, common pool parallelism %d, wait strategy %s, max heap %d MB%n", calls, rounds, delayMillis,
                    System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), ForkJoinPool.getCommonPoolParallelism(),
                    config.waitStrategy(), Runtime.getRuntime().maxMemory() >> 20);
                boolean allSucceeded = true;
                for (int round = 1; round <= rounds; round++)
                {
                    allSucceeded &= round(engine, payload, calls, round, port, sampler, out);
                }
                return allSucceeded;
            }
        }
        finally
        {
            sampler.shutdownNow();
            server.getOutputStream().close(); // the server exits at the end of its input
            if (!server.waitFor(10, TimeUnit.SECONDS))
            {
                server.destroyForcibly();
            }
            TempDirectories.delete(dir);
        }
    }

    /**
     * Submit {@code calls} tasks at once and wait for every outcome; print what the round took.
     *
     * @return whether every task succeeded with status 200.
     */
    private static boolean round(
        final Engine engine,
        final String payload,
        final int calls,
        final int round,
        final int port,
        final ScheduledExecutorService sampler,
        final PrintStream out) throws Exception
    {
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        final AtomicLong heapPeak = new AtomicLong();
        final ScheduledFuture<?> sampling = sampler.scheduleAtFixedRate(
            () -> heapPeak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max), 0, 20, TimeUnit.MILLISECONDS);
        final int threadsBefore = threads.getThreadCount();
        final long startedBefore = threads.getTotalStartedThreadCount();
        threads.resetPeakThreadCount();

        final Checker checker = new Checker(calls);
        final TaskRequest request = new TaskRequest().type(HttpHandler.TYPE).payload(payload).timeoutMillis(60_000).maxAttempts(1);
        final long start = System.nanoTime();
        for (int i = 0; i < calls; i++)
        {
            engine.submit(request.key("round-" + round + "-call-" + i).correlationId(i), checker);
        }
        final boolean finished = checker.await(Duration.ofSeconds(120));
        final long wallNanos = System.nanoTime() - start;
        final int threadsPeak = threads.getPeakThreadCount();
        final long started = threads.getTotalStartedThreadCount() - startedBefore;
        sampling.cancel(false);
        final String serverStats = stats(port);

        out.printf(Locale.ROOT, "round %d (%s)%n", round, round == 1 ? "cold: new JVM, new connections" : "warm: connections kept alive");
        out.printf(Locale.ROOT, "  finished: %s, succeeded %d of %d%s%n", finished, checker.succeeded.get(), calls,
            checker.firstFailure.get() == null ? "" : ", first failure: " + checker.firstFailure.get());
        out.printf(Locale.ROOT, "  wall time %.0f ms (submit of the first to outcome of the last)%n", wallNanos / 1e6);
        out.printf(Locale.ROOT, "  server: %s%n", serverStats);
        out.printf(Locale.ROOT, "  submission to attempt start: %s%n", percentiles(checker.waited));
        out.printf(Locale.ROOT, "  attempt (the call): %s%n", percentiles(checker.took));
        out.printf(Locale.ROOT, "  engine JVM threads: %d live before, %d peak during the round, %d started during it%n",
            threadsBefore, threadsPeak, started);
        out.printf(Locale.ROOT, "  heap used: %.1f MB at the peak (sampled every 20 ms, garbage included)%n", heapPeak.get() / 1e6);
        out.printf(Locale.ROOT, "RESULT round=%d calls=%d succeeded=%d wall_ms=%.0f server_peak_in_flight=%s threads_before=%d " +
                "threads_peak=%d threads_started=%d heap_peak_mb=%.1f%n",
            round, calls, checker.succeeded.get(), wallNanos / 1e6, field(serverStats, "maxInFlight"), threadsBefore, threadsPeak, started,
            heapPeak.get() / 1e6);
        return finished && checker.succeeded.get() == calls;
    }

    /**
     * Counts outcomes that succeeded with status 200; keeps the first that did not.
     */
    private static final class Checker implements OutcomeListener
    {
        final AtomicInteger succeeded = new AtomicInteger();
        final AtomicReference<String> firstFailure = new AtomicReference<>();
        /** Per call: from submission to the attempt's start, and the attempt's duration, nanoseconds. */
        final long[] waited;
        final long[] took;
        private final CountDownLatch outcomes;

        Checker(final int count)
        {
            outcomes = new CountDownLatch(count);
            waited = new long[count];
            took = new long[count];
        }

        @Override
        public void onOutcome(final TaskOutcome outcome)
        {
            final int index = (int)outcome.correlationId();
            if (index >= 0 && index < waited.length)
            {
                waited[index] = outcome.startedAt() - outcome.submittedAt();
                took[index] = outcome.finishedAt() - outcome.startedAt();
            }
            if (outcome.state() == TaskState.SUCCEEDED && outcome.outputAsString().startsWith("{\"status\":200,"))
            {
                succeeded.incrementAndGet();
            }
            else
            {
                firstFailure.compareAndSet(null, outcome.state() + " " + (outcome.rejected() ? outcome.rejectReason() : outcome.error()));
            }
            outcomes.countDown();
        }

        boolean await(final Duration timeout) throws InterruptedException
        {
            return outcomes.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static Process startServer(final int delayMillis) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JvmFlags.REQUIRED);
        command.add("-Xmx1g");
        command.add("-Dgyre.check.serverThreads=" + Integer.getInteger("gyre.check.serverThreads", 2));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(HttpConcurrencyCheck.class.getName());
        command.add(SERVER);
        command.add(Integer.toString(delayMillis));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static int awaitPort(final Process server) throws IOException
    {
        final BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine())
        {
            if (line.startsWith(LISTENING))
            {
                return Integer.parseInt(line.substring(LISTENING.length()).trim());
            }
        }
        throw new IOException("the delay server exited before listening");
    }

    private static String percentiles(final long[] nanos)
    {
        final long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "p50 %.0f ms, p99 %.0f ms, max %.0f ms", sorted[sorted.length / 2] / 1e6,
            sorted[(int)(sorted.length * 0.99)] / 1e6, sorted[sorted.length - 1] / 1e6);
    }

    private static String stats(final int port) throws IOException, InterruptedException
    {
        final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String field(final String json, final String name)
    {
        final int at = json.indexOf("\"" + name + "\":");
        if (at < 0)
        {
            return "?";
        }
        final int from = at + name.length() + 3;
        int to = from;
        while (to < json.length() && Character.isDigit(json.charAt(to)))
        {
            to++;
        }
        return json.substring(from, to);
    }

    /**
     * The delay server (the child JVM): {@code /delay} answers {@code {"ok":true}} after {@code delayMillis},
     * scheduled on a timer so that no thread waits per request; {@code /stats} gives the peak of requests
     * waiting at once and the number answered. Prints {@code listening on PORT}, exits at the end of its
     * standard input.
     */
    private static void serve(final int delayMillis) throws IOException
    {
        final HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16_384);
        final ExecutorService handlers = Executors.newFixedThreadPool(Integer.getInteger("gyre.check.serverThreads", 2));
        final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicLong answered = new AtomicLong();
        final AtomicLong firstArrival = new AtomicLong();
        final AtomicLong lastArrival = new AtomicLong();
        final byte[] ok = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
        server.setExecutor(handlers);
        server.createContext("/delay", exchange ->
        {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            final long now = System.nanoTime();
            firstArrival.compareAndSet(0, now);
            lastArrival.accumulateAndGet(now, Math::max);
            timer.schedule(() ->
            {
                try
                {
                    respond(exchange, ok);
                    answered.incrementAndGet();
                }
                catch (final IOException ex)
                {
                    System.err.println("delay server: " + ex);
                }
                finally
                {
                    inFlight.decrementAndGet();
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
        });
        // the figures since the last /stats
        server.createContext("/stats", exchange -> respond(exchange, ("{\"maxInFlight\":" + maxInFlight.getAndSet(0) + ",\"answered\":" +
            answered.getAndSet(0) + ",\"arrivalSpreadMillis\":" + (lastArrival.getAndSet(0) - firstArrival.getAndSet(0)) / 1_000_000 + "}")
            .getBytes(StandardCharsets.UTF_8)));
        server.start();
        System.out.println(LISTENING + server.getAddress().getPort());
        System.out.flush();
        while (System.in.read() >= 0)
        {
            // until the parent closes our input
        }
        server.stop(0);
        timer.shutdownNow();
        handlers.shutdownNow();
    }

    private static void respond(final HttpExchange exchange, final byte[] body) throws IOException
    {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(body);
        }
    }
}
