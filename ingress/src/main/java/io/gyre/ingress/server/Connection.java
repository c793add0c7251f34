package io.gyre.ingress.server;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineClosedException;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.EventFilter;
import io.gyre.engine.EventSubscription;
import io.gyre.engine.InvalidTaskException;
import io.gyre.engine.Priority;
import io.gyre.engine.TaskRequest;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.protocol.RejectCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import static io.gyre.ingress.protocol.Protocol.*;

/**
 * One client connection: decodes its frames in place from the bytes received, straight into the engine's
 * ring (one copy, from the socket buffer into the ring slot; no object per frame), and writes the answers
 * the engine's publish thread gathers for it through its {@link Outbox}, one flush per engine batch.
 * <p>
 * Reading stops, and resumes by itself, when the connection has {@code maxInFlight} requests unanswered,
 * when its answers are not being read (the channel's write buffer is above its high-water mark), and when
 * the engine's ring is full (unless BUSY refusals are configured). A protocol error is answered with an
 * ERROR frame, then this connection, and nothing else, is closed.
 * <p>
 * Replies to requests already in flight keep coming while reading is paused; the bytes of them held for a
 * client that does not read are bounded by the {@link ReplyBudget}: past it the connection is closed with ERROR
 * SLOW_CONSUMER at once (not waiting for that frame to be taken) and everything it held is released.
 * <p>
 * A connection may hold one status event subscription (SUBSCRIBE): its events are written by an
 * {@link EventProxy} on this event loop while the channel is writable, and wait (bounded) in the subscription
 * otherwise; it ends with UNSUBSCRIBE, an ERROR, or the connection's close.
 * <p>
 * Everything here runs on the connection's event loop, except the {@link Outbox}'s callbacks.
 */
final class Connection extends ChannelInboundHandlerAdapter
{
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
    private static final byte[] EMPTY = new byte[0];
    private static final int TYPE_CACHE_SIZE = 16;
    private static final long RING_RETRY_MICROS = 100;
    private static final long CLOSE_GRACE_MILLIS = 1000;

    // why reading is paused (reading runs when none is set)
    private static final int PAUSED_IN_FLIGHT = 1;
    private static final int PAUSED_WRITES = 2;
    private static final int PAUSED_RING = 4;
    private static final int PAUSED_SHUTDOWN = 8;

    private final Engine engine;
    private final ServerConfig config;
    private final int maxFrame;
    private final ServerStats stats;
    private final TaskRequest request = new TaskRequest();
    private final UnsafeBuffer keyView = new UnsafeBuffer(EMPTY);
    private final UnsafeBuffer tenantView = new UnsafeBuffer(EMPTY);
    private final UnsafeBuffer payloadView = new UnsafeBuffer(EMPTY);
    private final byte[][] typeBytes = new byte[TYPE_CACHE_SIZE][];
    private final String[] typeNames = new String[TYPE_CACHE_SIZE];
    private int typeCount;

    private ChannelHandlerContext ctx;
    private Outbox outbox;
    /** The client shut down its sending side: nothing more will be read; the connection closes once it is answered. */
    private boolean inputShutdown;
    private ByteBuf cumulation;
    private boolean handshaken;
    /** Closes the connection when no complete HELLO came within the idle timeout of connecting; cancelled by the HELLO. */
    private java.util.concurrent.ScheduledFuture<?> handshakeDeadline;
    private boolean closing;
    private boolean flushNeeded;
    private int paused;
    private boolean ringRetryScheduled;
    private final Runnable ringRetry = this::retryAfterRingFull;

    private final Executor answers;
    private final ReplyBudget budget;

    // status events: the connection's subscription (one at most) and the proxy writing its frames
    private EventSubscription subscription;
    private EventProxy events;

    Connection(final Engine engine, final ServerConfig config, final int maxFrame, final ServerStats stats, final ReplyBudget budget)
    {
        this(engine, config, maxFrame, stats, null, budget);
    }

    /**
     * @param answers where the outbox's drain runs; null for the channel's event loop (tests pass their own,
     *     to run it on their thread).
     */
    Connection(final Engine engine, final ServerConfig config, final int maxFrame, final ServerStats stats, final Executor answers)
    {
        this(engine, config, maxFrame, stats, answers, ReplyBudget.of(config));
    }

    /**
     * @param budget the bound on reply bytes held, this connection's and the server's.
     */
    Connection(
        final Engine engine,
        final ServerConfig config,
        final int maxFrame,
        final ServerStats stats,
        final Executor answers,
        final ReplyBudget budget)
    {
        this.engine = engine;
        this.config = config;
        this.maxFrame = maxFrame;
        this.stats = stats;
        this.answers = answers;
        this.budget = budget;
    }

