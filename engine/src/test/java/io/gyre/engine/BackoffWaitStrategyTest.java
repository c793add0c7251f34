package io.gyre.engine;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The default wait: an idle stage sleeps deeply, and a publication (or a halt) wakes it long before its deep park
 * would end on its own (30 s here, so that only the wake-up can end it within the test's bounds).
 */
class BackoffWaitStrategyTest
{
    private static final long DEEP_PARK_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final ExecutorService stage = Executors.newSingleThreadExecutor();
    private final BackoffWaitStrategy strategy = new BackoffWaitStrategy(DEEP_PARK_NANOS);
    private final Sequence cursor = new Sequence(-1);
    private final Barrier barrier = new Barrier();

    @AfterEach
    void stop()
    {
        barrier.alert();
        stage.shutdownNow();
    }

    @Test
    void shouldReturnAtOnceWhatIsAvailable() throws Exception
    {
        cursor.set(5);
        assertThat(strategy.waitFor(3, cursor, cursor, barrier)).isEqualTo(5);
        assertThat(strategy.deepSleepers()).isZero();
    }

    @Test
    void shouldSleepDeeplyWhenIdleAndWakeOnAPublication() throws Exception
    {
        final CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> waitFor(0), stage);
        await().atMost(Duration.ofSeconds(10)).until(() -> strategy.deepSleepers() == 1);
        assertThat(waited).isNotDone();

        cursor.set(0);
        strategy.signalAllWhenBlocking();
        assertThat(waited.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(strategy.deepSleepers()).isZero();
    }

    @Test
    void shouldWakeAStageAsleepOnAnEarlierStageWhenThatOneAsksForMore() throws Exception
    {
        // a later stage waits on an earlier stage's sequence, which no publication moves: the earlier stage's next
        // wait (Disruptor's processor sets its sequence, then waits again) must wake it
        final Sequence earlier = new Sequence(-1);
        final CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return strategy.waitFor(0, cursor, earlier, barrier);
            }
            catch (final AlertException ex)
            {
                throw new IllegalStateException(ex);
            }
        }, stage);
        await().atMost(Duration.ofSeconds(10)).until(() -> strategy.deepSleepers() == 1);

        cursor.set(0);
        earlier.set(0);
        assertThat(strategy.waitFor(0, cursor, cursor, barrier)).isZero();   // the earlier stage, asking for more
        assertThat(waited.get(10, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void shouldSleepOnlyAfterSpinningAndYieldingAndWakeOnce() throws Exception
    {
        final CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> waitFor(0), stage);
        await().atMost(Duration.ofSeconds(10)).until(() -> strategy.deepSleepers() == 1);
        // many publications while it wakes: each finds it taken out of its slot already, or asleep once
        cursor.set(0);
        for (int i = 0; i < 1000; i++)
        {
            strategy.signalAllWhenBlocking();
        }
        assertThat(waited.get(10, TimeUnit.SECONDS)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> strategy.deepSleepers() == 0);
    }

    @Test
    void shouldWakeADeepSleeperWhenItsStageIsHalted()
    {
        final CompletableFuture<Long> waited = CompletableFuture.supplyAsync(() -> waitFor(0), stage);
        await().atMost(Duration.ofSeconds(10)).until(() -> strategy.deepSleepers() == 1);

        barrier.alert();
        assertThatThrownBy(() -> waited.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
            .hasRootCauseInstanceOf(AlertException.class);
    }

    private long waitFor(final long sequence)
    {
        try
        {
            return strategy.waitFor(sequence, cursor, cursor, barrier);
        }
        catch (final AlertException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** What Disruptor's barrier does for a wait strategy: the alert, which also signals the strategy. */
    private final class Barrier implements SequenceBarrier
    {
        private volatile boolean alerted;

        @Override
        public long waitFor(final long sequence)
        {
            throw new UnsupportedOperationException();
        }

        @Override
        public long getCursor()
        {
            return cursor.get();
        }

        @Override
        public boolean isAlerted()
        {
            return alerted;
        }

        @Override
        public void alert()
        {
            alerted = true;
            strategy.signalAllWhenBlocking();
        }

        @Override
        public void clearAlert()
        {
            alerted = false;
        }

        @Override
        public void checkAlert() throws AlertException
        {
            if (alerted)
            {
                throw AlertException.INSTANCE;
            }
        }
    }
}
