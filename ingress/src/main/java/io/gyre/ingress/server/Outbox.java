package io.gyre.ingress.server;

import io.gyre.engine.BatchingOutcomeListener;
import io.gyre.engine.DeadLetter;
import io.gyre.engine.DeadLetterDetails;
import io.gyre.engine.DeadLetterPage;
import io.gyre.engine.EngineClosedException;
import io.gyre.engine.PurgeResult;
import io.gyre.engine.RedriveResult;
import io.gyre.engine.RequestRefusedException;
import io.gyre.engine.TaskOutcome;
import io.gyre.engine.TaskState;
import io.gyre.engine.TaskStatus;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.gyre.ingress.protocol.RejectCode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.internal.PlatformDependent;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static io.gyre.ingress.protocol.Protocol.*;

/**
 * Carries a connection's answers from the engine's publish thread to the connection's event loop.
 * <p>
 * The publish thread encodes each answer into one buffer per engine batch; at the batch's end the buffer
 * goes on a queue and the event loop is woken once (not once per answer) to write everything queued and
 * flush. The event loop counts requests sent into the engine, the publish thread counts the answers:
 * their difference is what the connection has in flight.
 * <p>
 * The bytes of replies held (encoded, and not yet taken by the socket) are bounded: past the connection's
 * budget (a client that stopped reading while the replies to what it had sent keep coming), or when the
 * server's total budget is passed and this connection holds the most, the outbox stops encoding, drops what it
 * holds, and has the connection closed with ERROR SLOW_CONSUMER. A batch of answers is cut into buffers of at
 * most about {@value #ROLL_BYTES} bytes (or one reply), so no single allocation grows with the batch.
 */
final class Outbox extends BatchingOutcomeListener
{
    private static final byte[] EMPTY = new byte[0];
    private static final int BATCH_BUFFER_BYTES = 2048;
    /** A batch buffer this full is queued, and the next answers go into a new one. */
    static final int ROLL_BYTES = 64 << 10;

    private final ChannelHandlerContext ctx;
    /** When the socket last took replies from this connection (System.nanoTime; 0: never). Event loop only. */
    private long lastHandedNanos;
    private final Executor executor;
    private final Runnable afterDrain;
    private final ReplyBudget budget;
    private final java.util.function.Consumer<String> onOverflow;
    /** Reply bytes queued or in the channel, not yet taken by the socket. */
    private final AtomicLong held = new AtomicLong();
    private final AtomicBoolean overflowed = new AtomicBoolean();
    private final Queue<ByteBuf> queue = PlatformDependent.newMpscQueue();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private volatile boolean resultsOnly;
    private volatile boolean accounting;
    private volatile boolean closed;

    // the event loop's: answers whose frames are written to the channel
    private long written;

    // the publish thread's
    private ByteBuf batch;
    private int batchAnswers;

    /**
     * @param onOverflow run on {@code executor} once, when the reply bytes held passed a budget: closes the
     *     connection, with the reason given.
     */
    Outbox(
        final ChannelHandlerContext ctx,
        final Executor executor,
        final Runnable afterDrain,
        final ReplyBudget budget,
        final java.util.function.Consumer<String> onOverflow)
    {
        this.ctx = ctx;
        this.executor = executor;
        this.afterDrain = afterDrain;
        this.budget = budget;
        this.onOverflow = onOverflow;
    }

    /** @return reply bytes held: queued for the event loop or in the channel, not yet taken by the socket (any thread). */
    long heldBytes()
    {
        return held.get();
    }

    /** @return true once the reply bytes held passed a budget: the connection is being closed. */
    boolean overflowed()
    {
        return overflowed.get();
    }

    /**
     * Stop encoding, drop what is held (on the event loop) and have the connection closed: it holds too many reply
     * bytes. Any thread; once.
     */
    void overflow(final String why)
    {
        if (!overflowed.compareAndSet(false, true))
        {
            return;
        }
        // from here nothing more is encoded (the batch being written is released at its end) or written
        closed = true;
        try
        {
            executor.execute(() -> onOverflow.accept(why));
        }
        catch (final RejectedExecutionException ex)
        {
            // the event loop is gone (server stopped): its channel is closed
        }
    }

    /** The connection's HELLO asked for accounting in its RESULT frames. */
    void accounting(final boolean value)
    {
        accounting = value;
    }

    void resultsOnly(final boolean value)
    {
        resultsOnly = value;
    }

    /** The event loop sent one more request into the engine. */
    void sent()
    {
        sent.lazySet(sent.get() + 1);
    }

    /** @return requests without an answer yet (any thread). */
    long inFlight()
    {
        return sent.get() - answered.get();
    }

