package io.gyre.tasks.http;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Collects a response body into one array, never more than a limit: past it, either fails with
 * {@link ResponseTooLargeException} (a body the caller wants whole) or completes with the first
 * {@code limit} bytes (a snippet for an error message). Either way it cancels the subscription, which
 * closes the connection instead of reading the rest.
 * <p>
 * Memory follows the bytes that arrived, never the length the server declared: the array starts at
 * {@link #INITIAL_CAPACITY} (or the declared length, when smaller) once the first bytes arrive and doubles as
 * more do, up to the limit (and the declared length). A declared length is the server's word, and a server
 * declaring a megabyte and trickling a byte a second made each call hold a megabyte for nothing (an outside
 * check: 1,500 calls ran the engine out of heap). Each growth is first reserved from the transport's
 * {@link BufferBudget}; one that does not fit stops reading and fails with {@link BufferBudget.ExhaustedException}
 * (a snippet keeps what it has instead: the status says enough).
 * <p>
 * Signals arrive one at a time from the client (the Flow contract), so the buffer needs no locking. The
 * reservation is the one state another thread touches: the call ends it with {@link #release} from whichever
 * thread ends the call (a stop may race the client's thread, and after a cancel the client may not signal
 * this subscriber again), so it is atomic and, once released, closed: a growth that comes later gives its
 * bytes straight back and stops reading.
 */
final class BoundedBodySubscriber implements HttpResponse.BodySubscriber<byte[]>
{
    /** The first buffer's capacity when the body is longer or its length unknown: bytes, not the declared length, grow it. */
    static final int INITIAL_CAPACITY = 4 * 1024;

    private static final byte[] EMPTY = new byte[0];
    private static final long RELEASED = -1;

    private final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final int limit;
    private final boolean truncate;
    private final long declaredLength;
    private final BufferBudget budget;
    /** Bytes of the budget the buffer holds (its capacity), or {@link #RELEASED} once given back. */
    private final AtomicLong reserved = new AtomicLong();
    private Flow.Subscription subscription;
    private byte[] bytes = EMPTY;
    private int length;

    private BoundedBodySubscriber(final int limit, final boolean truncate, final long declaredLength, final BufferBudget budget)
    {
        this.limit = limit;
        this.truncate = truncate;
        this.declaredLength = declaredLength;
        this.budget = budget;
    }

    /**
     * @param limit the most bytes the body may have.
     * @param declaredLength the response's Content-Length, or -1: one above the limit fails before reading.
     * @param budget what the buffer is reserved from.
     * @return a subscriber that fails with {@link ResponseTooLargeException} past the limit, and with
     *     {@link BufferBudget.ExhaustedException} when the budget cannot hold the bytes that arrived.
     */
    static BoundedBodySubscriber whole(final int limit, final long declaredLength, final BufferBudget budget)
    {
        return new BoundedBodySubscriber(limit, false, declaredLength, budget);
    }

    /**
     * @param limit how many bytes to keep.
     * @param declaredLength the response's Content-Length, or -1.
     * @param budget what the buffer is reserved from.
     * @return a subscriber that keeps the first {@code limit} bytes and stops reading there (or sooner, with what it
     *     has, when the budget cannot hold more).
     */
    static BoundedBodySubscriber truncated(final int limit, final long declaredLength, final BufferBudget budget)
    {
        return new BoundedBodySubscriber(limit, true, declaredLength, budget);
    }

    @Override
    public CompletionStage<byte[]> getBody()
    {
        return body;
    }

    @Override
    public void onSubscribe(final Flow.Subscription subscription)
    {
        if (this.subscription != null)
        {
            subscription.cancel();
            return;
        }
        this.subscription = subscription;
        if (reserved.get() == RELEASED)
        {
            stop(new IOException("the call ended before its response body was read"));
            return;
        }
        if (!truncate && declaredLength > limit)
        {
            stop(new ResponseTooLargeException(declaredLength + " bytes (its Content-Length)", limit));
            return;
        }
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(final List<ByteBuffer> items)
    {
        if (body.isDone())
        {
            return;
        }
        if (reserved.get() == RELEASED)
        {
            stop(new IOException("the call ended while its response body was read"));
            return;
        }
        for (final ByteBuffer item : items)
        {
            final int remaining = item.remaining();
            final boolean over = remaining > limit - length;
            if (over && !truncate)
            {
                stop(new ResponseTooLargeException("more than " + limit + " bytes", limit));
                return;
            }
            final int count = over ? limit - length : remaining;
            if (!ensureCapacity(length + count))
            {
                if (truncate)
                {
                    subscription.cancel();
                    body.complete(result());
                }
                else
                {
                    stop(reserved.get() == RELEASED ?
                        new IOException("the call ended while its response body was read") : new BufferBudget.ExhaustedException(budget.limit()));
                }
                return;
            }
            item.get(bytes, length, count);
            length += count;
            if (over)
            {
                subscription.cancel();
                body.complete(result());
                return;
            }
        }
    }

    @Override
    public void onError(final Throwable throwable)
    {
        release();
        body.completeExceptionally(throwable);
    }

    @Override
    public void onComplete()
    {
        body.complete(result());
    }

    /**
     * Give the buffer's bytes back to the budget, once: later calls, and growths that come after, reserve nothing.
     * The call does this when it ends (any thread); the body, when it fails. A body that completed is still held
     * until the call has turned it into its result.
     */
    void release()
    {
        final long held = reserved.getAndSet(RELEASED);
        if (held > 0)
        {
            budget.release(held);
        }
    }

    /**
     * @return the bytes of the budget this body holds, 0 once released (for tests).
     */
    long reserved()
    {
        return Math.max(0, reserved.get());
    }

    /**
     * Grow the buffer to hold {@code needed} bytes: geometrically, never past the limit nor the declared length, and
     * only as far as the budget allows (the bytes needed alone, when a doubling does not fit).
     *
     * @return false when the budget cannot hold the bytes needed, or the reservation was released.
     */
    private boolean ensureCapacity(final int needed)
    {
        final int capacity = bytes.length;
        if (needed <= capacity)
        {
            return true;
        }
        final long ceiling = Math.max(needed, declaredLength >= 0 ? Math.min(limit, declaredLength) : limit);
        final int geometric = (int)Math.min(ceiling, Math.max(needed, Math.max(INITIAL_CAPACITY, 2L * capacity)));
        final int grown;
        if (reserve(geometric - capacity))
        {
            grown = geometric;
        }
        else if (needed < geometric && reserve(needed - capacity))
        {
            grown = needed;
        }
        else
        {
            return false;
        }
        bytes = Arrays.copyOf(bytes, grown);
        return true;
    }

    /**
     * Reserve more of the budget for this body, unless it was released: a growth racing the release gives its bytes
     * straight back, so the budget hears of each byte once.
     */
    private boolean reserve(final long more)
    {
        if (!budget.tryReserve(more))
        {
            return false;
        }
        while (true)
        {
            final long held = reserved.get();
            if (held == RELEASED)
            {
                budget.release(more);
                return false;
            }
            if (reserved.compareAndSet(held, held + more))
            {
                return true;
            }
        }
    }

    /**
     * Stop reading and fail the body, its bytes given back (nothing will read them).
     */
    private void stop(final Throwable cause)
    {
        subscription.cancel();
        release();
        body.completeExceptionally(cause);
    }

    private byte[] result()
    {
        final byte[] whole = length == bytes.length ? bytes : Arrays.copyOf(bytes, length);
        bytes = EMPTY;
        return whole;
    }

    /**
     * A response body larger than {@code http.max-response-bytes}: the call failed permanently, since the
     * same request would get the same body.
     */
    static final class ResponseTooLargeException extends IOException
    {
        private static final long serialVersionUID = 1L;

        ResponseTooLargeException(final String size, final int limit)
        {
            super("response body of " + size + " exceeds http." + HttpSettings.MAX_RESPONSE_BYTES + "=" + limit);
        }
    }
}
