package io.gyre.ingress.server;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.StopReport;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The TCP front of an engine: speaks the Gyre protocol ({@code docs/PROTOCOL.md}) to many connections at
 * once, all submitting into the one engine. Netty, with epoll where it loads and NIO otherwise.
 * <p>
 * The server does not own the engine. {@link #stopGracefully()} stops both ({@code gyre serve} on SIGTERM);
 * {@link #close()} alone stops reading at once and waits for the answers in flight, leaving the engine open.
 */
public final class GyreServer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(GyreServer.class);

    private final ServerConfig config;
    private final Engine engine;
    private final ServerStats stats = new ServerStats();
    private final EventLoopGroup loops;
    private final ChannelGroup channels = new DefaultChannelGroup("gyre-connections", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Channel serverChannel;
    private final String transport;
    private final int maxFrame;
    private final ReplyBudget replies;

    private GyreServer(final Engine engine, final ServerConfig config)
    {
        this.config = config;
        this.engine = engine;
        final boolean epoll = switch (config.transport())
        {
            case EPOLL ->
            {
                Epoll.ensureAvailability();
                yield true;
            }
            case NIO -> false;
            case AUTO -> Epoll.isAvailable();
        };
        this.transport = epoll ? "epoll" : "nio";
        final IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        final Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.loops = new MultiThreadIoEventLoopGroup(config.ioThreads(), new DefaultThreadFactory("gyre-io", true), io);
        this.maxFrame = maxFrame(engine.config(), config);
        this.replies = new ReplyBudget(config.maxReplyBytes(), config.totalReplyBudget(), this::outboxes);

        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(loops)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            // a client that shuts down its sending side after its requests still gets their answers (Connection)
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(config.writeLowWaterMark(), config.writeHighWaterMark()))
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel channel)
                {
                    if (connectionCount.incrementAndGet() > config.maxConnections())
                    {
                        connectionCount.decrementAndGet();
                        channel.pipeline().addLast(new Refuse());
                        return;
                    }
                    channel.closeFuture().addListener(f -> connectionCount.decrementAndGet());
                    channels.add(channel);
                    channel.pipeline()
                        // idle: nothing received and nothing of the replies taken by the client (observing the progress
                        // of a write the socket takes piece by piece), so a client still reading its answers is not
                        .addLast("idle", new IdleStateHandler(true, 0, 0, config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
                        .addLast("gyre", new Connection(engine, config, maxFrame, stats, replies));
                }
            });
        try
        {
            this.serverChannel = bootstrap.bind(config.host(), config.port()).sync().channel();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            loops.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IllegalStateException("interrupted while binding " + config.host() + ":" + config.port(), ex);
        }
        catch (final Exception ex)
        {
            // bind failures (address in use, not local) come here, checked or not
            loops.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IllegalStateException("cannot listen on " + config.host() + ":" + config.port() + ": " + ex.getMessage(), ex);
        }
        LOG.info("listening on {} ({}, {} io thread(s), max frame {} bytes, max in flight {} per connection, unread replies held " +
                "up to {} bytes per connection and {} in all{})", address(), transport, config.ioThreads(), maxFrame, config.maxInFlight(),
            replies.perConnection(), replies.total(), config.authToken() != null ? ", auth on" : "");
    }

    /**
     * Start listening.
     *
     * @throws IllegalStateException when the address cannot be bound (in use, not local...).
     */
    public static GyreServer start(final Engine engine, final ServerConfig config)
    {
        return new GyreServer(engine, config);
    }

    /** @return the address listened on (with the actual port when 0 was asked). */
    public InetSocketAddress address()
    {
        return (InetSocketAddress)serverChannel.localAddress();
    }

    /** @return "epoll" or "nio". */
    public String transport()
    {
        return transport;
    }

    /** @return the largest frame a client may send, length field excluded. */
    public int maxFrameBytes()
    {
        return maxFrame;
    }

    public ServerStats stats()
    {
        return stats;
    }

    /** @return requests in flight over all connections. */
    public long inFlight()
    {
        long sum = 0;
        for (final Channel channel : channels)
        {
            final Connection connection = channel.pipeline().get(Connection.class);
            sum += connection == null ? 0 : connection.inFlight();
        }
        return sum;
    }

    /** @return bytes written to connections and not yet taken by their sockets, over all connections. */
    public long pendingOutboundBytes()
    {
        long sum = 0;
        for (final Channel channel : channels)
        {
            final Connection connection = channel.pipeline().get(Connection.class);
            sum += connection == null ? 0 : connection.pendingOutboundBytes();
        }
        return sum;
    }

    /**
     * @return reply bytes encoded for clients and not yet taken by their sockets, over all connections: what the
     *     reply budgets bound ({@link ServerConfig#maxReplyBytes()}, {@link ServerConfig#totalReplyBudget()}).
     */
    public long heldReplyBytes()
    {
        return replies.held();
    }

    /** The outboxes of the open connections, for the reply budget to pick the one holding the most. */
    private java.util.List<Outbox> outboxes()
    {
        final java.util.List<Outbox> all = new java.util.ArrayList<>(channels.size());
        for (final Channel channel : channels)
        {
            final Connection connection = channel.pipeline().get(Connection.class);
            final Outbox outbox = connection == null ? null : connection.outbox();
            if (outbox != null)
            {
                all.add(outbox);
            }
        }
        return all;
    }

    /**
     * Stop the server and its engine gracefully: stop accepting connections; stop the engine, while the
     * connections are still read (new requests are REJECTED {@code SHUTTING_DOWN}, PINGs answered) and the
     * answers to requests in flight go out as their tasks finish, until the engine's close timeout; then
     * {@link #close()}: the answers queued are written, then ERROR {@code SHUTTING_DOWN}, and every
     * connection closes. Requests whose tasks did not finish get no answer: their tasks carry on after the
     * next start, where resubmitting the key joins them or returns their outcome.
     *
     * @return what the engine left, as its stop record says.
     */
    public StopReport stopGracefully()
    {
        stopAccepting();
        final StopReport report = engine.stop();
        close();
        return report;
    }

    /**
     * Stop accepting connections; those open are still served. Idempotent.
     */
    public void stopAccepting()
    {
        serverChannel.close().awaitUninterruptibly();
    }

    /**
     * Stop accepting connections and reading requests, wait up to the close timeout for the answers to
     * requests in flight (not once the engine is closed: no more will come), then write the answers queued,
     * tell every client SHUTTING_DOWN and close. Idempotent.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        stopAccepting();
        forEachConnection(Connection::stopReading);
        final long deadline = System.nanoTime() + config.closeTimeout().toNanos();
        while (inFlight() > 0 && !engine.isClosed() && System.nanoTime() < deadline)
        {
            sleep(5);
        }
        final long left = inFlight();
        if (left > 0)
        {
            LOG.info("closing with {} request(s) still in flight ({}); their clients are told SHUTTING_DOWN", left,
                engine.isClosed() ? "the engine stopped: their tasks carry on after the next start" : "after " + config.closeTimeout());
        }
        forEachConnection(c ->
        {
            c.writeQueuedAnswers();
            c.fail(0, ErrorCode.SHUTTING_DOWN, "the server is shutting down");
        });
        channels.newCloseFuture().awaitUninterruptibly(1, TimeUnit.SECONDS);
        channels.close().awaitUninterruptibly();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        LOG.info("server on {} closed", serverChannel.localAddress());
    }

    private void forEachConnection(final java.util.function.Consumer<Connection> action)
    {
        for (final Channel channel : channels)
        {
            final Connection connection = channel.pipeline().get(Connection.class);
            if (connection != null)
            {
                channel.eventLoop().submit(() -> action.accept(connection)).awaitUninterruptibly();
            }
        }
    }

    private static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The largest frame: as configured, else the largest SUBMIT the engine's limits allow.
     */
    static int maxFrame(final EngineConfig engine, final ServerConfig config)
    {
        if (config.maxFrameBytes() > 0)
        {
            return config.maxFrameBytes();
        }
        final long largest = 1L + Protocol.SUBMIT_FIXED + Protocol.RETRY_POLICY_BYTES + engine.maxKeyBytes() + EngineConfig.MAX_TYPE_BYTES +
            maxTenant(engine) + (long)engine.maxPayloadBytes();
        return (int)Math.min(Integer.MAX_VALUE - 8, largest);
    }

    /**
     * The longest tenant a client may send: the engine's limit, within what a SUBMIT's one-byte length can carry.
     */
    static int maxTenant(final EngineConfig engine)
    {
        return Math.min(engine.maxTenantBytes(), Protocol.MAX_SUBMIT_TENANT);
    }

    /** Answers a connection over the limit with TOO_MANY_CONNECTIONS and closes it. */
    private final class Refuse extends ChannelInboundHandlerAdapter
    {
        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            stats.connectionRefused();
            LOG.info("refusing connection {}: TOO_MANY_CONNECTIONS (the server has its maximum of {})", ctx.channel().remoteAddress(),
                config.maxConnections());
            final ByteBuf out = ctx.alloc().ioBuffer(64);
            Frames.complaint(out, Protocol.ERROR, 0, ErrorCode.TOO_MANY_CONNECTIONS.code(),
                "the server has its maximum of " + config.maxConnections() + " connections");
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }
}
