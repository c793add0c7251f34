package io.gyre.tasks.http;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a response body into one array, never more than a limit: past it, either fails with
 * {@link ResponseTooLargeException} (a body the caller wants whole) or completes with the first
 * {@code limit} bytes (a snippet for an error message). Either way it cancels the subscription, which
 * closes the connection instead of reading the rest.
 * <p>
 * Signals arrive one at a time from the client (the Flow contract), so the state needs no locking.
 */
final class BoundedBodySubscriber implements HttpResponse.BodySubscriber<byte[]>
{
    private static final byte[] EMPTY = new byte[0];
    private static final int INITIAL_CAPACITY = 8 * 1024;

    private final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final int limit;
    private final boolean truncate;
    private final long declaredLength;
    private Flow.Subscription subscription;
    private byte[] bytes = EMPTY;
    private int length;

    private BoundedBodySubscriber(final int limit, final boolean truncate, final long declaredLength)
    {
        this.limit = limit;
        this.truncate = truncate;
        this.declaredLength = declaredLength;
    }

    /**
     * @param limit the most bytes the body may have.
     * @param declaredLength the response's Content-Length, or -1: one above the limit fails before reading.
     * @return a subscriber that fails with {@link ResponseTooLargeException} past the limit.
     */
    static BoundedBodySubscriber whole(final int limit, final long declaredLength)
    {
        return new BoundedBodySubscriber(limit, false, declaredLength);
    }

    /**
     * @param limit how many bytes to keep.
     * @return a subscriber that keeps the first {@code limit} bytes and stops reading there.
     */
    static BoundedBodySubscriber truncated(final int limit)
    {
        return new BoundedBodySubscriber(limit, true, -1);
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
        if (!truncate && declaredLength > limit)
        {
            subscription.cancel();
            body.completeExceptionally(new ResponseTooLargeException(declaredLength + " bytes (its Content-Length)", limit));
            return;
        }
        if (declaredLength > 0)
        {
            bytes = new byte[(int)declaredLength];
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
        for (final ByteBuffer item : items)
        {
            final int remaining = item.remaining();
            if (remaining > limit - length)
            {
                subscription.cancel();
                if (truncate)
                {
                    append(item, limit - length);
                    body.complete(result());
                }
                else
                {
                    body.completeExceptionally(new ResponseTooLargeException("more than " + limit + " bytes", limit));
                }
                return;
            }
            append(item, remaining);
        }
    }

    @Override
    public void onError(final Throwable throwable)
    {
        body.completeExceptionally(throwable);
    }

    @Override
    public void onComplete()
    {
        body.complete(result());
    }

    private void append(final ByteBuffer item, final int count)
    {
        if (length + count > bytes.length)
        {
            final int grown = (int)Math.min(limit, Math.max((long)length + count, Math.max(INITIAL_CAPACITY, 2L * bytes.length)));
            bytes = Arrays.copyOf(bytes, grown);
        }
        item.get(bytes, length, count);
        length += count;
    }

    private byte[] result()
    {
        return length == bytes.length ? bytes : Arrays.copyOf(bytes, length);
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
