package io.gyre.ingress.server;

import io.gyre.engine.TaskEvent;
import io.gyre.engine.TaskEventListener;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.nio.charset.StandardCharsets;

/**
 * Encodes a connection's status events as EVENT and EVENTS_LOST frames, on the connection's event loop (the
 * subscription's executor), and writes them only while the channel is writable: below the write high-water mark
 * (and again once below the low-water mark, when {@link Connection} resumes the subscription). While it is not,
 * events wait in the subscription's bounded queue, then drop and are counted; see
 * {@link io.gyre.engine.EventSubscription}. So a client that does not read costs the server at most the
 * high-water mark plus one batch of frames ({@value #BATCH_BYTES} bytes, or one frame when larger), plus the queue;
 * the frames written count against the server's total reply budget with the replies ({@link Outbox#writeCounted}),
 * and the queues against the engine's bound on queued events over all subscriptions.
 */
final class EventProxy implements TaskEventListener
{
    private static final byte[] EMPTY = new byte[0];

    /** Events are encoded into buffers of about this size, written when full and at the end of each delivery. */
    static final int BATCH_BYTES = 16 << 10;
    private static final int INITIAL_BATCH_BYTES = 512;

    private final ChannelHandlerContext ctx;
    private final long correlation;
    private final ServerStats stats;
    private final Outbox outbox;
    /** The frames encoded since the last write: one buffer, and one write, for many events (null: none). */
    private ByteBuf batch;
    private long events;
    private long lost;
    private String lastType = "";
    private byte[] lastTypeBytes = EMPTY;

    /**
     * @param outbox the connection's: events written are counted with its replies against the server's reply budget.
     */
    EventProxy(final ChannelHandlerContext ctx, final long correlation, final ServerStats stats, final Outbox outbox)
    {
        this.ctx = ctx;
        this.correlation = correlation;
        this.stats = stats;
        this.outbox = outbox;
    }

    long correlation()
    {
        return correlation;
    }

    /** @return EVENT frames written (the event loop's). */
    long events()
    {
        return events;
    }

    /** @return events counted lost in EVENTS_LOST frames written (the event loop's). */
    long lost()
    {
        return lost;
    }

    @Override
    public void onEvent(final TaskEvent e)
    {
        final byte[] type = typeBytes(e.type());
        try
        {
            final ByteBuf out = batch();
            Frames.event(out, correlation, e.eventId(), e.documentIndex(), e.timestamp(), e.taskId(), e.dueAt(), e.kind().code(),
                e.from() == null ? Protocol.STATE_NONE : e.from().code(), e.state().code(), e.reason(), e.attempt(), e.key(), type,
                e.tenant(), e.error());
        }
        catch (final OutOfMemoryError ex)
        {
            outOfMemory(ex);
            return;
        }
        writeIfFull();
        events++;
        stats.eventSent();
    }

    @Override
    public void onEventsLost(final long count, final boolean upperBound)
    {
        try
        {
            Frames.eventsLost(batch(), correlation, count, upperBound);
        }
        catch (final OutOfMemoryError ex)
        {
            outOfMemory(ex);
            return;
        }
        writeIfFull();
        lost += count;
        stats.eventsLost(count);
    }

    @Override
    public boolean ready()
    {
        return ctx.channel().isWritable();
    }

    @Override
    public void onEndOfBatch()
    {
        write();
        ctx.flush();
    }

    /** The engine ends this subscription: its events took the most of its bound over all subscribers. */
    @Override
    public void onOverflow()
    {
        outbox.eventsOverflowed();
    }

    @Override
    public void onClosed()
    {
        if (batch != null)
        {
            batch.release();
            batch = null;
        }
    }

    private ByteBuf batch()
    {
        if (batch == null)
        {
            // small at first, grown as events come: a buffer written at the end of a delivery of one event must not
            // hold 16 KiB of memory for its 200 bytes
            batch = ctx.alloc().ioBuffer(INITIAL_BATCH_BYTES);
        }
        return batch;
    }

    /**
     * Direct memory ran out while encoding an event: this connection goes, as a slow consumer's would (the frame
     * being written is incomplete), rather than the error reaching the delivery, which would stop it for good.
     */
    private void outOfMemory(final OutOfMemoryError ex)
    {
        if (batch != null)
        {
            batch.release();
            batch = null;
        }
        outbox.eventsOutOfMemory(ex);
    }

    private void writeIfFull()
    {
        if (batch.readableBytes() >= BATCH_BYTES)
        {
            write();
        }
    }

    /** Write the frames encoded so far, counted against the reply budget until the socket takes them. */
    private void write()
    {
        final ByteBuf frames = batch;
        batch = null;
        if (frames != null)
        {
            if (frames.isReadable())
            {
                outbox.writeCounted(frames);
            }
            else
            {
                frames.release();
            }
        }
    }

    /** The type's bytes: the last ones again when the type is the same (most events of a stream share few types). */
    private byte[] typeBytes(final String type)
    {
        if (!type.equals(lastType))
        {
            lastType = type;
            lastTypeBytes = type.getBytes(StandardCharsets.UTF_8);
        }
        return lastTypeBytes;
    }
}
