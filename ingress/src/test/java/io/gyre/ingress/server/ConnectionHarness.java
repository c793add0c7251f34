package io.gyre.ingress.server;

import io.gyre.engine.Engine;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.testing.Wire;
import io.gyre.ingress.testing.Wire.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.gyre.ingress.protocol.Protocol.COMPLAINT_FIXED;
import static io.gyre.ingress.protocol.Protocol.COMPLAINT_MESSAGE_LENGTH;
import static io.gyre.ingress.protocol.Protocol.ERROR;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection handler in an embedded channel; answers from the engine's publish thread are handed to
 * this thread (the channel's "event loop") through a queue.
 */
final class ConnectionHarness
{
    final ServerConfig config;
    final EmbeddedChannel channel;
    final ServerStats stats;
    final BlockingQueue<Runnable> answers = new LinkedBlockingQueue<>();
    final List<Frame> received = new ArrayList<>();
    boolean direct = true;

    ConnectionHarness(final Engine engine, final ServerConfig config, final ServerStats stats)
    {
        this.config = config;
        this.stats = stats;
        this.channel = new EmbeddedChannel(new Connection(engine, config, GyreServer.maxFrame(engine.config(), config), stats,
            answers::add));
    }

    void send(final ByteBuf... frames)
    {
        for (final ByteBuf frame : frames)
        {
            final ByteBuf in;
            if (direct)
            {
                in = channel.alloc().directBuffer(frame.readableBytes());
                in.writeBytes(frame);
                frame.release();
            }
            else
            {
                in = frame;
            }
            channel.writeInbound(in);
        }
    }

    /** Wait (up to 10 s) for n more frames. */
    List<Frame> receive(final int n)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.size() < n && System.nanoTime() < deadline)
        {
            pump(10);
        }
        assertThat(received).as("frames received").hasSizeGreaterThanOrEqualTo(n);
        final List<Frame> out = new ArrayList<>(received.subList(0, n));
        received.subList(0, n).clear();
        return out;
    }

    /** Everything that arrives within the time. */
    List<Frame> drainFor(final long millis)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline)
        {
            pump(5);
        }
        final List<Frame> out = new ArrayList<>(received);
        received.clear();
        return out;
    }

    List<Frame> receiveUntilClosed()
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (channel.isActive() && System.nanoTime() < deadline)
        {
            pump(10);
        }
        pump(0);
        final List<Frame> out = new ArrayList<>(received);
        received.clear();
        return out;
    }

    Frame expectError(final ErrorCode code)
    {
        final List<Frame> frames = receiveUntilClosed();
        assertThat(frames).as("frames before the close").isNotEmpty();
        final Frame error = frames.get(frames.size() - 1);
        assertThat(error.opcode()).isEqualTo(ERROR);
        assertThat(error.body()).hasSize(COMPLAINT_FIXED + error.u16(COMPLAINT_MESSAGE_LENGTH));
        assertThat(ErrorCode.fromCode(error.code())).as(error.message()).isEqualTo(code);
        assertThat(error.correlation()).isZero();
        assertThat(error.message()).isNotBlank();
        assertThat(channel.isActive()).as("closed after the error").isFalse();
        return error;
    }

    private void pump(final long waitMillis)
    {
        try
        {
            final Runnable task = answers.poll(waitMillis, TimeUnit.MILLISECONDS);
            if (task != null)
            {
                task.run();
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        channel.runPendingTasks();
        channel.runScheduledPendingTasks();
        ByteBuf out;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while ((out = channel.readOutbound()) != null)
        {
            bytes.writeBytes(Wire.bytes(out));
        }
        received.addAll(Wire.split(bytes.toByteArray()));
    }
}
