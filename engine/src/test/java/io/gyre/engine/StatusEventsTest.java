package io.gyre.engine;

import io.gyre.engine.TaskEvent.Kind;
import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.StatusWorkload;
import io.gyre.engine.testing.StatusWorkload.Collector;
import io.gyre.engine.testing.StatusWorkload.Task;
import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Status events through the engine's API: each subscription gets exactly the transitions of its filter, in
 * order, with what the journal says of them; subscriptions close and end with the engine; and neither a
 * stalled listener nor a stalled event thread slows the engine: the stalled one is told how many events it
 * missed.
 */
class StatusEventsTest extends EngineTestSupport
{
    private static final EventFilter ALL = EventFilter.all();

    private void openWithWorkload()
    {
        openWithWorkload(2);
    }

    private void openWithWorkload(final int pipelineThreads)
    {
        open(b ->
        {
            StatusWorkload.handlers().forEach(b::handler);
            b.closeTimeout(java.time.Duration.ofMillis(200)).pipelineThreads(pipelineThreads);
        });
    }

    /** Under every stage layout: the inline fast path (1 and 2 threads) and the two-pass one (4) decide alike. */
    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void shouldDeliverExactlyTheTransitionsOfEachFilter(final int pipelineThreads) throws Exception
    {
        openWithWorkload(pipelineThreads);
        final List<EventFilter> filters = List.of(
            ALL,
            ALL.withType(StatusWorkload.FLAKY),
            ALL.withTenant("t1"),
            ALL.withTenant(""),
            ALL.withKeyPrefix("a/"),
            ALL.withType(StatusWorkload.SLOW).withTenant("t2"),
            ALL.withType(StatusWorkload.BAD).withKeyPrefix("b/").withTenant(""),
            ALL.withKeyPrefix("nothing-starts-so"));
        final Map<EventFilter, Collector> collectors = new LinkedHashMap<>();
        final Map<EventFilter, EventSubscription> subscriptions = new LinkedHashMap<>();
        for (final EventFilter filter : filters)
        {
            final Collector collector = new Collector();
            collectors.put(filter, collector);
            subscriptions.put(filter, engine.subscribe(filter, collector));
        }
        assertThat(engine.eventSubscriptions()).isEqualTo(filters.size());

        final List<Task> tasks = StatusWorkload.run(engine);

        for (final EventFilter filter : filters)
        {
            final Collector collector = collectors.get(filter);
            final int expected = StatusWorkload.expectedCount(tasks, filter);
            await().atMost(15, TimeUnit.SECONDS).until(() -> collector.events.size() >= expected && subscriptions.get(filter).queued() == 0);
            StatusWorkload.assertExactly(collector.snapshot(), filter, tasks);
            assertThat(collector.lost).as("nothing lost for %s", filter).hasValue(0);
        }
        assertThat(collectors.get(filters.get(filters.size() - 1)).events).isEmpty();
        assertThat(engine.eventsLostInFeed()).isZero();

        // the states the subscription saw are the states the journal's replay derives, task by task
        final Map<Long, List<TaskState>> seen = new LinkedHashMap<>();
        for (final TaskEvent event : collectors.get(ALL).snapshot())
        {
            if (event.kind() != Kind.PURGED)
            {
                seen.computeIfAbsent(event.taskId(), id -> new ArrayList<>()).add(event.state());
            }
        }
        final TaskHistory history = TaskHistory.of(dir);
        for (final Map.Entry<Long, List<TaskState>> task : seen.entrySet())
        {
            assertThat(task.getValue()).as("task %d", task.getKey()).isEqualTo(history.states(task.getKey()));
        }
        assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(history.all().keySet());
    }

