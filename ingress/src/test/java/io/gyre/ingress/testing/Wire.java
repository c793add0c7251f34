package io.gyre.ingress.testing;

import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-side codec of the wire: builds client frames as bytes, and splits what a server wrote into frames
 * by their length prefix, checking every length.
 */
public final class Wire
{
    private Wire()
    {
    }

    /** One frame as received: its opcode and its body (after the opcode). */
    public record Frame(int opcode, byte[] body)
    {
        public ByteBuf buf()
        {
            return Unpooled.wrappedBuffer(body);
        }

        public long u64(final int offset)
        {
            return buf().getLong(offset);
        }

        public int u32(final int offset)
        {
            return buf().getInt(offset);
        }

        public int u16(final int offset)
        {
            return buf().getUnsignedShort(offset);
        }

        public int u8(final int offset)
        {
            return buf().getUnsignedByte(offset);
        }

        public String text(final int offset, final int length)
        {
            return new String(body, offset, length, StandardCharsets.UTF_8);
        }

        /** For REJECTED and ERROR frames. */
        public int code()
        {
            return u16(Protocol.COMPLAINT_CODE);
        }

        public long correlation()
        {
            return u64(0);
        }

        public String message()
        {
            return text(Protocol.COMPLAINT_FIXED, u16(Protocol.COMPLAINT_MESSAGE_LENGTH));
        }

        /** For RESULT frames. */
        public byte[] resultBody()
        {
            final boolean accounted = (u8(Protocol.RESULT_FLAGS) & Protocol.RESULT_FLAG_ACCOUNTING) != 0;
            final int length = u32(accounted ? Protocol.RESULT_ACCOUNTED_BODY_LENGTH : Protocol.RESULT_BODY_LENGTH);
            final byte[] out = new byte[length];
            System.arraycopy(body, accounted ? Protocol.RESULT_ACCOUNTED_FIXED : Protocol.RESULT_FIXED, out, 0, length);
            return out;
        }

        @Override
        public String toString()
        {
            return Protocol.opcodeName(opcode) + "(" + body.length + " bytes)";
        }
    }

    /**
     * Split bytes into whole frames; fails on a trailing partial frame or an inconsistent length.
     */
    public static List<Frame> split(final byte[] bytes)
    {
        final ByteBuf in = Unpooled.wrappedBuffer(bytes);
        final List<Frame> frames = new ArrayList<>();
        while (in.isReadable())
        {
            if (in.readableBytes() < Protocol.LENGTH_BYTES)
            {
                throw new AssertionError("trailing " + in.readableBytes() + " bytes: not a whole length field");
            }
            final long length = in.readUnsignedInt();
            if (length < 1 || length > in.readableBytes())
            {
                throw new AssertionError("frame length " + length + " with " + in.readableBytes() + " bytes left");
            }
            final int opcode = in.readUnsignedByte();
            final byte[] body = new byte[(int)length - 1];
            in.readBytes(body);
            frames.add(new Frame(opcode, body));
        }
        return frames;
    }

    public static byte[] bytes(final ByteBuf buf)
    {
        final byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        buf.release();
        return out;
    }

    public static ByteBuf hello(final String token, final int flags)
    {
        final ByteBuf out = Unpooled.buffer();
        Frames.hello(out, Protocol.VERSION, flags, token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8));
        return out;
    }

    public static ByteBuf submit(final long correlation, final String key, final String type, final String payload)
    {
        final ByteBuf out = Unpooled.buffer();
        final byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        Frames.submit(out, correlation, 1, 0, 0, 0, key.getBytes(StandardCharsets.UTF_8), type.getBytes(StandardCharsets.UTF_8),
            new byte[0], p, 0, p.length);
        return out;
    }

    public static ByteBuf keyed(final int opcode, final long correlation, final String key)
    {
        final ByteBuf out = Unpooled.buffer();
        Frames.keyed(out, opcode, correlation, key.getBytes(StandardCharsets.UTF_8));
        return out;
    }

    public static ByteBuf ping(final long correlation)
    {
        final ByteBuf out = Unpooled.buffer();
        Frames.ping(out, Protocol.PING, correlation);
        return out;
    }
}
