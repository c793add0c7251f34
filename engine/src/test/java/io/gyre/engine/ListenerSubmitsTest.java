package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An outcome listener that submits the next task of a chain runs on the engine's publish thread: it must never wait
 * for the admission gate there, which only the engine's threads open. (It did: under load the engine wedged, the publish
 * thread spinning in submit, and this test timed out after a minute.)
 */
class ListenerSubmitsTest extends EngineTestSupport
{
    private static final int LOAD = 20_000;
    private static final int CHAINS = 2_000;

    /**
     * With the publish stage on the execute stage's thread (one or two stage threads, two by default) the ring never
     * fills behind it: every chained submission is taken.
     */
    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2})
    void aListenerSubmittingFollowUpTasksUnderLoadNeverWedgesTheEngine(final int pipelineThreads) throws Exception
    {
        final Engine engine = open(b -> b.ringSize(256).pipelineThreads(pipelineThreads));
        final Chain chain = new Chain(engine);
        load(engine, chain);
        await().atMost(60, TimeUnit.SECONDS).until(() -> chain.finished.get() >= LOAD + CHAINS);
        assertThat(chain.refused.get()).isZero();
        assertThat(engine.status("chain-" + CHAINS).get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
    }

    /**
     * With the publish stage on a thread of its own (four stage threads) it runs behind the others, and the ring is full
     * whenever it lags: a chained submission that finds no slot is refused BUSY, at once, and the engine goes on.
     */
    @Test
    void aListenerSubmittingOnASeparatePublishThreadIsRefusedBusyRatherThanWedgingTheEngine() throws Exception
    {
        final Engine engine = open(b -> b.ringSize(256).pipelineThreads(4));
        final Chain chain = new Chain(engine);
        load(engine, chain);
        // every submission taken has its outcome: the load's, and the chain's not refused
        await().atMost(60, TimeUnit.SECONDS).until(() -> chain.finished.get() >= LOAD + CHAINS - chain.refusedSubmits.get());
        System.out.println("ListenerSubmitsTest: 4 stage threads, " + chain.refusedSubmits.get() + " of " + CHAINS +
            " chained submissions refused BUSY, " + (chain.refused.get() - chain.refusedSubmits.get()) + " status questions");
        assertThat(chain.otherFailures.get()).isZero();
        assertThat(engine.submit(new TaskRequest().key("after").type("echo").payload("a")).get(10, TimeUnit.SECONDS).state())
            .isEqualTo(TaskState.SUCCEEDED);
    }

    private static void load(final Engine engine, final OutcomeListener listener) throws InterruptedException
    {
        final Thread load = new Thread(() ->
        {
            for (int i = 0; i < LOAD; i++)
            {
                engine.submit(new TaskRequest().key("load-" + i).type("echo").payload("l"), listener);
            }
        });
        load.start();
        load.join(120_000);
    }

    /**
     * Each outcome submits the next task of the chain, on the publish thread, and asks a status every tenth.
     */
    private static final class Chain implements OutcomeListener
    {
        final AtomicInteger finished = new AtomicInteger();
        final AtomicInteger chained = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final AtomicInteger refusedSubmits = new AtomicInteger();
        final AtomicInteger otherFailures = new AtomicInteger();
        private final Engine engine;

        Chain(final Engine engine)
        {
            this.engine = engine;
        }

        @Override
        public void onOutcome(final TaskOutcome outcome)
        {
            if (finished.incrementAndGet() % 10 == 0)
            {
                // a status question from the listener takes the same path: it must not wait either
                try
                {
                    engine.status("load-0");
                }
                catch (final RequestRefusedException busy)
                {
                    count(busy);
                }
            }
            final int n = chained.incrementAndGet();
            if (n <= CHAINS)
            {
                try
                {
                    engine.submit(new TaskRequest().key("chain-" + n).type("echo").payload("c"), this);
                }
                catch (final RequestRefusedException busy)
                {
                    refusedSubmits.incrementAndGet();
                    count(busy);
                }
            }
        }

        private void count(final RequestRefusedException busy)
        {
            if (busy.reason() == RejectReason.BUSY)
            {
                refused.incrementAndGet();
            }
            else
            {
                otherFailures.incrementAndGet();
            }
        }
    }
}