    // ------------------------------------------------------------------------------------------------
    // Channel events

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        this.outbox = new Outbox(ctx, answers != null ? answers : ctx.executor(), this::afterDrain, budget, this::slowConsumer);
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx) throws Exception
    {
        stats.opened();
        // the HELLO must be complete within the idle timeout of connecting, however it trickles in: the idle check
        // alone counts silence, and a client sending a byte now and then held its connection slot for hours without
        // ever saying who it is (an outside check filled every slot that way)
        handshakeDeadline = ctx.executor().schedule(this::handshakeDeadlinePassed, config.idleTimeout().toMillis(),
            java.util.concurrent.TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    private void handshakeDeadlinePassed()
    {
        if (!handshaken && !closing)
        {
            fail(0, ErrorCode.IDLE_TIMEOUT, "no complete HELLO within " + config.idleTimeout().toMillis() + " ms of connecting; closing");
        }
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        final ByteBuf data = (ByteBuf)msg;
        if (closing)
        {
            data.release();
            return;
        }
        cumulation = cumulation == null ? data : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, data);
        process();
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        flushIfNeeded();
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx) throws Exception
    {
        if (ctx.channel().isWritable())
        {
            resume(PAUSED_WRITES);
            if (subscription != null)
            {
                subscription.resume();
            }
        }
        else
        {
            pause(PAUSED_WRITES);
        }
        super.channelWritabilityChanged(ctx);
    }

    /** How much later than the hand-over the kernel must have sent data for it to count as a backlog being read. */
    private static final long KERNEL_SEND_SLACK_MILLIS = 50;

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object event) throws Exception
    {
        if (event instanceof io.netty.channel.socket.ChannelInputShutdownEvent)
        {
            // the client sent all it will (a half-close, or a close: a FIN says no more): answer what it sent, then close.
            // A subscription ends here: a client that closed its socket would otherwise keep it, and its slot, until
            // an event written to it drew a reset
            inputShutdown = true;
            endSubscription();
            closeIfAnswered();
            return;
        }
        if (event instanceof IdleStateEvent)
        {
            // a subscription is a request in flight: its client waits for events, and may send nothing meanwhile
            if ((!handshaken || outbox.inFlight() == 0 && subscription == null) && !kernelStillSending())
            {
                final String what = !handshaken ? "no HELLO received" :
                    (paused & PAUSED_WRITES) != 0 ? "nothing read (your answers are not being read)" : "nothing received";
                fail(0, ErrorCode.IDLE_TIMEOUT, what + " for " + config.idleTimeout().toMillis() + " ms; closing");
            }
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    /**
     * Whether the kernel is still sending this connection replies it took from the server earlier: the client is
     * reading a backlog out of the socket's buffers (megabytes on loopback), which the idle check sees no progress of
     * once the server has handed everything over. Told by TCP_INFO (epoll only): data sent later than the last
     * replies were handed over. Checked again after the next idle period; a client that stops reading closes the
     * window, the kernel sends no more data, and it is idle then.
     */
    private boolean kernelStillSending()
    {
        final long handed = outbox.lastHandedNanos();
        if (handed == 0 || !(ctx.channel() instanceof io.netty.channel.epoll.EpollSocketChannel channel) || !channel.isActive())
        {
            return false;
        }
        final long sinceHandedMillis = (System.nanoTime() - handed) / 1_000_000;
        final long sinceSentMillis = channel.tcpInfo().lastDataSent();
        return sinceSentMillis + KERNEL_SEND_SLACK_MILLIS < sinceHandedMillis;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) throws Exception
    {
        closing = true;
        if (handshakeDeadline != null)
        {
            handshakeDeadline.cancel(false);
        }
        releaseCumulation();
        outbox.close();
        endSubscription();
        stats.closed();
        LOG.info("connection {} closed", ctx.channel().remoteAddress());
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        if (cause instanceof IOException)
        {
            LOG.debug("connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
            return;
        }
        LOG.warn("connection {} failed", ctx.channel().remoteAddress(), cause);
        fail(0, ErrorCode.INTERNAL_ERROR, "server error: " + cause);
    }

    // ------------------------------------------------------------------------------------------------
    // Frames

    /**
     * Handle every whole frame received, until reading is paused or the connection is closing.
     */
    private void process()
    {
        while (!closing && paused == 0 && cumulation != null)
        {
            final ByteBuf in = cumulation;
            final int readable = in.readableBytes();
            if (readable < LENGTH_BYTES)
            {
                break;
            }
            final int start = in.readerIndex();
            final long length = in.getUnsignedInt(start);
            if (length == 0)
            {
                fail(0, ErrorCode.BAD_LENGTH, "frame length 0: a frame holds at least its opcode");
                return;
            }
            if (!handshaken && length > MAX_HELLO_FRAME)
            {
                fail(0, ErrorCode.FRAME_TOO_LARGE, "first frame of " + length + " bytes: it must be a HELLO of at most " +
                    MAX_HELLO_FRAME + " bytes (is this a Gyre client?)");
                return;
            }
            // max_frame applies from the WELCOME on: a HELLO is bounded by MAX_HELLO_FRAME alone, so a server configured
            // with a small max_frame still takes a HELLO with a long token
            if (handshaken && length > maxFrame)
            {
                fail(0, ErrorCode.FRAME_TOO_LARGE, "frame of " + length + " bytes exceeds the server's maxFrameBytes=" + maxFrame);
                return;
            }
            if (readable < LENGTH_BYTES + length)
            {
                break;
            }
            final int opcode = in.getUnsignedByte(start + LENGTH_BYTES);
            if (!handle(in, opcode, start + HEADER_BYTES, (int)length - 1))
            {
                break;
            }
            // counted once taken: the HELLO too, and a frame held back by a paused read once, not at each try
            stats.frame();
            if (closing)
            {
                return;
            }
            in.readerIndex(start + LENGTH_BYTES + (int)length);
        }
        if (cumulation != null)
        {
            if (!cumulation.isReadable())
            {
                releaseCumulation();
            }
            else
            {
                cumulation.discardSomeReadBytes();
            }
        }
    }

    /**
     * @return false when the frame was not consumed (reading paused: it is handled again on resuming).
     */
    private boolean handle(final ByteBuf in, final int opcode, final int body, final int bodyLength)
    {
        if (!handshaken)
        {
            if (opcode != HELLO)
            {
                fail(0, ErrorCode.HANDSHAKE_REQUIRED, "the first frame must be a HELLO (0x01), got " + Protocol.opcodeName(opcode));
            }
            else
            {
                hello(in, body, bodyLength);
            }
            return true;
        }
        switch (opcode)
        {
            case SUBMIT:
                return submit(in, body, bodyLength);
            case STATUS:
            case CANCEL:
            case DLQ_SHOW:
            case DLQ_REDRIVE:
                return keyed(in, opcode, body, bodyLength);
            case DLQ_LIST:
                return dlqList(in, body, bodyLength);
            case DLQ_PURGE:
                return dlqPurge(in, body, bodyLength);
            case SUBSCRIBE:
                return subscribe(in, body, bodyLength);
            case UNSUBSCRIBE:
                if (bodyLength != PING_FIXED)
                {
                    fail(0, ErrorCode.MALFORMED_FRAME, "UNSUBSCRIBE body of " + bodyLength + " bytes; it must be exactly " + PING_FIXED);
                    return true;
                }
                unsubscribe(in.getLong(body));
                return true;
            case PING:
                if (bodyLength != PING_FIXED)
                {
                    fail(0, ErrorCode.MALFORMED_FRAME, "PING body of " + bodyLength + " bytes; it must be exactly " + PING_FIXED);
                    return true;
                }
                write(pong(in.getLong(body)));
                return true;
            case HELLO:
                fail(0, ErrorCode.UNEXPECTED_FRAME, "HELLO after the handshake");
                return true;
            default:
                fail(0, ErrorCode.UNKNOWN_OPCODE, "unknown opcode " + Protocol.opcodeName(opcode) + " from a client");
                return true;
        }
    }

    private ByteBuf pong(final long correlation)
    {
        final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + PING_FIXED);
        Frames.ping(out, PONG, correlation);
        return out;
    }

    private void hello(final ByteBuf in, final int body, final int bodyLength)
    {
        if (bodyLength < HELLO_FIXED)
        {
            malformed("HELLO", bodyLength, HELLO_FIXED);
            return;
        }
        final int magic = in.getInt(body + HELLO_MAGIC);
        if (magic != MAGIC)
        {
            fail(0, ErrorCode.BAD_MAGIC, String.format("bad magic 0x%08X: a HELLO starts with 0x%08X (\"GYRE\")", magic, MAGIC));
            return;
        }
        final int version = in.getUnsignedShort(body + HELLO_VERSION);
        if (version != VERSION)
        {
            fail(0, ErrorCode.UNSUPPORTED_VERSION, "protocol version " + version + " is not supported; this server speaks " + VERSION);
            return;
        }
        final int flags = in.getUnsignedShort(body + HELLO_FLAGS);
        final int tokenLength = in.getUnsignedShort(body + HELLO_TOKEN_LENGTH);
        if (HELLO_FIXED + tokenLength != bodyLength)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, "HELLO body of " + bodyLength + " bytes does not match its token_len=" + tokenLength);
            return;
        }
        if ((flags & ~(HELLO_FLAG_RESULTS_ONLY | HELLO_FLAG_ACCOUNTING)) != 0)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, String.format("HELLO flags 0x%04X set reserved bits", flags));
            return;
        }
        if (config.authToken() != null)
        {
            final byte[] token = new byte[tokenLength];
            in.getBytes(body + HELLO_FIXED, token);
            // constant time in the token's content (MessageDigest.isEqual does not stop at the first difference)
            if (!MessageDigest.isEqual(token, config.authToken()))
            {
                stats.authFailure();
                fail(0, ErrorCode.AUTH_FAILED, tokenLength == 0 ? "this server requires an auth token" : "wrong auth token");
                return;
            }
        }
        handshaken = true;
        if (handshakeDeadline != null)
        {
            handshakeDeadline.cancel(false);
        }
        final boolean resultsOnly = (flags & HELLO_FLAG_RESULTS_ONLY) != 0;
        outbox.resultsOnly(resultsOnly);
        final boolean accounting = (flags & HELLO_FLAG_ACCOUNTING) != 0;
        outbox.accounting(accounting);
        final EngineConfig engineConfig = engine.config();
        final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + WELCOME_FIXED);
        Frames.welcome(out,
            (config.busyRejects() ? WELCOME_FLAG_BUSY_REJECTS : 0) | (resultsOnly ? WELCOME_FLAG_RESULTS_ONLY : 0) |
                (accounting ? WELCOME_FLAG_ACCOUNTING : 0),
            maxFrame, config.maxInFlight(), (int)config.idleTimeout().toMillis(), engineConfig.maxKeyBytes(),
            EngineConfig.MAX_TYPE_BYTES, GyreServer.maxTenant(engineConfig), engineConfig.maxPayloadBytes(), engineConfig.maxOutputBytes());
        write(out);
    }

    private boolean submit(final ByteBuf in, final int body, final int bodyLength)
    {
        if (bodyLength < SUBMIT_FIXED)
        {
            return malformed("SUBMIT", bodyLength, SUBMIT_FIXED);
        }
        final int keyLength = in.getUnsignedShort(body + SUBMIT_KEY_LENGTH);
        final int typeLength = in.getUnsignedByte(body + SUBMIT_TYPE_LENGTH);
        final int tenantLength = in.getUnsignedByte(body + SUBMIT_TENANT_LENGTH);
        final long payloadLength = in.getUnsignedInt(body + SUBMIT_PAYLOAD_LENGTH);
        final int flags = in.getUnsignedByte(body + SUBMIT_FLAGS);
        final int policyBytes = (flags & SUBMIT_FLAG_RETRY_POLICY) != 0 ? RETRY_POLICY_BYTES : 0;
        final long declared = SUBMIT_FIXED + policyBytes + keyLength + typeLength + tenantLength + payloadLength;
        if (declared != bodyLength)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, "SUBMIT body of " + bodyLength + " bytes, but its fields declare " + declared +
                " (" + (policyBytes > 0 ? "retry policy " + policyBytes + ", " : "") + "key_len=" + keyLength + " type_len=" + typeLength +
                " tenant_len=" + tenantLength + " payload_len=" + payloadLength + ")");
            return true;
        }
        if (outbox.unwritten() >= config.maxInFlight())
        {
            pause(PAUSED_IN_FLIGHT);
            return false;
        }

        final long correlation = in.getLong(body + SUBMIT_CORRELATION);
        final int priorityCode = in.getUnsignedByte(body + SUBMIT_PRIORITY);
        final long timeoutMillis = in.getUnsignedInt(body + SUBMIT_TIMEOUT);
        final int maxAttempts = in.getUnsignedShort(body + SUBMIT_MAX_ATTEMPTS);
        final Priority priority = Priority.fromCode(priorityCode);
        if (priority == null)
        {
            return reject(correlation, RejectCode.INVALID_TASK, "priority=" + priorityCode + " must be 0 (HIGH), 1 (NORMAL) or 2 (LOW)");
        }
        if ((flags & ~(SUBMIT_FLAG_NO_DEAD_LETTER | SUBMIT_FLAG_RETRY_POLICY)) != 0)
        {
            return reject(correlation, RejectCode.INVALID_TASK, String.format("flags=0x%02X set reserved bits", flags));
        }
        if (timeoutMillis > Integer.MAX_VALUE)
        {
            return reject(correlation, RejectCode.INVALID_TASK, "timeout_ms=" + timeoutMillis + " exceeds " + Integer.MAX_VALUE);
        }
        if (typeLength == 0)
        {
            return reject(correlation, RejectCode.INVALID_TASK, "type is required");
        }
        final int keyAt = body + SUBMIT_FIXED + policyBytes;
        final int typeAt = keyAt + keyLength;
        final int tenantAt = typeAt + typeLength;
        final int payloadAt = tenantAt + tenantLength;
        final String type = typeName(in, typeAt, typeLength);
        request.clear()
            .correlationId(correlation)
            .key(view(keyView, in, keyAt, keyLength), 0, keyLength)
            .type(type)
            .tenant(view(tenantView, in, tenantAt, tenantLength), 0, tenantLength)
            .payload(view(payloadView, in, payloadAt, (int)payloadLength), 0, (int)payloadLength)
            .priority(priority)
            .timeoutMillis((int)timeoutMillis)
            .maxAttempts(maxAttempts)
            .deadLetter((flags & SUBMIT_FLAG_NO_DEAD_LETTER) == 0);
        if (policyBytes > 0)
        {
            final int policy = body + SUBMIT_FIXED;
            final long initial = in.getUnsignedInt(policy + RETRY_INITIAL);
            final long max = in.getUnsignedInt(policy + RETRY_MAX);
            if (initial > Integer.MAX_VALUE || max > Integer.MAX_VALUE)
            {
                return reject(correlation, RejectCode.INVALID_TASK, (initial > Integer.MAX_VALUE ? "backoff_initial_ms=" + initial :
                    "backoff_max_ms=" + max) + " exceeds " + Integer.MAX_VALUE);
            }
            // the engine checks the values and names the field of the first out of range
            request.backoff((int)initial, (int)max, in.getUnsignedShort(policy + RETRY_MULTIPLIER) / 100f,
                in.getUnsignedShort(policy + RETRY_JITTER) / 1000f);
        }
        try
        {
            if (!engine.trySubmit(request, outbox))
            {
                if (config.busyRejects())
                {
                    stats.busy();
                    return reject(correlation, RejectCode.BUSY, "the engine is full; retry later");
                }
                pause(PAUSED_RING);
                scheduleRingRetry();
                return false;
            }
            outbox.sent();
            remember(type, in, typeAt, typeLength);
            return true;
        }
        catch (final InvalidTaskException ex)
        {
            return reject(correlation, "type".equals(ex.field()) ? RejectCode.UNKNOWN_TYPE : RejectCode.INVALID_TASK, ex.getMessage());
        }
        catch (final EngineClosedException ex)
        {
            return reject(correlation, RejectCode.SHUTTING_DOWN, "the server is shutting down");
        }
        finally
        {
            keyView.wrap(EMPTY);
            tenantView.wrap(EMPTY);
            payloadView.wrap(EMPTY);
        }
    }

    private boolean keyed(final ByteBuf in, final int opcode, final int body, final int bodyLength)
    {
        final String name = Protocol.opcodeName(opcode);
        if (bodyLength < KEYED_FIXED)
        {
            return malformed(name, bodyLength, KEYED_FIXED);
        }
        final int keyLength = in.getUnsignedShort(body + KEYED_KEY_LENGTH);
        if (KEYED_FIXED + keyLength != bodyLength)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, name + " body of " + bodyLength + " bytes does not match its key_len=" + keyLength);
            return true;
        }
        if (outbox.unwritten() >= config.maxInFlight())
        {
            pause(PAUSED_IN_FLIGHT);
            return false;
        }
        final long correlation = in.getLong(body + KEYED_CORRELATION);
        final byte[] key = new byte[keyLength];
        in.getBytes(body + KEYED_FIXED, key);
        return switch (opcode)
        {
            case STATUS -> ask(correlation, () -> engine.tryStatus(key), (status, failure) ->
                outbox.status(STATUS_REPLY, correlation, status, failure));
            case CANCEL -> ask(correlation, () -> engine.tryCancel(key), (status, failure) ->
                outbox.status(CANCEL_REPLY, correlation, status, failure));
            case DLQ_SHOW -> ask(correlation, () -> engine.tryDeadLetter(key), (letter, failure) ->
                outbox.deadLetter(correlation, letter, failure));
            default -> ask(correlation, () -> engine.tryRedrive(key), (result, failure) ->
                outbox.redriven(correlation, result, failure));
        };
    }

    private boolean dlqList(final ByteBuf in, final int body, final int bodyLength)
    {
        if (bodyLength != DLQ_LIST_FIXED)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, "DLQ_LIST body of " + bodyLength + " bytes; it must be exactly " + DLQ_LIST_FIXED);
            return true;
        }
        if (outbox.unwritten() >= config.maxInFlight())
        {
            pause(PAUSED_IN_FLIGHT);
            return false;
        }
        final long correlation = in.getLong(body + DLQ_LIST_CORRELATION);
        final long after = in.getLong(body + DLQ_LIST_AFTER);
        final int limit = in.getUnsignedShort(body + DLQ_LIST_LIMIT);
        if (after < 0)
        {
            return reject(correlation, RejectCode.INVALID_TASK, "after=" + Long.toUnsignedString(after) + " exceeds " + Long.MAX_VALUE);
        }
        return ask(correlation, () -> engine.tryDeadLetters(after, limit), (page, failure) -> outbox.deadLetters(correlation, page, failure));
    }

    private boolean dlqPurge(final ByteBuf in, final int body, final int bodyLength)
    {
        if (bodyLength < DLQ_PURGE_FIXED)
        {
            return malformed("DLQ_PURGE", bodyLength, DLQ_PURGE_FIXED);
        }
        final int keyLength = in.getUnsignedShort(body + DLQ_PURGE_KEY_LENGTH);
        if (DLQ_PURGE_FIXED + keyLength != bodyLength)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, "DLQ_PURGE body of " + bodyLength + " bytes does not match its key_len=" + keyLength);
            return true;
        }
        if (outbox.unwritten() >= config.maxInFlight())
        {
            pause(PAUSED_IN_FLIGHT);
            return false;
        }
        final long correlation = in.getLong(body + DLQ_PURGE_CORRELATION);
        final int flags = in.getUnsignedByte(body + DLQ_PURGE_FLAGS);
        if ((flags & ~DLQ_PURGE_FLAG_ALL) != 0)
        {
            return reject(correlation, RejectCode.INVALID_TASK, String.format("flags=0x%02X set reserved bits", flags));
        }
        final boolean all = (flags & DLQ_PURGE_FLAG_ALL) != 0;
        if (all && keyLength != 0)
        {
            return reject(correlation, RejectCode.INVALID_TASK, "flag ALL purges every dead letter and takes no key (key_len=" + keyLength + ")");
        }
        final byte[] key = new byte[keyLength];
        in.getBytes(body + DLQ_PURGE_FIXED, key);
        return ask(correlation, () -> engine.tryPurgeDeadLetters(all ? null : key), (result, failure) ->
            outbox.purged(correlation, result, failure));
    }

    /**
     * SUBSCRIBE: check the frame (its fields must fill the body exactly), then each field, then open the
     * subscription and answer SUBSCRIBED, before any of its events (they are written by later tasks of this
     * event loop). Answered at once, so it does not count against the in-flight limit.
     */
    private boolean subscribe(final ByteBuf in, final int body, final int bodyLength)
    {
        if (bodyLength < SUBSCRIBE_FIXED)
        {
            return malformed("SUBSCRIBE", bodyLength, SUBSCRIBE_FIXED);
        }
        final int count = in.getUnsignedByte(body + SUBSCRIBE_FIELD_COUNT);
        final int end = body + bodyLength;
        int at = body + SUBSCRIBE_FIXED;
        for (int i = 0; i < count; i++)
        {
            if (at + FILTER_FIELD_FIXED > end || at + FILTER_FIELD_FIXED + in.getUnsignedShort(at + FILTER_FIELD_LENGTH) > end)
            {
                fail(0, ErrorCode.MALFORMED_FRAME, "SUBSCRIBE filter field " + (i + 1) + " of " + count + " runs past the body of " +
                    bodyLength + " bytes");
                return true;
            }
            at += FILTER_FIELD_FIXED + in.getUnsignedShort(at + FILTER_FIELD_LENGTH);
        }
        if (at != end)
        {
            fail(0, ErrorCode.MALFORMED_FRAME, "SUBSCRIBE body of " + bodyLength + " bytes has " + (end - at) +
                " bytes after its field_count=" + count + " filter fields");
            return true;
        }
        final long correlation = in.getLong(body + SUBSCRIBE_CORRELATION);
        final int flags = in.getUnsignedByte(body + SUBSCRIBE_FLAGS);
        if (flags != 0)
        {
            return reject(correlation, RejectCode.INVALID_TASK, String.format("flags=0x%02X set reserved bits", flags));
        }
        String type = null;
        byte[] tenant = null;
        byte[] prefix = null;
        at = body + SUBSCRIBE_FIXED;
        for (int i = 0; i < count; i++)
        {
            final int field = in.getUnsignedByte(at + FILTER_FIELD_ID);
            final int length = in.getUnsignedShort(at + FILTER_FIELD_LENGTH);
            final int value = at + FILTER_FIELD_FIXED;
            at = value + length;
            if (field == FILTER_TYPE && type != null || field == FILTER_TENANT && tenant != null || field == FILTER_KEY_PREFIX && prefix != null)
            {
                return reject(correlation, RejectCode.INVALID_TASK, "filter field " + field + " (" + filterFieldName(field) + ") is given twice");
            }
            switch (field)
            {
                case FILTER_TYPE ->
                {
                    if (length == 0)
                    {
                        return reject(correlation, RejectCode.INVALID_TASK, "filter field 1 (TYPE) is empty: omit it for every type");
                    }
                    type = in.toString(value, length, StandardCharsets.UTF_8);
                }
                case FILTER_TENANT ->
                {
                    tenant = new byte[length];
                    in.getBytes(value, tenant);
                }
                case FILTER_KEY_PREFIX ->
                {
                    if (length == 0)
                    {
                        return reject(correlation, RejectCode.INVALID_TASK, "filter field 3 (KEY_PREFIX) is empty: omit it for every key");
                    }
                    prefix = new byte[length];
                    in.getBytes(value, prefix);
                }
                default ->
                {
                    return reject(correlation, RejectCode.INVALID_TASK, "unknown filter field " + field +
                        " (known: 1 TYPE, 2 TENANT, 3 KEY_PREFIX)");
                }
            }
        }
        if (subscription != null)
        {
            return reject(correlation, RejectCode.ALREADY_SUBSCRIBED, "this connection already has a subscription (correlation " +
                events.correlation() + "); one per connection: UNSUBSCRIBE first, or open another connection");
        }
        if (!stats.tryOpenSubscription(config.maxSubscriptions()))
        {
            return reject(correlation, RejectCode.TOO_MANY_SUBSCRIPTIONS, config.maxSubscriptions() == 0 ?
                "status subscriptions are off on this server (maxSubscriptions=0)" :
                "the server has its maximum of " + config.maxSubscriptions() + " status subscriptions open; retry later");
        }
        final EventProxy proxy = new EventProxy(ctx, correlation, stats, outbox);
        try
        {
            final EventFilter filter = new EventFilter(type, tenant, prefix);
            subscription = engine.subscribe(filter, proxy, answers != null ? answers : ctx.executor(), config.maxQueuedEvents());
        }
        catch (final InvalidTaskException ex)
        {
            stats.subscriptionClosed();
            return reject(correlation, "type".equals(ex.field()) ? RejectCode.UNKNOWN_TYPE : RejectCode.INVALID_TASK, ex.getMessage());
        }
        catch (final EngineClosedException ex)
        {
            stats.subscriptionClosed();
            return reject(correlation, RejectCode.SHUTTING_DOWN, "the server is shutting down");
        }
        catch (final IllegalStateException ex)
        {
            stats.subscriptionClosed();
            return reject(correlation, RejectCode.TOO_MANY_SUBSCRIPTIONS, ex.getMessage());
        }
        events = proxy;
        final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + SUBSCRIBED_FIXED);
        Frames.subscribed(out, correlation, config.maxQueuedEvents());
        write(out);
        return true;
    }

    private static String filterFieldName(final int field)
    {
        return switch (field)
        {
            case FILTER_TYPE -> "TYPE";
            case FILTER_TENANT -> "TENANT";
            default -> "KEY_PREFIX";
        };
    }

    /**
     * UNSUBSCRIBE: end the subscription (no EVENT of it follows the reply) and say what it delivered; with none,
     * say so. Answered at once.
     */
    private void unsubscribe(final long correlation)
    {
        final EventProxy ended = events;
        final boolean was = endSubscription();
        final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + UNSUBSCRIBED_FIXED);
        Frames.unsubscribed(out, correlation, was ? ended.correlation() : 0, was ? ended.events() : 0, was ? ended.lost() : 0, was);
        write(out);
    }

    /**
     * @return whether there was a subscription (it is closed now: nothing more of it is written).
     */
    private boolean endSubscription()
    {
        if (subscription == null)
        {
            return false;
        }
        subscription.close();
        subscription = null;
        events = null;
        stats.subscriptionClosed();
        return true;
    }

    /**
     * Hand a request to the engine without waiting (the engine checks its fields), and have its answer
     * written when it comes.
     *
     * @return false when the engine's ring is full: reading pauses and the frame is handled again later.
     */
    private <T> boolean ask(final long correlation, final Supplier<CompletableFuture<T>> request, final BiConsumer<T, Throwable> answer)
    {
        final CompletableFuture<T> reply;
        try
        {
            reply = request.get();
        }
        catch (final InvalidTaskException ex)
        {
            return reject(correlation, RejectCode.INVALID_TASK, ex.getMessage());
        }
        catch (final EngineClosedException ex)
        {
            return reject(correlation, RejectCode.SHUTTING_DOWN, "the server is shutting down");
        }
        if (reply == null)
        {
            pause(PAUSED_RING);
            scheduleRingRetry();
            return false;
        }
        outbox.sent();
        reply.whenComplete(answer);
        return true;
    }

    private boolean malformed(final String frame, final int bodyLength, final int expected)
    {
        fail(0, ErrorCode.MALFORMED_FRAME, frame + " body of " + bodyLength + " bytes is shorter than its " + expected + " fixed bytes");
        return true;
    }

    private boolean reject(final long correlation, final RejectCode code, final String message)
    {
        stats.refused();
        final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + COMPLAINT_FIXED + 64);
        Frames.complaint(out, REJECTED, correlation, code.code(), message);
        write(out);
        return true;
    }

    /**
     * Answer with an ERROR frame and close this connection once it is written.
     */
    void fail(final long correlation, final ErrorCode code, final String message)
    {
        if (closing)
        {
            return;
        }
        closing = true;
        endSubscription();
        if (code != ErrorCode.IDLE_TIMEOUT && code != ErrorCode.SHUTTING_DOWN)
        {
            stats.protocolError();
        }
        if (code != ErrorCode.SHUTTING_DOWN)
        {
            // once per connection, as its "closed" line: why it was closed (an idle one too, which is no protocol error)
            LOG.info("closing connection {}: {} {}", ctx.channel().remoteAddress(), code, message);
        }
        releaseCumulation();
        final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + COMPLAINT_FIXED + 64);
        Frames.complaint(out, ERROR, correlation, code.code(), message);
        final io.netty.channel.ChannelFuture written = ctx.writeAndFlush(out);
        written.addListener(ChannelFutureListener.CLOSE);
        if (!written.isDone())
        {
            // a peer that does not read may never take the frame: close anyway, soon
            ctx.executor().schedule(() -> ctx.close(), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
        flushNeeded = false;
    }

    /**
     * On the event loop, once the outbox holds more reply bytes than a budget allows: queue an ERROR
     * SLOW_CONSUMER (sent only if the socket has room: it waits behind the replies not read) and close at once,
     * which releases every reply held. Outcomes are journaled: the client reconnects and resubmits by key, or
     * asks STATUS.
     */
    private void slowConsumer(final String why)
    {
        stats.slowConsumer();
        if (!ctx.channel().isOpen())
        {
            return;
        }
        LOG.warn("closing connection {}: {}", ctx.channel().remoteAddress(), why);
        if (!closing)
        {
            closing = true;
            endSubscription();
            releaseCumulation();
            try
            {
                final ByteBuf out = ctx.alloc().ioBuffer(HEADER_BYTES + COMPLAINT_FIXED + 256);
                Frames.complaint(out, ERROR, 0, ErrorCode.SLOW_CONSUMER.code(), why + "; closing (outcomes are journaled: " +
                    "reconnect and resubmit by key, or ask STATUS)");
                ctx.writeAndFlush(out, ctx.voidPromise());
            }
            catch (final OutOfMemoryError ex)
            {
                // no memory for the ERROR either: close without it
            }
        }
        flushNeeded = false;
        ctx.close();
    }

    /** @return reply bytes held for this connection, not yet taken by its socket. */
    long heldReplyBytes()
    {
        return outbox == null ? 0 : outbox.heldBytes();
    }

    Outbox outbox()
    {
        return outbox;
    }

    /** On the event loop: write the answers the outbox holds now (before a closing ERROR). */
    void writeQueuedAnswers()
    {
        outbox.drainNow();
    }

    // ------------------------------------------------------------------------------------------------
    // Reading control

    private void pause(final int reason)
    {
        if (paused == 0)
        {
            ctx.channel().config().setAutoRead(false);
        }
        paused |= reason;
    }

    private void resume(final int reason)
    {
        if ((paused & reason) == 0)
        {
            return;
        }
        paused &= ~reason;
        if (paused == 0 && !closing)
        {
            process();
            flushIfNeeded();
            // after a half-close there is nothing more to read (and epoll refuses to watch the input again)
            if (paused == 0 && !closing && !inputShutdown)
            {
                ctx.channel().config().setAutoRead(true);
            }
        }
    }

    /** Called on the event loop after the outbox wrote answers: room may have been made. */
    private void afterDrain()
    {
        if ((paused & PAUSED_IN_FLIGHT) != 0 && outbox.unwritten() <= config.maxInFlight() - Math.max(1, config.maxInFlight() / 4))
        {
            resume(PAUSED_IN_FLIGHT);
        }
        closeIfAnswered();
    }

    /** @return whether a whole frame waits in what was read (an answer may be written while frames are processed). */
    private boolean hasWholeFrame()
    {
        final ByteBuf in = cumulation;
        return in != null && in.readableBytes() >= Integer.BYTES && in.readableBytes() - Integer.BYTES >= in.getUnsignedInt(in.readerIndex());
    }

    /**
     * After a half-close: once every request the client sent is answered (none waits unread for room, none is
     * without its answer written; a subscription keeps the connection for its events), close once those answers
     * are flushed. A request cut short by the half-close (part of a frame) is not one.
     */
    private void closeIfAnswered()
    {
        if (inputShutdown && !closing && paused == 0 && subscription == null && outbox.unwritten() == 0 && !hasWholeFrame())
        {
            closing = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        }
    }

    private void scheduleRingRetry()
    {
        if (!ringRetryScheduled)
        {
            ringRetryScheduled = true;
            ctx.executor().schedule(ringRetry, RING_RETRY_MICROS, TimeUnit.MICROSECONDS);
        }
    }

    private void retryAfterRingFull()
    {
        ringRetryScheduled = false;
        resume(PAUSED_RING);
    }

    /** Stop reading for good (the server is shutting down); answers still go out. */
    void stopReading()
    {
        pause(PAUSED_SHUTDOWN);
    }

    int inFlight()
    {
        return (int)outbox.inFlight();
    }

    long pendingOutboundBytes()
    {
        final io.netty.channel.ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    // ------------------------------------------------------------------------------------------------

    private void write(final ByteBuf frame)
    {
        ctx.write(frame, ctx.voidPromise());
        flushNeeded = true;
    }

    private void flushIfNeeded()
    {
        if (flushNeeded)
        {
            flushNeeded = false;
            ctx.flush();
        }
    }

    private void releaseCumulation()
    {
        if (cumulation != null)
        {
            cumulation.release();
            cumulation = null;
        }
    }

    /**
     * Point a view at bytes of the received buffer, without copying.
     */
    private static UnsafeBuffer view(final UnsafeBuffer view, final ByteBuf in, final int index, final int length)
    {
        if (length == 0)
        {
            view.wrap(EMPTY);
        }
        else if (in.hasMemoryAddress())
        {
            view.wrap(in.memoryAddress() + index, length);
        }
        else if (in.hasArray())
        {
            view.wrap(in.array(), in.arrayOffset() + index, length);
        }
        else
        {
            final byte[] copy = new byte[length];
            in.getBytes(index, copy);
            view.wrap(copy);
        }
        return view;
    }

    /**
     * The task type's name: from this connection's cache of names that were accepted before (no
     * allocation), else decoded.
     */
    private String typeName(final ByteBuf in, final int index, final int length)
    {
        for (int i = 0; i < typeCount; i++)
        {
            final byte[] candidate = typeBytes[i];
            if (candidate.length == length && equal(candidate, in, index))
            {
                return typeNames[i];
            }
        }
        return in.toString(index, length, StandardCharsets.UTF_8);
    }

    private void remember(final String type, final ByteBuf in, final int index, final int length)
    {
        if (typeCount == TYPE_CACHE_SIZE)
        {
            return;
        }
        for (int i = 0; i < typeCount; i++)
        {
            if (typeNames[i] == type)
            {
                return;
            }
        }
        final byte[] bytes = new byte[length];
        in.getBytes(index, bytes);
        typeBytes[typeCount] = bytes;
        typeNames[typeCount] = type;
        typeCount++;
    }

    private static boolean equal(final byte[] candidate, final ByteBuf in, final int index)
    {
        for (int i = 0; i < candidate.length; i++)
        {
            if (candidate[i] != in.getByte(index + i))
            {
                return false;
            }
        }
        return true;
    }
}
