package io.gyre.ingress;

import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The client against a scripted server (each frame chosen by the test), and closed from its own callbacks: what an
 * outside check of the client found.
 */
class ClientEdgeTest
{
    private static final long TASK = 7;

    /** One scripted connection: the frames read from the client, and what to answer. */
    private static final class Connection implements AutoCloseable
    {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        Connection(final ServerSocket server) throws IOException
        {
            socket = server.accept();
            socket.setSoTimeout(10_000);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        /** @return the next frame's opcode, then its correlation id (0 for a HELLO, which has none). */
        long[] read() throws IOException
        {
            final int length = in.readInt();
            final byte[] frame = new byte[length];
            in.readFully(frame);
            final int opcode = frame[0] & 0xFF;
            long correlation = 0;
            if (opcode != Protocol.HELLO && length >= 9)
            {
                for (int i = 1; i < 9; i++)
                {
                    correlation = correlation << 8 | (frame[i] & 0xFF);
                }
            }
            return new long[] {opcode, correlation};
        }

        /** Read frames up to the next SUBMIT (keep-alive PINGs are left unanswered), and return its correlation. */
        long nextSubmit() throws IOException
        {
            while (true)
            {
                final long[] frame = read();
                if (frame[0] == Protocol.SUBMIT)
                {
                    return frame[1];
                }
            }
        }

        void welcome() throws IOException
        {
            assertThat(read()[0]).isEqualTo(Protocol.HELLO);
            send(out -> Frames.welcome(out, 0, 1 << 20, 1024, 60_000, 256, 64, 64, 1 << 20, 1 << 20));
        }

        void send(final java.util.function.Consumer<ByteBuf> frame) throws IOException
        {
            final ByteBuf buffer = Unpooled.buffer();
            try
            {
                frame.accept(buffer);
                final byte[] bytes = new byte[buffer.readableBytes()];
                buffer.readBytes(bytes);
                out.write(bytes);
                out.flush();
            }
            finally
            {
                buffer.release();
            }
        }

        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }

    private static GyreClient client(final int port)
    {
        return GyreClient.connect(ClientConfig.builder().host("127.0.0.1").port(port)
            .reconnectDelays(Duration.ofMillis(20), Duration.ofMillis(100)).build());
    }

    /** Runs a server's script on its own thread (the client's connect waits for the handshake). */
    private static CompletableFuture<Void> script(final ThrowingRunnable script)
    {
        return CompletableFuture.runAsync(() ->
        {
            try
            {
                script.run();
            }
            catch (final Exception ex)
            {
                throw new java.util.concurrent.CompletionException(ex);
            }
        }, runnable ->
        {
            final Thread thread = new Thread(runnable, "scripted-server");
            thread.setDaemon(true);
            thread.start();
        });
    }

    @FunctionalInterface
    private interface ThrowingRunnable
    {
        void run() throws Exception;
    }