    /**
     * @return requests whose answers are not yet written to the channel (the event loop's): what the
     *     in-flight limit counts, so answers waiting in the queue hold their slots and the queue stays bounded.
     */
    long unwritten()
    {
        return sent.get() - written;
    }

    // ------------------------------------------------------------------------------------------------
    // The publish thread

    @Override
    public void onAccepted(final long correlationId, final long taskId)
    {
        if (!resultsOnly && !closed)
        {
            try
            {
                final ByteBuf out = batch();
                final int before = out.writerIndex();
                Frames.accepted(out, correlationId, taskId);
                written(before);
            }
            catch (final OutOfMemoryError ex)
            {
                outOfMemory(ex);
            }
        }
    }

    @Override
    public void onOutcome(final TaskOutcome outcome)
    {
        if (outcome.unfinished())
        {
            // the engine stopped before the task finished: the protocol has no answer for that but the ERROR
            // SHUTTING_DOWN the connection gets as the server closes (the client resends by key to the next one),
            // so the request stays in flight
            return;
        }
        batchAnswers++;
        if (closed)
        {
            return;
        }
        try
        {
            final ByteBuf out = batch();
            final int before = out.writerIndex();
            encode(out, outcome);
            written(before);
        }
        catch (final OutOfMemoryError ex)
        {
            outOfMemory(ex);
        }
    }

    private void encode(final ByteBuf out, final TaskOutcome outcome)
    {
        if (outcome.rejected())
        {
            Frames.complaint(out, REJECTED, outcome.correlationId(), RejectCode.of(outcome.rejectReason()).code(),
                outcome.error() != null ? outcome.error() : message(outcome.rejectReason()));
            return;
        }
        final TaskState state = outcome.state();
        final int flags = (outcome.duplicate() ? RESULT_FLAG_DUPLICATE : 0) | (accounting ? RESULT_FLAG_ACCOUNTING : 0);
        if (state == TaskState.SUCCEEDED)
        {
            Frames.result(out, outcome.correlationId(), outcome.taskId(), state.code(), flags, outcome.attempts(),
                outcome.submittedAt(), outcome.startedAt(), outcome.finishedAt(), outcome.queueNanos(), outcome.executionNanos(),
                outcome.outputBuffer(), outcome.outputOffset(), outcome.outputLength());
        }
        else
        {
            Frames.result(out, outcome.correlationId(), outcome.taskId(), state.code(), flags, outcome.attempts(),
                outcome.submittedAt(), outcome.startedAt(), outcome.finishedAt(), outcome.queueNanos(), outcome.executionNanos(),
                outcome.error());
        }
    }

    @Override
    public void onEndOfBatch()
    {
        // frames first, then the count, then the wake-up: whoever sees the count sees the frames queued, and a
        // drain runs after the count changed (so a connection paused at its in-flight limit resumes)
        final ByteBuf full = batch;
        batch = null;
        if (full != null)
        {
            if (closed)
            {
                // the connection closed while this batch was being written: nobody will drain it
                full.release();
            }
            else
            {
                enqueue(full);
            }
        }
        if (batchAnswers > 0)
        {
            answered.addAndGet(batchAnswers);
            batchAnswers = 0;
        }
        else if (full == null)
        {
            return;
        }
        schedule();
    }

    private ByteBuf batch()
    {
        if (batch == null)
        {
            batch = ctx.alloc().ioBuffer(BATCH_BUFFER_BYTES);
        }
        return batch;
    }

    /**
     * The publish thread encoded a frame into the batch from {@code before}: check this connection's budget (one
     * reply alone is always allowed, however large), and queue the batch once it is large enough.
     */
    private void written(final int before)
    {
        final ByteBuf out = batch;
        final long pending = held.get() + out.writerIndex();
        if (pending > budget.perConnection() && pending > out.writerIndex() - before)
        {
            overflow("the client does not read its replies: the server holds " + pending + " bytes of them for this connection, " +
                "more than its maxReplyBytes=" + budget.perConnection());
            return;
        }
        if (out.writerIndex() >= ROLL_BYTES)
        {
            batch = null;
            enqueue(out);
            schedule();
        }
    }

    /**
     * Direct memory ran out while encoding a reply: this connection's replies go (the frame being written is
     * incomplete), rather than the error reaching the engine's thread.
     */
    private void outOfMemory(final OutOfMemoryError ex)
    {
        overflow("the server ran out of memory for replies (" + ex.getMessage() + ") holding " + held.get() +
            " bytes of them for this connection");
    }

