package io.gyre.bench.tcp;

import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.HdrHistogram.Histogram;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Drives a Gyre server (or the {@link EchoServer}) with noop submissions over several pipelined
 * connections and measures what comes back.
 * <ul>
 * <li>Closed loop: each connection keeps {@code window} submissions in flight, sending one more for each
 *     result, as fast as the server answers. Latency is from send to result.</li>
 * <li>Open loop: submissions go out on a fixed schedule ({@code rate} a second over all connections),
 *     in bursts when the sender is behind, never skipped. Latency is from each task's <em>intended</em>
 *     send time to its result, so a stalled server or sender is charged for the whole stall (no
 *     coordinated omission).</li>
 * </ul>
 * Everything runs on the client's event loop(s): frames are written into pooled buffers and flushed once
 * per burst, results decoded in place. Only results of tasks sent in the measurement window count.
 */
public final class LoadGenerator
{
    private static final int STATE_SUCCEEDED = 3;
    /**
     * Diagnosis: with {@code -Dbench.slow.us=N}, every task slower than N us is printed with where its time
     * went by the server's clock (to the journal stage, in the engine, back to the client). Printing
     * perturbs the run: not for measurements.
     */
    private static final long SLOW = Long.getLong("bench.slow.us", 0) * 1000;
    private static final org.agrona.concurrent.EpochNanoClock CLOCK = new org.agrona.concurrent.OffsetEpochNanoClock();

    /**
     * @param rate tasks a second over all connections, or 0 for a closed loop.
     */
    public record Settings(
        InetSocketAddress target,
        int connections,
        int window,
        long rate,
        double warmupSeconds,
        double durationSeconds,
        int payloadBytes,
        boolean acks,
        int clientThreads,
        String keyPrefix)
    {
        public String scenario()
        {
            return rate > 0 ? "open-r" + rate + "-c" + connections : "closed-c" + connections + "-w" + window;
        }
    }

