package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.RequestRefusedException;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.client.TaskStatusReply;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.LeakCheck;
import io.gyre.ingress.testing.Wire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The server and the Java client over loopback: requests and answers, pipelining, many connections,
 * limits, and reconnecting to a restarted server.
 */
@ExtendWith(LeakCheck.class)
class TcpEndToEndTest
{
    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Engine engine;
    private static volatile CountDownLatch hold = new CountDownLatch(0);

    @AfterEach
    void closeAll() throws Exception
    {
        hold.countDown();
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            toClose.get(i).close();
        }
    }

    private Engine engine()
    {
        if (engine == null)
        {
            engine = openEngine();
            toClose.add(() -> engine.close());
        }
        return engine;
    }

    private Engine openEngine()
    {
        return Engine.open(EngineConfig.builder(dir.resolve("journal"))
            .handler(new TaskHandler()
            {
                @Override
                public String type()
                {
                    return "hold";
                }

                @Override
                public ExecutionMode executionMode()
                {
                    return ExecutionMode.BLOCKING;
                }

                @Override
                public void execute(final TaskContext context) throws Exception
                {
                    hold.await(20, TimeUnit.SECONDS);
                }
            })
            .build());
    }

    private GyreServer server(final ServerConfig.Builder config)
    {
        final GyreServer server = GyreServer.start(engine(), config.port(0).build());
        toClose.add(server);
        return server;
    }

    private GyreClient client(final GyreServer server)
    {
        return client(ClientConfig.builder().address(server.address()));
    }

    private GyreClient client(final ClientConfig.Builder config)
    {
        final GyreClient client = GyreClient.connect(config.build());
        toClose.add(client);
        return client;
    }

    @Test
    void submitStatusCancelAndPing()
    {
        final GyreServer server = server(ServerConfig.builder());
        final GyreClient.Blocking client = client(server).blocking();

        final TaskResult result = client.submit(Submission.of("k1", "echo").payload("{\"x\":1}"));
        assertThat(result.succeeded()).isTrue();
        assertThat(result.outputAsString()).isEqualTo("{\"x\":1}");
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(result.duplicate()).isFalse();

        final TaskResult again = client.submit(Submission.of("k1", "echo").payload("changed"));
        assertThat(again.duplicate()).isTrue();
        assertThat(again.taskId()).isEqualTo(result.taskId());
        assertThat(again.outputAsString()).isEqualTo("{\"x\":1}");

        final TaskStatusReply status = client.status("k1");
        assertThat(status.found()).isTrue();
        assertThat(status.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(status.taskId()).isEqualTo(result.taskId());
        assertThat(status.bodyAsString()).isEqualTo("{\"x\":1}");
        assertThat(client.status("never").found()).isFalse();

        hold = new CountDownLatch(1);
        final CompletableFuture<TaskResult> held = client(server).submit(Submission.of("held", "hold"));
        await().atMost(Duration.ofSeconds(5)).until(() -> client.status("held").found());
        final TaskStatusReply cancelled = client.cancel("held");
        assertThat(cancelled.state()).isEqualTo(TaskState.CANCELLED);
        assertThat(held.join().state()).isEqualTo(TaskState.CANCELLED);

        assertThat(client.ping()).isPositive();

        // a STATUS or CANCEL the server refuses (a key longer than its limit) is a refusal with its reason
        for (final java.util.function.Consumer<String> ask : List.<java.util.function.Consumer<String>>of(client::status, client::cancel))
        {
            assertThatThrownBy(() -> ask.accept("k".repeat(300)))
                .isInstanceOfSatisfying(RequestRefusedException.class, ex -> assertThat(ex.reason()).isEqualTo(RejectCode.INVALID_TASK))
                .hasMessageContaining("(INVALID_TASK)");
        }
        assertThat(client.status("k1").found()).as("the connection is fine").isTrue();

        final TaskResult unknown = client.submit(Submission.of("k2", "no-such-type"));
        assertThat(unknown.rejected()).isTrue();
        assertThat(unknown.rejectCode()).isEqualTo(RejectCode.UNKNOWN_TYPE);
        assertThat(unknown.error()).contains("no-such-type");
    }

    @Test
    void manyRequestsPipelinedOnOneConnection()
    {
        final GyreServer server = server(ServerConfig.builder().maxInFlight(256));
        final GyreClient client = client(server);
        final int n = 20_000;
        final List<CompletableFuture<TaskResult>> results = new ArrayList<>(n);
        final Set<Long> accepted = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (int i = 0; i < n; i++)
        {
            results.add(client.submit(Submission.of("p-" + i, i % 2 == 0 ? "noop" : "echo").payload("v" + i).onAccepted(accepted::add)));
        }
        final Set<Long> taskIds = new HashSet<>();
        for (int i = 0; i < n; i++)
        {
            final TaskResult r = results.get(i).join();
            assertThat(r.succeeded()).as(r.toString()).isTrue();
            assertThat(r.key()).isEqualTo("p-" + i);
            if (i % 2 == 1)
            {
                assertThat(r.outputAsString()).isEqualTo("v" + i);
            }
            taskIds.add(r.taskId());
        }
        assertThat(taskIds).hasSize(n);
        assertThat(accepted).isEqualTo(taskIds);
        assertThat(server.inFlight()).isZero();
    }

    @Test
    void manyConnectionsAtOnce() throws Exception
    {
        final GyreServer server = server(ServerConfig.builder());
        final int connections = 40;
        final int perConnection = 300;
        final ExecutorService threads = Executors.newFixedThreadPool(8);
        try
        {
            final List<Future<Set<Long>>> done = new ArrayList<>();
            for (int c = 0; c < connections; c++)
            {
                final int conn = c;
                done.add(threads.submit(() ->
                {
                    try (GyreClient client = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
                    {
                        final List<CompletableFuture<TaskResult>> results = new ArrayList<>();
                        for (int i = 0; i < perConnection; i++)
                        {
                            results.add(client.submit(Submission.of("c" + conn + "-" + i, "echo").payload(conn + ":" + i)));
                        }
                        final Set<Long> ids = new HashSet<>();
                        for (int i = 0; i < perConnection; i++)
                        {
                            final TaskResult r = results.get(i).join();
                            assertThat(r.outputAsString()).isEqualTo(conn + ":" + i);
                            ids.add(r.taskId());
                        }
                        return ids;
                    }
                }));
            }
            final Set<Long> all = new HashSet<>();
            for (final Future<Set<Long>> f : done)
            {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(all).hasSize(connections * perConnection);
            assertThat(server.stats().connectionsAccepted()).isEqualTo(connections);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().openConnections() == 0);
        }
        finally
        {
            threads.shutdownNow();
        }
    }

    @Test
    void theSameKeyFromManyConnectionsGetsOneOutcome() throws Exception
    {
        final GyreServer server = server(ServerConfig.builder());
        final List<GyreClient> clients = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            clients.add(client(server));
        }
        final List<CompletableFuture<TaskResult>> results = new ArrayList<>();
        // 8 clients x 30 rounds over 5 keys: 48 submissions per key, below the engine's 64 waiters per task, so every
        // one of them must be answered with the key's single outcome however slowly the first one runs.
        for (int round = 0; round < 30; round++)
        {
            for (final GyreClient c : clients)
            {
                results.add(c.submit(Submission.of("shared-" + round % 5, "echo").payload("first")));
            }
        }
        for (final CompletableFuture<TaskResult> r : results)
        {
            final TaskResult result = r.get(10, TimeUnit.SECONDS);
            assertThat(result.succeeded()).as("%s", result).isTrue();
        }
        for (int k = 0; k < 5; k++)
        {
            final String key = "shared-" + k;
            assertThat(results.stream().map(CompletableFuture::join).filter(r -> r.key().equals(key)).map(TaskResult::taskId).distinct())
                .hasSize(1);
        }
    }

    @Test
    void authTokenIsRequiredWhenConfigured()
    {
        final GyreServer server = server(ServerConfig.builder().authToken("let-me-in"));
        assertThatThrownBy(() -> client(ClientConfig.builder().address(server.address())))
            .isInstanceOf(GyreClientException.class)
            .satisfies(ex -> assertThat(((GyreClientException)ex).code()).isEqualTo(ErrorCode.AUTH_FAILED));
        assertThatThrownBy(() -> client(ClientConfig.builder().address(server.address()).authToken("let-me-out")))
            .isInstanceOf(GyreClientException.class)
            .hasMessageContaining("AUTH_FAILED");
        final GyreClient ok = client(ClientConfig.builder().address(server.address()).authToken("let-me-in"));
        assertThat(ok.blocking().submit(Submission.of("auth-1", "noop")).succeeded()).isTrue();
        assertThat(server.stats().authFailures()).isEqualTo(2);
    }

    @Test
    void idleConnectionsAreClosedAndTheClientKeepsItsAlive() throws Exception
    {
        final GyreServer server = server(ServerConfig.builder().idleTimeout(Duration.ofMillis(300)));
        try (Socket raw = new Socket())
        {
            raw.connect(server.address());
            raw.setSoTimeout(5000);
            raw.getOutputStream().write(Wire.bytes(Wire.hello(null, 0)));
            final DataInputStream in = new DataInputStream(raw.getInputStream());
            assertThat(readFrame(in).opcode()).isEqualTo(Protocol.WELCOME);
            final Wire.Frame error = readFrame(in);
            assertThat(error.opcode()).isEqualTo(Protocol.ERROR);
            assertThat(error.code()).isEqualTo(ErrorCode.IDLE_TIMEOUT.code());
            assertThat(in.read()).isEqualTo(-1);
        }
        final GyreClient client = client(server);
        Thread.sleep(1200);
        assertThat(client.connected()).isTrue();
        assertThat(server.stats().connectionsAccepted()).isEqualTo(2);
        assertThat(client.blocking().submit(Submission.of("alive", "noop")).succeeded()).isTrue();
    }

    /**
     * A client that sends its requests, then shuts down its sending side (a TCP half-close), still gets every answer,
     * then the server closes (outside check: it closed at once, dropping the answers, while the tasks ran).
     */
    @Test
    void aHalfClosedConnectionIsAnsweredThenClosed() throws Exception
    {
        final GyreServer server = server(ServerConfig.builder().maxInFlight(4));
        try (Socket raw = new Socket())
        {
            raw.connect(server.address());
            raw.setSoTimeout(10_000);
            final java.io.ByteArrayOutputStream requests = new java.io.ByteArrayOutputStream();
            requests.write(Wire.bytes(Wire.hello(null, 0)));
            // more than the in-flight limit: the last ones wait in the server's read buffer for room
            for (int i = 1; i <= 10; i++)
            {
                requests.write(Wire.bytes(Wire.submit(i, "half-" + i, "echo", "\"" + i + "\"")));
            }
            requests.write(Wire.bytes(Wire.keyed(Protocol.STATUS, 11, "half-1")));
            raw.getOutputStream().write(requests.toByteArray());
            raw.shutdownOutput();
            final DataInputStream in = new DataInputStream(raw.getInputStream());
            // every frame until the server closes: the WELCOME, each task's RESULT (and ACCEPTED), the STATUS_REPLY
            final List<Integer> opcodes = new ArrayList<>();
            while (true)
            {
                final int length;
                try
                {
                    length = in.readInt();
                }
                catch (final java.io.EOFException closed)
                {
                    break;
                }
                final int opcode = in.readUnsignedByte();
                in.readFully(new byte[length - 1]);
                opcodes.add(opcode);
            }
            assertThat(opcodes).filteredOn(op -> op == Protocol.RESULT).hasSize(10);
            assertThat(opcodes).filteredOn(op -> op == Protocol.STATUS_REPLY).hasSize(1);
            assertThat(opcodes).filteredOn(op -> op != Protocol.WELCOME && op != Protocol.ACCEPTED && op != Protocol.RESULT &&
                op != Protocol.STATUS_REPLY).isEmpty();
        }
        for (int i = 1; i <= 10; i++)
        {
            assertThat(client(server).blocking().status("half-" + i).state()).isEqualTo(TaskState.SUCCEEDED);
        }
    }

    @Test
    void connectionsBeyondTheLimitAreRefused() throws Exception
    {
        final GyreServer server = server(ServerConfig.builder().maxConnections(2));
        client(server);
        client(server);
        try (Socket third = new Socket())
        {
            third.connect(server.address());
            third.setSoTimeout(5000);
            final DataInputStream in = new DataInputStream(third.getInputStream());
            final Wire.Frame error = readFrame(in);
            assertThat(error.code()).isEqualTo(ErrorCode.TOO_MANY_CONNECTIONS.code());
            assertThat(in.read()).isEqualTo(-1);
        }
        assertThat(server.stats().connectionsRefused()).isEqualTo(1);
        assertThat(server.stats().connectionsAccepted()).isEqualTo(2);
        assertThat(server.stats().refusals()).as("requests refused: none").isZero();
    }

    /**
     * A client the server has no room for is told TOO_MANY_CONNECTIONS: it tries again (a connection may close
     * meanwhile) up to its connect timeout, and then fails with that code and says it. An outside check found it
     * failing a second after the timeout with "no handshake" and no code.
     */
    @Test
    void aClientOverTheConnectionLimitFailsWithTheServersReason() throws Exception
    {
        final GyreServer server = server(ServerConfig.builder().maxConnections(1));
        final GyreClient first = client(server);
        final long startedAt = System.nanoTime();
        assertThatThrownBy(() -> client(ClientConfig.builder().address(server.address()).connectTimeout(Duration.ofSeconds(1))
            .reconnectDelays(Duration.ofMillis(20), Duration.ofMillis(100))))
            .isInstanceOfSatisfying(GyreClientException.class, ex -> assertThat(ex.code()).isEqualTo(ErrorCode.TOO_MANY_CONNECTIONS))
            .hasMessageContaining("no handshake with " + server.address().getHostString() + ":" + server.address().getPort() + " within PT1S")
            .hasMessageContaining("TOO_MANY_CONNECTIONS")
            .hasMessageContaining("maximum of 1 connections");
        final long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
        assertThat(tookMillis).as("tried again up to the connect timeout, not past it").isBetween(1_000L, 1_900L);
        assertThat(server.stats().connectionsRefused()).as("tried again with backoff").isGreaterThan(1);

        // with room again (the first client gone), a client connects
        first.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().openConnections() == 0);
        assertThat(client(server).blocking().submit(Submission.of("room", "noop")).succeeded()).isTrue();
    }

    @Test
    void aClientReconnectsToARestartedServerAndItsKeysKeepTheirOutcomes() throws Exception
    {
        GyreServer server = GyreServer.start(engine(), ServerConfig.builder().port(0).build());
        final int port = server.address().getPort();
        final GyreClient client = client(ClientConfig.builder().address(server.address())
            .reconnectDelays(Duration.ofMillis(20), Duration.ofMillis(200)));
        final TaskResult before = client.blocking().submit(Submission.of("r-1", "echo").payload("one"));

        server.close();
        engine.close();
        // submitted while the server is down: sent when the client is back
        final CompletableFuture<TaskResult> during = client.submit(Submission.of("r-2", "echo").payload("two"));
        Thread.sleep(300);
        assertThat(during).isNotDone();

        engine = openEngine();
        server = GyreServer.start(engine, ServerConfig.builder().port(port).build());
        final GyreServer restarted = server;
        toClose.add(restarted);
        assertThat(during.get(10, TimeUnit.SECONDS).outputAsString()).isEqualTo("two");
        final TaskResult after = client.blocking().submit(Submission.of("r-1", "echo").payload("other"));
        assertThat(after.duplicate()).isTrue();
        assertThat(after.taskId()).isEqualTo(before.taskId());
        assertThat(after.outputAsString()).isEqualTo("one");
    }

    @Test
    void aRequestMadeAfterTheClientGaveUpWaitsItsOwnGiveUpTime() throws Exception
    {
        final GyreServer server = GyreServer.start(engine(), ServerConfig.builder().port(0).build());
        final GyreClient client = client(ClientConfig.builder().address(server.address()).reconnectGiveUp(Duration.ofSeconds(1))
            .requestTimeout(Duration.ofSeconds(30)));
        assertThat(client.blocking().ping()).isPositive();
        server.close();
        Thread.sleep(1_500);

        // disconnected for longer than the give-up time: a new request still waits that long for a connection
        final long madeAt = System.nanoTime();
        final CompletableFuture<TaskResult> late = client.submit(Submission.of("late", "echo"));
        Thread.sleep(300);
        assertThat(late).as("failed at once, though the client keeps trying for new requests").isNotDone();
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(GyreClientException.class)
            .hasMessageContaining("no connection to");
        assertThat(System.nanoTime() - madeAt).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
    }

    @Test
    void closingTheServerAnswersWhatIsInFlightFirst() throws Exception
    {
        final GyreServer server = GyreServer.start(engine(), ServerConfig.builder().port(0).build());
        final GyreClient client = client(ClientConfig.builder().address(server.address()).reconnectGiveUp(Duration.ofSeconds(2)));
        hold = new CountDownLatch(1);
        final CompletableFuture<TaskResult> held = client.submit(Submission.of("closing-1", "hold"));
        await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 1);
        final Thread closer = new Thread(server::close);
        closer.start();
        Thread.sleep(200);
        hold.countDown();
        closer.join(10_000);
        assertThat(held.get(5, TimeUnit.SECONDS).succeeded()).isTrue();
    }

    private static Wire.Frame readFrame(final DataInputStream in) throws IOException
    {
        final int length = in.readInt();
        final int opcode = in.readUnsignedByte();
        final byte[] body = new byte[length - 1];
        in.readFully(body);
        return new Wire.Frame(opcode, body);
    }
}