    /**
     * The engine ended this connection's subscription: its queued events took the most of the engine's bound over all
     * subscriptions when another subscriber's event found no room ({@link EventProxy}). Closed as a slow consumer.
     */
    void eventsOverflowed()
    {
        overflow("the client does not read its status events: those queued for it took the most of the server's bound on " +
            "events queued over all subscriptions (maxQueuedEventBytes)");
    }

    /** Direct memory ran out while a status event was encoded for this connection ({@link EventProxy}): close it. */
    void eventsOutOfMemory(final OutOfMemoryError ex)
    {
        overflow("the server ran out of memory for status events (" + ex.getMessage() + ") holding " + held.get() +
            " bytes of replies and events for this connection");
    }

    /** Hand a buffer of frames to the event loop, counting its bytes as held (any thread). */
    private void enqueue(final ByteBuf frames)
    {
        final int bytes = frames.readableBytes();
        held.addAndGet(bytes);
        queue.offer(frames);
        budget.add(bytes);
    }

    private void unheld(final int bytes)
    {
        held.addAndGet(-bytes);
        budget.remove(bytes);
    }

    private static String message(final io.gyre.engine.RejectReason reason)
    {
        return switch (reason)
        {
            case CAPACITY -> "the engine holds as many live tasks as it is configured for; retry later";
            case SHUTTING_DOWN -> "the engine is shutting down";
            case JOURNAL_UNAVAILABLE -> "the journal could not record the submission; nothing was accepted: retry later";
            case TOO_MANY_WAITERS -> "too many submissions already wait on this key's task";
            case BUSY -> "the engine is near its limit of live tasks and refuses this priority for now; retry later or with a higher priority";
            case UNKNOWN_TYPE -> "the task type is not installed (its plugin was removed), and the key has no task or recorded outcome";
        };
    }

    // ------------------------------------------------------------------------------------------------
    // Status and cancel replies (completed on the publish thread, or wherever the future completes)

    void status(final int opcode, final long correlation, final TaskStatus status, final Throwable failure)
    {
        answer(correlation, failure == null && status == null ? new IllegalStateException("no status") : failure, out ->
        {
            if (!status.found())
            {
                Frames.status(out, opcode, correlation, 0, false, Protocol.STATE_NONE, 0, 0, 0, 0, 0, EMPTY);
            }
            else
            {
                final var outcome = status.outcome();
                final byte[] body = outcome == null ? EMPTY :
                    outcome.state() == TaskState.SUCCEEDED ? outcome.output() :
                    outcome.error() == null ? EMPTY : outcome.error().getBytes(StandardCharsets.UTF_8);
                Frames.status(out, opcode, correlation, status.taskId(), true, status.state().code(), status.attempts(),
                    status.maxAttempts(), status.submittedAt(), outcome == null ? 0 : outcome.startedAt(),
                    outcome == null ? 0 : outcome.finishedAt(), body);
            }
        });
    }

    // ------------------------------------------------------------------------------------------------
    // Dead-letter replies (completed on the publish thread)

    void deadLetters(final long correlation, final DeadLetterPage page, final Throwable failure)
    {
        answer(correlation, failure, out ->
        {
            final int start = Frames.dlqPage(out, correlation, page.nextCursor(), page.total(), page.more(), page.letters().size());
            for (final DeadLetter letter : page.letters())
            {
                Frames.dlqEntry(out, letter.cursor(), letter.taskId(), reasonCode(letter), letter.attempts(), letter.submittedAt(),
                    letter.deadLetteredAt(), letter.key(), letter.type().getBytes(StandardCharsets.UTF_8), letter.error());
            }
            Frames.finish(out, start);
        });
    }

    void deadLetter(final long correlation, final Optional<DeadLetterDetails> found, final Throwable failure)
    {
        answer(correlation, failure, out ->
        {
            if (found.isEmpty())
            {
                Frames.dlqShow(out, correlation, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, EMPTY, EMPTY, EMPTY, null, EMPTY);
                return;
            }
            final DeadLetterDetails details = found.get();
            final DeadLetter letter = details.letter();
            Frames.dlqShow(out, correlation, true, reasonCode(letter), details.priority() == null ? 0 : details.priority().code(),
                letter.cursor(), letter.taskId(), letter.attempts(), details.maxAttempts(), details.timeoutMillis(), letter.submittedAt(),
                letter.deadLetteredAt(), letter.key(), letter.type().getBytes(StandardCharsets.UTF_8), details.tenant(), letter.error(),
                details.payload());
        });
    }

    void redriven(final long correlation, final RedriveResult result, final Throwable failure)
    {
        answer(correlation, failure, out -> Frames.dlqRedrive(out, correlation, result.outcome().code(),
            result.state() == null ? Protocol.STATE_NONE : result.state().code(), result.attempts(), result.taskId(), result.maxAttempts(),
            result.message()));
    }

