package io.gyre.ingress.protocol;

import io.gyre.engine.Backoff;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.agrona.DirectBuffer;

import java.nio.ByteBuffer;

import static io.gyre.ingress.protocol.Protocol.*;

/**
 * Writes whole frames (length, opcode, body) at a buffer's writer index, without allocating. Layouts are
 * {@link Protocol}'s; the server writes the server frames, the client the client frames, tests both.
 */
public final class Frames
{
    private Frames()
    {
    }

    /** Starts a frame: reserves the length, writes the opcode. @return where the length goes. */
    private static int begin(final ByteBuf out, final int opcode)
    {
        final int start = out.writerIndex();
        out.writeInt(0);
        out.writeByte(opcode);
        return start;
    }

    private static void end(final ByteBuf out, final int start)
    {
        out.setInt(start, out.writerIndex() - start - LENGTH_BYTES);
    }

    // ------------------------------------------------------------------------------------------------
    // client to server

    public static void hello(final ByteBuf out, final int version, final int flags, final byte[] token)
    {
        final int start = begin(out, HELLO);
        out.writeInt(MAGIC);
        out.writeShort(version);
        out.writeShort(flags);
        out.writeShort(token.length);
        out.writeBytes(token);
        end(out, start);
    }

    /**
     * A SUBMIT frame. Lengths are not checked here beyond what their fields can hold: a server checks them.
     */
    public static void submit(
        final ByteBuf out,
        final long correlation,
        final int priority,
        final int flags,
        final int timeoutMillis,
        final int maxAttempts,
        final byte[] key,
        final byte[] type,
        final byte[] tenant,
        final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        submit(out, correlation, priority, flags, timeoutMillis, maxAttempts, null, key, type, tenant, payload, payloadOffset, payloadLength);
    }

    /**
     * What of a backoff the retry policy block cannot carry as it is: it sends the multiplier in hundredths and the
     * jitter in thousandths, so a multiplier of 1.005 would go as 1.00 or 1.01, and a jitter of 0.0005 as 0 or 0.001.
     * A float is taken as the decimal it is nearest to ({@code 1.1f} is 1.10, though not exactly).
     *
     * @return the first value with more decimals than its field carries, named as the engine's checks name it
     * ({@code backoffMultiplier=1.005 has more than two decimals ...}), or null when the block carries the backoff exactly.
     */
    public static String retryPolicyPrecisionProblem(final Backoff backoff)
    {
        if (!carries(backoff.multiplier(), 100))
        {
            return "backoffMultiplier=" + decimal(backoff.multiplier()) + " has more than two decimals: "
                + "the retry policy is sent in hundredths of a multiplier (e.g. 1.5, 2.25)";
        }
        if (!carries(backoff.jitter(), 1000))
        {
            return "backoffJitter=" + decimal(backoff.jitter()) + " has more than three decimals: "
                + "the retry policy is sent in thousandths of a jitter (e.g. 0.1, 0.125)";
        }
        return null;
    }

    /** @return whether this float is the one nearest to a whole number of 1/{@code scale}ths. */
    private static boolean carries(final float value, final int scale)
    {
        return (float)(Math.round(value * (double)scale) / (double)scale) == value;
    }

    private static String decimal(final float value)
    {
        return Float.isFinite(value) ? new java.math.BigDecimal(Float.toString(value)).stripTrailingZeros().toPlainString() : Float.toString(value);
    }

