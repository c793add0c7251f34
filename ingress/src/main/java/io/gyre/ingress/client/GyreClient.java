package io.gyre.ingress.client;

import io.gyre.engine.DeadLetter;
import io.gyre.engine.DeadLetterDetails;
import io.gyre.engine.DeadLetterPage;
import io.gyre.engine.DeadLetterReason;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.EventFilter;
import io.gyre.engine.Priority;
import io.gyre.engine.PurgeResult;
import io.gyre.engine.RedriveOutcome;
import io.gyre.engine.RedriveResult;
import io.gyre.engine.TaskEvent;
import io.gyre.engine.TaskEventListener;
import io.gyre.engine.TaskState;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.protocol.RejectCode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.agrona.collections.Long2ObjectHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.ObjLongConsumer;

import static io.gyre.ingress.protocol.Protocol.*;

/**
 * A client of a Gyre server: asynchronous ({@link CompletableFuture}) and, through {@link #blocking()},
 * blocking. Requests are pipelined on one connection (as many in flight as {@code maxPending}); answers
 * are matched by correlation id.
 * <p>
 * When the connection drops, the client reconnects with exponential backoff and sends again every request
 * not yet answered. That is safe because submissions are idempotent by key: a submission the server had
 * already journaled joins its task or returns its recorded outcome, so each key still gets exactly one
 * outcome. The resend does not show through: a submission's {@link Submission#onAccepted} is called once (for its
 * first ACCEPTED), and the recorded outcome of the task it was accepted as is not a {@link TaskResult#duplicate()}.
 * Nor is a refusal of the resend: a submission once accepted is never answered as rejected. A resend refused for now
 * (BUSY, SHUTTING_DOWN, JOURNAL_UNAVAILABLE, CAPACITY...) is sent again after a delay from 50 ms doubling to 1 s, each
 * drawn at random from its second half (so that refused resends do not come back together), within the
 * request timeout; one refused for good (the type unknown to a restarted server) fails the future saying the task was
 * accepted, and its id: ask its status by key. A reconnect the server refuses (a server restarted with another auth
 * token) is tried again with backoff like a server that is down; requests wait for it, within their timeouts.
 * <p>
 * All of this holds while the server keeps its journal: a server started on another journal (a fresh one) knows none
 * of the keys, and runs a resent submission as a new task, whose id is not the one {@code onAccepted} gave.
 * <p>
 * Futures complete on the client's I/O thread: do not block in their callbacks (use the async variants).
 * Thread safety: every public method may be called from any thread.
 */
public final class GyreClient implements AutoCloseable
{
    /** The most attempts a submission may ask for (PROTOCOL.md, SUBMIT's {@code max_attempts}). */
    public static final int MAX_ATTEMPTS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(GyreClient.class);
    private static final long SWEEP_MILLIS = 50;
    /** A refused resend of an accepted submission is sent again after this, doubling up to the most (see refusedResend). */
    private static final long RESEND_FIRST_MILLIS = 50;
    private static final long RESEND_MAX_MILLIS = 1_000;
    private static final int MAX_FRAME = Integer.MAX_VALUE - 8;

    private final ClientConfig config;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final Semaphore permits;
    private final CompletableFuture<Void> firstWelcome = new CompletableFuture<>();
    private final Runnable flushTask = this::flush;
    private volatile boolean closed;

    // the I/O thread's
    private final Long2ObjectHashMap<Call> pending = new Long2ObjectHashMap<>();
    /** Submissions whose refused resend is due, gathered by the sweep (on the I/O thread; reused). */
    private List<SubmitCall> resendDue;
    private final Long2ObjectHashMap<Subscription> subscriptions = new Long2ObjectHashMap<>();
    private long nextCorrelation = 1;
    private Channel channel;
    private boolean ready;
    private boolean flushScheduled;
    private int reconnectAttempt;
    private long disconnectedSince = System.nanoTime();
    private long lastWrite = System.nanoTime();
    private long serverIdleNanos = Long.MAX_VALUE;
    private int serverMaxFrame = Integer.MAX_VALUE;
    private GyreClientException fatal;
    /** Whether a handshake ever succeeded (on the I/O thread): a refusal for good only ends the client before one. */
    private boolean welcomedOnce;
    /**
     * The server's last ERROR (TOO_MANY_CONNECTIONS, SHUTTING_DOWN...) since the last WELCOME, when nothing came
     * after it (a failed TCP connect clears it: the server said nothing then): why the client is not connected.
     * Written on the I/O thread, read by {@link #connect} too.
     */
    private volatile GyreClientException lastServerError;

