package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.JournalReplay;
import io.gyre.engine.StopReport;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.Wire;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A graceful stop over TCP ({@link GyreServer#stopGracefully()}, what {@code gyre serve} does on SIGTERM):
 * requests that arrive while the engine stops are REJECTED {@code SHUTTING_DOWN} at once, never left
 * waiting; the answers of tasks that finish before the deadline go out before the connection closes; then
 * ERROR {@code SHUTTING_DOWN}, and the close.
 */
class ShutdownOverTcpTest
{
    @TempDir
    Path dir;

    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger started = new AtomicInteger();
    private Engine engine;
    private GyreServer server;

    @AfterEach
    void stopAll()
    {
        release.countDown();
        if (server != null)
        {
            server.close();
        }
        if (engine != null)
        {
            engine.close();
        }
    }

    @Test
    void shouldRefuseNewRequestsAnswerWhatFinishesAndThenClose() throws Exception
    {
        engine = Engine.open(EngineConfig.builder(dir).blockingPoolThreads(1).closeTimeout(Duration.ofSeconds(30)).handler(new TaskHandler()
        {
            @Override
            public String type()
            {
                return "gated";
            }

            @Override
            public ExecutionMode executionMode()
            {
                return ExecutionMode.BLOCKING;
            }

            @Override
            public void execute(final TaskContext context) throws Exception
            {
                started.incrementAndGet();
                release.await(30, TimeUnit.SECONDS);
                context.succeed(context.payload(), 0, context.payloadLength());
            }
        }).build());
        server = GyreServer.start(engine, ServerConfig.builder().port(0).build());

        try (Socket socket = new Socket())
        {
            socket.connect(server.address());
            socket.setSoTimeout(30_000);
            final OutputStream out = socket.getOutputStream();
            final DataInputStream in = new DataInputStream(socket.getInputStream());
            out.write(Wire.bytes(Wire.hello(null, 0)));
            assertThat(readFrame(in).opcode()).isEqualTo(Protocol.WELCOME);
            out.write(Wire.bytes(Wire.submit(1, "running", "gated", "first")));
            out.write(Wire.bytes(Wire.submit(2, "waiting", "gated", "second")));  // one thread: it waits for it
            assertThat(readFrame(in).opcode()).isEqualTo(Protocol.ACCEPTED);
            assertThat(readFrame(in).opcode()).isEqualTo(Protocol.ACCEPTED);
            await().until(() -> started.get() == 1);

            final CompletableFuture<StopReport> stopping = CompletableFuture.supplyAsync(server::stopGracefully);
            await().until(() -> JournalReplay.run(JournalReplay.Options.of(dir)).recordsByType().containsKey(RecordType.ENGINE_STOP));

            // while stopping: no new connection, new requests refused at once, pings answered
            assertThatThrownBy(() ->
            {
                try (Socket refused = new Socket())
                {
                    refused.connect(server.address(), 5_000);
                }
            }).isInstanceOf(ConnectException.class);
            out.write(Wire.bytes(Wire.submit(3, "late", "echo", "x")));
            out.write(Wire.bytes(Wire.keyed(Protocol.STATUS, 4, "running")));
            out.write(Wire.bytes(Wire.ping(5)));
            final List<Wire.Frame> refusals = List.of(readFrame(in), readFrame(in), readFrame(in));
            assertThat(refusals.get(0).opcode()).isEqualTo(Protocol.REJECTED);
            assertThat(refusals.get(0).correlation()).isEqualTo(3);
            assertThat(refusals.get(0).code()).isEqualTo(RejectCode.SHUTTING_DOWN.code());
            assertThat(refusals.get(1).opcode()).isEqualTo(Protocol.REJECTED);
            assertThat(refusals.get(1).correlation()).isEqualTo(4);
            assertThat(refusals.get(1).code()).isEqualTo(RejectCode.SHUTTING_DOWN.code());
            assertThat(refusals.get(2).opcode()).isEqualTo(Protocol.PONG);
            assertThat(stopping).isNotDone();

            // the running task finishes in time: answered, then the connection is told SHUTTING_DOWN and closed;
            // the waiting one never started (it carries on after the next start): no answer
            release.countDown();
            final List<Wire.Frame> rest = new ArrayList<>();
            while (true)
            {
                try
                {
                    rest.add(readFrame(in));
                }
                catch (final java.io.EOFException closed)
                {
                    break;                                  // the server closed the connection
                }
            }
            assertThat(rest).extracting(Wire.Frame::opcode).containsExactly(Protocol.RESULT, Protocol.ERROR);
            assertThat(rest.get(0).correlation()).isEqualTo(1);
            assertThat(new String(rest.get(0).resultBody(), StandardCharsets.UTF_8)).isEqualTo("first");
            assertThat(rest.get(1).code()).isEqualTo(ErrorCode.SHUTTING_DOWN.code());

            final StopReport report = stopping.get(30, TimeUnit.SECONDS);
            assertThat(report.finishedInTime()).isTrue();
            assertThat(report.pending()).isEqualTo(1);
            assertThat(report.running()).isZero();
            assertThat(started).hasValue(1);
        }
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
