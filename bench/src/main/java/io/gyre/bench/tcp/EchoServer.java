package io.gyre.bench.tcp;

import io.gyre.ingress.cli.ServeCommand;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.agrona.concurrent.UnsafeBuffer;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The ceiling for the TCP benchmark: a raw Netty server that speaks just enough of the Gyre protocol
 * (HELLO → WELCOME, SUBMIT → RESULT) with the same frame sizes as a Gyre server running noop tasks, and
 * does nothing else: no ring, no journal, no engine. One event loop, epoll where it loads; writes without
 * flushing and flushes once per read, the batched style that measured fastest here (PLATFORM.md).
 */
public final class EchoServer implements AutoCloseable
{
    private static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    private final EventLoopGroup group;
    private final Channel channel;

    private EchoServer(final String host, final int port)
    {
        final boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("echo-io", true),
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        channel = new ServerBootstrap()
            .group(group)
            .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    ch.pipeline().addLast(new Echo());
                }
            })
            .bind(host, port)
            .syncUninterruptibly()
            .channel();
    }

    public static EchoServer start(final String host, final int port)
    {
        return new EchoServer(host, port);
    }

    public InetSocketAddress address()
    {
        return (InetSocketAddress)channel.localAddress();
    }

    @Override
    public void close()
    {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * {@code EchoServer [port]}: serve until killed; prints {@code echo serving on HOST:PORT}.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        ServeCommand.quietLeakDetector();
        final EchoServer server = start("127.0.0.1", args.length > 0 ? Integer.parseInt(args[0]) : 0);
        System.out.println("echo serving on " + server.address().getHostString() + ":" + server.address().getPort());
        System.out.flush();
        new CountDownLatch(1).await();
    }

    /** Frames decoded in place from the cumulation; answers gathered in one buffer, written and flushed at the end of the read. */
    private static final class Echo extends ByteToMessageDecoder
    {
        private long taskId;
        private ByteBuf replies;

        @Override
        protected void decode(final ChannelHandlerContext ctx, final ByteBuf in, final List<Object> out)
        {
            while (in.readableBytes() >= Protocol.LENGTH_BYTES)
            {
                final int start = in.readerIndex();
                final int length = in.getInt(start);
                if (in.readableBytes() < Protocol.LENGTH_BYTES + length)
                {
                    return;
                }
                final int opcode = in.getUnsignedByte(start + Protocol.LENGTH_BYTES);
                final int body = start + Protocol.HEADER_BYTES;
                if (replies == null)
                {
                    replies = ctx.alloc().ioBuffer(8192);
                }
                final ByteBuf reply = replies;
                if (opcode == Protocol.HELLO)
                {
                    final int flags = in.getUnsignedShort(body + Protocol.HELLO_FLAGS);
                    Frames.welcome(reply, (flags & Protocol.HELLO_FLAG_RESULTS_ONLY) != 0 ? Protocol.WELCOME_FLAG_RESULTS_ONLY : 0,
                        1 << 20, 4096, 60_000, 256, 64, 64, 1 << 20, 1 << 20);
                }
                else if (opcode == Protocol.SUBMIT)
                {
                    final long now = System.currentTimeMillis() * 1_000_000L;
                    Frames.result(reply, in.getLong(body + Protocol.SUBMIT_CORRELATION), ++taskId, 3, 0, 1, now, now, now, 0, 0, EMPTY, 0, 0);
                }
                else
                {
                    Frames.ping(reply, Protocol.PONG, in.getLong(body));
                }
                in.readerIndex(start + Protocol.LENGTH_BYTES + length);
            }
        }

        @Override
        protected void handlerRemoved0(final ChannelHandlerContext ctx)
        {
            if (replies != null)
            {
                replies.release();
                replies = null;
            }
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx) throws Exception
        {
            if (replies != null)
            {
                ctx.writeAndFlush(replies, ctx.voidPromise());
                replies = null;
            }
            super.channelReadComplete(ctx);
        }
    }
}
