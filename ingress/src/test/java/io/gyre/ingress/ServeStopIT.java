package io.gyre.ingress;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.gyre.engine.JournalReplay;
import io.gyre.engine.StopReport;
import io.gyre.engine.TaskState;
import io.gyre.ingress.cli.GyreCommand;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.testing.Wire;
import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.JvmFlags;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code gyre serve} in a child JVM sent SIGTERM ({@link Process#destroy()}) while a client has tasks in
 * flight, http calls to a loopback server: the calls that finish before the shutdown timeout are answered,
 * a submission sent while it stops is REJECTED SHUTTING_DOWN, the calls that hang past the deadline are
 * told to stop; the process exits 0 and its journal ends with the stop record listing them. Restarted, the
 * server makes each of those calls once more, and every key gets exactly one outcome.
 */
class ServeStopIT
{
    private static final int ECHOES = 20;
    private static final int SLOW = 4;
    private static final int HANGING = 3;

    @TempDir
    Path dir;

    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final CountDownLatch slowRelease = new CountDownLatch(1);
    private final CountDownLatch hangRelease = new CountDownLatch(1);
    private volatile boolean hang = true;
    private final ExecutorService httpThreads = Executors.newCachedThreadPool();
    private HttpServer http;
    private Process server;

    @AfterEach
    void cleanUp() throws Exception
    {
        slowRelease.countDown();
        hangRelease.countDown();
        if (server != null && server.isAlive())
        {
            server.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
        if (http != null)
        {
            http.stop(0);
        }
        httpThreads.shutdownNow();
    }

    @Test
    void sigtermStopsCleanlyAndARestartRunsWhatWasLeftExactlyOnce() throws Exception
    {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/slow/", exchange -> answer(exchange, slowRelease));
        http.createContext("/hang/", exchange -> answer(exchange, hang ? hangRelease : null));
        http.setExecutor(httpThreads);
        http.start();
        final int port = freePort();
        final Path journal = dir.resolve("journal");
        final Path log = dir.resolve("serve.log");
        server = start(journal, port, log);

        final Map<String, CompletableFuture<TaskResult>> results = new LinkedHashMap<>();
        try (GyreClient client = GyreClient.connect(ClientConfig.builder().port(port)
            .reconnectDelays(Duration.ofMillis(50), Duration.ofMillis(500))
            .requestTimeout(Duration.ofSeconds(180))
            .reconnectGiveUp(Duration.ofSeconds(120))
            .build()))
        {
            for (int i = 0; i < ECHOES; i++)
            {
                results.put("echo-" + i, client.submit(Submission.of("echo-" + i, "echo").payload("v" + i)));
            }
            for (int i = 0; i < SLOW; i++)
            {
                results.put("slow-" + i, client.submit(call("slow", i)));
            }
            for (int i = 0; i < HANGING; i++)
            {
                results.put("hang-" + i, client.submit(call("hang", i)));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> count("/slow/") == SLOW && count("/hang/") == HANGING);
            for (int i = 0; i < ECHOES; i++)
            {
                assertThat(results.get("echo-" + i).get(30, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
            }

            try (Socket raw = new Socket())
            {
                raw.connect(new InetSocketAddress("127.0.0.1", port));
                raw.setSoTimeout(30_000);
                final DataInputStream in = new DataInputStream(raw.getInputStream());
                raw.getOutputStream().write(Wire.bytes(Wire.hello(null, 0)));
                assertThat(readFrame(in).opcode()).isEqualTo(Protocol.WELCOME);

                server.destroy();                                  // SIGTERM
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("gyre stopping (SIGTERM)"));

                // while it stops: a new submission is refused at once
                raw.getOutputStream().write(Wire.bytes(Wire.submit(7, "too-late", "echo", "x")));
                final Wire.Frame refused = readFrame(in);
                assertThat(refused.opcode()).isEqualTo(Protocol.REJECTED);
                assertThat(refused.correlation()).isEqualTo(7);
                assertThat(refused.code()).isEqualTo(RejectCode.SHUTTING_DOWN.code());
            }

            // the slow calls finish before the deadline: answered before the connection closes
            slowRelease.countDown();
            assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("the server exits").isTrue();
            assertThat(server.exitValue()).as(Files.readString(log)).isZero();
            for (int i = 0; i < SLOW; i++)
            {
                final CompletableFuture<TaskResult> slow = results.get("slow-" + i);
                assertThat(slow).as("slow-" + i + " answered before the server closed").isDone();
                assertThat(slow.join().state()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(slow.join().duplicate()).isFalse();
            }
            for (int i = 0; i < HANGING; i++)
            {
                assertThat(results.get("hang-" + i)).as("hang-" + i + " had no outcome yet").isNotDone();
            }
            final String stopped = Files.readString(log);
            assertThat(stopped).contains("gyre stopped cleanly: left 3 running (interrupted at the deadline: task ")
                .contains(", 0 pending, 0 waiting to retry, 0 holding an outcome; they carry on after the next start");

            // the journal ends with the stop record, listing the hanging calls
            final List<String> types = new ArrayList<>();
            final JournalReplay.Report replay = JournalReplay.run(JournalReplay.Options.of(journal).onRecord(record ->
                types.add(record.type() == RecordType.ENGINE_STOP ?
                    "ENGINE_STOP " + EngineStopRecord.phaseName(record.engineStop().phase()) : record.type().name())));
            assertThat(types.get(types.size() - 1)).isEqualTo("ENGINE_STOP stopped");
            assertThat(replay.derivedMismatches()).isZero();
            final StopReport left = replay.runs().get(0).stop();
            assertThat(left.finishedInTime()).isFalse();
            assertThat(left.running()).isEqualTo(HANGING);
            assertThat(left.interrupted()).extracting(StopReport.Attempt::attempt).containsOnly(1);

            // restarted: the client resends what had no outcome; each interrupted call is made once more
            hang = false;
            server = start(journal, port, log);
            for (final Map.Entry<String, CompletableFuture<TaskResult>> e : results.entrySet())
            {
                final TaskResult result = e.getValue().get(120, TimeUnit.SECONDS);
                assertThat(result.state()).as(e.getKey()).isEqualTo(TaskState.SUCCEEDED);
            }
            for (int i = 0; i < HANGING; i++)
            {
                assertThat(left.interrupted()).extracting(StopReport.Attempt::taskId).contains(results.get("hang-" + i).join().taskId());
            }
            assertThat(Files.readString(log)).contains("previous run: stopped cleanly; 3 attempt(s) it interrupted run again");
            for (int i = 0; i < SLOW; i++)
            {
                assertThat(calls.get("/slow/" + i).get()).as("slow-" + i).isEqualTo(1);
            }
            for (int i = 0; i < HANGING; i++)
            {
                assertThat(calls.get("/hang/" + i).get()).as("hang-" + i).isEqualTo(2);
            }
            for (final Map.Entry<String, CompletableFuture<TaskResult>> e : results.entrySet())
            {
                final TaskResult again = client.submit(Submission.of(e.getKey(), "echo").payload("other")).get(60, TimeUnit.SECONDS);
                assertThat(again.duplicate()).as(e.getKey()).isTrue();
                assertThat(again.taskId()).as(e.getKey()).isEqualTo(e.getValue().join().taskId());
            }
        }

        server.destroy();
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isZero();
        final JournalReplay.Report all = JournalReplay.run(JournalReplay.Options.of(journal));
        assertThat(all.derivedMismatches()).as(all.firstMismatch()).isZero();
        assertThat(all.tasksByState()).containsOnly(Map.entry(TaskState.SUCCEEDED, (long)(ECHOES + SLOW + HANGING)));
        assertThat(all.runs()).extracting(JournalReplay.Run::ending)
            .containsExactly(JournalReplay.Ending.CLEAN, JournalReplay.Ending.CLEAN);
        assertThat(all.runs().get(1).stop().nothingLeft()).isTrue();
    }

    private Submission call(final String path, final int i)
    {
        final String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/" + path + "/" + i;
        return Submission.of(path + "-" + i, "http").payload("{\"url\": \"" + url + "\", \"timeoutMillis\": 120000}").timeoutMillis(180_000);
    }

    private void answer(final HttpExchange exchange, final CountDownLatch wait) throws IOException
    {
        calls.computeIfAbsent(exchange.getRequestURI().getPath(), p -> new AtomicInteger()).incrementAndGet();
        try
        {
            if (wait != null)
            {
                wait.await(120, TimeUnit.SECONDS);
            }
            final byte[] body = "done".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
        catch (final InterruptedException | IOException ex)
        {
            // the caller went away (its attempt was stopped)
        }
        finally
        {
            exchange.close();
        }
    }

    private int count(final String prefix)
    {
        return calls.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToInt(e -> e.getValue().get()).sum();
    }

    private static Process start(final Path journal, final int port, final Path log) throws IOException, InterruptedException
    {
        final long mark = Files.exists(log) ? Files.size(log) : 0;
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JvmFlags.REQUIRED);
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(GyreCommand.class.getName());
        command.addAll(List.of("serve", "--journal", journal.toString(), "--port", Integer.toString(port), "--monitor-port", "0",
            "--shutdown-timeout", "6s"));
        final Process process = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            final String text = Files.readString(log).substring((int)mark);
            if (text.contains("gyre serving on"))
            {
                return process;
            }
            if (!process.isAlive())
            {
                throw new IllegalStateException("gyre serve exited " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("gyre serve did not start:\n" + Files.readString(log));
    }

    private static Wire.Frame readFrame(final DataInputStream in) throws IOException
    {
        final int length = in.readInt();
        final int opcode = in.readUnsignedByte();
        final byte[] body = new byte[length - 1];
        in.readFully(body);
        return new Wire.Frame(opcode, body);
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
