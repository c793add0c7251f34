package io.gyre.ingress.cli;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.RecoveryReport;
import io.gyre.engine.StopReport;
import io.gyre.engine.TaskTypeStartException;
import io.gyre.engine.WaitStrategyOption;
import io.gyre.ingress.monitor.MonitorServer;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.netty.util.ResourceLeakDetector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.TreeSet;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code gyre serve}: open the engine on its journal (replaying it) and serve the Gyre protocol over TCP
 * until the process is told to stop (SIGTERM, SIGINT): then stop gracefully. No new connections; requests
 * are REJECTED {@code SHUTTING_DOWN}; the engine starts no attempt and gives those running until
 * {@code --shutdown-timeout} to finish, their answers going out as they do; then it tells the rest to stop,
 * journals what was left (which runs after the next start), closes its journal, and the connections are
 * told SHUTTING_DOWN and closed. The process exits 0 once its stop is recorded.
 * <p>
 * Settings come from, in order of precedence: options on the command line, a properties file given with
 * {@code --config} (keys are the option names without dashes, e.g. {@code port=7071}), the defaults.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"Start the engine and serve the Gyre protocol over TCP (journal under ./data, port 7070 by default)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped by a signal (TERM, INT) after a clean stop: what was left is recorded in the journal",
        "1:could not start (the journal, the port, the config file: missing, not a file, unreadable; a task type whose start "
            + "failed), or the stop could not be recorded",
        "2:usage error: an unknown option, a value that does not parse or is out of range (on the command line or in the "
            + "config file, which the message names with the key), an unknown key in the config file",
        "3:the engine stopped by itself: its journal could not be written for --stop-after-journal-outage"})
public final class ServeCommand implements Callable<Integer>
{
    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings (keys: the option names without dashes).")
    private Path config;