    /** The first connection: handshake, the submission accepted as task 7, then lost once the client has seen that. */
    private static void acceptOnFirstConnection(final ServerSocket server, final java.util.concurrent.CountDownLatch acceptedSeen)
        throws Exception
    {
        try (Connection first = new Connection(server))
        {
            first.welcome();
            final long correlation = first.nextSubmit();
            first.send(out -> Frames.accepted(out, correlation, TASK));
            acceptedSeen.await(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Accepted as task 7 on the first connection, lost; the resend on the second is refused with {@code code} first, and
     * then (when {@code thenAnswer}) the next resend gets the task's outcome.
     */
    private static CompletableFuture<TaskResult> acceptThenRefuseTheResend(final int code, final boolean thenAnswer, final List<Long> accepted)
        throws Exception
    {
        final java.util.concurrent.CountDownLatch acceptedSeen = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()))
        {
            final CompletableFuture<Void> serving = script(() ->
            {
                acceptOnFirstConnection(server, acceptedSeen);
                try (Connection second = new Connection(server))
                {
                    second.welcome();
                    final long resent = second.nextSubmit();
                    second.send(out -> Frames.complaint(out, Protocol.REJECTED, resent, code, "refused for the test"));
                    if (thenAnswer)
                    {
                        final long again = second.nextSubmit();
                        final byte[] output = "x".getBytes(StandardCharsets.UTF_8);
                        second.send(out -> Frames.result(out, again, TASK, TaskState.SUCCEEDED.code(), 0, 1, 1, 2, 3, 0, 0,
                            new UnsafeBuffer(output), 0, output.length));
                    }
                    done.await(10, TimeUnit.SECONDS);
                }
            });
            try (GyreClient client = client(server.getLocalPort()))
            {
                final CompletableFuture<TaskResult> result = client.submit(Submission.of("k", "echo").payload("x").onAccepted(accepted::add));
                await().until(() -> accepted.size() == 1);
                acceptedSeen.countDown();
                result.handle((value, failure) -> null).get(10, TimeUnit.SECONDS);
                done.countDown();
                serving.get(10, TimeUnit.SECONDS);
                return result;
            }
        }
    }

    /**
     * A submission the server had accepted is never answered REJECTED (PROTOCOL.md): its resend after a reconnect, refused
     * for now (BUSY: a full ring), is sent again until it gets the task's outcome.
     */
    @Test
    void shouldSendAnAcceptedSubmissionAgainWhenItsResendIsRefusedForNow() throws Exception
    {
        final List<Long> accepted = new CopyOnWriteArrayList<>();
        final TaskResult outcome = acceptThenRefuseTheResend(16 /* BUSY */, true, accepted).get();
        assertThat(outcome.rejected()).isFalse();
        assertThat(outcome.succeeded()).isTrue();
        assertThat(outcome.taskId()).isEqualTo(TASK);
        assertThat(outcome.duplicate()).isFalse();
        assertThat(accepted).containsExactly(TASK);
    }

    /** A refusal that will not pass (the type unknown to a restarted server) fails the future saying what happened. */
    @Test
    void shouldFailAnAcceptedSubmissionWhoseResendIsRefusedForGoodSayingItWasAccepted() throws Exception
    {
        final List<Long> accepted = new CopyOnWriteArrayList<>();
        final CompletableFuture<TaskResult> result = acceptThenRefuseTheResend(18 /* UNKNOWN_TYPE */, false, accepted);

        assertThatThrownBy(result::get).isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(GyreClientException.class)
            .hasMessageContaining("task 7 (key k) was accepted")
            .hasMessageContaining("UNKNOWN_TYPE: refused for the test")
            .hasMessageContaining("ask its status by key");
    }

    /**
     * A server restarted with another auth token refuses the reconnect AUTH_FAILED, then is put right: the client keeps
     * reconnecting, and the accepted submission gets its task's outcome (an outside check found the client dead for good
     * after one such refusal, failing every request with it, the accepted one without saying it was accepted).
     */
    @Test
    void shouldKeepReconnectingAfterAHandshakeRefusedForGoodOnceConnected() throws Exception
    {
        final List<Long> accepted = new CopyOnWriteArrayList<>();
        final java.util.concurrent.CountDownLatch acceptedSeen = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()))
        {
            final CompletableFuture<Void> serving = script(() ->
            {
                acceptOnFirstConnection(server, acceptedSeen);
                for (int refused = 0; refused < 3; refused++)
                {
                    try (Connection wrongToken = new Connection(server))
                    {
                        assertThat(wrongToken.read()[0]).isEqualTo(Protocol.HELLO);
                        wrongToken.send(out -> Frames.complaint(out, Protocol.ERROR, 0, 3 /* AUTH_FAILED */, "wrong auth token"));
                    }
                }
                try (Connection putRight = new Connection(server))
                {
                    putRight.welcome();
                    final long resent = putRight.nextSubmit();
                    final byte[] output = "x".getBytes(StandardCharsets.UTF_8);
                    putRight.send(out -> Frames.result(out, resent, TASK, TaskState.SUCCEEDED.code(), 0, 1, 1, 2, 3, 0, 0,
                        new UnsafeBuffer(output), 0, output.length));
                    final long next = putRight.nextSubmit();
                    putRight.send(out -> Frames.result(out, next, TASK + 1, TaskState.SUCCEEDED.code(), 0, 1, 1, 2, 3, 0, 0,
                        new UnsafeBuffer(output), 0, output.length));
                    done.await(10, TimeUnit.SECONDS);
                }
            });
            try (GyreClient client = client(server.getLocalPort()))
            {
                final CompletableFuture<TaskResult> result = client.submit(Submission.of("k", "echo").payload("x").onAccepted(accepted::add));
                await().until(() -> accepted.size() == 1);
                acceptedSeen.countDown();
                final TaskResult outcome = result.get(10, TimeUnit.SECONDS);
                assertThat(outcome.succeeded()).isTrue();
                assertThat(outcome.taskId()).isEqualTo(TASK);
                assertThat(client.submit(Submission.of("k2", "echo").payload("x")).get(10, TimeUnit.SECONDS).taskId()).isEqualTo(TASK + 1);
                done.countDown();
                serving.get(10, TimeUnit.SECONDS);
            }
        }
    }

    private static long clientThreads()
    {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("gyre-client-") && t.isAlive()).count();
    }

    /** close() from a future's callback (the client's own thread) closes the client without waiting for itself. */
    @Test
    void shouldCloseFromItsOwnCallbackAndLetItsThreadEnd() throws Exception
    {
        final long before = clientThreads();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()))
        {
            final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            final CompletableFuture<Void> serving = script(() ->
            {
                try (Connection connection = new Connection(server))
                {
                    connection.welcome();
                    final long correlation = connection.nextSubmit();
                    final byte[] output = "x".getBytes(StandardCharsets.UTF_8);
                    connection.send(out -> Frames.result(out, correlation, TASK, TaskState.SUCCEEDED.code(), 0, 1, 1, 2, 3, 0, 0,
                        new UnsafeBuffer(output), 0, output.length));
                    done.await(10, TimeUnit.SECONDS);
                }
            });
            final GyreClient client = client(server.getLocalPort());
            final CompletableFuture<Throwable> closed = new CompletableFuture<>();
            final CompletableFuture<TaskResult> first = client.submit(Submission.of("a", "echo").payload("x"));
            final CompletableFuture<TaskResult> second = client.submit(Submission.of("b", "echo").payload("x"));
            first.whenComplete((value, failure) ->
            {
                try
                {
                    client.close();
                    closed.complete(null);
                }
                catch (final Throwable t)
                {
                    closed.complete(t);
                }
            });

            assertThat(closed.get(10, TimeUnit.SECONDS)).as("close() threw").isNull();
            // the other request is failed by the close, and the client's thread ends
            assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(GyreClientException.class)
                .hasMessageContaining("client is closed");
            await().atMost(Duration.ofSeconds(10)).until(() -> clientThreads() == before);
            assertThat(client.connected()).isFalse();
            // a request on a closed client: a failed future, as submit's Javadoc says, not an exception
            assertThat(client.submit(Submission.of("c", "echo").payload("x"))).isCompletedExceptionally();
            client.close();
            done.countDown();
            serving.get(10, TimeUnit.SECONDS);
        }
    }
}
