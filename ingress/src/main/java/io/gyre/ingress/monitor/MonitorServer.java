package io.gyre.ingress.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineClosedException;
import io.gyre.engine.EngineHealth;
import io.gyre.engine.InvalidTaskException;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskState;
import io.gyre.engine.TaskStatus;
import io.gyre.ingress.server.GyreServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The operators' HTTP endpoint, on its own port and its own event loop thread (a scrape never delays task
 * traffic):
 * <ul>
 * <li>{@code GET /metrics}: Prometheus text format (written by the Prometheus client's exposition library);</li>
 * <li>{@code GET /health/live}: 200 while the process serves HTTP at all;</li>
 * <li>{@code GET /health/ready}: 200 when the engine recovered its state, takes work, can write its journal
 *     and its ring is not saturated, 503 otherwise; the JSON body says which check failed;</li>
 * <li>{@code GET /tasks/{key}}: a task's status as JSON (404 when the engine knows no such key).</li>
 * </ul>
 * Anything else is answered 404 (unknown path) or 405 (another method); a malformed request 400.
 */
public final class MonitorServer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(MonitorServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REQUEST_BYTES = 8192;
    /** Above this share of the ring in use, the engine is not ready for more work. */
    private static final double SATURATED = 0.9;

    /** Null while the engine is being opened (replaying its journal): the endpoint says so. */
    private volatile Engine engine;
    private volatile GyreMetrics metrics;
    private final long startedAt = System.currentTimeMillis();
    private final EventLoopGroup loop;
    private final Channel channel;

    private MonitorServer(final String host, final int port, final Engine engine, final GyreServer server)
    {
        this.engine = engine;
        this.metrics = engine == null ? null : new GyreMetrics(engine, server);
        this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("gyre-monitor", true), NioIoHandler.newFactory());
        final ServerBootstrap bootstrap = new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    ch.pipeline()
                        .addLast(new ReadTimeoutHandler(30, TimeUnit.SECONDS))
                        .addLast(new HttpServerCodec(4096, MAX_REQUEST_BYTES, MAX_REQUEST_BYTES))
                        .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                        .addLast(new Handler());
                }
            });
        try
        {
            this.channel = bootstrap.bind(host, port).sync().channel();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IllegalStateException("interrupted while binding the monitoring endpoint " + host + ":" + port, ex);
        }
        catch (final Exception ex)
        {
            loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IllegalStateException("cannot listen for monitoring on " + host + ":" + port + ": " + ex.getMessage(), ex);
        }
        LOG.info("monitoring endpoint on http://{}:{}/", address().getHostString(), address().getPort());
    }

    /**
     * Start the endpoint.
     *
     * @param server the TCP server whose figures to expose too, or null.
     * @throws IllegalStateException when the address cannot be bound.
     */
    public static MonitorServer start(final String host, final int port, final Engine engine, final GyreServer server)
    {
        return new MonitorServer(host, port, java.util.Objects.requireNonNull(engine, "engine"), server);
    }

    /**
     * Start the endpoint before the engine exists, so that while the engine recovers (replays its journal, which
     * can take a while) it is live and says it is not ready; {@link #attach} it to the engine once open.
     *
     * @throws IllegalStateException when the address cannot be bound.
     */
    public static MonitorServer startRecovering(final String host, final int port)
    {
        return new MonitorServer(host, port, null, null);
    }

    /**
     * The engine has recovered: from now on the endpoint exposes it (and the TCP server, if not null).
     */
    public void attach(final Engine opened, final GyreServer server)
    {
        metrics = new GyreMetrics(opened, server);
        engine = opened;
    }

    /** How long a close waits for the monitor's thread to let its channel go, and again for the thread to end. */
    private static final long CLOSE_WAIT_SECONDS = 2;

    public InetSocketAddress address()
    {
        return (InetSocketAddress)channel.localAddress();
    }

    @Override
    public void close()
    {
        // bounded: the monitor's one thread may be stuck in a handler's gauges() that never returns (an outside check's
        // plugin), and a stop must not wait for it for ever (the process exits all the same)
        final long start = System.nanoTime();
        final boolean closed = channel.close().awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS) &&
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(CLOSE_WAIT_SECONDS + 1, TimeUnit.SECONDS);
        if (!closed)
        {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            LOG.warn("the monitor's thread did not stop within {} s (busy in a task type's gauges()?); not waiting for it",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
        }
    }

    /**
     * @return the readiness checks, each "ok" or why not, and whether all passed.
     */
    ObjectNode readiness()
    {
        final ObjectNode body = JSON.createObjectNode();
        final ObjectNode checks = body.putObject("checks");
        final Engine engine = this.engine;
        if (engine == null)
        {
            checks.put("recovery", "no: recovering the journal for " + (System.currentTimeMillis() - startedAt) + " ms");
            body.put("ready", false);
            return body;
        }
        boolean ready = true;
        // the engine exists only once it has replayed its journal
        checks.put("recovery", "ok: " + engine.recovery().recordsReplayed() + " records replayed");
        if (!engine.accepting())
        {
            checks.put("accepting", "no: the engine is closing");
            ready = false;
        }
        else
        {
            checks.put("accepting", "ok");
        }
        final EngineHealth health = engine.health();
        // measured now: an idle engine has not tried to write since its disk filled, and an outage's reason is the
        // failure that began it (its figure stayed the first refusal's for the whole outage: an outside check)
        final String shortage = engine.journalSpaceShortage();
        if (health.state() == EngineHealth.State.JOURNAL_UNAVAILABLE)
        {
            checks.put("journal", "no: " + health.reason() + (shortage == null ? "; space now: room for a document" : "; now: " + shortage));
            ready = false;
        }
        else if (shortage != null)
        {
            checks.put("journal", "no: " + shortage);
            ready = false;
        }
        else
        {
            checks.put("journal", "ok: writable");
        }
        final String stalled = engine.stalledStage();
        if (stalled != null)
        {
            checks.put("stages", "no: " + stalled);
            ready = false;
        }
        else
        {
            checks.put("stages", "ok: moving or idle");
        }
        final int ringSize = engine.config().ringSize();
        final long backlog = engine.ringBacklog();
        if (backlog > ringSize)
        {
            // follow-ups the engine owes its ring, waiting for room
            checks.put("ring", "no: " + ringSize + " of " + ringSize + " slots in use, " + (backlog - ringSize) + " more events waiting for room");
            ready = false;
        }
        else if (backlog >= ringSize * SATURATED)
        {
            checks.put("ring", "no: " + backlog + " of " + ringSize + " slots in use");
            ready = false;
        }
        else
        {
            checks.put("ring", "ok: " + backlog + " of " + ringSize + " slots in use");
        }
        body.put("ready", ready);
        return body;
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request) throws Exception
        {
            final boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess())
            {
                respond(ctx, false, HttpResponseStatus.BAD_REQUEST, error("malformed request: " + request.decoderResult().cause()));
                return;
            }
            final String path;
            try
            {
                // decoded once, here: a key's own '%' (sent as %25) must stay a '%'
                path = new QueryStringDecoder(request.uri()).path();
            }
            catch (final IllegalArgumentException ex)
            {
                respond(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, error("malformed request path " + request.uri() + ": " + ex.getMessage()));
                return;
            }
            final boolean known = path.equals("/metrics") || path.equals("/health/live") || path.equals("/health/ready") ||
                path.startsWith("/tasks/");
            if (!known)
            {
                respond(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, error("no such path: " + path +
                    " (try /metrics, /health/live, /health/ready, /tasks/{key})"));
                return;
            }
            if (request.method() != HttpMethod.GET)
            {
                final FullHttpResponse response = response(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    error(request.method() + " is not allowed here; use GET"), "application/json");
                response.headers().set(HttpHeaderNames.ALLOW, "GET");
                send(ctx, keepAlive, response);
                return;
            }
            if (engine == null && !path.equals("/health/live") && !path.equals("/health/ready"))
            {
                if (path.equals("/metrics"))
                {
                    recoveringMetrics(ctx, keepAlive);
                }
                else
                {
                    respond(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, error("the engine is recovering its journal"));
                }
                return;
            }
            switch (path)
            {
                case "/metrics" -> metrics(ctx, keepAlive);
                case "/health/live" -> respond(ctx, keepAlive, HttpResponseStatus.OK, JSON.createObjectNode().put("live", true));
                case "/health/ready" ->
                {
                    final ObjectNode body = readiness();
                    respond(ctx, keepAlive, body.get("ready").asBoolean() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
                }
                default -> task(ctx, keepAlive, path.substring("/tasks/".length()));
            }
        }

        /** While recovering: one gauge saying so, so a scrape finds the process and why it has no figures yet. */
        private void recoveringMetrics(final ChannelHandlerContext ctx, final boolean keepAlive) throws IOException
        {
            final ByteBuf buffer = ctx.alloc().buffer();
            try (ByteBufOutputStream out = new ByteBufOutputStream(buffer))
            {
                PrometheusTextFormatWriter.create().write(out, io.prometheus.metrics.model.snapshots.MetricSnapshots.of(
                    io.prometheus.metrics.model.snapshots.GaugeSnapshot.builder().name("gyre_recovering")
                        .help("1 while the engine replays its journal at start, 0 once it has.")
                        .dataPoint(io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot.builder().value(1).build())
                        .build()));
            }
            catch (final IOException | RuntimeException ex)
            {
                buffer.release();
                throw ex;
            }
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buffer);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, PrometheusTextFormatWriter.CONTENT_TYPE);
            send(ctx, keepAlive, response);
        }

        private void metrics(final ChannelHandlerContext ctx, final boolean keepAlive) throws IOException
        {
            final ByteBuf buffer = ctx.alloc().buffer();
            try (ByteBufOutputStream out = new ByteBufOutputStream(buffer))
            {
                PrometheusTextFormatWriter.create().write(out, metrics.collect());
            }
            catch (final IOException | RuntimeException ex)
            {
                // a bug in collecting: the scraper hears it (500, the cause), the log has the stack
                buffer.release();
                LOG.warn("collecting metrics failed", ex);
                respond(ctx, keepAlive, HttpResponseStatus.INTERNAL_SERVER_ERROR, error("collecting metrics failed: " + ex));
                return;
            }
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buffer);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, PrometheusTextFormatWriter.CONTENT_TYPE);
            send(ctx, keepAlive, response);
        }

        private void task(final ChannelHandlerContext ctx, final boolean keepAlive, final String key)
        {
            final CompletableFuture<TaskStatus> status;
            try
            {
                status = engine.status(key);
            }
            catch (final InvalidTaskException ex)
            {
                respond(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, error(ex.getMessage()));
                return;
            }
            catch (final EngineClosedException ex)
            {
                respond(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, error(ex.getMessage()));
                return;
            }
            status.whenComplete((s, failure) ->
            {
                if (failure != null)
                {
                    respond(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, error(failure.toString()));
                }
                else if (!s.found())
                {
                    respond(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, error("no task with key " + key));
                }
                else
                {
                    respond(ctx, keepAlive, HttpResponseStatus.OK, taskJson(s));
                }
            });
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            LOG.debug("monitoring connection {} failed", ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }

    static ObjectNode taskJson(final TaskStatus s)
    {
        final ObjectNode node = JSON.createObjectNode();
        node.put("key", s.key()).put("taskId", s.taskId()).put("state", s.state().name()).put("attempts", s.attempts())
            .put("maxAttempts", s.maxAttempts()).put("submittedAt", s.submittedAt());
        final Outcome outcome = s.outcome();
        if (outcome != null)
        {
            final ObjectNode o = node.putObject("outcome");
            o.put("state", outcome.state().name()).put("attempts", outcome.attempts())
                .put("startedAt", outcome.startedAt()).put("finishedAt", outcome.finishedAt());
            if (outcome.error() != null)
            {
                o.put("error", outcome.error());
            }
            final byte[] output = outcome.output() != null ? outcome.output() : new byte[0];
            if (outcome.state() == TaskState.SUCCEEDED || output.length > 0)
            {
                // text as text; bytes that are not UTF-8 as base64, so nothing is lost (as gyre status does); a success
                // always has its output, an empty one as "" (as gyre status prints it), so that none reads as unknown
                final java.nio.CharBuffer text = decodedOrNull(output);
                if (text != null)
                {
                    o.put("output", text.toString());
                }
                else
                {
                    o.put("outputBase64", java.util.Base64.getEncoder().encodeToString(output));
                }
            }
        }
        return node;
    }

    private static java.nio.CharBuffer decodedOrNull(final byte[] bytes)
    {
        try
        {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes));
        }
        catch (final java.nio.charset.CharacterCodingException notUtf8)
        {
            return null;
        }
    }

    private static ObjectNode error(final String message)
    {
        return JSON.createObjectNode().put("error", message);
    }

    private static FullHttpResponse response(final HttpResponseStatus status, final ObjectNode body, final String contentType)
    {
        final byte[] bytes;
        try
        {
            bytes = JSON.writeValueAsBytes(body);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        return response;
    }

    private static void respond(final ChannelHandlerContext ctx, final boolean keepAlive, final HttpResponseStatus status, final ObjectNode body)
    {
        send(ctx, keepAlive, response(status, body, "application/json"));
    }

    private static void send(final ChannelHandlerContext ctx, final boolean keepAlive, final FullHttpResponse response)
    {
        HttpUtil.setContentLength(response, response.content().readableBytes());
        if (keepAlive)
        {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        }
        else
        {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
