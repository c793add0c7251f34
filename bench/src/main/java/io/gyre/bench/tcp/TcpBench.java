package io.gyre.bench.tcp;

import io.gyre.ingress.cli.GyreCommand;
import io.gyre.ingress.cli.ServeCommand;
import io.gyre.journal.JvmFlags;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code gyre bench tcp}: the TCP load generator. Runs noop tasks, journaled, through a real Gyre server
 * (by default {@code gyre serve} in a child JVM on a fresh journal), then the same load through the raw
 * Netty {@link EchoServer} (another child JVM) as the ceiling, and prints both, the latency percentiles,
 * {@code .hgrm} files, and as its last line:
 * <pre>
 * RESULT scenario=... tasks_per_s=... p50_us=... p99_us=... p999_us=... ceiling_per_s=... ratio=...
 * </pre>
 * Exit code 0, or 1 when any task did not succeed (the run is then not a measurement).
 */
@Command(
    name = "gyre bench tcp",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"Load-test a Gyre server over TCP (noop tasks, journaled) against a raw Netty echo server as the ceiling."})
public final class TcpBench implements Callable<Integer>
{
    private static final Pattern LISTENING = Pattern.compile("serving on ([^\\s:]+):(\\d+)");

    @Option(names = "--scenario", defaultValue = "closed", description = "closed (max rate, a window per connection) or open (a fixed rate). Default: ${DEFAULT-VALUE}.")
    String scenario;

    @Option(names = "--rate", defaultValue = "20000", description = "Open loop: tasks a second over all connections (default: ${DEFAULT-VALUE}).")
    long rate;

    @Option(names = "--connections", defaultValue = "4", description = "Connections (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--window", defaultValue = "1024", description = "Closed loop: tasks in flight per connection (default: ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--duration", defaultValue = "15", description = "Measured seconds (default: ${DEFAULT-VALUE}).")
    double duration;

    @Option(names = "--warmup", defaultValue = "15", description = "Seconds before measuring (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--payload-bytes", defaultValue = "0", description = "Payload of each task (default: ${DEFAULT-VALUE}).")
    int payloadBytes;

    @Option(names = "--acks", description = "Ask for ACCEPTED frames too (default: results only).")
    boolean acks;