    void purged(final long correlation, final PurgeResult result, final Throwable failure)
    {
        answer(correlation, failure, out -> Frames.dlqPurged(out, correlation, result.purged(), result.remaining()));
    }

    private static int reasonCode(final DeadLetter letter)
    {
        return letter.reason() == null ? 0 : letter.reason().code();
    }

    /**
     * Queue the answer to one request: the frame {@code write} encodes, or a REJECTED for the failure; either
     * way the request is answered.
     */
    private void answer(final long correlation, final Throwable failure, final Consumer<ByteBuf> write)
    {
        try
        {
            if (closed)
            {
                return;
            }
            final ByteBuf out;
            try
            {
                out = ctx.alloc().ioBuffer(HEADER_BYTES + STATUS_FIXED + 64);
            }
            catch (final OutOfMemoryError ex)
            {
                outOfMemory(ex);
                return;
            }
            try
            {
                if (failure != null)
                {
                    final Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ?
                        failure.getCause() : failure;
                    final RejectCode code = cause instanceof RequestRefusedException refused ? RejectCode.of(refused.reason()) :
                        cause instanceof EngineClosedException ? RejectCode.SHUTTING_DOWN : RejectCode.UNAVAILABLE;
                    Frames.complaint(out, REJECTED, correlation, code.code(), String.valueOf(cause.getMessage()));
                }
                else
                {
                    write.accept(out);
                }
            }
            catch (final RuntimeException ex)
            {
                out.release();
                throw ex;
            }
            catch (final OutOfMemoryError ex)
            {
                out.release();
                outOfMemory(ex);
                return;
            }
            if (held.get() + out.readableBytes() > budget.perConnection() && held.get() > 0)
            {
                out.release();
                overflow("the client does not read its replies: the server holds " + held.get() + " bytes of them for this " +
                    "connection, and this one would pass its maxReplyBytes=" + budget.perConnection());
                return;
            }
            enqueue(out);
        }
        finally
        {
            answered.incrementAndGet();
            schedule();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Hand-over to the event loop

    private void schedule()
    {
        if (!drainScheduled.get() && drainScheduled.compareAndSet(false, true))
        {
            try
            {
                executor.execute(drain);
            }
            catch (final RejectedExecutionException ex)
            {
                // the event loop is gone (server stopped): nobody else will take from the queue
                releaseQueued();
            }
        }
    }

    /**
     * On the event loop: write frames encoded outside the outbox (status events, {@link EventProxy}), counted as held
     * against the server's total reply budget until the socket takes them, as replies are: many subscribers that do
     * not read cannot take more memory together than the replies of clients that do not read could. Released at
     * once when the connection is closing.
     */
    void writeCounted(final ByteBuf frames)
    {
        if (closed)
        {
            frames.release();
            return;
        }
        // the buffer's memory, not only its frames: an event batch may be written before it is full
        final int bytes = frames.capacity();
        held.addAndGet(bytes);
        budget.add(bytes);
        ctx.write(frames).addListener(written ->
        {
            lastHandedNanos = System.nanoTime();
            unheld(bytes);
        });
    }

    /** @return when the socket last took replies of this connection (System.nanoTime), or 0. Event loop only. */
    long lastHandedNanos()
    {
        return lastHandedNanos;
    }

    /** On the event loop: write what is queued now. */
    void drainNow()
    {
        drain();
    }

    /** On the event loop: write what is queued, flush once. */
    private void drain()
    {
        drainScheduled.set(false);
        // every answer counted by now had its frames queued before it was counted: the polls below take them
        final long answeredNow = answered.get();
        boolean wrote = false;
        ByteBuf frames;
        while ((frames = queue.poll()) != null)
        {
            final int bytes = frames.readableBytes();
            if (closed)
            {
                frames.release();
                unheld(bytes);
            }
            else
            {
                // held until the socket takes them, or the channel drops them at its close
                ctx.write(frames).addListener(written ->
                {
                    lastHandedNanos = System.nanoTime();
                    unheld(bytes);
                });
                wrote = true;
            }
        }
        written = answeredNow;
        if (wrote)
        {
            ctx.flush();
        }
        if (!closed)
        {
            afterDrain.run();
        }
    }

    /** On the event loop, when the channel has closed: drop what is queued, and whatever comes later. */
    void close()
    {
        closed = true;
        releaseQueued();
    }

    private void releaseQueued()
    {
        ByteBuf frames;
        while ((frames = queue.poll()) != null)
        {
            final int bytes = frames.readableBytes();
            frames.release();
            unheld(bytes);
        }
    }
}