    private GyreClient(final ClientConfig config)
    {
        this.config = config;
        this.permits = new Semaphore(config.maxPending());
        final boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("gyre-client", true),
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.loop = group.next();
        this.bootstrap = new Bootstrap()
            .group(loop)
            .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
            .handler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    ch.pipeline()
                        .addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, LENGTH_BYTES, 0, LENGTH_BYTES))
                        .addLast(new Handler());
                }
            });
        loop.scheduleAtFixedRate(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Connect and handshake, waiting for the server's WELCOME up to the connect timeout. The first connection is tried
     * once: nothing listening (connection refused) fails it at once ({@code cannot connect to ...}), so an application
     * that may start before its server (which listens only once its journal is replayed) retries this call itself. A
     * server that refuses the client for good ({@code AUTH_FAILED}, {@code UNSUPPORTED_VERSION}) fails it at once; one
     * that answers with another ERROR ({@code TOO_MANY_CONNECTIONS}: it may have room a moment later) is tried again
     * with backoff until the connect timeout, and then fails it with that reason. Once connected, a lost connection is
     * reconnected with backoff whatever the server says (see the class comment).
     *
     * @throws GyreClientException when the server cannot be reached in time or refuses the handshake; its
     *     {@link GyreClientException#code() code} is the server's when the server's last word was an ERROR frame.
     */
    public static GyreClient connect(final ClientConfig config)
    {
        final GyreClient client = new GyreClient(config);
        client.loop.execute(client::reconnect);
        // a server that answers with an ERROR (TOO_MANY_CONNECTIONS: a slot may free) is tried again with backoff
        // up to the connect timeout; then connecting fails with the server's reason and code
        client.loop.schedule(client::handshakeDeadline, config.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
        try
        {
            client.firstWelcome.get(config.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            return client;
        }
        catch (final ExecutionException ex)
        {
            client.close();
            throw ex.getCause() instanceof GyreClientException g ? g :
                new GyreClientException("cannot connect to " + config.host() + ":" + config.port() + ": " + ex.getCause(), null, ex.getCause());
        }
        catch (final TimeoutException ex)
        {
            final GyreClientException refusal = client.lastServerError;
            client.close();
            throw client.noHandshake(refusal);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            client.close();
            throw new GyreClientException("interrupted while connecting");
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Requests

    /**
     * Submit a task.
     *
     * @return its result (outcome or refusal); fails with {@link GyreClientException} only when no answer
     *     could be had (timeout, connection given up, client closed).
     */
    public CompletableFuture<TaskResult> submit(final Submission submission)
    {
        validate(submission);
        final SubmitCall call = new SubmitCall(submission);
        start(call);
        return call.future;
    }

    /**
     * Check a submission as {@link #submit} does, before anything is sent.
     *
     * @throws IllegalArgumentException naming the field, and its value, that no server would take.
     */
    public static void validate(final Submission submission)
    {
        checkKeyLength(submission.keyBytes.length);
        // 64 (WELCOME's max_type, always 64): no server registers a longer type, and one would be refused UNKNOWN_TYPE
        if (submission.type.length < 1 || submission.type.length > EngineConfig.MAX_TYPE_BYTES)
        {
            throw new IllegalArgumentException("type must be 1 to " + EngineConfig.MAX_TYPE_BYTES + " bytes of UTF-8, not " +
                submission.type.length);
        }
        if (submission.tenant.length > 0xFF)
        {
            throw new IllegalArgumentException("tenant must be at most 255 bytes of UTF-8, not " + submission.tenant.length);
        }
        if (submission.timeoutMillis < 0)
        {
            throw new IllegalArgumentException("timeoutMillis=" + submission.timeoutMillis + " must not be negative");
        }
        if (submission.maxAttempts < 0 || submission.maxAttempts > MAX_ATTEMPTS)
        {
            throw new IllegalArgumentException("maxAttempts=" + submission.maxAttempts + " must be in [0, " + MAX_ATTEMPTS +
                "] (0: the task type's default)");
        }
    }

    /** What the server knows of the task with this key. */
    public CompletableFuture<TaskStatusReply> status(final String key)
    {
        return keyed(STATUS, key);
    }

    /** Cancel the task with this key; answers its status after the request. */
    public CompletableFuture<TaskStatusReply> cancel(final String key)
    {
        return keyed(CANCEL, key);
    }

    /**
     * A page of the server's dead-letter list, oldest first: the entries whose cursor is greater than
     * {@code after} (0 for the first page), at most {@code limit} (the server allows 1 to 1000).
     */
    public CompletableFuture<DeadLetterPage> deadLetters(final long after, final int limit)
    {
        check(after >= 0, "after must not be negative");
        check(limit >= 1 && limit <= 0xFFFF, "limit must be in [1, 65535] (the server allows at most 1000)");
        return start(new AdminCall<>("DLQ_LIST", DLQ_LIST_REPLY, HEADER_BYTES + DLQ_LIST_FIXED,
            (out, correlation) -> Frames.dlqList(out, correlation, after, limit), GyreClient::page));
    }

    /** The dead letter of this key, with its original request and last error; empty when the key has none. */
    public CompletableFuture<Optional<DeadLetterDetails>> deadLetter(final String key)
    {
        final byte[] bytes = keyBytes(key);
        return start(new AdminCall<>("DLQ_SHOW of key " + key, DLQ_SHOW_REPLY, HEADER_BYTES + KEYED_FIXED + bytes.length,
            (out, correlation) -> Frames.keyed(out, DLQ_SHOW, correlation, bytes), GyreClient::details));
    }

    /**
     * Run the dead-lettered task of this key again, under the same key and task id, with a fresh budget of
     * attempts. The result says whether it was redriven and, if not, why (it then changed nothing). A redrive
     * sent again after a reconnect, when the first one had gone through, is answered NOT_DEAD_LETTERED with the
     * task live.
     */
    public CompletableFuture<RedriveResult> redrive(final String key)
    {
        final byte[] bytes = keyBytes(key);
        return start(new AdminCall<>("DLQ_REDRIVE of key " + key, DLQ_REDRIVE_REPLY, HEADER_BYTES + KEYED_FIXED + bytes.length,
            (out, correlation) -> Frames.keyed(out, DLQ_REDRIVE, correlation, bytes), body -> redriveResult(key, body)));
    }

    /** Remove the dead letter of this key from the list (its task's outcome stays remembered). */
    public CompletableFuture<PurgeResult> purgeDeadLetter(final String key)
    {
        final byte[] bytes = keyBytes(key);
        return start(new AdminCall<>("DLQ_PURGE of key " + key, DLQ_PURGE_REPLY, HEADER_BYTES + DLQ_PURGE_FIXED + bytes.length,
            (out, correlation) -> Frames.dlqPurge(out, correlation, 0, bytes), GyreClient::purgeResult));
    }

    /** Remove every dead letter from the list. */
    public CompletableFuture<PurgeResult> purgeDeadLetters()
    {
        return start(new AdminCall<>("DLQ_PURGE of every dead letter", DLQ_PURGE_REPLY, HEADER_BYTES + DLQ_PURGE_FIXED,
            (out, correlation) -> Frames.dlqPurge(out, correlation, DLQ_PURGE_FLAG_ALL, new byte[0]), GyreClient::purgeResult));
    }

    /**
     * Subscribe to the server's status events: every task lifecycle transition, or those passing the filter (a
     * task type, a tenant, a key prefix; all that are set must match), delivered to the listener on the
     * client's I/O thread, in order; when the server had to drop events for this client (it read too slowly), the
     * listener hears {@link TaskEventListener#onEventsLost} in their place. One subscription per connection: a
     * second one is refused ({@code ALREADY_SUBSCRIBED}) until the first is unsubscribed. It is not carried over a
     * reconnect: see {@link Subscription}.
     *
     * @return the subscription once the server confirmed it; fails with {@link RequestRefusedException} when the
     *     server refused it (unknown type, a field too long, its subscription limit), or {@link GyreClientException}
     *     when no answer came.
     */
    public CompletableFuture<Subscription> subscribe(final EventFilter filter, final TaskEventListener listener)
    {
        java.util.Objects.requireNonNull(filter, "filter");
        java.util.Objects.requireNonNull(listener, "listener");
        final byte[] tenant = filter.tenant();
        final byte[] prefix = filter.keyPrefix();
        final byte[] type = filter.type() == null ? null : Submission.utf8("type", filter.type());
        check(type == null || type.length <= 0xFFFF, "type must be at most 65535 bytes of UTF-8");
        check(tenant == null || tenant.length <= 0xFFFF, "tenant must be at most 65535 bytes");
        check(prefix == null || prefix.length <= 0xFFFF, "key prefix must be at most 65535 bytes");
        return start(new AdminCall<>("SUBSCRIBE " + filter, SUBSCRIBED,
            HEADER_BYTES + SUBSCRIBE_FIXED + 9 + (type == null ? 0 : type.length) + (tenant == null ? 0 : tenant.length) +
                (prefix == null ? 0 : prefix.length),
            (out, correlation) -> Frames.subscribe(out, correlation, type, tenant, prefix),
            body -> subscribed(body, filter, listener)));
    }

    /** On the I/O thread: a SUBSCRIBED reply; its events follow it on the same connection. */
    private Subscription subscribed(final ByteBuf body, final EventFilter filter, final TaskEventListener listener)
    {
        final int at = body.readerIndex();
        if (body.readableBytes() != SUBSCRIBED_FIXED)
        {
            throw new IndexOutOfBoundsException("SUBSCRIBED of " + body.readableBytes() + " bytes, not " + SUBSCRIBED_FIXED);
        }
        final long id = body.getLong(at + SUBSCRIBED_CORRELATION);
        final Subscription subscription = new Subscription(this, id, filter, listener, body.getInt(at + SUBSCRIBED_MAX_QUEUED));
        subscriptions.put(id, subscription);
        return subscription;
    }

    /** End a subscription: UNSUBSCRIBE, and its end once the server confirmed. */
    CompletableFuture<Void> unsubscribe(final Subscription subscription)
    {
        return start(new AdminCall<Void>("UNSUBSCRIBE of " + subscription.id(), UNSUBSCRIBED, HEADER_BYTES + PING_FIXED,
            (out, correlation) -> Frames.ping(out, UNSUBSCRIBE, correlation), body ->
            {
                if (body.readableBytes() != UNSUBSCRIBED_FIXED)
                {
                    throw new IndexOutOfBoundsException("UNSUBSCRIBED of " + body.readableBytes() + " bytes, not " + UNSUBSCRIBED_FIXED);
                }
                subscriptions.remove(subscription.id());
                subscription.end(null);
                return null;
            }));
    }

    boolean onIoThread()
    {
        return loop.inEventLoop();
    }

    long requestTimeoutMillis()
    {
        return config.requestTimeout().toMillis();
    }

    /** @return the round trip time of a PING, in nanoseconds. */
    public CompletableFuture<Long> ping()
    {
        final PingCall call = new PingCall();
        start(call);
        return call.future;
    }

    /** The same requests, waiting for their answers. */
    public Blocking blocking()
    {
        return new Blocking();
    }

    /** @return whether a connection is up and handshaken now. */
    public boolean connected()
    {
        if (closed)
        {
            return false;
        }
        try
        {
            return submitOnLoop(() -> ready);
        }
        catch (final java.util.concurrent.RejectedExecutionException closing)
        {
            return false;
        }
    }

    private CompletableFuture<TaskStatusReply> keyed(final int opcode, final String key)
    {
        final KeyedCall call = new KeyedCall(opcode, key, keyBytes(key));
        start(call);
        return call.future;
    }

    /**
     * Check a key as every request that names one does, before anything is sent.
     *
     * @throws IllegalArgumentException when it is not 1 to 65535 bytes of UTF-8, saying how long it is, or has an
     *     unpaired surrogate (which UTF-8 cannot encode).
     */
    public static void validateKey(final String key)
    {
        keyBytes(key);
    }

    private static byte[] keyBytes(final String key)
    {
        final byte[] bytes = key == null ? new byte[0] : Submission.utf8("key", key);
        checkKeyLength(bytes.length);
        return bytes;
    }

    private static void checkKeyLength(final int length)
    {
        if (length < 1 || length > 0xFFFF)
        {
            throw new IllegalArgumentException("key must be 1 to 65535 bytes of UTF-8, not " + length + " (65535: what the protocol " +
                "carries; a server takes at most its WELCOME's max_key, 256 by default, and refuses a longer one INVALID_TASK)");
        }
    }

    private <T> CompletableFuture<T> start(final AdminCall<T> call)
    {
        start((Call)call);
        return call.future;
    }

    // ---- decoding the dead-letter replies (body at its reader index, just after the opcode)

    private static DeadLetterPage page(final ByteBuf body)
    {
        final int at = body.readerIndex();
        final int count = body.getUnsignedShort(at + DLQ_PAGE_COUNT);
        final List<DeadLetter> letters = new ArrayList<>(count);
        int entry = at + DLQ_PAGE_FIXED;
        for (int i = 0; i < count; i++)
        {
            final int keyLength = body.getUnsignedShort(entry + DLQ_ENTRY_KEY_LENGTH);
            final int typeLength = body.getUnsignedByte(entry + DLQ_ENTRY_TYPE_LENGTH);
            final int errorLength = body.getUnsignedShort(entry + DLQ_ENTRY_ERROR_LENGTH);
            final int keyAt = entry + DLQ_ENTRY_FIXED;
            letters.add(new DeadLetter(body.getLong(entry + DLQ_ENTRY_CURSOR), body.getLong(entry + DLQ_ENTRY_TASK_ID),
                bytes(body, keyAt, keyLength), body.toString(keyAt + keyLength, typeLength, StandardCharsets.UTF_8),
                DeadLetterReason.fromCode(body.getUnsignedByte(entry + DLQ_ENTRY_REASON)), body.getUnsignedShort(entry + DLQ_ENTRY_ATTEMPTS),
                body.getLong(entry + DLQ_ENTRY_SUBMITTED_AT), body.getLong(entry + DLQ_ENTRY_DEAD_LETTERED_AT),
                text(body, keyAt + keyLength + typeLength, errorLength)));
            entry = keyAt + keyLength + typeLength + errorLength;
        }
        if (entry != body.writerIndex())
        {
            throw new IndexOutOfBoundsException("DLQ_LIST_REPLY of " + body.readableBytes() + " bytes holds " + (entry - at) + " bytes of entries");
        }
        return new DeadLetterPage(letters, body.getLong(at + DLQ_PAGE_NEXT_CURSOR), (body.getUnsignedByte(at + DLQ_PAGE_FLAGS) &
            DLQ_PAGE_FLAG_MORE) != 0, body.getInt(at + DLQ_PAGE_TOTAL));
    }

    private static Optional<DeadLetterDetails> details(final ByteBuf body)
    {
        final int at = body.readerIndex();
        if (body.getUnsignedByte(at + DLQ_SHOW_FOUND) == 0)
        {
            return Optional.empty();
        }
        final int keyLength = body.getUnsignedShort(at + DLQ_SHOW_KEY_LENGTH);
        final int typeLength = body.getUnsignedByte(at + DLQ_SHOW_TYPE_LENGTH);
        final int tenantLength = body.getUnsignedShort(at + DLQ_SHOW_TENANT_LENGTH);
        final int errorLength = body.getUnsignedShort(at + DLQ_SHOW_ERROR_LENGTH);
        final int payloadLength = body.getInt(at + DLQ_SHOW_PAYLOAD_LENGTH);
        final int keyAt = at + DLQ_SHOW_FIXED;
        final int typeAt = keyAt + keyLength;
        final int tenantAt = typeAt + typeLength;
        final int errorAt = tenantAt + tenantLength;
        final int payloadAt = errorAt + errorLength;
        if (payloadLength < 0 || (long)payloadAt + payloadLength != body.writerIndex())
        {
            throw new IndexOutOfBoundsException("DLQ_SHOW_REPLY of " + body.readableBytes() + " bytes does not match its lengths");
        }
        final DeadLetter letter = new DeadLetter(body.getLong(at + DLQ_SHOW_CURSOR), body.getLong(at + DLQ_SHOW_TASK_ID),
            bytes(body, keyAt, keyLength), body.toString(typeAt, typeLength, StandardCharsets.UTF_8),
            DeadLetterReason.fromCode(body.getUnsignedByte(at + DLQ_SHOW_REASON)), body.getUnsignedShort(at + DLQ_SHOW_ATTEMPTS),
            body.getLong(at + DLQ_SHOW_SUBMITTED_AT), body.getLong(at + DLQ_SHOW_DEAD_LETTERED_AT), text(body, errorAt, errorLength));
        return Optional.of(new DeadLetterDetails(letter, Priority.fromCode(body.getUnsignedByte(at + DLQ_SHOW_PRIORITY)),
            bytes(body, tenantAt, tenantLength), body.getInt(at + DLQ_SHOW_TIMEOUT), body.getUnsignedShort(at + DLQ_SHOW_MAX_ATTEMPTS),
            bytes(body, payloadAt, payloadLength)));
    }

    private static RedriveResult redriveResult(final String key, final ByteBuf body)
    {
        final int at = body.readerIndex();
        final int stateCode = body.getUnsignedByte(at + DLQ_REDRIVE_STATE);
        final int length = body.getUnsignedShort(at + DLQ_REDRIVE_MESSAGE_LENGTH);
        if (DLQ_REDRIVE_FIXED + length != body.readableBytes())
        {
            throw new IndexOutOfBoundsException("DLQ_REDRIVE_REPLY of " + body.readableBytes() + " bytes does not match its message_len");
        }
        return new RedriveResult(key, RedriveOutcome.fromCode(body.getUnsignedByte(at + DLQ_REDRIVE_OUTCOME)),
            body.getLong(at + DLQ_REDRIVE_TASK_ID), stateCode == STATE_NONE ? null : TaskState.fromCode(stateCode),
            body.getUnsignedShort(at + DLQ_REDRIVE_ATTEMPTS), body.getUnsignedShort(at + DLQ_REDRIVE_MAX_ATTEMPTS),
            text(body, at + DLQ_REDRIVE_FIXED, length));
    }

    private static PurgeResult purgeResult(final ByteBuf body)
    {
        final int at = body.readerIndex();
        if (body.readableBytes() != DLQ_PURGED_FIXED)
        {
            throw new IndexOutOfBoundsException("DLQ_PURGE_REPLY of " + body.readableBytes() + " bytes, not " + DLQ_PURGED_FIXED);
        }
        return new PurgeResult(body.getInt(at + DLQ_PURGED_COUNT), body.getInt(at + DLQ_PURGED_REMAINING));
    }

    private static byte[] bytes(final ByteBuf body, final int index, final int length)
    {
        final byte[] out = new byte[length];
        body.getBytes(index, out);
        return out;
    }

    private static String text(final ByteBuf body, final int index, final int length)
    {
        if (index + length > body.writerIndex())
        {
            throw new IndexOutOfBoundsException("text at " + index + " of " + length + " bytes runs past the frame");
        }
        return body.toString(index, length, StandardCharsets.UTF_8);
    }

    private static void check(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }

    private void start(final Call call)
    {
        if (closed)
        {
            call.fail(new GyreClientException("client is closed"));
            return;
        }
        if (loop.inEventLoop())
        {
            if (!permits.tryAcquire())
            {
                throw new GyreClientException("maxPending=" + config.maxPending() + " requests already wait (called on the I/O thread, which cannot wait)");
            }
        }
        else
        {
            try
            {
                permits.acquire();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new GyreClientException("interrupted while waiting for room to send");
            }
        }
        call.deadline = System.nanoTime() + config.requestTimeout().toNanos();
        call.future().whenComplete((value, failure) -> permits.release());
        loop.execute(() -> register(call));
    }

    // ------------------------------------------------------------------------------------------------
    // On the I/O thread

    private void register(final Call call)
    {
        if (fatal != null || closed)
        {
            call.fail(fatal != null ? fatal : new GyreClientException("client is closed"));
            return;
        }
        call.correlation = nextCorrelation++;
        pending.put(call.correlation, call);
        if (ready)
        {
            send(call);
        }
    }

    private void send(final Call call)
    {
        final ByteBuf out = channel.alloc().ioBuffer(call.sizeHint());
        call.encode(out);
        if (out.readableBytes() - LENGTH_BYTES > serverMaxFrame)
        {
            out.release();
            pending.remove(call.correlation);
            // not sent: the server would close the connection on it (its limit is from the handshake)
            call.fail(new GyreClientException("request of " + (out.readableBytes() - LENGTH_BYTES) + " bytes exceeds the server's max frame of " +
                serverMaxFrame + " (a payload that large is refused by this server)", ErrorCode.FRAME_TOO_LARGE, null));
            return;
        }
        channel.write(out, channel.voidPromise());
        lastWrite = System.nanoTime();
        if (!flushScheduled)
        {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    private void flush()
    {
        flushScheduled = false;
        if (channel != null)
        {
            channel.flush();
        }
    }

    private void reconnect()
    {
        if (closed || fatal != null)
        {
            return;
        }
        final ChannelFuture connecting = bootstrap.connect(config.host(), config.port());
        connecting.addListener(f ->
        {
            if (!f.isSuccess())
            {
                LOG.debug("connect to {}:{} failed: {}", config.host(), config.port(), f.cause().toString());
                lastServerError = null;
                if (!firstWelcome.isDone() && reconnectAttempt == 0)
                {
                    firstWelcome.completeExceptionally(new GyreClientException(
                        "cannot connect to " + config.host() + ":" + config.port() + ": " + f.cause().getMessage(), null, f.cause()));
                }
                scheduleReconnect();
            }
        });
    }

    /** On the I/O thread, at the connect timeout: when still not handshaken and the server said why, fail connect. */
    private void handshakeDeadline()
    {
        final GyreClientException refusal = lastServerError;
        if (!firstWelcome.isDone() && refusal != null)
        {
            firstWelcome.completeExceptionally(noHandshake(refusal));
        }
    }

    /** No WELCOME within the connect timeout: with the server's reason and code when its last word was an ERROR. */
    private GyreClientException noHandshake(final GyreClientException refusal)
    {
        final String text = "no handshake with " + config.host() + ":" + config.port() + " within " + config.connectTimeout();
        return refusal == null ? new GyreClientException(text) : new GyreClientException(text + ": " + refusal.getMessage(), refusal.code(), null);
    }

    /** A given-up submission the server had accepted says so: its task is journaled, and runs, whatever the client heard. */
    private static String acceptedNote(final Call call, final String text)
    {
        return call instanceof SubmitCall submit && submit.acceptedTaskId != 0 ?
            text + " (task " + submit.acceptedTaskId + ", key " + submit.submission.key + ", was accepted: it is journaled and runs; " +
                "ask its status by key)" : text;
    }

    /** A request given up for want of a connection: with the server's reason and code when its last word was an ERROR. */
    private GyreClientException notConnected(final String text)
    {
        final GyreClientException refusal = lastServerError;
        return refusal == null ? new GyreClientException(text) : new GyreClientException(text + ": " + refusal.getMessage(), refusal.code(), null);
    }

    private void scheduleReconnect()
    {
        if (closed || fatal != null)
        {
            return;
        }
        final long initial = config.reconnectInitialDelay().toNanos();
        final long max = config.reconnectMaxDelay().toNanos();
        final long base = Math.min(max, initial << Math.min(reconnectAttempt, 30));
        final long delay = (long)(base * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        reconnectAttempt++;
        loop.schedule(this::reconnect, delay, TimeUnit.NANOSECONDS);
    }

    private void welcomed(final Channel ch, final ByteBuf body)
    {
        if (body.readableBytes() < WELCOME_FIXED)
        {
            protocolFailure(ch, "WELCOME of " + body.readableBytes() + " bytes is shorter than " + WELCOME_FIXED);
            return;
        }
        serverMaxFrame = body.getInt(body.readerIndex() + WELCOME_MAX_FRAME);
        serverIdleNanos = TimeUnit.MILLISECONDS.toNanos(body.getUnsignedInt(body.readerIndex() + WELCOME_IDLE_TIMEOUT));
        ready = true;
        welcomedOnce = true;
        reconnectAttempt = 0;
        disconnectedSince = 0;
        lastServerError = null;
        final List<Call> unanswered = new ArrayList<>(pending.values());
        unanswered.sort(Comparator.comparingLong(c -> c.correlation));
        if (!unanswered.isEmpty())
        {
            LOG.info("connected to {}:{}; sending {} unanswered request(s) again", config.host(), config.port(), unanswered.size());
        }
        for (final Call call : unanswered)
        {
            if (call instanceof SubmitCall submit)
            {
                submit.resendAt = 0;
            }
            send(call);
        }
        firstWelcome.complete(null);
    }

    private void disconnected(final Channel ch)
    {
        if (ch != channel)
        {
            return;
        }
        channel = null;
        ready = false;
        disconnectedSince = System.nanoTime();
        endSubscriptions(closed ? null : new GyreClientException("connection to " + config.host() + ":" + config.port() +
            " lost: the subscription ended (events from now to a new subscription are not seen)"));
        if (closed)
        {
            return;
        }
        LOG.debug("connection to {}:{} lost; {} request(s) unanswered", config.host(), config.port(), pending.size());
        scheduleReconnect();
    }

    /**
     * A submission the server had accepted, sent again after a reconnect, was refused: the task is journaled, so this is
     * not its answer (an ACCEPTED is never followed by a REJECTED). A refusal for now (a full ring, a stop, the journal
     * down, the live-task limit) sends it again a little later, within the request's timeout; any other says what
     * happened, and the caller asks the task's status by key.
     */
    private void refusedResend(final SubmitCall submit, final ByteBuf body)
    {
        final int at = body.readerIndex();
        final int code = body.getUnsignedShort(at + COMPLAINT_CODE);
        final int length = Math.min(body.getUnsignedShort(at + COMPLAINT_MESSAGE_LENGTH), body.readableBytes() - COMPLAINT_FIXED);
        final RejectCode reject = RejectCode.fromCode(code);
        switch (reject == null ? RejectCode.INVALID_TASK : reject)
        {
            case BUSY, BUSY_FOR_PRIORITY, CAPACITY, SHUTTING_DOWN, JOURNAL_UNAVAILABLE, TOO_MANY_WAITERS, UNAVAILABLE ->
            {
                submit.resendDelayMillis = submit.resendDelayMillis == 0 ? RESEND_FIRST_MILLIS :
                    Math.min(RESEND_MAX_MILLIS, submit.resendDelayMillis * 2);
                // anywhere in the second half of the delay: resends refused together (a reconnect sends every unanswered
                // request at once) must not come back together, or a full ring refuses most of them again, round after round
                final long half = submit.resendDelayMillis / 2;
                submit.resendAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(half + ThreadLocalRandom.current().nextLong(half + 1));
                // kept among the pending calls: its deadline, a close and a reconnect apply to it as to the others
                pending.put(submit.correlation, submit);
            }
            default -> submit.fail(new GyreClientException("task " + submit.acceptedTaskId + " (key " + submit.submission.key +
                ") was accepted, but the server refused the submission sent again after a reconnect: " +
                (reject != null ? reject : "code " + code) + ": " + body.toString(at + COMPLAINT_FIXED, length, StandardCharsets.UTF_8) +
                "; the task is journaled: ask its status by key", null, null));
        }
    }

    private void sweep()
    {
        final long now = System.nanoTime();
        final boolean disconnected = !ready && disconnectedSince != 0;
        final long giveUp = config.reconnectGiveUp().toNanos();
        final long requestTimeout = config.requestTimeout().toNanos();
        final Long2ObjectHashMap<Call>.ValueIterator calls = pending.values().iterator();
        while (calls.hasNext())
        {
            final Call call = calls.next();
            // a call gives up once it has waited that long without a connection: one made after the connection was
            // lost counts from when it was made, so the client keeps trying for new requests
            final long waitingSince = Math.max(disconnectedSince, call.deadline - requestTimeout);
            if (disconnected && now - waitingSince > giveUp)
            {
                calls.remove();
                call.fail(notConnected(acceptedNote(call, "no connection to " + config.host() + ":" + config.port() + " for " + config.reconnectGiveUp())));
            }
            else if (now - call.deadline > 0)
            {
                calls.remove();
                call.fail(ready ? new GyreClientException(acceptedNote(call, "no answer within " + config.requestTimeout())) :
                    notConnected(acceptedNote(call, "no answer within " + config.requestTimeout() + " (not connected)")));
            }
            else if (ready && call instanceof SubmitCall submit && submit.resendAt != 0 && now - submit.resendAt >= 0)
            {
                calls.remove();
                if (resendDue == null)
                {
                    resendDue = new ArrayList<>();
                }
                resendDue.add(submit);
            }
        }
        if (resendDue != null)
        {
            for (final SubmitCall submit : resendDue)
            {
                submit.resendAt = 0;
                register(submit);
            }
            resendDue.clear();
        }
        if (ready && now - lastWrite > serverIdleNanos / 3)
        {
            final ByteBuf out = channel.alloc().ioBuffer(HEADER_BYTES + PING_FIXED);
            Frames.ping(out, PING, 0);
            channel.writeAndFlush(out, channel.voidPromise());
            lastWrite = now;
        }
    }

    private void protocolFailure(final Channel ch, final String message)
    {
        LOG.warn("closing the connection to {}:{}: {}", config.host(), config.port(), message);
        ch.close();
    }

    private void serverError(final Channel ch, final ByteBuf body)
    {
        final int at = body.readerIndex();
        final int code = body.getUnsignedShort(at + COMPLAINT_CODE);
        final int length = body.getUnsignedShort(at + COMPLAINT_MESSAGE_LENGTH);
        final String message = body.toString(at + COMPLAINT_FIXED, Math.min(length, body.readableBytes() - COMPLAINT_FIXED), StandardCharsets.UTF_8);
        final ErrorCode error = ErrorCode.fromCode(code);
        final String text = "server " + config.host() + ":" + config.port() + " says " + (error != null ? error : "error " + code) + ": " + message;
        if ((error == ErrorCode.AUTH_FAILED || error == ErrorCode.UNSUPPORTED_VERSION || error == ErrorCode.BAD_MAGIC) && !welcomedOnce)
        {
            // refused for good before the first handshake: connect() fails with it
            fatal = new GyreClientException(text, error, null);
            firstWelcome.completeExceptionally(fatal);
            failAll(fatal);
        }
        else
        {
            final GyreClientException previous = lastServerError;
            lastServerError = new GyreClientException(text, error, null);
            // after a handshake, even a refusal for good (a server restarted with another auth token or version) is
            // tried again with backoff like any other: it may be put right, and the requests wait for it as for a
            // server that is down, failing with this reason when they give up
            if (error == ErrorCode.SHUTTING_DOWN || error == ErrorCode.IDLE_TIMEOUT ||
                previous != null && previous.code() == error ||
                error == ErrorCode.TOO_MANY_CONNECTIONS && !firstWelcome.isDone())
            {
                // expected, or said already: the server still has no room (the client retries with backoff); before the
                // first handshake, connect() fails with this very reason if it lasts
                LOG.debug(text);
            }
            else
            {
                LOG.warn(text);
            }
        }
        ch.close();
    }

    private void endSubscriptions(final GyreClientException failure)
    {
        final List<Subscription> ending = new ArrayList<>(subscriptions.values());
        subscriptions.clear();
        for (final Subscription subscription : ending)
        {
            subscription.end(failure);
        }
    }

    /** On the I/O thread: an EVENT or EVENTS_LOST frame of a subscription (dropped when it has ended). */
    private void pushed(final Channel ch, final int opcode, final ByteBuf body)
    {
        final int at = body.readerIndex();
        if (body.readableBytes() < LOST_FIXED)
        {
            protocolFailure(ch, Protocol.opcodeName(opcode) + " of " + body.readableBytes() + " bytes is too short");
            return;
        }
        final Subscription subscription = subscriptions.get(body.getLong(at));
        if (subscription == null)
        {
            return;
        }
        if (opcode == EVENTS_LOST)
        {
            subscription.lost(body.getLong(at + LOST_COUNT), (body.getUnsignedByte(at + LOST_FLAGS) & LOST_FLAG_UPPER_BOUND) != 0);
            return;
        }
        final TaskEvent event;
        try
        {
            event = event(body);
        }
        catch (final IndexOutOfBoundsException | IllegalArgumentException ex)
        {
            protocolFailure(ch, "malformed EVENT from the server: " + ex.getMessage());
            return;
        }
        subscription.deliver(event);
    }

    /**
     * Decode an EVENT's body (at its reader index, just after the opcode).
     *
     * @throws IndexOutOfBoundsException when its lengths do not add up to the frame.
     */
    static TaskEvent event(final ByteBuf body)
    {
        final int at = body.readerIndex();
        if (body.readableBytes() < EVENT_FIXED)
        {
            throw new IndexOutOfBoundsException("EVENT of " + body.readableBytes() + " bytes is shorter than " + EVENT_FIXED);
        }
        final int keyLength = body.getUnsignedShort(at + EVENT_KEY_LENGTH);
        final int typeLength = body.getUnsignedByte(at + EVENT_TYPE_LENGTH);
        final int tenantLength = body.getUnsignedByte(at + EVENT_TENANT_LENGTH);
        final int errorLength = body.getUnsignedShort(at + EVENT_ERROR_LENGTH);
        if (EVENT_FIXED + keyLength + typeLength + tenantLength + errorLength != body.readableBytes())
        {
            throw new IndexOutOfBoundsException("EVENT of " + body.readableBytes() + " bytes does not match its lengths");
        }
        final TaskEvent.Kind kind = TaskEvent.Kind.fromCode(body.getUnsignedByte(at + EVENT_KIND));
        final int from = body.getUnsignedByte(at + EVENT_FROM);
        final int state = body.getUnsignedByte(at + EVENT_STATE);
        if (kind == null || state > TaskState.DEAD_LETTERED.code() || from != STATE_NONE && from > TaskState.DEAD_LETTERED.code())
        {
            throw new IllegalArgumentException("EVENT with kind " + body.getUnsignedByte(at + EVENT_KIND) + ", from " + from + ", state " + state);
        }
        final int keyAt = at + EVENT_FIXED;
        final int typeAt = keyAt + keyLength;
        final int tenantAt = typeAt + typeLength;
        final int errorAt = tenantAt + tenantLength;
        return new TaskEvent(body.getLong(at + EVENT_EVENT_ID), body.getLong(at + EVENT_DOCUMENT), body.getLong(at + EVENT_TIMESTAMP),
            body.getLong(at + EVENT_TASK_ID), kind, from == STATE_NONE ? null : TaskState.fromCode(from), TaskState.fromCode(state),
            body.getUnsignedByte(at + EVENT_REASON), body.getUnsignedShort(at + EVENT_ATTEMPT), body.getLong(at + EVENT_DUE_AT),
            bytes(body, keyAt, keyLength), body.toString(typeAt, typeLength, StandardCharsets.UTF_8), bytes(body, tenantAt, tenantLength),
            errorLength == 0 ? null : body.toString(errorAt, errorLength, StandardCharsets.UTF_8));
    }

    private void failAll(final GyreClientException failure)
    {
        final List<Call> calls = new ArrayList<>(pending.values());
        pending.clear();
        for (final Call call : calls)
        {
            call.fail(failure);
        }
    }

    private void answer(final int opcode, final ByteBuf body)
    {
        if (body.readableBytes() < 8)
        {
            return;
        }
        final long correlation = body.getLong(body.readerIndex());
        if (opcode == ACCEPTED)
        {
            final Call call = pending.get(correlation);
            if (call instanceof SubmitCall submit && body.readableBytes() >= ACCEPTED_FIXED)
            {
                submit.accepted(body.getLong(body.readerIndex() + 8));
            }
            return;
        }
        final Call call = pending.remove(correlation);
        if (call == null)
        {
            return; // a PONG to a keep-alive, or the answer to a request that timed out
        }
        if (opcode == REJECTED && call instanceof SubmitCall submit && submit.acceptedTaskId != 0 && body.readableBytes() >= COMPLAINT_FIXED)
        {
            refusedResend(submit, body);
            return;
        }
        try
        {
            call.complete(opcode, body);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            call.fail(new GyreClientException("malformed " + Protocol.opcodeName(opcode) + " from the server", null, ex));
        }
    }

    // ------------------------------------------------------------------------------------------------

    /**
     * Close the connection; requests not yet answered fail. Idempotent. Called from a future's callback (on the
     * client's own I/O thread), it closes without waiting for that thread to end, which it does just after.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final Runnable shut = () ->
        {
            failAll(new GyreClientException("client is closed"));
            endSubscriptions(null);
            if (channel != null)
            {
                channel.close();
            }
        };
        if (loop.inEventLoop())
        {
            // called back on the client's own thread (a future's callback): it cannot wait for itself to stop
            shut.run();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            return;
        }
        try
        {
            loop.submit(shut).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        catch (final java.util.concurrent.RejectedExecutionException ignored)
        {
            // already shut down
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private <T> T submitOnLoop(final java.util.concurrent.Callable<T> task)
    {
        try
        {
            return loop.submit(task).get();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new GyreClientException("interrupted");
        }
        catch (final ExecutionException ex)
        {
            throw new GyreClientException(String.valueOf(ex.getCause()), null, ex.getCause());
        }
    }

    /**
     * Inbound: WELCOME, answers, errors. One frame per message (length prefix removed).
     */
    private final class Handler extends ChannelInboundHandlerAdapter
    {
        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            channel = ctx.channel();
            final ByteBuf hello = ctx.alloc().ioBuffer(HEADER_BYTES + HELLO_FIXED + (config.authToken() == null ? 0 : config.authToken().length));
            // accounting: every RESULT carries the task's queue and execution time (TaskResult has them)
            Frames.hello(hello, VERSION, HELLO_FLAG_ACCOUNTING, config.authToken() == null ? new byte[0] : config.authToken());
            ctx.writeAndFlush(hello, ctx.voidPromise());
            lastWrite = System.nanoTime();
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            final ByteBuf frame = (ByteBuf)msg;
            try
            {
                if (!frame.isReadable())
                {
                    protocolFailure(ctx.channel(), "empty frame");
                    return;
                }
                final int opcode = frame.readUnsignedByte();
                switch (opcode)
                {
                    case WELCOME -> welcomed(ctx.channel(), frame);
                    case ERROR -> serverError(ctx.channel(), frame);
                    case ACCEPTED, REJECTED, RESULT, STATUS_REPLY, CANCEL_REPLY, PONG, DLQ_LIST_REPLY, DLQ_SHOW_REPLY, DLQ_REDRIVE_REPLY,
                        DLQ_PURGE_REPLY, SUBSCRIBED, UNSUBSCRIBED -> answer(opcode, frame);
                    case EVENT, EVENTS_LOST -> pushed(ctx.channel(), opcode, frame);
                    default -> protocolFailure(ctx.channel(), "unknown opcode " + Protocol.opcodeName(opcode) + " from the server");
                }
            }
            finally
            {
                frame.release();
            }
        }

        @Override
        public void channelInactive(final ChannelHandlerContext ctx)
        {
            disconnected(ctx.channel());
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            LOG.debug("connection to {}:{} failed: {}", config.host(), config.port(), cause.toString());
            ctx.close();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Requests waiting for their answers

    private abstract static class Call
    {
        long correlation;
        long deadline;

        abstract int sizeHint();

        abstract void encode(ByteBuf out);

        abstract void complete(int opcode, ByteBuf body);

        abstract void fail(Throwable failure);

        abstract CompletableFuture<?> future();
    }

    private static final class SubmitCall extends Call
    {
        final Submission submission;
        final CompletableFuture<TaskResult> future = new CompletableFuture<>();
        /** The task id of this request's first ACCEPTED (on any connection), 0 until then; task ids are positive. */
        long acceptedTaskId;
        /** When to send it again, its resend having been refused for now ({@link #refusedResend}); 0 when not waiting. */
        long resendAt;
        long resendDelayMillis;

        SubmitCall(final Submission submission)
        {
            this.submission = submission;
        }

        @Override
        int sizeHint()
        {
            return HEADER_BYTES + SUBMIT_FIXED + (submission.backoff == null ? 0 : RETRY_POLICY_BYTES) + submission.keyBytes.length + submission.type.length + submission.tenant.length +
                submission.payload.length;
        }

        @Override
        void encode(final ByteBuf out)
        {
            Frames.submit(out, correlation, submission.priority.code(), submission.deadLetter ? 0 : SUBMIT_FLAG_NO_DEAD_LETTER,
                submission.timeoutMillis, submission.maxAttempts, submission.backoff, submission.keyBytes, submission.type, submission.tenant,
                submission.payload, 0, submission.payload.length);
        }

        /**
         * An ACCEPTED of this request. Sent again after a reconnect, the request is accepted again (the server joins
         * it to the task it had journaled): the caller hears of the first acceptance only.
         */
        void accepted(final long taskId)
        {
            if (acceptedTaskId != 0)
            {
                return;
            }
            acceptedTaskId = taskId;
            if (submission.onAccepted != null)
            {
                submission.onAccepted.accept(taskId);
            }
        }

        @Override
        void complete(final int opcode, final ByteBuf body)
        {
            final int at = body.readerIndex();
            if (opcode == REJECTED)
            {
                final int code = body.getUnsignedShort(at + COMPLAINT_CODE);
                final int length = body.getUnsignedShort(at + COMPLAINT_MESSAGE_LENGTH);
                future.complete(new TaskResult(submission.key, 0, null, RejectCode.fromCode(code), code, 0, false, new byte[0],
                    body.toString(at + COMPLAINT_FIXED, length, StandardCharsets.UTF_8), 0, 0, 0, 0, 0));
                return;
            }
            if (opcode != RESULT)
            {
                fail(new GyreClientException("a SUBMIT was answered with " + Protocol.opcodeName(opcode)));
                return;
            }
            final TaskState state = TaskState.fromCode(body.getUnsignedByte(at + RESULT_STATE));
            final int flags = body.getUnsignedByte(at + RESULT_FLAGS);
            final boolean accounted = (flags & RESULT_FLAG_ACCOUNTING) != 0;
            final int length = (int)body.getUnsignedInt(at + (accounted ? RESULT_ACCOUNTED_BODY_LENGTH : RESULT_BODY_LENGTH));
            final byte[] bytes = new byte[length];
            body.getBytes(at + (accounted ? RESULT_ACCOUNTED_FIXED : RESULT_FIXED), bytes);
            final boolean succeeded = state == TaskState.SUCCEEDED;
            final long taskId = body.getLong(at + RESULT_TASK_ID);
            // DUPLICATE answers a resend (after a reconnect) of this request when its task finished meanwhile: when the
            // server had accepted this very request as that task, the outcome is this submission's own, not a duplicate
            final boolean duplicate = (flags & RESULT_FLAG_DUPLICATE) != 0 && !(acceptedTaskId != 0 && taskId == acceptedTaskId);
            future.complete(new TaskResult(submission.key, taskId, state, null, 0,
                body.getUnsignedShort(at + RESULT_ATTEMPTS), duplicate,
                succeeded ? bytes : new byte[0], succeeded ? null : new String(bytes, StandardCharsets.UTF_8),
                body.getLong(at + RESULT_SUBMITTED_AT), body.getLong(at + RESULT_STARTED_AT), body.getLong(at + RESULT_FINISHED_AT),
                accounted ? body.getLong(at + RESULT_QUEUE_NANOS) : 0, accounted ? body.getLong(at + RESULT_EXECUTION_NANOS) : 0));
        }

        @Override
        void fail(final Throwable failure)
        {
            future.completeExceptionally(failure);
        }

        @Override
        CompletableFuture<?> future()
        {
            return future;
        }
    }

    private static final class KeyedCall extends Call
    {
        final int opcode;
        final String key;
        final byte[] keyBytes;
        final CompletableFuture<TaskStatusReply> future = new CompletableFuture<>();

        KeyedCall(final int opcode, final String key, final byte[] keyBytes)
        {
            this.opcode = opcode;
            this.key = key;
            this.keyBytes = keyBytes;
        }

        @Override
        int sizeHint()
        {
            return HEADER_BYTES + KEYED_FIXED + keyBytes.length;
        }

        @Override
        void encode(final ByteBuf out)
        {
            Frames.keyed(out, opcode, correlation, keyBytes);
        }

        @Override
        void complete(final int answer, final ByteBuf body)
        {
            final int at = body.readerIndex();
            if (answer == REJECTED)
            {
                // a refusal, with its reason, as for the dead-letter requests: the connection is fine
                final int code = body.getUnsignedShort(at + COMPLAINT_CODE);
                final int length = body.getUnsignedShort(at + COMPLAINT_MESSAGE_LENGTH);
                final RejectCode reject = RejectCode.fromCode(code);
                fail(new RequestRefusedException("server refused " + Protocol.opcodeName(opcode) + " of key " + key + " (" +
                    (reject != null ? reject : "code " + code) + "): " + body.toString(at + COMPLAINT_FIXED, length, StandardCharsets.UTF_8),
                    reject, code));
                return;
            }
            if (answer != STATUS_REPLY && answer != CANCEL_REPLY)
            {
                fail(new GyreClientException("a " + Protocol.opcodeName(opcode) + " was answered with " + Protocol.opcodeName(answer)));
                return;
            }
            final boolean found = body.getUnsignedByte(at + STATUS_FOUND) != 0;
            final int stateCode = body.getUnsignedByte(at + STATUS_STATE);
            final byte[] bytes = new byte[(int)body.getUnsignedInt(at + STATUS_BODY_LENGTH)];
            body.getBytes(at + STATUS_FIXED, bytes);
            future.complete(new TaskStatusReply(key, found, body.getLong(at + STATUS_TASK_ID),
                found && stateCode != STATE_NONE ? TaskState.fromCode(stateCode) : null,
                body.getUnsignedShort(at + STATUS_ATTEMPTS), body.getUnsignedShort(at + STATUS_MAX_ATTEMPTS),
                body.getLong(at + STATUS_SUBMITTED_AT), body.getLong(at + STATUS_STARTED_AT), body.getLong(at + STATUS_FINISHED_AT), bytes));
        }

        @Override
        void fail(final Throwable failure)
        {
            future.completeExceptionally(failure);
        }

        @Override
        CompletableFuture<?> future()
        {
            return future;
        }
    }

    /**
     * A dead-letter request: how it is encoded, which reply answers it, and how that reply is decoded.
     */
    private static final class AdminCall<T> extends Call
    {
        final String what;
        final int replyOpcode;
        final int sizeHint;
        final ObjLongConsumer<ByteBuf> encoder;
        final Function<ByteBuf, T> decoder;
        final CompletableFuture<T> future = new CompletableFuture<>();

        AdminCall(final String what, final int replyOpcode, final int sizeHint, final ObjLongConsumer<ByteBuf> encoder,
            final Function<ByteBuf, T> decoder)
        {
            this.what = what;
            this.replyOpcode = replyOpcode;
            this.sizeHint = sizeHint;
            this.encoder = encoder;
            this.decoder = decoder;
        }

        @Override
        int sizeHint()
        {
            return sizeHint;
        }

        @Override
        void encode(final ByteBuf out)
        {
            encoder.accept(out, correlation);
        }

        @Override
        void complete(final int answer, final ByteBuf body)
        {
            final int at = body.readerIndex();
            if (answer == REJECTED)
            {
                final int code = body.getUnsignedShort(at + COMPLAINT_CODE);
                final int length = body.getUnsignedShort(at + COMPLAINT_MESSAGE_LENGTH);
                final RejectCode reject = RejectCode.fromCode(code);
                fail(new RequestRefusedException("server refused " + what + " (" + (reject != null ? reject : "code " + code) + "): " +
                    body.toString(at + COMPLAINT_FIXED, length, StandardCharsets.UTF_8), reject, code));
                return;
            }
            if (answer != replyOpcode)
            {
                fail(new GyreClientException("a " + what + " was answered with " + Protocol.opcodeName(answer)));
                return;
            }
            future.complete(decoder.apply(body));
        }

        @Override
        void fail(final Throwable failure)
        {
            future.completeExceptionally(failure);
        }

        @Override
        CompletableFuture<?> future()
        {
            return future;
        }
    }

    private static final class PingCall extends Call
    {
        final CompletableFuture<Long> future = new CompletableFuture<>();
        long sentAt;

        @Override
        int sizeHint()
        {
            return HEADER_BYTES + PING_FIXED;
        }

        @Override
        void encode(final ByteBuf out)
        {
            sentAt = System.nanoTime();
            Frames.ping(out, PING, correlation);
        }

        @Override
        void complete(final int opcode, final ByteBuf body)
        {
            future.complete(System.nanoTime() - sentAt);
        }

        @Override
        void fail(final Throwable failure)
        {
            future.completeExceptionally(failure);
        }

        @Override
        CompletableFuture<?> future()
        {
            return future;
        }
    }

    /**
     * The client's requests, waiting for their answers (up to the request timeout).
     */
    public final class Blocking
    {
        private Blocking()
        {
        }

        public TaskResult submit(final Submission submission)
        {
            return await(GyreClient.this.submit(submission));
        }

        public TaskStatusReply status(final String key)
        {
            return await(GyreClient.this.status(key));
        }

        public TaskStatusReply cancel(final String key)
        {
            return await(GyreClient.this.cancel(key));
        }

        public Duration ping()
        {
            return Duration.ofNanos(await(GyreClient.this.ping()));
        }

        public DeadLetterPage deadLetters(final long after, final int limit)
        {
            return await(GyreClient.this.deadLetters(after, limit));
        }

        public Optional<DeadLetterDetails> deadLetter(final String key)
        {
            return await(GyreClient.this.deadLetter(key));
        }

        public RedriveResult redrive(final String key)
        {
            return await(GyreClient.this.redrive(key));
        }

        public PurgeResult purgeDeadLetter(final String key)
        {
            return await(GyreClient.this.purgeDeadLetter(key));
        }

        public PurgeResult purgeDeadLetters()
        {
            return await(GyreClient.this.purgeDeadLetters());
        }

        public Subscription subscribe(final EventFilter filter, final TaskEventListener listener)
        {
            return await(GyreClient.this.subscribe(filter, listener));
        }

        private <T> T await(final CompletableFuture<T> future)
        {
            try
            {
                return future.join();
            }
            catch (final CompletionException ex)
            {
                throw ex.getCause() instanceof GyreClientException g ? g : new GyreClientException(String.valueOf(ex.getCause()), null, ex.getCause());
            }
        }
    }
}
