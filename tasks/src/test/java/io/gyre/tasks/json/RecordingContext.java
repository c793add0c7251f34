package io.gyre.tasks.json;

import io.gyre.engine.TaskContext;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A {@link TaskContext} for calling a handler directly: it holds a payload, enforces a maximum output size
 * as the engine does, and records what the handler reports.
 */
final class RecordingContext implements TaskContext
{
    private final UnsafeBuffer payload;
    private final int payloadLength;
    private final int maxOutputBytes;
    private byte[] output;
    private String failure;
    private boolean retryable;

    private RecordingContext(final UnsafeBuffer payload, final int payloadLength, final int maxOutputBytes)
    {
        this.payload = payload;
        this.payloadLength = payloadLength;
        this.maxOutputBytes = maxOutputBytes;
    }

    /**
     * @return a context whose payload is the text, in the middle of a larger heap array (as a slice of the
     *     engine's buffers would be).
     */
    static RecordingContext of(final String payload)
    {
        return of(payload.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @return a context whose payload is these bytes, in the middle of a larger heap array.
     */
    static RecordingContext of(final byte[] bytes)
    {
        final byte[] padded = new byte[bytes.length + 16];
        java.util.Arrays.fill(padded, (byte)'!');
        System.arraycopy(bytes, 0, padded, 7, bytes.length);
        return new RecordingContext(new UnsafeBuffer(padded, 7, bytes.length), bytes.length, Integer.MAX_VALUE);
    }

    /**
     * @return a context whose payload is the text, off the heap.
     */
    static RecordingContext offHeap(final String payload)
    {
        return offHeap(payload.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @return a context whose payload is these bytes, off the heap.
     */
    static RecordingContext offHeap(final byte[] bytes)
    {
        final ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 8);
        final UnsafeBuffer buffer = new UnsafeBuffer(direct, 4, bytes.length);
        buffer.putBytes(0, bytes);
        return new RecordingContext(buffer, bytes.length, Integer.MAX_VALUE);
    }

    /**
     * @return a context with a maximum output size.
     */
    static RecordingContext of(final String payload, final int maxOutputBytes)
    {
        final byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        return new RecordingContext(new UnsafeBuffer(bytes), bytes.length, maxOutputBytes);
    }

    String output()
    {
        return output == null ? null : new String(output, StandardCharsets.UTF_8);
    }

    /** @return the output's bytes, or null. */
    byte[] outputBytes()
    {
        return output;
    }

    String failure()
    {
        return failure;
    }

    boolean retryable()
    {
        return retryable;
    }

    @Override
    public long taskId()
    {
        return 1;
    }

    @Override
    public int attempt()
    {
        return 1;
    }

    @Override
    public DirectBuffer payload()
    {
        return payload;
    }

    @Override
    public int payloadLength()
    {
        return payloadLength;
    }

    @Override
    public String taskType()
    {
        return "test";
    }

    @Override
    public boolean stopRequested()
    {
        return false;
    }

    @Override
    public void onStop(final Runnable action)
    {
    }

    @Override
    public int maxOutputBytes()
    {
        return maxOutputBytes;
    }

    @Override
    public long submittedAt()
    {
        return 0;
    }

    /**
     * Not used by the JSON handlers (their outcomes are never held): fails loudly if one starts to.
     */
    @Override
    public void holdUntil(final long epochNanos)
    {
        throw new UnsupportedOperationException("holdUntil");
    }

    /**
     * Not used by the JSON handlers (they write with {@link #succeed(byte[])}): fails loudly if one starts to.
     */
    @Override
    public MutableDirectBuffer outputBuffer(final int capacity)
    {
        throw new UnsupportedOperationException("outputBuffer");
    }

    @Override
    public void succeed(final int length)
    {
        throw new UnsupportedOperationException("succeed(int)");
    }

    @Override
    public void succeed(final DirectBuffer source, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        source.getBytes(offset, bytes);
        succeed(bytes);
    }

    @Override
    public void succeed(final byte[] bytes)
    {
        if (output != null || failure != null)
        {
            throw new IllegalStateException("reported twice");
        }
        if (bytes.length > maxOutputBytes)
        {
            fail(false, "output of " + bytes.length + " bytes exceeds maxOutputBytes=" + maxOutputBytes);
            return;
        }
        output = bytes.clone();
    }

    @Override
    public void fail(final boolean retryable, final String message)
    {
        if (output != null || failure != null)
        {
            throw new IllegalStateException("reported twice");
        }
        this.failure = message;
        this.retryable = retryable;
    }
}
