package io.gyre.tasks.json;

import io.gyre.engine.TaskFailure;
import org.agrona.ExpandableArrayBuffer;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a JSON handler writes its output: a growable buffer that refuses to grow past a cap (the engine's
 * {@code maxOutputBytes}). A payload of a few hundred kilobytes can copy one large value thousands of times; its
 * output, written whole, would take gigabytes of heap before its size could be checked. Here the write that
 * passes the cap throws {@link TooLarge}, and the attempt fails permanently with {@link #failure()}, having used
 * at most the cap plus the generator's own buffer.
 */
final class CappedOutput extends OutputStream
{
    private ExpandableArrayBuffer buffer;
    private int position;
    private int cap = Integer.MAX_VALUE;

    CappedOutput(final ExpandableArrayBuffer buffer)
    {
        this.buffer = buffer;
    }

    /**
     * Start a new output at the beginning of {@code target}, at most {@code maxBytes} long.
     */
    void reset(final ExpandableArrayBuffer target, final int maxBytes)
    {
        buffer = target;
        position = 0;
        cap = maxBytes;
    }

    ExpandableArrayBuffer buffer()
    {
        return buffer;
    }

    int position()
    {
        return position;
    }

    @Override
    public void write(final int b) throws IOException
    {
        room(1);
        buffer.putByte(position++, (byte)b);
    }

    @Override
    public void write(final byte[] source, final int offset, final int length) throws IOException
    {
        room(length);
        buffer.putBytes(position, source, offset, length);
        position += length;
    }

    private void room(final int length) throws TooLarge
    {
        if (length > cap - position)
        {
            throw new TooLarge(cap);
        }
    }

    /**
     * @return the permanent failure of an output that passed {@code maxBytes}.
     */
    static TaskFailure failure(final int maxBytes)
    {
        return TaskFailure.permanent("output of more than " + maxBytes + " bytes exceeds maxOutputBytes=" + maxBytes);
    }

    /**
     * Thrown by a write past the cap. An {@link IOException} so that it passes through Jackson's generator as
     * itself (it wraps nothing, and has no stack trace: it is an answer, not a fault).
     */
    static final class TooLarge extends IOException
    {
        private static final long serialVersionUID = 1L;

        final int maxBytes;

        TooLarge(final int maxBytes)
        {
            super("output exceeds " + maxBytes + " bytes", null);
            this.maxBytes = maxBytes;
        }

        @Override
        public synchronized Throwable fillInStackTrace()
        {
            return this;
        }
    }
}
