package io.gyre.engine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RETRY_WAIT;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * What a stop tells the submissions whose tasks it leaves unfinished: each future completes, exceptionally with a
 * {@link TaskUnfinishedException}, and each listener hears exactly one {@link TaskOutcome#unfinished() unfinished}
 * outcome, before {@code stop()} returns; never a final state, which the journal does not hold. The tasks then finish
 * after the next open.
 */
class StopAnswersTest
{
    @TempDir
    Path dir;

    private final List<Engine> engines = new ArrayList<>();
    private final List<Runnable> cleanups = new ArrayList<>();

    @AfterEach
    void closeAll()
    {
        cleanups.forEach(Runnable::run);
        engines.forEach(Engine::close);
    }

    private Engine open(final java.util.function.Consumer<EngineConfig.Builder> settings)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16);
        settings.accept(builder);
        final Engine engine = Engine.open(builder.build());
        engines.add(engine);
        return engine;
    }

    private static TaskRequest task(final String key, final String type)
    {
        return new TaskRequest().key(key).type(type).payload(key);
    }

    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void shouldAnswerEverySubmissionLeftUnfinishedOnceWhenTheEngineStopsAndFinishTheTasksAfterTheNextOpen(final int pipelineThreads)
        throws Exception
    {
        final GracefulStopTest.Stubborn stubborn = new GracefulStopTest.Stubborn(false);
        cleanups.add(stubborn.release::countDown);
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        final Engine first = open(b -> b.pipelineThreads(pipelineThreads).handler(stubborn).handler(flaky).handler(new HoldingLong())
            .blockingPoolThreads(1).closeTimeout(Duration.ofMillis(300)));

        // for each key a future (the submission that creates the task), then a joined duplicate with a listener
        final Map<String, TaskState> expected = new LinkedHashMap<>();
        expected.put("blocking", RUNNING);                   // a BLOCKING attempt that ignores its interrupt at the deadline
        expected.put("queued", PENDING);                     // waits for the pool's one thread
        expected.put("held", RUNNING);                       // holds its outcome for an hour, as a `wait PT1H` does
        expected.put("retry", RETRY_WAIT);                   // failed once, retries in a minute
        final Map<String, String> types = Map.of("blocking", "stubborn", "queued", "stubborn", "held", "holding-long", "retry", "flaky");
        final Map<String, CompletableFuture<Outcome>> futures = new LinkedHashMap<>();
        final Map<String, Recorder> joiners = new LinkedHashMap<>();
        for (final String key : expected.keySet())
        {
            final TaskRequest request = task(key, types.get(key));
            if (key.equals("retry"))
            {
                request.backoff(60_000, 60_000, 1f, 0f);
            }
            futures.put(key, first.submit(request));
            if (key.equals("blocking"))
            {
                await().until(() -> stubborn.runs.containsKey("blocking"));
            }
        }
        final Map<String, Long> ids = new HashMap<>();
        await().until(() -> first.status("retry").join().state() == RETRY_WAIT && first.status("held").join().state() == RUNNING);
        for (final String key : expected.keySet())
        {
            final TaskStatus status = first.status(key).join();
            assertThat(status.state()).as(key).isEqualTo(expected.get(key));
            ids.put(key, status.taskId());
            final Recorder joiner = new Recorder();
            first.submit(task(key, types.get(key)).correlationId(7), joiner);
            joiners.put(key, joiner);
        }
        for (final Recorder joiner : joiners.values())
        {
            await().until(() -> joiner.events.size() == 1);
        }
        // a dependent action that closes the engine again, from the stop's own answer: it must not wait for itself
        final CountDownLatch closedFromCallback = new CountDownLatch(1);
        futures.get("queued").whenComplete((outcome, ex) ->
        {
            first.close();
            closedFromCallback.countDown();
        });

        // a submitter racing with the stop: every submission it got in is answered; the later ones are refused
        final List<CompletableFuture<Outcome>> raced = new java.util.concurrent.CopyOnWriteArrayList<>();
        final AtomicBoolean refused = new AtomicBoolean();
        final Thread racer = new Thread(() ->
        {
            for (int i = 0; !refused.get(); i++)
            {
                try
                {
                    raced.add(first.submit(task("race-" + i, i % 2 == 0 ? "stubborn" : "echo")));
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                }
                catch (final EngineClosedException ex)
                {
                    refused.set(true);
                }
            }
        }, "racer");
        racer.start();
        await().until(() -> raced.size() >= 10);

        final CompletableFuture<Boolean> answeredWhenClosed =
            first.closed().thenApply(health -> futures.values().stream().allMatch(CompletableFuture::isDone));
        final StopReport report = CompletableFuture.supplyAsync(first::stop).get(30, TimeUnit.SECONDS);
        assertThat(answeredWhenClosed).isCompletedWithValue(true);
        racer.join(10_000);
        assertThat(refused).isTrue();
        assertThat(report.recorded()).isTrue();
        assertThat(report.running()).isEqualTo(1);
        assertThat(report.held()).isEqualTo(1);
        assertThat(report.retryWaiting()).isEqualTo(1);

        // answered before stop() returned, each with the state its task was left in: never a final one
        for (final String key : expected.keySet())
        {
            final CompletableFuture<Outcome> future = futures.get(key);
            assertThat(future).as(key).isCompletedExceptionally();
            final Throwable thrown = catchThrowable(future::join);
            assertThat(thrown).isInstanceOf(CompletionException.class);
            assertThat(thrown.getCause()).as(key).isInstanceOfSatisfying(TaskUnfinishedException.class, ex ->
            {
                assertThat(ex.key()).isEqualTo(key);
                assertThat(ex.taskId()).isEqualTo(ids.get(key));
                assertThat(ex.state()).isEqualTo(expected.get(key));
                assertThat(ex.outcome().unfinished()).isTrue();
                assertThat(ex.outcome().rejected()).isFalse();
                assertThat(ex.getMessage()).isEqualTo("task " + ids.get(key) + " of key " + key + " was " + expected.get(key) +
                    " when the engine stopped: it is journaled and carries on after the next open, where submitting its key " +
                    "again joins it or returns its outcome");
            });
        }
        assertThat(closedFromCallback.await(0, TimeUnit.SECONDS)).isTrue();
        for (final CompletableFuture<Outcome> future : raced)
        {
            assertThat(future).isDone();
            if (future.isCompletedExceptionally())
            {
                assertThat(catchThrowable(future::join)).hasCauseInstanceOf(TaskUnfinishedException.class);
            }
            else
            {
                assertThat(future.join().state()).isEqualTo(SUCCEEDED);
            }
        }
        assertThat(raced).anySatisfy(future -> assertThat(future).isCompletedExceptionally());
        for (final String key : expected.keySet())
        {
            final Recorder joiner = joiners.get(key);
            assertThat(joiner.events).as(key).containsExactly("accepted 7 task " + ids.get(key), "outcome 7 " + expected.get(key));
            final Outcome outcome = joiner.outcomes.get(0);
            assertThat(outcome.unfinished()).isTrue();
            assertThat(outcome.rejected()).isFalse();
            assertThat(outcome.taskId()).isEqualTo(ids.get(key));
            assertThat(outcome.state().terminal()).isFalse();
            assertThat(outcome.output()).isEmpty();
            assertThat(outcome.error()).isEqualTo("task " + ids.get(key) + " was " + expected.get(key) + " when the engine stopped: " +
                "it is journaled and carries on after the next open, where submitting its key again joins it or returns its outcome");
        }
        // and nothing more: exactly one answer each
        Thread.sleep(300);
        for (final String key : expected.keySet())
        {
            assertThat(joiners.get(key).events).as(key).hasSize(2);
        }
        stubborn.release.countDown();                        // the interrupted attempt ends now: its result is not taken

        // the next engine finishes them all, under the same task ids
        final EngineTest.ManualClock later = new EngineTest.ManualClock();
        later.advance(Duration.ofHours(2));                  // the retry and the held outcome are due
        final GracefulStopTest.Stubborn stubborn2 = new GracefulStopTest.Stubborn(true);
        final Engine second = open(b -> b.pipelineThreads(pipelineThreads).clock(later).handler(stubborn2)
            .handler(new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE)).handler(new HoldingLong()));
        for (final String key : expected.keySet())
        {
            final Recorder again = new Recorder();
            second.submit(task(key, types.get(key)), again);
            final Outcome outcome = again.awaitOutcomes(1).get(0);
            assertThat(outcome.taskId()).as(key).isEqualTo(ids.get(key));
            assertThat(outcome.state()).as(key).isEqualTo(SUCCEEDED);
            assertThat(outcome.unfinished()).isFalse();
        }
        assertThat(stubborn2.runs).containsKeys("blocking", "queued");
        for (final CompletableFuture<Outcome> future : raced)
        {
            if (future.isCompletedExceptionally())
            {
                final TaskUnfinishedException ex = (TaskUnfinishedException)catchThrowable(future::join).getCause();
                final int i = Integer.parseInt(ex.key().substring("race-".length()));
                final Outcome outcome = second.submit(task(ex.key(), i % 2 == 0 ? "stubborn" : "echo")).get(15, TimeUnit.SECONDS);
                assertThat(outcome.taskId()).isEqualTo(ex.taskId());
                assertThat(outcome.state()).isEqualTo(SUCCEEDED);
            }
        }
        engines.remove(second);
        assertThat(second.stop().nothingLeft()).isTrue();
    }

    /**
     * An engine stopped with nothing unfinished answers nothing more: every outcome came once, from the publish stage.
     */
    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1})
    void shouldAnswerNothingMoreWhenNothingIsLeft(final int pipelineThreads) throws Exception
    {
        final Engine engine = open(b -> b.pipelineThreads(pipelineThreads));
        final Recorder recorder = new Recorder();
        engine.submit(task("e", "echo"), recorder);
        recorder.awaitOutcomes(1);
        engines.remove(engine);
        assertThat(engine.stop().nothingLeft()).isTrue();
        assertThat(recorder.events).hasSize(2).last().asString().endsWith("SUCCEEDED");
        assertThat(recorder.outcomes.get(0).unfinished()).isFalse();
    }

    /** INLINE: succeeds, holding its outcome for an hour past the engine's clock (as {@code wait PT1H}). */
    static final class HoldingLong implements TaskHandler
    {
        @Override
        public String type()
        {
            return "holding-long";
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.holdUntil(context.submittedAt() + TimeUnit.HOURS.toNanos(1));
            context.succeed(0);
        }
    }
}