    @Test
    void shouldCarryKeyTypeTenantReasonsErrorsAndTimes() throws Exception
    {
        openWithWorkload();
        final Collector all = new Collector();
        final EventSubscription subscription = engine.subscribe(ALL, all);
        final List<Task> tasks = StatusWorkload.run(engine);
        final int expected = StatusWorkload.expectedCount(tasks, ALL);
        await().atMost(15, TimeUnit.SECONDS).until(() -> all.events.size() >= expected);
        final Map<String, List<TaskEvent>> byKey = new LinkedHashMap<>();
        for (final TaskEvent event : all.snapshot())
        {
            byKey.computeIfAbsent(event.keyAsString(), k -> new ArrayList<>()).add(event);
        }

        final List<TaskEvent> ok = byKey.get("a/ok-1");
        final TaskEvent submitted = ok.get(0);
        assertThat(submitted.kind()).isEqualTo(Kind.SUBMITTED);
        assertThat(submitted.from()).isNull();
        assertThat(submitted.state()).isEqualTo(TaskState.PENDING);
        assertThat(submitted.eventId()).as("a task is decided by its own submission").isEqualTo(submitted.taskId());
        assertThat(submitted.attempt()).isEqualTo(1);
        assertThat(submitted.type()).isEqualTo(StatusWorkload.OK);
        assertThat(submitted.tenantAsString()).isEqualTo("t1");
        assertThat(submitted.documentIndex()).isNotZero();
        assertThat(submitted.timestamp()).isPositive();
        assertThat(ok).extracting(TaskEvent::state).containsExactly(TaskState.PENDING, TaskState.RUNNING, TaskState.SUCCEEDED);
        assertThat(ok).extracting(TaskEvent::from).containsExactly(null, TaskState.PENDING, TaskState.RUNNING);
        assertThat(ok.get(2).eventId()).as("the result is a record of its own, after the submission").isGreaterThan(submitted.eventId());
        assertThat(ok).extracting(TaskEvent::error).containsOnlyNulls();

        final TaskEvent retry = byKey.get("a/flaky-1").get(2);
        assertThat(retry.kind()).isEqualTo(Kind.RETRY_SCHEDULED);
        assertThat(retry.state()).isEqualTo(TaskState.RETRY_WAIT);
        assertThat(retry.reason()).isEqualTo(TaskEvent.REASON_RETRY_AFTER_FAILURE);
        assertThat(retry.error()).isEqualTo("boom on attempt 1");
        assertThat(retry.attempt()).isEqualTo(1);
        assertThat(retry.dueAt()).isGreaterThanOrEqualTo(retry.timestamp());
        assertThat(byKey.get("a/flaky-1").get(3).attempt()).isEqualTo(2);

        final TaskEvent timeoutRetry = byKey.get("a/slow-1").get(2);
        assertThat(timeoutRetry.reason()).isEqualTo(TaskEvent.REASON_RETRY_AFTER_TIMEOUT);
        assertThat(timeoutRetry.error()).isEqualTo("attempt 1 timed out after " + StatusWorkload.SLOW_TIMEOUT_MILLIS + " ms");

        final TaskEvent timedOut = byKey.get("b/slow-2").get(2);
        assertThat(timedOut.state()).isEqualTo(TaskState.TIMED_OUT);
        assertThat(timedOut.error()).isEqualTo("attempt 1 timed out after " + StatusWorkload.SLOW_TIMEOUT_MILLIS + " ms");

        final TaskEvent failed = byKey.get("a/bad-2").get(2);
        assertThat(failed.state()).isEqualTo(TaskState.FAILED);
        assertThat(failed.reason()).isEqualTo(TaskEvent.REASON_PERMANENT_FAILURE);
        assertThat(failed.error()).isEqualTo("bad input");

        final List<TaskEvent> letter = byKey.get("b/bad-1");
        assertThat(letter.get(2).reason()).isEqualTo(TaskEvent.REASON_PERMANENT_FAILURE);
        assertThat(letter.get(2).error()).isEqualTo("bad input");
        assertThat(letter.get(2).tenant()).isEmpty();
        final TaskEvent redriven = letter.get(3);
        assertThat(redriven.from()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(redriven.state()).isEqualTo(TaskState.RETRY_WAIT);
        assertThat(redriven.dueAt()).as("a redrive is due at once").isEqualTo(redriven.timestamp());
        assertThat(letter.get(4).attempt()).isEqualTo(2);
        final TaskEvent purged = letter.get(6);
        assertThat(purged.state()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(purged.taskId()).isEqualTo(letter.get(0).taskId());
        assertThat(purged.attempt()).isEqualTo(2);
        assertThat(purged.type()).isEqualTo(StatusWorkload.BAD);

        assertThat(byKey.get("b/gate-1").get(2).reason()).isEqualTo(TaskEvent.REASON_CANCELLED_RUNNING);
        assertThat(byKey.get("a/wait-1").get(3).reason()).isEqualTo(TaskEvent.REASON_CANCELLED_WAITING);
        assertThat(byKey.get("a/wait-1").get(3).from()).isEqualTo(TaskState.RETRY_WAIT);
        assertThat(subscription.delivered()).isEqualTo(expected);
    }

    @Test
    void shouldStopDeliveringOnceClosed() throws Exception
    {
        openWithWorkload();
        final Collector first = new Collector();
        final Collector second = new Collector();
        final EventSubscription one = engine.subscribe(ALL, first);
        final EventSubscription two = engine.subscribe(ALL.withType(StatusWorkload.OK), second);
        get(engine.submit(new TaskRequest().key("k1").type(StatusWorkload.OK)));
        await().atMost(10, TimeUnit.SECONDS).until(() -> first.events.size() == 3 && second.events.size() == 3);

        one.close();
        one.close();
        await().atMost(10, TimeUnit.SECONDS).until(() -> first.closed);
        assertThat(one.isClosed()).isTrue();
        assertThat(engine.eventSubscriptions()).isEqualTo(1);
        get(engine.submit(new TaskRequest().key("k2").type(StatusWorkload.OK)));
        await().atMost(10, TimeUnit.SECONDS).until(() -> second.events.size() == 6);
        assertThat(first.events).hasSize(3);

        two.close();
        assertThat(engine.eventSubscriptions()).isZero();
        // nobody subscribes: the engine carries on as before; a new subscription sees what comes next
        get(engine.submit(new TaskRequest().key("k3").type(StatusWorkload.OK)));
        final Collector third = new Collector();
        engine.subscribe(ALL, third);
        get(engine.submit(new TaskRequest().key("k4").type(StatusWorkload.OK)));
        await().atMost(10, TimeUnit.SECONDS).until(() -> third.events.size() == 3);
        assertThat(third.snapshot()).extracting(TaskEvent::keyAsString).containsOnly("k4");
    }

    @Test
    void shouldEndSubscriptionsWhenTheEngineStops() throws Exception
    {
        openWithWorkload();
        final Collector collector = new Collector();
        final EventSubscription subscription = engine.subscribe(ALL, collector);
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("g").type(StatusWorkload.GATE));
        await().atMost(10, TimeUnit.SECONDS).until(() -> collector.events.size() == 2);
        engine.close();
        engine = null;
        await().atMost(10, TimeUnit.SECONDS).until(() -> collector.closed);
        assertThat(subscription.isClosed()).isTrue();
        assertThat(running).isNotCompleted();
        assertThat(collector.snapshot()).extracting(TaskEvent::kind).containsExactly(Kind.SUBMITTED, Kind.STARTED);
    }

    @Test
    void shouldRefuseBadFiltersAndAClosingEngine()
    {
        openWithWorkload();
        final Collector collector = new Collector();
        assertThatThrownBy(() -> engine.subscribe(ALL.withType("nope"), collector))
            .isInstanceOfSatisfying(InvalidTaskException.class, ex -> assertThat(ex.field()).isEqualTo("type"))
            .hasMessageContaining("type=nope is not a registered task type");
        assertThatThrownBy(() -> engine.subscribe(ALL.withKeyPrefix("k".repeat(engine.config().maxKeyBytes() + 1)), collector))
            .isInstanceOfSatisfying(InvalidTaskException.class, ex -> assertThat(ex.field()).isEqualTo("keyPrefix"));
        assertThatThrownBy(() -> engine.subscribe(ALL.withTenant("t".repeat(engine.config().maxTenantBytes() + 1)), collector))
            .isInstanceOfSatisfying(InvalidTaskException.class, ex -> assertThat(ex.field()).isEqualTo("tenant"));
        assertThatThrownBy(() -> ALL.withKeyPrefix("")).isInstanceOf(InvalidTaskException.class);
        assertThatThrownBy(() -> engine.subscribe(ALL, collector, Runnable::run, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("maxQueued=0");
        assertThat(engine.eventSubscriptions()).isZero();
        engine.close();
        assertThatThrownBy(() -> engine.subscribe(ALL, collector)).isInstanceOf(EngineClosedException.class);
        engine = null;
    }

    /**
     * A listener that stops taking events (it blocks) fills its own queue; the engine and the other
     * subscription carry on and miss nothing; when it takes events again, it hears how many it lost, exactly.
     */
    /** @return a listener that takes its first event, then waits for {@code release} before taking any other. */
    private static Collector stalledUntil(final CountDownLatch release)
    {
        return new Collector()
        {
            @Override
            public void onEvent(final TaskEvent event)
            {
                super.onEvent(event);
                try
                {
                    release.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    @Test
    void shouldNotSlowTheEngineWithAStalledListener() throws Exception
    {
        openWithWorkload();
        final int tasks = 5_000;
        final int maxQueued = 16;
        final CountDownLatch release = new CountDownLatch(1);
        final Collector normal = new Collector();
        final Collector stalled = stalledUntil(release);
        final ExecutorService own = Executors.newSingleThreadExecutor();
        final ExecutorService normalExecutor = Executors.newSingleThreadExecutor();
        try
        {
            final EventSubscription slow = engine.subscribe(ALL, stalled, own, maxQueued);
            // room for every event: what the normal subscriber must not lose is nothing to do with its own pace (a
            // loaded machine may starve its thread), only with the stalled one beside it
            engine.subscribe(ALL, normal, normalExecutor, 3 * tasks);
            final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
            for (int i = 0; i < tasks; i++)
            {
                outcomes.add(engine.submit(new TaskRequest().key("load-" + i).type(StatusWorkload.OK)));
            }
            for (final CompletableFuture<Outcome> outcome : outcomes)
            {
                assertThat(get(outcome).state()).isEqualTo(TaskState.SUCCEEDED);
            }
            final int events = 3 * tasks;
            await().atMost(30, TimeUnit.SECONDS).until(() -> normal.events.size() + normal.lost.get() >= events);
            assertThat(normal.lost).hasValue(0);
            assertThat(normal.events).hasSize(events);
            assertThat(slow.queued()).isLessThanOrEqualTo(maxQueued);
            assertThat(stalled.events).hasSize(1);

            release.countDown();
            await().atMost(30, TimeUnit.SECONDS).until(() -> stalled.events.size() + stalled.lost.get() == events);
            assertThat(stalled.lost.get()).as("events dropped for the stalled listener").isPositive();
            assertThat(stalled.upperBound).as("dropped by its own queue: an exact count").isFalse();
            assertThat(stalled.events.size()).isLessThanOrEqualTo(maxQueued + 1);
            assertThat(slow.lost()).isEqualTo(stalled.lost.get());
            assertThat(engine.eventsLostInFeed()).isZero();
        }
        finally
        {
            release.countDown();
            own.shutdownNow();
            normalExecutor.shutdownNow();
        }
    }

    /**
     * Many slow subscribers together take no more than the engine's bound on queued event bytes, whatever each one's
     * own queue allows; and they cannot take a reading subscriber's events: when one finds no room, the subscription
     * holding the most is ended (it hears onOverflow, then onClosed) and its bytes given back (an outside check saw
     * eight subscribers that never read take every event of one that did). Every byte counted is given back.
     */
    @Test
    void shouldBoundTheEventsQueuedOverAllSubscriptionsAndEndTheLargestRatherThanStarveTheOthers() throws Exception
    {
        // room for about 6,000 events: the three stalled subscribers, 6,000 each, pass it; the reading one, paced
        // below, never holds more than a batch's
        final long limit = 1 << 20;
        open(b ->
        {
            StatusWorkload.handlers().forEach(b::handler);
            b.closeTimeout(java.time.Duration.ofMillis(200)).maxQueuedEventBytes(limit);
        });
        final int tasks = 2_000;
        final int events = 3 * tasks;
        final CountDownLatch release = new CountDownLatch(1);
        final List<Collector> stalled = new ArrayList<>();
        final List<ExecutorService> executors = new ArrayList<>();
        final List<EventSubscription> subscriptions = new ArrayList<>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                final Collector collector = stalledUntil(release);
                final ExecutorService executor = Executors.newSingleThreadExecutor();
                stalled.add(collector);
                executors.add(executor);
                // each queue alone would hold every event of the run
                subscriptions.add(engine.subscribe(ALL, collector, executor, events));
            }
            final Collector reading = new Collector();
            final ExecutorService readingExecutor = Executors.newSingleThreadExecutor();
            executors.add(readingExecutor);
            final EventSubscription readingSubscription = engine.subscribe(ALL, reading, readingExecutor, events);
            // in batches the reading subscriber keeps up with, however slow its thread on a loaded machine: what it may
            // lose is nothing to do with its own pace, only with the stalled ones beside it
            for (int batch = 0; batch < tasks / 200; batch++)
            {
                final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
                for (int i = 0; i < 200; i++)
                {
                    outcomes.add(engine.submit(new TaskRequest().key("bound-" + batch + "-" + i).type(StatusWorkload.OK)
                        .payload(new byte[100])));
                }
                for (final CompletableFuture<Outcome> outcome : outcomes)
                {
                    assertThat(get(outcome).state()).isEqualTo(TaskState.SUCCEEDED);
                }
                final int expected = 3 * 200 * (batch + 1);
                await().atMost(30, TimeUnit.SECONDS).until(() -> reading.events.size() + reading.lost.get() >= expected);
            }
            assertThat(reading.lost).as("the reading subscriber lost nothing to the stalled ones").hasValue(0);
            assertThat(reading.events).hasSize(events);
            assertThat(readingSubscription.isClosed()).isFalse();
            assertThat(engine.queuedEventBytes()).isLessThanOrEqualTo(limit);
            assertThat(subscriptions.stream().filter(EventSubscription::isClosed).count()).as("stalled ones ended").isPositive();

            release.countDown();
            await().atMost(30, TimeUnit.SECONDS).until(() -> subscriptions.stream().allMatch(s -> !s.isClosed() ||
                stalled.get(subscriptions.indexOf(s)).closed));
            for (int i = 0; i < 3; i++)
            {
                if (subscriptions.get(i).isClosed())
                {
                    assertThat(stalled.get(i).overflowed).as("ended subscription %d heard why", i).isTrue();
                }
            }
            subscriptions.forEach(EventSubscription::close);
            readingSubscription.close();
            await().atMost(10, TimeUnit.SECONDS).until(() -> engine.queuedEventBytes() == 0);
        }
        finally
        {
            release.countDown();
            executors.forEach(ExecutorService::shutdownNow);
        }
    }

    /**
     * The event thread itself stalled (here, by an executor that blocks, which the API forbids): the engine's
     * fixed feed overflows, the engine does not wait for it, and every subscriber is told, as an upper bound.
     */
    @Test
    void shouldNotSlowTheEngineWhenTheEventThreadFallsBehind() throws Exception
    {
        openWithWorkload();
        engine.eventHub().feedBytes(4096);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch blocked = new CountDownLatch(1);
        final ExecutorService delivery = Executors.newSingleThreadExecutor();
        final Executor blocking = task ->
        {
            blocked.countDown();
            try
            {
                release.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            delivery.execute(task);
        };
        final Collector collector = new Collector();
        try
        {
            engine.subscribe(ALL, collector, blocking, 100_000);
            final int tasks = 2_000;
            final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
            for (int i = 0; i < tasks; i++)
            {
                outcomes.add(engine.submit(new TaskRequest().key("load-" + i).type(StatusWorkload.OK)
                    .tenant("t".getBytes(StandardCharsets.UTF_8), 0, 1)));
            }
            for (final CompletableFuture<Outcome> outcome : outcomes)
            {
                assertThat(get(outcome).state()).isEqualTo(TaskState.SUCCEEDED);
            }
            assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(engine.eventsLostInFeed()).as("the feed overflowed while the event thread was stuck").isPositive();

            release.countDown();
            final int events = 3 * tasks;
            await().atMost(30, TimeUnit.SECONDS).until(() -> collector.events.size() + collector.lost.get() == events);
            assertThat(collector.upperBound).isTrue();
            assertThat(collector.lost.get()).isEqualTo(engine.eventsLostInFeed());
        }
        finally
        {
            release.countDown();
            delivery.shutdownNow();
        }
    }
}