    /**
     * A SUBMIT frame with a retry policy block when {@code backoff} is not null (flag {@code RETRY_POLICY}): its
     * multiplier is sent in hundredths and its jitter in thousandths, rounded to the nearest (exact for a backoff
     * {@link #retryPolicyPrecisionProblem} finds nothing wrong with, which the Java client and the CLI check).
     */
    public static void submit(
        final ByteBuf out,
        final long correlation,
        final int priority,
        final int flags,
        final int timeoutMillis,
        final int maxAttempts,
        final Backoff backoff,
        final byte[] key,
        final byte[] type,
        final byte[] tenant,
        final byte[] payload, final int payloadOffset, final int payloadLength)
    {
        final int policyBytes = backoff == null ? 0 : RETRY_POLICY_BYTES;
        out.ensureWritable(HEADER_BYTES + SUBMIT_FIXED + policyBytes + key.length + type.length + tenant.length + payloadLength);
        final int start = begin(out, SUBMIT);
        out.writeLong(correlation);
        out.writeByte(priority);
        out.writeByte(backoff == null ? flags & ~SUBMIT_FLAG_RETRY_POLICY : flags | SUBMIT_FLAG_RETRY_POLICY);
        out.writeInt(timeoutMillis);
        out.writeShort(maxAttempts);
        out.writeShort(key.length);
        out.writeByte(type.length);
        out.writeByte(tenant.length);
        out.writeInt(payloadLength);
        if (backoff != null)
        {
            out.writeInt(backoff.initialMillis());
            out.writeInt(backoff.maxMillis());
            out.writeShort(Math.round(backoff.multiplier() * 100f));
            out.writeShort(Math.round(backoff.jitter() * 1000f));
        }
        out.writeBytes(key);
        out.writeBytes(type);
        out.writeBytes(tenant);
        out.writeBytes(payload, payloadOffset, payloadLength);
        end(out, start);
    }

    /** A CANCEL or STATUS frame. */
    public static void keyed(final ByteBuf out, final int opcode, final long correlation, final byte[] key)
    {
        final int start = begin(out, opcode);
        out.writeLong(correlation);
        out.writeShort(key.length);
        out.writeBytes(key);
        end(out, start);
    }

    /** A PING or PONG frame. */
    public static void ping(final ByteBuf out, final int opcode, final long correlation)
    {
        final int start = begin(out, opcode);
        out.writeLong(correlation);
        end(out, start);
    }

    /** A DLQ_LIST frame: the dead letters after {@code after} (0 for the first), at most {@code limit}. */
    public static void dlqList(final ByteBuf out, final long correlation, final long after, final int limit)
    {
        final int start = begin(out, DLQ_LIST);
        out.writeLong(correlation);
        out.writeLong(after);
        out.writeShort(limit);
        end(out, start);
    }

    /** A DLQ_PURGE frame: the key's dead letter, or with {@link Protocol#DLQ_PURGE_FLAG_ALL} and no key, every one. */
    public static void dlqPurge(final ByteBuf out, final long correlation, final int flags, final byte[] key)
    {
        final int start = begin(out, DLQ_PURGE);
        out.writeLong(correlation);
        out.writeByte(flags);
        out.writeShort(key.length);
        out.writeBytes(key);
        end(out, start);
    }

    /**
     * A SUBSCRIBE frame: the filter's fields that are set, in the order type, tenant, key prefix (a server
     * takes them in any order). Lengths are not checked here beyond what their fields can hold.
     */
    public static void subscribe(final ByteBuf out, final long correlation, final byte[] type, final byte[] tenant, final byte[] keyPrefix)
    {
        final int start = begin(out, SUBSCRIBE);
        out.writeLong(correlation);
        out.writeByte(0);
        out.writeByte((type != null ? 1 : 0) + (tenant != null ? 1 : 0) + (keyPrefix != null ? 1 : 0));
        filterField(out, FILTER_TYPE, type);
        filterField(out, FILTER_TENANT, tenant);
        filterField(out, FILTER_KEY_PREFIX, keyPrefix);
        end(out, start);
    }

