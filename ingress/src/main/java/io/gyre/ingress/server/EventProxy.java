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
 * high-water mark plus one frame, plus the queue.
 */
final class EventProxy implements TaskEventListener
{
    private static final byte[] EMPTY = new byte[0];

    private final ChannelHandlerContext ctx;
    private final long correlation;
    private final ServerStats stats;
    private long events;
    private long lost;
    private String lastType = "";
    private byte[] lastTypeBytes = EMPTY;

    EventProxy(final ChannelHandlerContext ctx, final long correlation, final ServerStats stats)
    {
        this.ctx = ctx;
        this.correlation = correlation;
        this.stats = stats;
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
        final ByteBuf out = ctx.alloc().ioBuffer(Protocol.HEADER_BYTES + Protocol.EVENT_FIXED + e.key().length + type.length +
            e.tenant().length + (e.error() == null ? 0 : 64));
        Frames.event(out, correlation, e.eventId(), e.documentIndex(), e.timestamp(), e.taskId(), e.dueAt(), e.kind().code(),
            e.from() == null ? Protocol.STATE_NONE : e.from().code(), e.state().code(), e.reason(), e.attempt(), e.key(), type,
            e.tenant(), e.error());
        ctx.write(out, ctx.voidPromise());
        events++;
        stats.eventSent();
    }

    @Override
    public void onEventsLost(final long count, final boolean upperBound)
    {
        final ByteBuf out = ctx.alloc().ioBuffer(Protocol.HEADER_BYTES + Protocol.LOST_FIXED);
        Frames.eventsLost(out, correlation, count, upperBound);
        ctx.write(out, ctx.voidPromise());
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
        ctx.flush();
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