    /**
     * What a run measured.
     *
     * @param completed results of tasks sent in the measurement window.
     * @param tasksPerSecond completed over the measured time.
     * @param errors anything but a SUCCEEDED result (refusals, other states, errors, lost connections).
     * @param histogram latencies in nanoseconds.
     */
    public record Result(long completed, double tasksPerSecond, long errors, String firstError, Histogram histogram, long sent, long accepted)
    {
        public double percentileMicros(final double percentile)
        {
            return histogram.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    private LoadGenerator()
    {
    }

    public static Result run(final Settings settings) throws InterruptedException
    {
        final boolean epoll = Epoll.isAvailable();
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(settings.clientThreads(), new DefaultThreadFactory("load", true),
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        final List<Conn> conns = new ArrayList<>();
        final CountDownLatch ready = new CountDownLatch(settings.connections());
        try
        {
            final long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            final long measureFrom = start + (long)(settings.warmupSeconds() * 1e9);
            final long measureTo = measureFrom + (long)(settings.durationSeconds() * 1e9);
            for (int i = 0; i < settings.connections(); i++)
            {
                final Conn conn = new Conn(settings, i, start, measureFrom, measureTo, ready);
                conns.add(conn);
                final Channel ch = new Bootstrap()
                    .group(group)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>()
                    {
                        @Override
                        protected void initChannel(final SocketChannel channel)
                        {
                            channel.pipeline().addLast(conn);
                        }
                    })
                    .connect(settings.target())
                    .syncUninterruptibly()
                    .channel();
                conn.channel = ch;
            }
            if (!ready.await(30, TimeUnit.SECONDS))
            {
                throw new IllegalStateException("no WELCOME from " + settings.target() + " on every connection");
            }
            for (final Conn conn : conns)
            {
                conn.channel.eventLoop().execute(conn::begin);
            }
            final long sleepNanos = measureTo - System.nanoTime();
            if (sleepNanos > 0)
            {
                TimeUnit.NANOSECONDS.sleep(sleepNanos);
            }
            // let what was sent in the window come back (late results count: they are the latency)
            final long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < drainDeadline && conns.stream().anyMatch(c -> c.outstandingMeasured() > 0))
            {
                Thread.sleep(10);
            }
            final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
            long completed = 0;
            long errors = 0;
            long sent = 0;
            long accepted = 0;
            String firstError = null;
            for (final Conn conn : conns)
            {
                final Conn c = conn;
                c.channel.eventLoop().submit(() ->
                {
                    c.stop();
                    return null;
                }).syncUninterruptibly();
                histogram.add(c.histogram);
                completed += c.completedMeasured;
                errors += c.errors + c.outstandingMeasured() + (c.senderError != null ? 1 : 0);
                sent += c.sent;
                accepted += c.accepted;
                if (firstError == null)
                {
                    firstError = c.senderError != null ? c.senderError : c.firstError != null ? c.firstError :
                        c.outstandingMeasured() > 0 ? c.outstandingMeasured() + " tasks never answered" : null;
                }
            }
            return new Result(completed, completed / settings.durationSeconds(), errors, firstError, histogram, sent, accepted);
        }
        finally
        {
            for (final Conn conn : conns)
            {
                if (conn.channel != null)
                {
                    conn.channel.close().syncUninterruptibly();
                }
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * One connection: sends on its schedule (open) or window (closed), decodes results in place.
     */
    private static final class Conn extends ByteToMessageDecoder
    {
        private final Settings settings;
        private final long start;
        private final long measureFrom;
        private final long measureTo;
        private final CountDownLatch ready;
        private final byte[] type = "noop".getBytes(StandardCharsets.US_ASCII);
        private final byte[] tenant = new byte[0];
        private final byte[] payload;
        private final byte[] keyPrefix;
        private final byte[] key;
        private final long[] intended;
        private final int mask;
        private final long interval;
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);

        Channel channel;
        private volatile boolean stopped;
        volatile long nextIntended;
        volatile long sent;
        volatile long answeredAll;
        volatile String senderError;
        long accepted;
        long completedMeasured;
        volatile long sentMeasured;
        volatile long answeredMeasured;
        long errors;
        String firstError;
        private long outstanding;
        private int slowPrinted;
        private long lastSubmitted;
        private long lastFinished;

        Conn(final Settings settings, final int index, final long start, final long measureFrom, final long measureTo,
            final CountDownLatch ready)
        {
            this.settings = settings;
            this.start = start;
            this.measureFrom = measureFrom;
            this.measureTo = measureTo;
            this.ready = ready;
            this.payload = new byte[settings.payloadBytes()];
            this.keyPrefix = (settings.keyPrefix() + "-" + index + "-").getBytes(StandardCharsets.US_ASCII);
            this.key = new byte[keyPrefix.length + 16];
            System.arraycopy(keyPrefix, 0, key, 0, keyPrefix.length);
            final int slots = settings.rate() > 0 ? 1 << 21 : Integer.highestOneBit(Math.max(1, settings.window()) * 2 - 1) * 2;
            this.intended = new long[slots];
            this.mask = slots - 1;
            this.nextIntended = start;
            this.interval = settings.rate() > 0 ? Math.max(1, (long)(1e9 * settings.connections() / settings.rate())) : 0;
        }

        long outstandingMeasured()
        {
            return sentMeasured - answeredMeasured;
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx) throws Exception
        {
            final ByteBuf hello = ctx.alloc().ioBuffer(64);
            Frames.hello(hello, Protocol.VERSION, settings.acks() ? 0 : Protocol.HELLO_FLAG_RESULTS_ONLY, new byte[0]);
            ctx.writeAndFlush(hello, ctx.voidPromise());
            super.channelActive(ctx);
        }

        /** On the event loop, once every connection is ready. */
        void begin()
        {
            if (settings.rate() == 0)
            {
                final long wait = start - System.nanoTime();
                channel.eventLoop().schedule(this::topUp, Math.max(0, wait), TimeUnit.NANOSECONDS);
            }
            else
            {
                sendOnLoop();
            }
        }

        /**
         * Open loop, on the connection's event loop: send every task whose intended time has come, then wake
         * when the next one is due. A task goes out at or after its intended time, never before; how late
         * (the timer's granularity, tens of microseconds here) is part of its measured latency. Sending from
         * the event loop, rather than from a thread of its own that hands each burst to it, saves a thread
         * wake-up per burst: with it, the echo server's p50 at 20k/s fell from 177-214 to 157-167 us.
         */
        private void sendOnLoop()
        {
            if (stopped)
            {
                return;
            }
            // a wake-up late past the window's end still sends what was due within it (and nothing after)
            sendDue(Math.min(System.nanoTime(), measureTo - 1));
            if (nextIntended < measureTo)
            {
                channel.eventLoop().schedule(this::sendOnLoop, Math.max(0, nextIntended - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        }

        void stop()
        {
            stopped = true;
        }

        /** Open loop: send everything due by now. */
        void sendDue(final long now)
        {
            if (stopped || nextIntended > now)
            {
                return;
            }
            if (sent - answeredAll >= intended.length)
            {
                stopped = true;
                senderError = "more than " + intended.length + " tasks outstanding on one connection: the server is not keeping up";
                return;
            }
            final ByteBuf out = channel.alloc().ioBuffer(4096);
            while (nextIntended <= now && sent - answeredAll < intended.length)
            {
                send(out, nextIntended);
                nextIntended += interval;
            }
            channel.writeAndFlush(out, channel.voidPromise());
        }

        /** Closed loop: keep the window full. */
        private void topUp()
        {
            if (stopped)
            {
                return;
            }
            final long now = System.nanoTime();
            if (now >= measureTo)
            {
                return;
            }
            if (outstanding >= settings.window())
            {
                return;
            }
            final ByteBuf out = channel.alloc().ioBuffer(4096);
            while (outstanding < settings.window())
            {
                send(out, now);
            }
            channel.writeAndFlush(out, channel.voidPromise());
        }

        private void send(final ByteBuf out, final long intendedAt)
        {
            final long correlation = sent++;
            intended[(int)(correlation & mask)] = intendedAt;
            if (intendedAt >= measureFrom && intendedAt < measureTo)
            {
                sentMeasured++;
            }
            outstanding++;
            writeKey(correlation);
            Frames.submit(out, correlation, 1, 0, 0, 0, key, type, tenant, payload, 0, payload.length);
        }

        /** The key: prefix, then the correlation as 16 hex digits (no allocation). */
        private void writeKey(final long correlation)
        {
            long v = correlation;
            for (int i = key.length - 1; i >= keyPrefix.length; i--)
            {
                final int digit = (int)(v & 0xF);
                key[i] = (byte)(digit < 10 ? '0' + digit : 'a' + digit - 10);
                v >>>= 4;
            }
        }

        @Override
        protected void decode(final ChannelHandlerContext ctx, final ByteBuf in, final List<Object> out)
        {
            boolean answered = false;
            while (in.readableBytes() >= Protocol.LENGTH_BYTES)
            {
                final int at = in.readerIndex();
                final int length = in.getInt(at);
                if (in.readableBytes() < Protocol.LENGTH_BYTES + length)
                {
                    break;
                }
                final int opcode = in.getUnsignedByte(at + Protocol.LENGTH_BYTES);
                final int body = at + Protocol.HEADER_BYTES;
                switch (opcode)
                {
                    case Protocol.WELCOME -> ready.countDown();
                    case Protocol.ACCEPTED -> accepted++;
                    case Protocol.RESULT ->
                    {
                        final int state = in.getUnsignedByte(body + Protocol.RESULT_STATE);
                        lastSubmitted = in.getLong(body + Protocol.RESULT_SUBMITTED_AT);
                        lastFinished = in.getLong(body + Protocol.RESULT_FINISHED_AT);
                        answer(in.getLong(body + Protocol.RESULT_CORRELATION),
                            state == STATE_SUCCEEDED ? null : "RESULT with state " + state);
                        answered = true;
                    }
                    case Protocol.REJECTED ->
                    {
                        final int code = in.getUnsignedShort(body + Protocol.COMPLAINT_CODE);
                        final int messageLength = in.getUnsignedShort(body + Protocol.COMPLAINT_MESSAGE_LENGTH);
                        answer(in.getLong(body), "REJECTED " + code + ": " +
                            in.toString(body + Protocol.COMPLAINT_FIXED, messageLength, StandardCharsets.UTF_8));
                        answered = true;
                    }
                    case Protocol.ERROR ->
                    {
                        final int messageLength = in.getUnsignedShort(body + Protocol.COMPLAINT_MESSAGE_LENGTH);
                        fail("ERROR " + in.getUnsignedShort(body + Protocol.COMPLAINT_CODE) + ": " +
                            in.toString(body + Protocol.COMPLAINT_FIXED, messageLength, StandardCharsets.UTF_8));
                    }
                    default -> fail("unexpected " + Protocol.opcodeName(opcode));
                }
                in.readerIndex(at + Protocol.LENGTH_BYTES + length);
            }
            if (answered && settings.rate() == 0)
            {
                topUp();
            }
        }

        private void answer(final long correlation, final String error)
        {
            final long now = System.nanoTime();
            outstanding--;
            answeredAll++;
            final long intendedAt = intended[(int)(correlation & mask)];
            if (intendedAt >= measureFrom && intendedAt < measureTo)
            {
                answeredMeasured++;
                if (error == null)
                {
                    completedMeasured++;
                    if (SLOW > 0 && now - intendedAt > SLOW && slowPrinted++ < 100000)
                    {
                        final long epochNow = CLOCK.nanoTime();
                        final long epochIntended = epochNow - (now - intendedAt);
                        System.out.println("SLOW at_ms=" + (intendedAt - measureFrom) / 1_000_000 + " lat_us=" + (now - intendedAt) / 1000 +
                            " to_journal_us=" + (lastSubmitted - epochIntended) / 1000 + " engine_us=" + (lastFinished - lastSubmitted) / 1000 +
                            " back_us=" + (epochNow - lastFinished) / 1000);
                    }
                    histogram.recordValue(Math.min(now - intendedAt, histogram.getHighestTrackableValue()));
                }
            }
            if (error != null)
            {
                errors++;
                if (firstError == null)
                {
                    firstError = error;
                }
            }
        }

        private void fail(final String error)
        {
            errors++;
            if (firstError == null)
            {
                firstError = error;
            }
            stop();
        }

        @Override
        public void channelInactive(final ChannelHandlerContext ctx) throws Exception
        {
            if (!stopped)
            {
                fail("connection closed by the server");
            }
            super.channelInactive(ctx);
        }
    }
}