    @Option(names = "--client-threads", defaultValue = "1", description = "Load generator event loops (default: ${DEFAULT-VALUE}).")
    int clientThreads;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "A running Gyre server to load instead of starting one.")
    String target;

    @Option(names = "--no-ceiling", description = "Skip the echo server run.")
    boolean noCeiling;

    @Option(names = "--server-opts", paramLabel = "ARGS", defaultValue = "", description = "Extra arguments for the gyre serve child, e.g. \"--wait-strategy YIELDING\".")
    String serverOptions;

    @Option(names = "--versus", paramLabel = "ARGS", description = "Also run gyre serve with these arguments added (e.g. "
        + "\"--no-metrics\"), alternating with the plain run --rounds times, and report the throughput ratio of the two "
        + "in the same run.")
    String versus;

    @Option(names = "--rounds", defaultValue = "1", description = "With --versus: how many times each variant runs, "
        + "alternating (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--out", defaultValue = "bench/target/tcp-bench", description = "Where .hgrm files go (default: ${DEFAULT-VALUE}).")
    Path out;

    private PrintStream stdout = System.out;

    public static void main(final String[] args)
    {
        final CommandLine commandLine = new CommandLine(new TcpBench());
        // a run that fails (nothing listens at --target, a child that does not start) says why in a line, not a stack trace
        commandLine.setExecutionExceptionHandler((ex, line, parsed) ->
        {
            Throwable cause = ex;
            while (cause.getMessage() == null && cause.getCause() != null)
            {
                cause = cause.getCause();
            }
            line.getErr().println("gyre bench tcp: " + cause.getMessage());
            return 1;
        });
        System.exit(commandLine.execute(args));
    }

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    private void check(final boolean valid, final String message)
    {
        if (!valid)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    @Override
    public Integer call() throws Exception
    {
        ServeCommand.quietLeakDetector();
        if (!scenario.equals("closed") && !scenario.equals("open"))
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "--scenario must be closed or open, not " + scenario);
        }
        check(!scenario.equals("open") || rate > 0, "--rate=" + rate + " must be positive (tasks a second) for the open loop");
        check(duration > 0, "--duration=" + duration + " must be more than 0 seconds");
        check(warmup >= 0, "--warmup=" + warmup + " must not be negative");
        check(connections >= 1, "--connections=" + connections + " must be at least 1");
        check(window >= 1, "--window=" + window + " must be at least 1");
        check(payloadBytes >= 0, "--payload-bytes=" + payloadBytes + " must not be negative");
        check(clientThreads >= 1, "--client-threads=" + clientThreads + " must be at least 1");
        check(rounds >= 1, "--rounds=" + rounds + " must be at least 1");
        check(target == null || target.matches("[^:\\s]+:\\d{1,5}"), "--target=" + target + " must be HOST:PORT, e.g. 127.0.0.1:7070");
        check(!Files.exists(out) || Files.isDirectory(out), "--out=" + out + " is a file, not a directory");
        final long r = scenario.equals("open") ? rate : 0;
        final String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        Files.createDirectories(out);

        final LoadGenerator.Result gyre;
        final String name = settings(new InetSocketAddress(0), r, prefix).scenario();
        if (target != null)
        {
            final String[] hostPort = target.split(":");
            final LoadGenerator.Settings settings = settings(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), r, prefix);
            stdout.println("gyre: " + name + " against " + target);
            gyre = LoadGenerator.run(settings);
            report("gyre", name, gyre);
        }
        else if (versus != null)
        {
            // A/B in one run: the plain server and the variant alternate, so drift on a shared machine hits both
            final List<Double> plain = new ArrayList<>();
            final List<Double> variant = new ArrayList<>();
            LoadGenerator.Result last = null;
            for (int round = 1; round <= rounds; round++)
            {
                last = serve(serverOptions, r, prefix + "-a" + round, name);
                report("gyre", name, last);
                plain.add(last.tasksPerSecond());
                final LoadGenerator.Result other = serve(serverOptions + " " + versus, r, prefix + "-b" + round, name);
                report("gyre " + versus.trim(), name + "-versus", other);
                variant.add(other.tasksPerSecond());
                if (other.errors() > 0)
                {
                    last = other;
                }
            }
            final double a = median(plain);
            final double b = median(variant);
            stdout.println(String.format(Locale.ROOT, "VERSUS plain=%s variant=%s plain_per_s=%s variant_per_s=%s median_plain=%.0f "
                    + "median_variant=%.0f plain_over_variant=%.3f", serverOptions.isBlank() ? "(defaults)" : serverOptions.trim(),
                versus.trim(), plain, variant, a, b, b == 0 ? 0.0 : a / b));
            gyre = last;
        }
        else
        {
            gyre = serve(serverOptions, r, prefix, name);
            report("gyre", name, gyre);
        }

        LoadGenerator.Result ceiling = null;
        if (!noCeiling)
        {
            final Child echo = Child.start("echo server", List.of(EchoServer.class.getName(), "0"));
            try
            {
                stdout.println("ceiling: " + name + " against the raw Netty echo server (child JVM)");
                ceiling = LoadGenerator.run(settings(echo.address, r, prefix + "-echo"));
            }
            finally
            {
                echo.stop();
            }
            report("ceiling", name, ceiling);
        }

        final double ceilingRate = ceiling == null ? 0 : ceiling.tasksPerSecond();
        stdout.println(String.format(Locale.ROOT,
            "RESULT scenario=%s tasks_per_s=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f ceiling_per_s=%d ratio=%.3f",
            name, Math.round(gyre.tasksPerSecond()), gyre.percentileMicros(50), gyre.percentileMicros(99), gyre.percentileMicros(99.9),
            Math.round(ceilingRate), ceilingRate == 0 ? 0.0 : gyre.tasksPerSecond() / ceilingRate));
        stdout.flush();
        return gyre.errors() == 0 && (ceiling == null || ceiling.errors() == 0) ? 0 : 1;
    }

    private LoadGenerator.Result serve(final String options, final long r, final String prefix, final String name) throws Exception
    {
        final Path journal = Files.createTempDirectory("gyre-bench-journal");
        final List<String> args = new ArrayList<>(List.of("io.gyre.ingress.cli.GyreCommand", "serve", "--journal", journal.toString(), "--port", "0",
            "--monitor-port", "-1"));
        if (!options.isBlank())
        {
            args.addAll(List.of(options.trim().split("\\s+")));
        }
        final Child server;
        try
        {
            server = Child.start("gyre serve", args);
        }
        catch (final IOException | RuntimeException ex)
        {
            // the child did not start (a bad --server-opts or --versus): leave no journal directory behind
            deleteTree(journal);
            throw ex;
        }
        try
        {
            stdout.println("gyre: " + name + " against gyre serve " + options.trim() + " (child JVM, journal " + journal + ")");
            return LoadGenerator.run(settings(server.address, r, prefix));
        }
        finally
        {
            server.stop();
            deleteTree(journal);
        }
    }

    private static double median(final List<Double> values)
    {
        final List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        final int n = sorted.size();
        return n == 0 ? 0 : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    LoadGenerator.Settings settings(final InetSocketAddress address, final long r, final String prefix)
    {
        return new LoadGenerator.Settings(address, connections, window, r, warmup, duration, payloadBytes, acks, clientThreads, prefix);
    }

    void output(final PrintStream stream)
    {
        stdout = stream;
    }

    private void report(final String what, final String name, final LoadGenerator.Result result) throws IOException
    {
        final Histogram h = result.histogram();
        stdout.printf(Locale.ROOT, "%s: %d tasks in %.1f s = %.0f tasks/s; latency us p50 %.1f, p90 %.1f, p99 %.1f, p99.9 %.1f, max %.1f; errors %d%s%n",
            what, result.completed(), duration, result.tasksPerSecond(), result.percentileMicros(50), result.percentileMicros(90),
            result.percentileMicros(99), result.percentileMicros(99.9), h.getMaxValue() / 1000.0, result.errors(),
            result.firstError() == null ? "" : " (first: " + result.firstError() + ")");
        if (result.errors() > 0)
        {
            stdout.println("!!! " + what + " run had " + result.errors() + " failed or unanswered tasks: not a valid measurement");
        }
        stdout.println("latency percentiles (microseconds), " + what + ":");
        h.outputPercentileDistribution(stdout, 5, 1000.0);
        final Path file = out.resolve(name + "-" + what + ".hgrm");
        try (PrintStream hgrm = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8))
        {
            h.outputPercentileDistribution(hgrm, 5, 1000.0);
        }
        stdout.println("written " + file);
    }

    private static void deleteTree(final Path dir) throws IOException
    {
        try (Stream<Path> paths = Files.walk(dir))
        {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A server in a child JVM with the flags every Gyre JVM needs; its address read from its first line. */
    private static final class Child
    {
        final Process process;
        final InetSocketAddress address;

        private Child(final Process process, final InetSocketAddress address)
        {
            this.process = process;
            this.address = address;
        }

        static Child start(final String what, final List<String> mainAndArgs) throws IOException
        {
            final List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(JvmFlags.REQUIRED);
            command.add("-Xmx2g");
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.addAll(mainAndArgs);
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            final StringBuilder seen = new StringBuilder();
            String line;
            while ((line = lines.readLine()) != null)
            {
                seen.append(line).append('\n');
                final Matcher m = LISTENING.matcher(line);
                if (m.find())
                {
                    // keep draining its output so it never blocks on a full pipe
                    final Thread drain = new Thread(() ->
                    {
                        try
                        {
                            lines.lines().forEach(l -> { });
                        }
                        catch (final java.io.UncheckedIOException ended)
                        {
                            // the child was stopped: its output closed under the reader
                        }
                    }, what + "-output");
                    drain.setDaemon(true);
                    drain.start();
                    return new Child(process, new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2))));
                }
            }
            throw new IOException(what + " did not start:\n" + seen);
        }

        void stop() throws InterruptedException
        {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
