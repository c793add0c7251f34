package io.gyre.bench.tcp;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The load generator against an in-process Gyre server and an in-process echo server, briefly: it counts
 * what it sends and gets back, with no errors, and {@code gyre bench tcp} ends with its RESULT line.
 */
class TcpBenchTest
{
    @TempDir
    Path dir;

    @Test
    void closedAndOpenLoopsCountEveryTask() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
             EchoServer echo = EchoServer.start("127.0.0.1", 0))
        {
            final LoadGenerator.Result closed = LoadGenerator.run(new LoadGenerator.Settings(server.address(), 2, 64, 0, 0.3, 1.0, 16, true, 1, "t-closed"));
            assertThat(closed.errors()).as(closed.firstError()).isZero();
            assertThat(closed.completed()).isPositive();
            assertThat(closed.accepted()).as("ACCEPTED frames asked for").isPositive();
            assertThat(closed.histogram().getTotalCount()).isEqualTo(closed.completed());

            final LoadGenerator.Result open = LoadGenerator.run(new LoadGenerator.Settings(server.address(), 2, 0, 2000, 0.3, 1.0, 0, false, 1, "t-open"));
            assertThat(open.errors()).as(open.firstError()).isZero();
            assertThat(open.completed()).isEqualTo(2000);
            assertThat(open.accepted()).isZero();

            final LoadGenerator.Result ceiling = LoadGenerator.run(new LoadGenerator.Settings(echo.address(), 2, 64, 0, 0.3, 1.0, 0, false, 1, "t-echo"));
            assertThat(ceiling.errors()).isZero();
            assertThat(ceiling.completed()).isPositive();
        }
    }

    @Test
    void aBadOptionIsAUsageErrorNamingIt()
    {
        for (final String[] bad : new String[][] {
            {"--scenario", "open", "--rate", "0"}, {"--duration", "0"}, {"--warmup", "-1"}, {"--connections", "0"}, {"--window", "0"},
            {"--payload-bytes", "-1"}, {"--rounds", "0", "--versus", "--no-metrics"}, {"--target", "nope"}})
        {
            final java.io.StringWriter err = new java.io.StringWriter();
            final CommandLine commandLine = new CommandLine(new TcpBench());
            commandLine.setErr(new java.io.PrintWriter(err, true));
            assertThat(commandLine.execute(bad)).as(String.join(" ", bad)).isEqualTo(2);
            assertThat(err.toString()).as(String.join(" ", bad)).startsWith(bad[bad.length == 4 && bad[0].equals("--scenario") ? 2 : 0] + "=");
        }
    }

    @Test
    void theCommandEndsWithTheResultLine() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal2")).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build()))
        {
            final TcpBench bench = new TcpBench();
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            bench.output(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            final int exit = new CommandLine(bench).execute("--target", "127.0.0.1:" + server.address().getPort(),
                "--duration", "1", "--warmup", "0.3", "--window", "32", "--out", dir.resolve("out").toString());
            final String[] lines = bytes.toString(StandardCharsets.UTF_8).trim().split("\n");
            assertThat(exit).as(String.join("\n", lines)).isZero();
            assertThat(lines[lines.length - 1]).matches(
                "RESULT scenario=closed-c4-w32 tasks_per_s=\\d+ p50_us=[\\d.]+ p99_us=[\\d.]+ p999_us=[\\d.]+ ceiling_per_s=\\d+ ratio=[\\d.]+");
            assertThat(lines[lines.length - 1]).doesNotContain("ceiling_per_s=0 ");
            assertThat(dir.resolve("out").resolve("closed-c4-w32-gyre.hgrm")).exists();
            assertThat(Files.readString(dir.resolve("out").resolve("closed-c4-w32-ceiling.hgrm"))).contains("Percentile");
        }
    }
}
