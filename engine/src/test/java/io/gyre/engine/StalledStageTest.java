package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A handler stuck inline holds the stage it runs on, and every task behind it: {@code health()} still says READY (the
 * journal goes on acknowledging), so {@link Engine#stalledStage} says which stage holds events without moving (an
 * outside check found a wedged engine READY for 40 s).
 */
class StalledStageTest extends EngineTestSupport
{
    @Test
    void shouldSayWhichStageHoldsEventsWithoutMovingAndStopSayingItOnceItMoves() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final TaskHandler stuck = stuckInline(release, 30);
        open(b -> b.handler(stuck));
        final long stall = TimeUnit.MILLISECONDS.toNanos(300);
        assertThat(engine.stalledStage(stall)).as("idle").isNull();

        final CompletableFuture<Outcome> wedged = engine.submit(new TaskRequest().key("wedge").type("stuck-inline"));
        final CompletableFuture<Outcome> behind = engine.submit(new TaskRequest().key("behind").type("echo").payload("x"));
        await().atMost(10, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
            .until(() -> engine.stalledStage(stall) != null);
        assertThat(engine.stalledStage(stall)).contains("journal-and-sequence").contains("has finished no event for")
            .contains("a handler stuck on its thread?")
            // which attempt it is stuck in: what to remove, when it is a start it holds (the re-check's stuck server said nothing)
            .matches("(?s).*; running now: task \\d+ \\(type stuck-inline, attempt 1\\)");
        assertThat(engine.health().ready()).as("health alone does not see it").isTrue();
        assertThat(behind).isNotDone();

        release.countDown();
        assertThat(get(wedged).state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(get(behind).state()).isEqualTo(TaskState.SUCCEEDED);
        await().atMost(10, TimeUnit.SECONDS).pollInterval(20, TimeUnit.MILLISECONDS).until(() -> engine.stalledStage(stall) == null);
        for (int i = 0; i < 10; i++)
        {
            Thread.sleep(50);
            assertThat(engine.stalledStage(stall)).as("moving again, or idle").isNull();
        }
    }

    /**
     * A stop while the ring is full behind a handler stuck inline: the stop's own snapshot gives up at the stop's grace
     * period, as everything after the deadline does. It waited for room in the ring for good: an outside check's SIGTERM
     * never ended the server.
     */
    @Test
    void shouldStopWithinItsGraceWhenTheRingIsFullBehindAStuckHandler() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final TaskHandler stuck = stuckInline(release, 120);
        final Engine wedged = open(b -> b.handler(stuck).ringSize(256).closeTimeout(java.time.Duration.ofMillis(200)));
        try
        {
            wedged.submit(new TaskRequest().key("wedge").type("stuck-inline"));
            int submitted = 0;
            while (wedged.trySubmit(new TaskRequest().key("behind-" + submitted).type("echo").payload("x"), outcome ->
            {
            }))
            {
                submitted++;
            }
            // status questions take the ring's share for outside events other than submissions, up to its end
            final Thread asking = new Thread(() ->
            {
                for (int i = 0; i < 256; i++)
                {
                    try
                    {
                        wedged.status("behind-0");
                    }
                    catch (final RuntimeException closed)
                    {
                        return;
                    }
                }
            });
            asking.setDaemon(true);
            asking.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> wedged.ringBacklog() >= 64);

            final CompletableFuture<Void> stop = CompletableFuture.runAsync(wedged::close);
            // 200 ms of deadline, then one grace period of 10 s shared by what follows it
            stop.get(60, TimeUnit.SECONDS);
            assertThat(wedged.isClosed()).isTrue();
        }
        finally
        {
            release.countDown();
            engine = null;
        }
    }

    /**
     * INLINE: holds the thread it runs on until released (or {@code seconds} pass), then succeeds.
     */
    private static TaskHandler stuckInline(final CountDownLatch release, final int seconds)
    {
        return new TaskHandler()
        {
            @Override
            public String type()
            {
                return "stuck-inline";
            }

            @Override
            public void execute(final TaskContext context) throws Exception
            {
                release.await(seconds, TimeUnit.SECONDS);
                context.succeed(new byte[0]);
            }
        };
    }
}
