package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An outcome listener that submits the next task of a chain runs on the engine's publish thread: it must never wait
 * for the admission gate there, which only that thread can open. (It did: under load the engine wedged, the publish
 * thread spinning in submit, and this test timed out after a minute.)
 */
class ListenerSubmitsTest extends EngineTestSupport
{
    @Test
    void aListenerSubmittingFollowUpTasksUnderLoadNeverWedgesTheEngine() throws Exception
    {
        final Engine engine = open(b -> b.ringSize(256));
        final AtomicInteger finished = new AtomicInteger();
        final AtomicInteger chained = new AtomicInteger();
        final int chains = 2_000;
        final OutcomeListener[] next = new OutcomeListener[1];
        next[0] = outcome ->
        {
            if (finished.incrementAndGet() % 10 == 0)
            {
                // a status question from the listener takes the same path: it must not wait either
                engine.status("load-0");
            }
            final int n = chained.incrementAndGet();
            if (n <= chains)
            {
                engine.submit(new TaskRequest().key("chain-" + n).type("echo").payload("c"), next[0]);
            }
        };
        final Thread load = new Thread(() ->
        {
            for (int i = 0; i < 20_000; i++)
            {
                engine.submit(new TaskRequest().key("load-" + i).type("echo").payload("l"), next[0]);
            }
        });
        load.start();
        load.join(120_000);
        await().atMost(60, TimeUnit.SECONDS).until(() -> finished.get() >= 20_000 + chains);
        assertThat(engine.status("chain-" + chains).get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
    }
}
