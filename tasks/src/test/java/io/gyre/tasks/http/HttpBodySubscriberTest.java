package io.gyre.tasks.http;

import io.gyre.tasks.http.BoundedBodySubscriber.ResponseTooLargeException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.gyre.tasks.http.BoundedBodySubscriber.INITIAL_CAPACITY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The body subscriber driven as the JDK client drives it (one signal at a time), with the stop of a call racing it:
 * its memory follows the bytes that arrived, it reserves every byte of it from the budget first, and gives it back
 * exactly once.
 */
class HttpBodySubscriberTest
{
    private static final int MIB = 1 << 20;

    private final BufferBudget budget = new BufferBudget(Long.MAX_VALUE);
    private final RecordingSubscription subscription = new RecordingSubscription();

    /**
     * The outside check's server declared a megabyte and sent a byte a second: each call held the megabyte at once.
     */
    @Test
    void shouldHoldWhatArrivedAndGrowGeometricallyUpToTheDeclaredLength() throws Exception
    {
        final BoundedBodySubscriber body = BoundedBodySubscriber.whole(MIB, 1_000_000, budget);
        body.onSubscribe(subscription);
        assertThat(budget.held()).as("nothing arrived").isZero();

        body.onNext(bytes(10));
        assertThat(body.reserved()).isEqualTo(INITIAL_CAPACITY);
        int arrived = 10;
        while (arrived < 1_000_000)
        {
            final int count = Math.min(16 * 1024, 1_000_000 - arrived);
            body.onNext(bytes(count));
            arrived += count;
            // doubling: never more than twice what arrived (or the first buffer), never past the declared length
            assertThat(body.reserved()).isBetween((long)arrived, Math.min(1_000_000L, Math.max(INITIAL_CAPACITY, 2L * arrived)));
            assertThat(budget.held()).isEqualTo(body.reserved());
        }
        body.onComplete();

        assertThat(body.getBody().toCompletableFuture().get()).hasSize(1_000_000);
        assertThat(budget.held()).as("held until the call has made its result").isEqualTo(1_000_000);
        body.release();
        assertThat(budget.held()).isZero();
        assertThat(subscription.cancelled()).isFalse();
    }

    @Test
    void shouldHoldNoMoreThanASmallDeclaredLengthOrAnErrorSnippet() throws Exception
    {
        final BoundedBodySubscriber small = BoundedBodySubscriber.whole(MIB, 100, budget);
        small.onSubscribe(subscription);
        small.onNext(bytes(60));
        assertThat(small.reserved()).isEqualTo(100);
        small.onNext(bytes(40));
        small.onComplete();
        assertThat(small.getBody().toCompletableFuture().get()).hasSize(100);

        final RecordingSubscription snippetSubscription = new RecordingSubscription();
        final BoundedBodySubscriber snippet = BoundedBodySubscriber.truncated(HttpCall.ERROR_SNIPPET_BYTES, -1, budget);
        snippet.onSubscribe(snippetSubscription);
        snippet.onNext(bytes(100_000));
        assertThat(snippet.getBody().toCompletableFuture().get()).hasSize(HttpCall.ERROR_SNIPPET_BYTES);
        assertThat(snippet.reserved()).isEqualTo(HttpCall.ERROR_SNIPPET_BYTES);
        assertThat(snippetSubscription.cancelled()).isTrue();

        assertThat(budget.held()).isEqualTo(100 + HttpCall.ERROR_SNIPPET_BYTES);
        small.release();
        snippet.release();
        assertThat(budget.held()).isZero();
    }

    @Test
    void shouldFailADeclaredLengthOverTheLimitBeforeReadingAndHoldNothing()
    {
        final BoundedBodySubscriber body = BoundedBodySubscriber.whole(1000, 5000, budget);
        body.onSubscribe(subscription);

        assertThat(subscription.cancelled()).isTrue();
        assertThat(subscription.requested()).isZero();
        assertThatThrownBy(() -> body.getBody().toCompletableFuture().get())
            .hasCauseInstanceOf(ResponseTooLargeException.class);
        assertThat(budget.held()).isZero();
    }

    @Test
    void shouldGiveBackWhatItHeldWhenTheBodyOutgrowsTheLimitOrFails()
    {
        final BoundedBodySubscriber tooLarge = BoundedBodySubscriber.whole(10_000, -1, budget);
        tooLarge.onSubscribe(subscription);
        tooLarge.onNext(bytes(6000));
        assertThat(budget.held()).as("the bytes that arrived, past the first buffer").isEqualTo(6000);
        tooLarge.onNext(bytes(6000));
        assertThat(subscription.cancelled()).isTrue();
        assertThatThrownBy(() -> tooLarge.getBody().toCompletableFuture().get()).hasCauseInstanceOf(ResponseTooLargeException.class);
        assertThat(budget.held()).isZero();

        final BoundedBodySubscriber failed = BoundedBodySubscriber.whole(10_000, -1, budget);
        failed.onSubscribe(new RecordingSubscription());
        failed.onNext(bytes(10));
        assertThat(budget.held()).isEqualTo(INITIAL_CAPACITY);
        failed.onError(new java.io.IOException("connection reset"));
        assertThat(budget.held()).isZero();
    }