    private static void filterField(final ByteBuf out, final int field, final byte[] value)
    {
        if (value != null)
        {
            out.writeByte(field);
            out.writeShort(value.length);
            out.writeBytes(value);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // server to client

    public static void welcome(
        final ByteBuf out,
        final int flags,
        final int maxFrame,
        final int maxInFlight,
        final int idleTimeoutMillis,
        final int maxKey,
        final int maxType,
        final int maxTenant,
        final int maxPayload,
        final int maxOutput)
    {
        final int start = begin(out, WELCOME);
        out.writeShort(VERSION);
        out.writeShort(flags);
        out.writeInt(maxFrame);
        out.writeInt(maxInFlight);
        out.writeInt(idleTimeoutMillis);
        out.writeShort(maxKey);
        out.writeShort(maxType);
        out.writeShort(maxTenant);
        out.writeInt(maxPayload);
        out.writeInt(maxOutput);
        end(out, start);
    }

    public static void accepted(final ByteBuf out, final long correlation, final long taskId)
    {
        out.writeInt(1 + ACCEPTED_FIXED);
        out.writeByte(ACCEPTED);
        out.writeLong(correlation);
        out.writeLong(taskId);
    }

    /** A REJECTED or ERROR frame; the message is cut to {@link Protocol#MAX_MESSAGE_BYTES} of UTF-8. */
    public static void complaint(final ByteBuf out, final int opcode, final long correlation, final int code, final CharSequence message)
    {
        final int start = begin(out, opcode);
        out.writeLong(correlation);
        out.writeShort(code);
        final int lengthAt = out.writerIndex();
        out.writeShort(0);
        final int written = writeUtf8Capped(out, message == null ? "" : message, MAX_MESSAGE_BYTES);
        out.setShort(lengthAt, written);
        end(out, start);
    }

    /**
     * The fixed part of a RESULT frame, then its body: copied from {@code body} at the given range. The accounting
     * fields are written only when {@code flags} has {@link Protocol#RESULT_FLAG_ACCOUNTING}.
     */
    public static void result(
        final ByteBuf out,
        final long correlation,
        final long taskId,
        final int state,
        final int flags,
        final int attempts,
        final long submittedAt,
        final long startedAt,
        final long finishedAt,
        final long queueNanos,
        final long executionNanos,
        final DirectBuffer body, final int bodyOffset, final int bodyLength)
    {
        final int fixed = (flags & RESULT_FLAG_ACCOUNTING) != 0 ? RESULT_ACCOUNTED_FIXED : RESULT_FIXED;
        out.ensureWritable(HEADER_BYTES + fixed + bodyLength);
        out.writeInt(1 + fixed + bodyLength);
        out.writeByte(RESULT);
        out.writeLong(correlation);
        out.writeLong(taskId);
        out.writeByte(state);
        out.writeByte(flags);
        out.writeShort(attempts);
        out.writeLong(submittedAt);
        out.writeLong(startedAt);
        out.writeLong(finishedAt);
        if ((flags & RESULT_FLAG_ACCOUNTING) != 0)
        {
            out.writeLong(queueNanos);
            out.writeLong(executionNanos);
        }
        out.writeInt(bodyLength);
        copy(out, body, bodyOffset, bodyLength);
    }

    /** As {@link #result} with a text body (an error message), written as UTF-8. */
    public static void result(
        final ByteBuf out,
        final long correlation,
        final long taskId,
        final int state,
        final int flags,
        final int attempts,
        final long submittedAt,
        final long startedAt,
        final long finishedAt,
        final long queueNanos,
        final long executionNanos,
        final CharSequence error)
    {
        final int start = begin(out, RESULT);
        out.writeLong(correlation);
        out.writeLong(taskId);
        out.writeByte(state);
        out.writeByte(flags);
        out.writeShort(attempts);
        out.writeLong(submittedAt);
        out.writeLong(startedAt);
        out.writeLong(finishedAt);
        if ((flags & RESULT_FLAG_ACCOUNTING) != 0)
        {
            out.writeLong(queueNanos);
            out.writeLong(executionNanos);
        }
        final int lengthAt = out.writerIndex();
        out.writeInt(0);
        out.setInt(lengthAt, error == null ? 0 : ByteBufUtil.writeUtf8(out, error));
        end(out, start);
    }

    /** A STATUS_REPLY or CANCEL_REPLY frame. */
    public static void status(
        final ByteBuf out,
        final int opcode,
        final long correlation,
        final long taskId,
        final boolean found,
        final int state,
        final int attempts,
        final int maxAttempts,
        final long submittedAt,
        final long startedAt,
        final long finishedAt,
        final byte[] body)
    {
        final int start = begin(out, opcode);
        out.writeLong(correlation);
        out.writeLong(taskId);
        out.writeByte(found ? 1 : 0);
        out.writeByte(state);
        out.writeShort(attempts);
        out.writeShort(maxAttempts);
        out.writeLong(submittedAt);
        out.writeLong(startedAt);
        out.writeLong(finishedAt);
        out.writeInt(body.length);
        out.writeBytes(body);
        end(out, start);
    }

    /**
     * Start a DLQ_LIST_REPLY: write its fixed part, then {@code count} {@link #dlqEntry entries}, then
     * {@link #finish} it with the returned index.
     *
     * @return where the frame starts.
     */
    public static int dlqPage(
        final ByteBuf out, final long correlation, final long nextCursor, final int total, final boolean more, final int count)
    {
        final int start = begin(out, DLQ_LIST_REPLY);
        out.writeLong(correlation);
        out.writeLong(nextCursor);
        out.writeInt(total);
        out.writeByte(more ? DLQ_PAGE_FLAG_MORE : 0);
        out.writeShort(count);
        return start;
    }

    /** One entry of a DLQ_LIST_REPLY; the error is cut to {@link Protocol#MAX_MESSAGE_BYTES} of UTF-8. */
    public static void dlqEntry(
        final ByteBuf out,
        final long cursor,
        final long taskId,
        final int reason,
        final int attempts,
        final long submittedAt,
        final long deadLetteredAt,
        final byte[] key,
        final byte[] type,
        final CharSequence error)
    {
        out.writeLong(cursor);
        out.writeLong(taskId);
        out.writeByte(reason);
        out.writeShort(attempts);
        out.writeLong(submittedAt);
        out.writeLong(deadLetteredAt);
        out.writeShort(key.length);
        out.writeByte(type.length);
        final int errorLengthAt = out.writerIndex();
        out.writeShort(0);
        out.writeBytes(key);
        out.writeBytes(type);
        out.setShort(errorLengthAt, writeUtf8Capped(out, error == null ? "" : error, MAX_MESSAGE_BYTES));
    }

    /** Complete a frame begun by {@link #dlqPage}: set its length. */
    public static void finish(final ByteBuf out, final int start)
    {
        end(out, start);
    }

    /**
     * A DLQ_SHOW_REPLY. For a key without a dead letter: {@code found} false, every number 0 and every byte
     * field empty.
     */
    public static void dlqShow(
        final ByteBuf out,
        final long correlation,
        final boolean found,
        final int reason,
        final int priority,
        final long cursor,
        final long taskId,
        final int attempts,
        final int maxAttempts,
        final int timeoutMillis,
        final long submittedAt,
        final long deadLetteredAt,
        final byte[] key,
        final byte[] type,
        final byte[] tenant,
        final CharSequence error,
        final byte[] payload)
    {
        out.ensureWritable(HEADER_BYTES + DLQ_SHOW_FIXED + key.length + type.length + tenant.length + payload.length + 64);
        final int start = begin(out, DLQ_SHOW_REPLY);
        out.writeLong(correlation);
        out.writeByte(found ? 1 : 0);
        out.writeByte(reason);
        out.writeByte(priority);
        out.writeByte(type.length);
        out.writeLong(cursor);
        out.writeLong(taskId);
        out.writeShort(attempts);
        out.writeShort(maxAttempts);
        out.writeInt(timeoutMillis);
        out.writeLong(submittedAt);
        out.writeLong(deadLetteredAt);
        out.writeShort(key.length);
        out.writeShort(tenant.length);
        final int errorLengthAt = out.writerIndex();
        out.writeShort(0);
        out.writeInt(payload.length);
        out.writeBytes(key);
        out.writeBytes(type);
        out.writeBytes(tenant);
        out.setShort(errorLengthAt, writeUtf8Capped(out, error == null ? "" : error, MAX_MESSAGE_BYTES));
        out.writeBytes(payload);
        end(out, start);
    }

    /** A DLQ_REDRIVE_REPLY; the message is cut to {@link Protocol#MAX_MESSAGE_BYTES} of UTF-8. */
    public static void dlqRedrive(
        final ByteBuf out,
        final long correlation,
        final int outcome,
        final int state,
        final int attempts,
        final long taskId,
        final int maxAttempts,
        final CharSequence message)
    {
        final int start = begin(out, DLQ_REDRIVE_REPLY);
        out.writeLong(correlation);
        out.writeByte(outcome);
        out.writeByte(state);
        out.writeShort(attempts);
        out.writeLong(taskId);
        out.writeShort(maxAttempts);
        final int lengthAt = out.writerIndex();
        out.writeShort(0);
        out.setShort(lengthAt, writeUtf8Capped(out, message == null ? "" : message, MAX_MESSAGE_BYTES));
        end(out, start);
    }

    /** A DLQ_PURGE_REPLY. */
    public static void dlqPurged(final ByteBuf out, final long correlation, final int purged, final int remaining)
    {
        final int start = begin(out, DLQ_PURGE_REPLY);
        out.writeLong(correlation);
        out.writeInt(purged);
        out.writeInt(remaining);
        end(out, start);
    }

    /** A SUBSCRIBED frame. */
    public static void subscribed(final ByteBuf out, final long correlation, final int maxQueued)
    {
        final int start = begin(out, SUBSCRIBED);
        out.writeLong(correlation);
        out.writeInt(maxQueued);
        end(out, start);
    }

    /** An EVENT frame; the error is cut to {@link Protocol#MAX_MESSAGE_BYTES} of UTF-8. */
    public static void event(
        final ByteBuf out,
        final long correlation,
        final long eventId,
        final long documentIndex,
        final long timestamp,
        final long taskId,
        final long dueAt,
        final int kind,
        final int from,
        final int state,
        final int reason,
        final int attempt,
        final byte[] key,
        final byte[] type,
        final byte[] tenant,
        final CharSequence error)
    {
        out.ensureWritable(HEADER_BYTES + EVENT_FIXED + key.length + type.length + tenant.length + 64);
        final int start = begin(out, EVENT);
        out.writeLong(correlation);
        out.writeLong(eventId);
        out.writeLong(documentIndex);
        out.writeLong(timestamp);
        out.writeLong(taskId);
        out.writeLong(dueAt);
        out.writeByte(kind);
        out.writeByte(from);
        out.writeByte(state);
        out.writeByte(reason);
        out.writeShort(attempt);
        out.writeShort(key.length);
        out.writeByte(type.length);
        out.writeByte(tenant.length);
        final int errorLengthAt = out.writerIndex();
        out.writeShort(0);
        out.writeBytes(key);
        out.writeBytes(type);
        out.writeBytes(tenant);
        out.setShort(errorLengthAt, error == null ? 0 : writeUtf8Capped(out, error, MAX_MESSAGE_BYTES));
        end(out, start);
    }

    /** An EVENTS_LOST frame. */
    public static void eventsLost(final ByteBuf out, final long correlation, final long count, final boolean upperBound)
    {
        final int start = begin(out, EVENTS_LOST);
        out.writeLong(correlation);
        out.writeLong(count);
        out.writeByte(upperBound ? LOST_FLAG_UPPER_BOUND : 0);
        end(out, start);
    }

    /** An UNSUBSCRIBED frame; {@code subscription} 0 and no flag when there was none. */
    public static void unsubscribed(
        final ByteBuf out, final long correlation, final long subscription, final long events, final long lost, final boolean wasSubscribed)
    {
        final int start = begin(out, UNSUBSCRIBED);
        out.writeLong(correlation);
        out.writeLong(subscription);
        out.writeLong(events);
        out.writeLong(lost);
        out.writeByte(wasSubscribed ? UNSUBSCRIBED_FLAG_WAS_SUBSCRIBED : 0);
        end(out, start);
    }

    // ------------------------------------------------------------------------------------------------

    private static void copy(final ByteBuf out, final DirectBuffer from, final int offset, final int length)
    {
        if (length == 0)
        {
            return;
        }
        final byte[] array = from.byteArray();
        if (array != null)
        {
            out.writeBytes(array, from.wrapAdjustment() + offset, length);
            return;
        }
        out.ensureWritable(length);
        final ByteBuffer target = out.nioBuffer(out.writerIndex(), length);
        from.getBytes(offset, target, length);
        out.writerIndex(out.writerIndex() + length);
    }

    /**
     * Writes at most {@code maxBytes} of the text's UTF-8, never splitting a character.
     *
     * @return bytes written.
     */
    static int writeUtf8Capped(final ByteBuf out, final CharSequence text, final int maxBytes)
    {
        if (ByteBufUtil.utf8Bytes(text) <= maxBytes)
        {
            return ByteBufUtil.writeUtf8(out, text);
        }
        int end = text.length();
        while (end > 0 && ByteBufUtil.utf8Bytes(text, 0, end) > maxBytes - 3)
        {
            end = Math.max(0, end - Math.max(1, end / 8));
            if (end > 0 && Character.isLowSurrogate(text.charAt(end)))
            {
                end--;
            }
        }
        final int written = ByteBufUtil.writeUtf8(out, text.subSequence(0, end));
        out.writeByte(0xE2);
        out.writeByte(0x80);
        out.writeByte(0xA6);
        return written + 3;
    }
}