    @Option(names = "--journal", paramLabel = "DIR", defaultValue = "./data", description = "The journal directory (default: ${DEFAULT-VALUE}).")
    private Path journal;
    /** Said once serving: the journal's own roll cycle was kept over {@code --roll-cycle} (null: they agree). */
    private String rollCycleNote;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all).")
    private String host;

    @Option(names = "--port", defaultValue = "7070", description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    private int port;

    @Option(names = "--monitor-port", defaultValue = "7071",
        description = "HTTP port of /metrics, /health/live, /health/ready and /tasks/{key}, on the same address "
            + "(default: ${DEFAULT-VALUE}; 0 to 65535, 0 picking a free one, as --port; -1 turns the endpoint off).")
    private int monitorPort;

    @Option(names = "--auth-token", paramLabel = "TOKEN", description = "Require this token in every client's HELLO (default: none; "
        + "also read from the GYRE_AUTH_TOKEN environment variable).")
    private String authToken;

    @Option(names = "--max-in-flight", defaultValue = "4096", description = "Unanswered requests per connection before reading it pauses (default: ${DEFAULT-VALUE}).")
    private int maxInFlight;

    @Option(names = "--idle-timeout-ms", defaultValue = "60000", description = "Close connections silent this long with nothing in flight (default: ${DEFAULT-VALUE}).")
    private long idleTimeoutMillis;

    @Option(names = "--busy-rejects", description = "When the engine is full, refuse submissions with BUSY instead of pausing reads.")
    private boolean busyRejects;

    @Option(names = "--max-connections", defaultValue = "10000", description = "Connections open at once (default: ${DEFAULT-VALUE}).")
    private int maxConnections;

    @Option(names = "--max-subscriptions", defaultValue = "1000", description = "Status event subscriptions open at once, one per connection; 0: none (default: ${DEFAULT-VALUE}).")
    private int maxSubscriptions;

    @Option(names = "--max-queued-events", defaultValue = "4096", description = "Status events kept per subscriber, not yet written to it; beyond, dropped and counted (default: ${DEFAULT-VALUE}).")
    private int maxQueuedEvents;

    @Option(names = "--max-frame-bytes", defaultValue = "0", description = "Largest frame a client may send; 0 for what the engine's limits allow (default).")
    private int maxFrameBytes;

    @Option(names = "--io-threads", defaultValue = "1", description = "Netty event loop threads (default: ${DEFAULT-VALUE}).")
    private int ioThreads;

    @Option(names = "--transport", defaultValue = "AUTO", description = "AUTO, EPOLL or NIO (default: ${DEFAULT-VALUE}).")
    private ServerConfig.Transport transport;

    @Option(names = "--ring-size", defaultValue = "4096", description = "Slots in the engine's ring, a power of two from 64 to 2^20, each slot taking about 2 KiB of heap, at most half of it (default: ${DEFAULT-VALUE}).")
    private int ringSize;

    @Option(names = "--wait-strategy", defaultValue = "BACKOFF", description = "BACKOFF, SLEEPING, BLOCKING, YIELDING or BUSY_SPIN (default: ${DEFAULT-VALUE}).")
    private WaitStrategyOption waitStrategy;

    @Option(names = "--pipeline-threads", defaultValue = "2", description = "Engine stage threads: 1, 2 or 4 (default: ${DEFAULT-VALUE}).")
    private int pipelineThreads;

    @Option(names = "--roll-cycle", defaultValue = "FAST_DAILY", description = "The journal's roll cycle (default: ${DEFAULT-VALUE}); Chronicle Queue's names: FAST_HOURLY, FIVE_MINUTELY, " +
        "FAST_DAILY, ... (a name it does not have is refused with the full list).")
    private String rollCycle;

    @Option(names = "--max-live-tasks", defaultValue = "1000000",
        description = "Unfinished tasks the engine holds at most; beyond, submissions are refused CAPACITY (default: ${DEFAULT-VALUE}).")
    private int maxLiveTasks;

    @Option(names = "--admission", paramLabel = "LOW%,NORMAL%", defaultValue = "80,95",
        description = "Live-task percentages from which LOW, then NORMAL priority submissions are refused BUSY_FOR_PRIORITY "
            + "(default: ${DEFAULT-VALUE}, also written 80%%,95%%; 100,100 sheds nothing).")
    private String admission;

    @Option(names = "--max-payload-bytes", defaultValue = "1048576",
        description = "Largest payload a submission may carry; a larger one is refused INVALID_TASK (default: ${DEFAULT-VALUE}, at most 4194304).")
    private int maxPayloadBytes;

    @Option(names = "--max-output-bytes", defaultValue = "1048576",
        description = "Largest output an attempt may produce; a larger one fails it permanently (default: ${DEFAULT-VALUE}, at most 4194304).")
    private int maxOutputBytes;

    @Option(names = "--max-dead-letters", defaultValue = "100000",
        description = "Dead letters the list holds at most; when full, a task that would be dead-lettered ends FAILED or TIMED_OUT "
            + "(default: ${DEFAULT-VALUE}; 0: no dead-lettering).")
    private int maxDeadLetters;

    @Option(names = "--max-retained-outcomes", paramLabel = "N", defaultValue = "1000000",
        description = "Finished tasks remembered for deduplication at most: a submission of a remembered key gets its recorded "
            + "outcome; beyond, the oldest are forgotten (default: ${DEFAULT-VALUE}, at most 100000000; 0: only unfinished tasks). "
            + "Each takes about 120 bytes of heap, taken at start; a limit the heap cannot hold is refused.")
    private int maxRetainedOutcomes;

    @Option(names = "--dedupe-window", paramLabel = "DURATION", defaultValue = "PT24H", converter = AnyDurationConverter.class,
        description = "How long a finished task stays remembered for deduplication (e.g. 24h, 30m, or ISO-8601 PT24H; "
            + "default: ${DEFAULT-VALUE}, at most 3650d).")
    private Duration dedupeWindow;

    @Option(names = "--blocking-threads", defaultValue = "16", description = "Threads of the pool BLOCKING task types run on (default: ${DEFAULT-VALUE}).")
    private int blockingThreads;

    @Option(names = "--cpu-threads", defaultValue = "0", description = "Threads of the pool CPU task types run on; 0 for one per core (default).")
    private int cpuThreads;

    @Option(names = "--blocking-queue", defaultValue = "0", description = "BLOCKING attempts handed to their pool beyond its threads, "
        + "waiting there for one (their timeout runs meanwhile) (default: ${DEFAULT-VALUE}).")
    private int blockingQueue;

    @Option(names = "--cpu-queue", defaultValue = "-1", description = "CPU attempts handed to their pool beyond its threads, waiting there "
        + "for one (their timeout runs meanwhile); -1 for four per thread (default).")
    private int cpuQueue;

    @Option(names = "--max-async", defaultValue = "10000", description = "ASYNC attempts (http calls...) in flight at once (default: ${DEFAULT-VALUE}).")
    private int maxAsync;

    @Option(names = "--metrics", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Count and time tasks for /metrics (default: on; --no-metrics leaves /metrics with the engine's and "
            + "server's levels only, for comparing the cost of metrics).")
    private boolean metrics;

    @Option(names = "--snapshots", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Snapshot the engine's state periodically and at shutdown, so a restart replays only the journal after "
            + "the newest snapshot; also enables journal retention (default: on; --no-snapshots writes none and keeps every journal "
            + "file, but still starts from the newest snapshot an earlier run left: move DIR/snapshots away for a full replay).")
    private boolean snapshots;

    @Option(names = "--snapshot-every", paramLabel = "RECORDS", defaultValue = "10000000",
        description = "Journal records between periodic snapshots (default: ${DEFAULT-VALUE}).")
    private long snapshotEvery;

    @Option(names = "--snapshot-interval", paramLabel = "DURATION", defaultValue = "PT10M", converter = AnyDurationConverter.class,
        description = "Longest time between periodic snapshots: e.g. 10m, 1h, or ISO-8601 PT10M (default: ${DEFAULT-VALUE}).")
    private Duration snapshotInterval;

    @Option(names = "--snapshots-kept", paramLabel = "N", defaultValue = "2",
        description = "Snapshots kept; older ones are fallbacks when a newer one is damaged (default: ${DEFAULT-VALUE}).")
    private int snapshotsKept;

    @Option(names = "--journal-retention", paramLabel = "DURATION", defaultValue = "P7D", converter = AnyDurationConverter.class,
        description = "Journal files that ended longer ago than this, and that no kept snapshot needs, are deleted "
            + "(e.g. 7d, 12h, or ISO-8601 P7D; default: ${DEFAULT-VALUE}).")
    private Duration journalRetention;

    @Option(names = "--stop-after-journal-outage", paramLabel = "DURATION", converter = AnyDurationConverter.class,
        description = {"When the journal cannot be written (disk full, I/O error), stop cleanly (exit code 3) once it has been "
            + "unwritable this long, e.g. 30s, 5m, PT1H (default: never; wait, refusing submissions JOURNAL_UNAVAILABLE, "
            + "and resume by itself when it can write again)."})
    private Duration stopAfterJournalOutage;

    @Option(names = "--journal-min-free", paramLabel = "BYTES", defaultValue = "64m",
        description = "Disk space the journal keeps free: below it plus a document, writes stop and submissions are refused "
            + "JOURNAL_UNAVAILABLE until space is freed; a number with an optional k, m or g (default: ${DEFAULT-VALUE}).")
    private String journalMinFree;

    @Option(names = "--max-reply-bytes", paramLabel = "BYTES", defaultValue = "64m",
        description = "Bytes of replies the server holds for one connection that does not read them (encoded, not yet taken by its "
            + "socket); past it the connection is closed with ERROR SLOW_CONSUMER; a number with an optional k, m or g "
            + "(default: ${DEFAULT-VALUE}).")
    private String maxReplyBytes;

    @Option(names = "--max-total-reply-bytes", paramLabel = "BYTES", defaultValue = "0",
        description = "The same over all connections: past it, the connection holding the most is closed with ERROR SLOW_CONSUMER; "
            + "0 for half the JVM's direct memory limit (default: ${DEFAULT-VALUE}).")
    private String maxTotalReplyBytes;

    @Option(names = "--plugins", paramLabel = "DIR", defaultValue = "./plugins",
        description = "A directory of task type plugin jars, read at start (default: ${DEFAULT-VALUE}; missing means none).")
    private Path plugins;

    @Option(names = "--task", paramLabel = "TYPE.SETTING=VALUE", description = {"A task type's setting, e.g. "
        + "--task http.allowed-hosts=localhost,api.internal (repeatable; in a config file: task.http.allowed-hosts=...)."})
    private java.util.Map<String, String> taskSettings = new java.util.LinkedHashMap<>();

    @Option(names = "--shutdown-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
        description = {"On SIGTERM/SIGINT, how long attempts running may take to finish before they are told to stop "
            + "(they run again after the next start): e.g. 30s, 500ms, 2m, or ISO-8601 PT30S; 0 to 24h (default: ${DEFAULT-VALUE})."})
    private Duration shutdownTimeout;

    @Option(names = "--abandon-after", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
        description = {"How long a blocking- or CPU-pool attempt told to stop (timed out, cancelled) may keep its thread "
            + "before the pool gives up on it: its slot goes back to the pool and a thread is started in its place, at most as "
            + "many as the pool has; e.g. 30s, 2m; 100ms to 24h (default: ${DEFAULT-VALUE})."})
    private Duration abandonAfter;

    @Option(names = "--log-format", paramLabel = "text|json", converter = LogFormat.Converter.class,
        description = {"How log lines on stderr look: text, or json (one JSON object a line, with a task's taskId, key, "
            + "type, attempt and state as fields) (default: text, or the system property gyre.log.format)."})
    private LogFormat logFormat;

    /** task.* keys of the config file, below the command line's --task. */
    private final java.util.Map<String, String> configTaskSettings = new java.util.LinkedHashMap<>();

    /** The config file read, and its settings (null without --config): to name them when one of their values is wrong. */
    private volatile Path configFile;
    private volatile Properties configProperties;

    /** Set by {@link GyreCommand#main} only: this command owns the process, and may take its TERM and INT signals. */
    static volatile boolean ownsProcess;

    /** Exit code when the engine stopped by itself after a journal outage. */
    static final int EXIT_JOURNAL_OUTAGE = 3;

    private volatile boolean selfStopped;
    private volatile GyreServer server;
    private volatile MonitorServer monitor;
    private volatile Engine engine;
    private volatile PrintWriter out;
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile String stopReason = "asked to stop";
    private volatile StopReport stopReport;

    /**
     * @return {@code --admission}'s two percentages, from {@code 80,95} or {@code 80%,95%}.
     * @throws IllegalArgumentException naming the option's value when it is not two whole percentages.
     */
    static int[] percentages(final String value)
    {
        final String[] parts = value.split(",", -1);
        final int[] percentages = new int[parts.length];
        try
        {
            for (int i = 0; i < parts.length; i++)
            {
                final String part = parts[i].trim();
                percentages[i] = Integer.parseInt(part.endsWith("%") ? part.substring(0, part.length() - 1) : part);
            }
        }
        catch (final NumberFormatException ex)
        {
            percentages[0] = -1;
        }
        if (parts.length != 2 || percentages[0] < 0)
        {
            throw new IllegalArgumentException("admission=" + value + " must be two percentages, LOW,NORMAL (e.g. 80,95 or 80%,95%)");
        }
        return percentages;
    }

    /**
     * A server runs without Netty's leak detector unless the JVM is told otherwise
     * ({@code -Dio.netty.leakDetection.level=simple|advanced|paranoid}). At its default level it tracks one
     * buffer in 128 and captures a stack trace for each: that was nearly all a serving engine allocated at a
     * steady load (the young collections it caused are pauses of several milliseconds), and a stack walk on the
     * I/O and publish threads. The server's buffer handling is checked at PARANOID by the ingress tests. The load
     * generator and the echo server of {@code gyre bench tcp} run the same way, so the ceiling is measured alike.
     */
    public static void quietLeakDetector()
    {
        if (System.getProperty("io.netty.leakDetection.level") == null && System.getProperty("io.netty.leakDetectionLevel") == null)
        {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }

    /**
     * @return the roll cycle to open the journal with: the one it was written with when it exists (Chronicle Queue would
     *     use that one anyway, with four WARN lines saying it overrides {@code --roll-cycle}), else {@code --roll-cycle}.
     *     Says so ({@link #rollCycleNote}, printed once serving) when they differ.
     */
    private String journalsRollCycle()
    {
        if (!java.nio.file.Files.exists(journal.resolve("metadata.cq4t")))
        {
            return rollCycle;
        }
        final String written = ReplayCommand.quietly(() -> ReplayCommand.journalRollCycle(journal, rollCycle));
        if (written == null || written.equals(rollCycle) || !ReplayCommand.rollCycleNames().contains(written))
        {
            return rollCycle;
        }
        rollCycleNote = "journal " + journal + " was written with roll cycle " + written + ": kept (--roll-cycle " + rollCycle +
            " applies to new journals)";
        return written;
    }

    @Override
    public Integer call() throws Exception
    {
        final PrintWriter out = spec.commandLine().getOut();
        this.out = out;
        final PrintWriter err = spec.commandLine().getErr();
        if (logFormat != null)
        {
            try
            {
                logFormat.apply();
            }
            catch (final IllegalStateException ex)
            {
                err.println("gyre serve: " + ex.getMessage());
                return ReplayCommand.EXIT_ERROR;
            }
        }
        // after the log format: Netty's logging is set up with its detector's class, and must see the format chosen
        quietLeakDetector();
        final String token = authToken != null ? authToken : System.getenv("GYRE_AUTH_TOKEN");
        final ServerConfig serverConfig;
        final EngineConfig engineConfig;
        try
        {
            if (monitorPort < -1 || monitorPort > 65535)
            {
                // as --port's (ServerConfig's), with the one more value that turns the endpoint off
                throw new IllegalArgumentException("monitorPort=" + monitorPort + " must be in [0, 65535], or -1 for off");
            }
            serverConfig = ServerConfig.builder()
                .host(host).port(port).authToken(token).maxInFlight(maxInFlight).idleTimeout(Duration.ofMillis(idleTimeoutMillis))
                .busyRejects(busyRejects).maxConnections(maxConnections).maxFrameBytes(maxFrameBytes).ioThreads(ioThreads)
                .transport(transport).closeTimeout(shutdownTimeout).maxSubscriptions(maxSubscriptions).maxQueuedEvents(maxQueuedEvents)
                .maxReplyBytes(parseBytes("max-reply-bytes", maxReplyBytes))
                .maxTotalReplyBytes(parseBytes("max-total-reply-bytes", maxTotalReplyBytes)).build();
            final EngineConfig.Builder builder = EngineConfig.builder(journal).ringSize(ringSize).waitStrategy(waitStrategy)
                .pipelineThreads(pipelineThreads).rollCycle(journalsRollCycle()).pluginsDirectory(plugins)
                .maxLiveTasks(maxLiveTasks).blockingPoolThreads(blockingThreads).maxAsyncInFlight(maxAsync)
                .metrics(metrics).snapshots(snapshots).snapshotEveryRecords(snapshotEvery).snapshotInterval(snapshotInterval)
                .snapshotsKept(snapshotsKept).journalRetention(journalRetention)
                .closeTimeout(shutdownTimeout).abandonAfter(abandonAfter).maxDeadLetters(maxDeadLetters)
                .maxRetainedOutcomes(maxRetainedOutcomes).outcomeRetention(dedupeWindow)
                .maxPayloadBytes(maxPayloadBytes).maxOutputBytes(maxOutputBytes);
            if (cpuThreads != 0)
            {
                builder.cpuPoolThreads(cpuThreads);
            }
            builder.blockingPoolQueue(blockingQueue);
            if (cpuQueue != -1)
            {
                builder.cpuPoolQueue(cpuQueue);
            }
            final int[] percentages = percentages(admission);
            builder.admission(percentages[0], percentages[1]);
            builder.journalMinFreeBytes(parseBytes("journal-min-free", journalMinFree));
            if (stopAfterJournalOutage != null)
            {
                builder.stopAfterJournalOutage(stopAfterJournalOutage);
            }
            final java.util.Map<String, String> settings = new java.util.LinkedHashMap<>(configTaskSettings);
            settings.putAll(taskSettings);
            settings.forEach(builder::handlerSetting);
            engineConfig = builder.build();
        }
        catch (final IllegalArgumentException ex)
        {
            // a value out of range is a usage error, as one that does not parse
            throw new CommandLine.ParameterException(spec.commandLine(), withOptionName(ex.getMessage()));
        }
        if (monitorPort >= 0)
        {
            // up before the journal is replayed: live, and not ready until the engine has recovered
            try
            {
                monitor = MonitorServer.startRecovering(host, monitorPort);
            }
            catch (final RuntimeException ex)
            {
                err.println("gyre serve: " + ex.getMessage());
                return ReplayCommand.EXIT_ERROR;
            }
        }
        try
        {
            Files.createDirectories(journal);
            engine = Engine.open(engineConfig);
        }
        catch (final TaskTypeStartException ex)
        {
            // a plugin's (or a built-in type's) start threw: the journal was not even opened, so it is not named
            closeMonitor();
            err.println("gyre serve: " + ex.getMessage());
            return ReplayCommand.EXIT_ERROR;
        }
        catch (final IOException | RuntimeException ex)
        {
            closeMonitor();
            err.println("gyre serve: cannot open the journal in " + journal + ": " + ex.getMessage());
            return ReplayCommand.EXIT_ERROR;
        }
        try
        {
            server = GyreServer.start(engine, serverConfig);
        }
        catch (final RuntimeException ex)
        {
            engine.close();
            closeMonitor();
            err.println("gyre serve: " + ex.getMessage());
            return ReplayCommand.EXIT_ERROR;
        }
        if (monitor != null)
        {
            monitor.attach(engine, server);
        }
        engine.closed().thenAccept(health ->
        {
            if (stopRequested.getCount() != 0)
            {
                // stopped by itself (a journal outage lasted longer than allowed): stop the rest, exit 3
                err.println("gyre serve: " + health.reason());
                err.flush();
                selfStopped = true;
                requestStop("the engine stopped by itself");
            }
        });
        // the JVM is exiting some other way (a signal not handled here, System.exit): stop on its way out
        final Thread hook = new Thread(() ->
        {
            requestStop("the JVM is shutting down");
            shutdown();
        }, "gyre-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (ownsProcess)
        {
            Signals.handle("TERM", () -> requestStop("SIGTERM"));
            Signals.handle("INT", () -> requestStop("SIGINT"));
        }
        final var recovery = engine.recovery();
        out.printf("gyre serving on %s:%d (journal %s, %s, %sreplayed %d records, %d live tasks)%n",
            server.address().getHostString(), server.address().getPort(), journal, server.transport(),
            recovery.snapshot() == null ? "" : "from the snapshot at event " + recovery.snapshot().eventId() + " ",
            recovery.recordsReplayed(), recovery.liveTasks());
        if (monitor != null)
        {
            out.printf("monitoring on http://%s:%d (/metrics, /health/live, /health/ready, /tasks/KEY)%n",
                monitor.address().getHostString(), monitor.address().getPort());
        }
        out.printf("task types: %s%n", String.join(", ",
            engineConfig.handlers().stream().map(h -> h.type() + " (" + h.executionMode().name().toLowerCase() + ")").sorted().toList()));
        out.println("previous run: " + previousRun(recovery));
        if (rollCycleNote != null)
        {
            out.println(rollCycleNote);
        }
        out.flush();
        started.countDown();
        stopRequested.await();
        final StopReport report = shutdown();
        try
        {
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        catch (final IllegalStateException alreadyShuttingDown)
        {
            // the hook is running: it stopped everything
        }
        return selfStopped ? EXIT_JOURNAL_OUTAGE : report != null && report.recorded() ? 0 : ReplayCommand.EXIT_ERROR;
    }

    /**
     * @return bytes from a number with an optional k, m or g suffix (powers of 1024).
     * @throws IllegalArgumentException naming the option and the value.
     */
    static long parseBytes(final String option, final String value)
    {
        final String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        final int shift = v.endsWith("k") ? 10 : v.endsWith("m") ? 20 : v.endsWith("g") ? 30 : 0;
        try
        {
            final long number = Long.parseLong(shift == 0 ? v : v.substring(0, v.length() - 1));
            if (number < 0 || number > (Long.MAX_VALUE >> shift))
            {
                throw new NumberFormatException();
            }
            return number << shift;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(option + "=" + value + " is not a byte count (a number with an optional k, m or g, e.g. 64m)");
        }
    }

    private static String previousRun(final RecoveryReport recovery)
    {
        return switch (recovery.previousStop())
        {
            case NONE -> "none (a new journal)";
            case CLEAN -> "stopped cleanly" + (recovery.requeued() > 0 ? "; " + recovery.requeued() + " attempt(s) it interrupted run again" : "");
            case CRASH -> "no stop record (killed or crashed)" +
                (recovery.requeued() > 0 ? "; " + recovery.requeued() + " attempt(s) it was running run again" : "") +
                (recovery.repairedTail().isEmpty() ? "" : "; a torn tail was discarded");
        };
    }

    /**
     * Ask the command to stop (a signal, the shutdown hook): {@link #call()} wakes and stops everything.
     */
    private void requestStop(final String why)
    {
        if (stopRequested.getCount() == 0)
        {
            print("gyre: " + why + " while stopping; the stop goes on (SIGKILL ends the process at once)");
            return;
        }
        stopReason = why;
        stopRequested.countDown();
    }

    /**
     * Stop gracefully: stop accepting connections, stop the engine (requests are refused SHUTTING_DOWN while it
     * lets running attempts finish until the shutdown timeout, and answers go out as they finish), then close
     * the connections. Any thread; a second caller waits for the first and gets the same report.
     *
     * @return what the engine left, or null when it never opened.
     */
    StopReport shutdown()
    {
        if (!stopping.compareAndSet(false, true))
        {
            try
            {
                stopped.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            return stopReport;
        }
        try
        {
            stopRequested.countDown();
            final GyreServer s = server;
            final Engine e = engine;
            print(String.format(Locale.ROOT, "gyre stopping (%s): no new connections or requests; attempts running have up to %s to finish",
                stopReason, format(shutdownTimeout)));
            final StopReport report = s != null ? s.stopGracefully() : e != null ? e.stop() : null;
            final MonitorServer m = monitor;
            if (m != null)
            {
                // after the engine: /health/ready says "closing" while the stop runs
                m.close();
            }
            if (report != null)
            {
                print(report.recorded() ? "gyre stopped cleanly: " + report.describe() : "gyre stopped: " + report.describe());
            }
            stopReport = report;
            return report;
        }
        finally
        {
            stopped.countDown();
        }
    }

    private void print(final String line)
    {
        final PrintWriter writer = out;
        if (writer != null)
        {
            writer.println(line);
            writer.flush();
        }
    }

    /**
     * @return a duration as the option takes it: 250ms, 30s, 2m, 1h.
     */
    static String format(final Duration duration)
    {
        final long millis = duration.toMillis();
        if (millis % 3_600_000 == 0 && millis > 0)
        {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0 && millis > 0)
        {
            return millis / 60_000 + "m";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /** For tests running the command in-process: the monitoring endpoint's address, once listening (null when off). */
    java.net.InetSocketAddress monitorAddress() throws InterruptedException
    {
        started.await();
        return monitor == null ? null : monitor.address();
    }

    /** For tests running the command in-process: wait until it listens, then where. */
    java.net.InetSocketAddress awaitListening() throws InterruptedException
    {
        started.await();
        return server.address();
    }

    /**
     * Read {@code --config FILE} ahead of parsing (a config file sets the defaults of the options given
     * on the command line) and reject keys that are not options.
     *
     * @throws ConfigFileException when the file cannot be read (missing, not a file, unreadable): it cannot start, exit 1.
     * @throws CommandLine.ParameterException when the file holds an unknown key or is malformed: a usage error, exit 2.
     */
    static void applyConfigFile(final CommandLine serve, final String[] args)
    {
        Path file = null;
        for (int i = 0; i < args.length; i++)
        {
            if (args[i].equals("--config") && i + 1 < args.length)
            {
                file = Path.of(args[i + 1]);
            }
            else if (args[i].startsWith("--config="))
            {
                file = Path.of(args[i].substring("--config=".length()));
            }
        }
        if (file == null)
        {
            return;
        }
        if (!Files.isRegularFile(file))
        {
            throw new ConfigFileException("the config file " + file + (Files.exists(file) ? " is not a file" : " does not exist"));
        }
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file))
        {
            properties.load(reader);
        }
        catch (final IOException ex)
        {
            throw new ConfigFileException("cannot read the config file " + file + ": " + ex);
        }
        catch (final IllegalArgumentException ex)
        {
            // a malformed unicode escape: the file was read, what it says is wrong
            throw new CommandLine.ParameterException(serve, "config file " + file + ": " + ex.getMessage());
        }
        final TreeSet<String> known = new TreeSet<>();
        for (final OptionSpec option : serve.getCommandSpec().options())
        {
            known.add(option.longestName().replaceFirst("^-+", ""));
        }
        known.remove("config");
        known.remove("help");
        known.remove("version");
        final ServeCommand command = serve.getCommand();
        command.configFile = file;
        command.configProperties = properties;
        for (final String key : properties.stringPropertyNames())
        {
            if (key.startsWith("task.") && key.length() > "task.".length())
            {
                command.configTaskSettings.put(key.substring("task.".length()), properties.getProperty(key).trim());
                continue;
            }
            if (!known.contains(key))
            {
                throw new CommandLine.ParameterException(serve, "unknown setting '" + key + "' in " + file + "; known: " + known);
            }
        }
        serve.setDefaultValueProvider(option ->
        {
            if (option instanceof OptionSpec o)
            {
                final String value = properties.getProperty(o.longestName().replaceFirst("^-+", ""));
                if (value != null)
                {
                    return value.trim();
                }
            }
            return option.defaultValue();
        });
    }

    /**
     * A config file that cannot be read: {@code gyre serve} cannot start (exit 1), as for its journal or port.
     */
    static final class ConfigFileException extends RuntimeException
    {
        ConfigFileException(final String message)
        {
            super(message);
        }
    }

    /**
     * A value that does not parse, when it came from the config file (its option is not on the command line):
     * {@code config file F: port=abc: 'abc' is not an int}, naming the file, the key and the value, instead of
     * {@code Invalid value for option '--port'}, which the user never typed.
     *
     * @param args the command line, from {@code serve} on or whole.
     * @return the message to print.
     */
    String namingConfigFile(final CommandLine.ParameterException ex, final String[] args)
    {
        final String message = ex.getMessage();
        if (!(ex.getArgSpec() instanceof OptionSpec option) || onCommandLine(option, args))
        {
            return message;
        }
        return fromConfigFile(option, message.replaceFirst("^Invalid value for option '[^']*': ", ""));
    }

    private static boolean onCommandLine(final OptionSpec option, final String[] args)
    {
        for (final String arg : args)
        {
            for (final String name : option.names())
            {
                if (arg.equals(name) || arg.startsWith(name + "="))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * @return the message naming the config file, the key and its value when the option's value came from the file;
     * else the message as it is.
     */
    private String fromConfigFile(final OptionSpec option, final String message)
    {
        final Properties properties = configProperties;
        final String key = option.longestName().replaceFirst("^-+", "");
        final String value = properties == null ? null : properties.getProperty(key);
        if (value == null)
        {
            return message;
        }
        final String setting = key + "=" + value.trim();
        return "config file " + configFile + ": " + (message.startsWith(setting) ? message : setting + ": " + message);
    }

    /** Engine and server settings named as their options, where the two differ in more than their spelling. */
    private static final java.util.Map<String, String> OPTION_OF_SETTING = java.util.Map.ofEntries(
        java.util.Map.entry("lowPriorityAdmissionPercent", "admission"), java.util.Map.entry("normalPriorityAdmissionPercent", "admission"),
        java.util.Map.entry("blockingPoolThreads", "blocking-threads"), java.util.Map.entry("cpuPoolThreads", "cpu-threads"),
        java.util.Map.entry("blockingPoolQueue", "blocking-queue"), java.util.Map.entry("cpuPoolQueue", "cpu-queue"),
        java.util.Map.entry("maxAsyncInFlight", "max-async"), java.util.Map.entry("snapshotEveryRecords", "snapshot-every"),
        java.util.Map.entry("closeTimeout", "shutdown-timeout"), java.util.Map.entry("journalMinFreeBytes", "journal-min-free"),
        java.util.Map.entry("idleTimeout", "idle-timeout-ms"), java.util.Map.entry("maxFrameBytes", "max-frame-bytes"),
        java.util.Map.entry("outcomeRetention", "dedupe-window"));

    /**
     * A configuration's complaint ({@code pipelineThreads=3 must be 1, 2 or 4}) named with the option that set the
     * value: {@code --pipeline-threads: pipelineThreads=3 must be 1, 2 or 4}.
     */
    private String withOptionName(final String message)
    {
        final Matcher m = SETTING.matcher(message);
        if (!m.lookingAt())
        {
            return message;
        }
        final String setting = m.group(1);
        final String option = "--" + OPTION_OF_SETTING.getOrDefault(setting, setting.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT));
        final OptionSpec found = spec.findOption(option);
        if (found == null)
        {
            return message;
        }
        // a value from the config file is named as the file has it, not as an option the user did not type
        return spec.commandLine().getParseResult().hasMatchedOption(found) ? option + ": " + message : fromConfigFile(found, message);
    }

    private static final Pattern SETTING = Pattern.compile("([a-zA-Z][a-zA-Z-]*)=");

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration>
    {
        private static final Pattern SIMPLE = Pattern.compile("(-?)([0-9]+)(ms|s|m|h|d)");
        private static final Duration MAX = Duration.ofHours(24);

        @Override
        public Duration convert(final String value)
        {
            final Duration duration = parse(value);
            if (duration.compareTo(MAX) > 0)
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is out of range: from 0 to 24h");
            }
            return duration;
        }

        /** A whole number with a unit (ms, s, m, h, d), or ISO-8601 (PT30S, P7D); not negative. */
        static Duration parse(final String value)
        {
            final String text = value.trim();
            final Duration duration;
            final Matcher m = SIMPLE.matcher(text);
            if (text.equals("0"))
            {
                // zero needs no unit
                duration = Duration.ZERO;
            }
            else if (m.matches())
            {
                if (!m.group(1).isEmpty())
                {
                    throw new CommandLine.TypeConversionException("'" + value + "' is negative");
                }
                try
                {
                    final long n = Long.parseLong(m.group(2));
                    duration = switch (m.group(3))
                    {
                        case "ms" -> Duration.ofMillis(n);
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "h" -> Duration.ofHours(n);
                        default -> Duration.ofDays(n);
                    };
                }
                catch (final NumberFormatException | ArithmeticException ex)
                {
                    throw new CommandLine.TypeConversionException("'" + value + "' is too long to be a duration");
                }
            }
            else
            {
                try
                {
                    duration = Duration.parse(text);
                }
                catch (final java.time.format.DateTimeParseException ex)
                {
                    throw new CommandLine.TypeConversionException("'" + value +
                        "' is not a duration: a whole number and a unit (ms, s, m, h, d), e.g. 30s or 10m, or ISO-8601, e.g. PT30S");
                }
            }
            if (duration.isNegative())
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is negative");
            }
            return duration;
        }
    }

    /**
     * Parses the durations the engine bounds itself ({@code --snapshot-interval}, {@code --journal-retention},
     * {@code --stop-after-journal-outage}).
     */
    static final class AnyDurationConverter implements CommandLine.ITypeConverter<Duration>
    {
        @Override
        public Duration convert(final String value)
        {
            return DurationConverter.parse(value);
        }
    }

    private void closeMonitor()
    {
        final MonitorServer m = monitor;
        if (m != null)
        {
            monitor = null;
            m.close();
        }
    }
}