    /**
     * A growth that does not fit stops reading and fails, saying which limit; the bodies that fit are untouched. The
     * growth falls back to the bytes needed alone when a doubling does not fit.
     */
    @Test
    void shouldStopReadingAndFailWhenTheBudgetCannotHoldTheBytesThatArrived() throws Exception
    {
        final BufferBudget small = new BufferBudget(10_000);
        final BoundedBodySubscriber first = BoundedBodySubscriber.whole(MIB, -1, small);
        final BoundedBodySubscriber second = BoundedBodySubscriber.whole(MIB, -1, small);
        final RecordingSubscription secondSubscription = new RecordingSubscription();
        first.onSubscribe(subscription);
        second.onSubscribe(secondSubscription);

        first.onNext(bytes(10));
        second.onNext(bytes(10));
        assertThat(small.held()).isEqualTo(2 * INITIAL_CAPACITY);
        first.onNext(bytes(INITIAL_CAPACITY + 1000)); // a doubling to 8 KiB does not fit; the 5,106 bytes needed do
        assertThat(first.reserved()).isEqualTo(INITIAL_CAPACITY + 1010);
        second.onNext(bytes(5000)); // 8 KiB, or the 5,010 bytes needed: neither fits beside the first's 5,106

        assertThat(secondSubscription.cancelled()).isTrue();
        assertThatThrownBy(() -> second.getBody().toCompletableFuture().get())
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(BufferBudget.ExhaustedException.class)
            .hasRootCauseMessage("response bodies being read already hold http.max-buffered-bytes=10000 bytes");
        assertThat(small.held()).isEqualTo(INITIAL_CAPACITY + 1010);
        assertThat(subscription.cancelled()).isFalse();
        first.onComplete();
        assertThat(first.getBody().toCompletableFuture().get()).hasSize(INITIAL_CAPACITY + 1010);
        first.release();
        assertThat(small.held()).isZero();
    }

    @Test
    void shouldKeepTheSnippetItHasWhenTheBudgetCannotHoldMore() throws Exception
    {
        final BufferBudget full = new BufferBudget(100);
        assertThat(full.tryReserve(100)).isTrue();
        final BoundedBodySubscriber snippet = BoundedBodySubscriber.truncated(HttpCall.ERROR_SNIPPET_BYTES, -1, full);
        snippet.onSubscribe(subscription);
        snippet.onNext(bytes(50));

        assertThat(snippet.getBody().toCompletableFuture().get()).isEmpty();
        assertThat(subscription.cancelled()).isTrue();
        assertThat(full.held()).isEqualTo(100);
    }

    /**
     * A stop gives the bytes back from the engine's thread and the client may still deliver bytes, or none at all:
     * once released, a body reserves nothing again, and a second release gives nothing back twice.
     */
    @Test
    void shouldReleaseOnceAndReserveNothingAfterTheRelease()
    {
        final BoundedBodySubscriber body = BoundedBodySubscriber.whole(MIB, -1, budget);
        body.onSubscribe(subscription);
        body.onNext(bytes(10));
        assertThat(budget.held()).isEqualTo(INITIAL_CAPACITY);

        body.release();
        body.release();
        assertThat(budget.held()).isZero();

        body.onNext(bytes(100_000));
        assertThat(budget.held()).isZero();
        assertThat(body.reserved()).isZero();
        assertThat(subscription.cancelled()).isTrue();
        assertThat(body.getBody().toCompletableFuture().isCompletedExceptionally()).isTrue();

        final RecordingSubscription late = new RecordingSubscription();
        final BoundedBodySubscriber releasedFirst = BoundedBodySubscriber.whole(MIB, -1, budget);
        releasedFirst.release();
        releasedFirst.onSubscribe(late);
        assertThat(late.cancelled()).isTrue();
        assertThat(late.requested()).isZero();
        assertThat(budget.held()).isZero();
    }

    /**
     * The client's thread growing the buffer and the engine's thread releasing it, at once, many times: the budget ends
     * at 0 every time (no reservation after the release kept, none given back twice).
     */
    @Test
    void shouldLeaveTheBudgetAtZeroWhateverTheOrderOfAGrowthAndARelease() throws Exception
    {
        final CyclicBarrier start = new CyclicBarrier(2);
        for (int round = 0; round < 1_000; round++)
        {
            final BoundedBodySubscriber body = BoundedBodySubscriber.whole(MIB, -1, budget);
            body.onSubscribe(new RecordingSubscription());
            body.onNext(bytes(10));
            final CompletableFuture<Void> stopper = CompletableFuture.runAsync(() ->
            {
                await(start);
                body.release();
            });
            await(start);
            for (int i = 0; i < 8; i++)
            {
                body.onNext(bytes(8 * 1024));
            }
            stopper.get(30, TimeUnit.SECONDS);
            body.release();
            assertThat(budget.held()).as("round %d", round).isZero();
        }
    }

    private static List<ByteBuffer> bytes(final int count)
    {
        return List.of(ByteBuffer.wrap(new byte[count]));
    }

    private static void await(final CyclicBarrier barrier)
    {
        try
        {
            barrier.await(30, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
        }
    }

    /**
     * The client's side of the subscription: what was requested, and whether it was cancelled.
     */
    private static final class RecordingSubscription implements Flow.Subscription
    {
        private final AtomicInteger cancels = new AtomicInteger();
        private volatile long requested;

        @Override
        public void request(final long n)
        {
            requested += n;
        }

        @Override
        public void cancel()
        {
            cancels.incrementAndGet();
        }

        boolean cancelled()
        {
            return cancels.get() > 0;
        }

        long requested()
        {
            return requested;
        }
    }
}
