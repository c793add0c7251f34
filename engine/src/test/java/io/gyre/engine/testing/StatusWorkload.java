package io.gyre.engine.testing;

import io.gyre.engine.Engine;
import io.gyre.engine.EventFilter;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskEvent;
import io.gyre.engine.TaskEvent.Kind;
import io.gyre.engine.TaskEventListener;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import io.gyre.engine.TaskStatus;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static io.gyre.engine.TaskEvent.Kind.CANCELLED;
import static io.gyre.engine.TaskEvent.Kind.DEAD_LETTERED;
import static io.gyre.engine.TaskEvent.Kind.FAILED;
import static io.gyre.engine.TaskEvent.Kind.PURGED;
import static io.gyre.engine.TaskEvent.Kind.REDRIVEN;
import static io.gyre.engine.TaskEvent.Kind.RETRY_SCHEDULED;
import static io.gyre.engine.TaskEvent.Kind.STARTED;
import static io.gyre.engine.TaskEvent.Kind.SUBMITTED;
import static io.gyre.engine.TaskEvent.Kind.SUCCEEDED;
import static io.gyre.engine.TaskEvent.Kind.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A known mixed workload for status events, and what each filter must see of it: tasks of five types
 * (inline, blocking), three tenants (one empty) and two key prefixes, which succeed, retry after a failure and
 * after a timeout, fail (dead-lettered or not), time out, are cancelled running and waiting, are redriven and
 * purged. Shared with the ingress tests through the engine's test-jar.
 */
public final class StatusWorkload
{
    public static final String OK = "ok";
    public static final String FLAKY = "flaky";
    public static final String BAD = "bad";
    public static final String GATE = "gate";
    public static final String SLOW = "slow";
    /** Timeout of the attempts of {@link #SLOW} tasks that time out. */
    public static final int SLOW_TIMEOUT_MILLIS = 200;

    /** One task of the workload: its key, type, tenant, and the kinds of its events in order. */
    public record Task(String key, String type, String tenant, List<Kind> kinds)
    {
        public boolean passes(final EventFilter filter)
        {
            return filter.matches(type, key.getBytes(StandardCharsets.UTF_8), tenant.getBytes(StandardCharsets.UTF_8));
        }
    }

    private StatusWorkload()
    {
    }

    /** The workload's task types (new instances). */
    public static List<TaskHandler> handlers()
    {
        return List.of(
            handler(OK, ExecutionMode.INLINE, c -> c.succeed(c.payload(), 0, c.payloadLength())),
            handler(FLAKY, ExecutionMode.INLINE, c ->
            {
                if (c.attempt() == 1)
                {
                    c.fail(true, "boom on attempt 1");
                    return;
                }
                c.succeed("fine".getBytes(StandardCharsets.UTF_8));
            }),
            handler(BAD, ExecutionMode.INLINE, c -> c.fail(false, "bad input")),
            handler(GATE, ExecutionMode.BLOCKING, c ->
            {
                parkUntilStopped(c);
                c.fail(true, "stopped");
            }),
            handler(SLOW, ExecutionMode.BLOCKING, c ->
            {
                if (c.attempt() == 1)
                {
                    parkUntilStopped(c);
                    c.fail(true, "stopped");
                    return;
                }
                c.succeed("late but fine".getBytes(StandardCharsets.UTF_8));
            }));
    }

    /**
     * Run the workload on an engine that has {@link #handlers()}: every task reaches its end before this
     * returns.
     *
     * @return its tasks, with what each must show.
     */
    public static List<Task> run(final Engine engine) throws Exception
    {
        final List<Task> tasks = new ArrayList<>();
        final TaskRequest ok1 = expect(tasks, "a/ok-1", OK, "t1", SUBMITTED, STARTED, SUCCEEDED);
        assertThat(outcome(engine.submit(ok1)).state()).isEqualTo(TaskState.SUCCEEDED);

        final TaskRequest ok2 = expect(tasks, "b/ok-2", OK, "t2", SUBMITTED, STARTED, SUCCEEDED);
        assertThat(outcome(engine.submit(ok2)).state()).isEqualTo(TaskState.SUCCEEDED);

        final TaskRequest flaky = expect(tasks, "a/flaky-1", FLAKY, "t1",
            SUBMITTED, STARTED, RETRY_SCHEDULED, STARTED, SUCCEEDED).backoff(1, 1, 1f, 0f);
        assertThat(outcome(engine.submit(flaky)).state()).isEqualTo(TaskState.SUCCEEDED);

        final TaskRequest deadLettered = expect(tasks, "b/bad-1", BAD, "",
            SUBMITTED, STARTED, DEAD_LETTERED, REDRIVEN, STARTED, DEAD_LETTERED, PURGED);
        assertThat(outcome(engine.submit(deadLettered)).state()).isEqualTo(TaskState.DEAD_LETTERED);

        final TaskRequest failed = expect(tasks, "a/bad-2", BAD, "t2", SUBMITTED, STARTED, FAILED).deadLetter(false);
        assertThat(outcome(engine.submit(failed)).state()).isEqualTo(TaskState.FAILED);

        final TaskRequest running = expect(tasks, "b/gate-1", GATE, "t1", SUBMITTED, STARTED, CANCELLED);
        final CompletableFuture<Outcome> cancelledRunning = engine.submit(running);
        awaitState(engine, "b/gate-1", TaskState.RUNNING);
        engine.cancel("b/gate-1").get(15, TimeUnit.SECONDS);
        assertThat(outcome(cancelledRunning).state()).isEqualTo(TaskState.CANCELLED);

        final TaskRequest retriedAfterTimeout = expect(tasks, "a/slow-1", SLOW, "t2",
            SUBMITTED, STARTED, RETRY_SCHEDULED, STARTED, SUCCEEDED).timeoutMillis(SLOW_TIMEOUT_MILLIS).maxAttempts(2)
            .backoff(1, 1, 1f, 0f);
        assertThat(outcome(engine.submit(retriedAfterTimeout)).state()).isEqualTo(TaskState.SUCCEEDED);

        final TaskRequest timedOut = expect(tasks, "b/slow-2", SLOW, "t1", SUBMITTED, STARTED, TIMED_OUT)
            .timeoutMillis(SLOW_TIMEOUT_MILLIS).maxAttempts(1).deadLetter(false);
        assertThat(outcome(engine.submit(timedOut)).state()).isEqualTo(TaskState.TIMED_OUT);

        final TaskRequest waiting = expect(tasks, "a/wait-1", FLAKY, "", SUBMITTED, STARTED, RETRY_SCHEDULED, CANCELLED)
            .backoff(600_000, 600_000, 1f, 0f);
        final CompletableFuture<Outcome> cancelledWaiting = engine.submit(waiting);
        awaitState(engine, "a/wait-1", TaskState.RETRY_WAIT);
        engine.cancel("a/wait-1").get(15, TimeUnit.SECONDS);
        assertThat(outcome(cancelledWaiting).state()).isEqualTo(TaskState.CANCELLED);

        assertThat(engine.redrive("b/bad-1").get(15, TimeUnit.SECONDS).redriven()).isTrue();
        await().atMost(15, TimeUnit.SECONDS).until(() ->
        {
            final TaskStatus status = engine.status("b/bad-1").get(15, TimeUnit.SECONDS);
            return status.state() == TaskState.DEAD_LETTERED && status.attempts() == 2;
        });
        assertThat(engine.purgeDeadLetter("b/bad-1").get(15, TimeUnit.SECONDS).purged()).isEqualTo(1);
        return tasks;
    }

    /**
     * @return how many events a subscription with this filter gets from the workload.
     */
    public static int expectedCount(final List<Task> tasks, final EventFilter filter)
    {
        return tasks.stream().filter(t -> t.passes(filter)).mapToInt(t -> t.kinds().size()).sum();
    }

    /**
     * Check that these events are exactly the workload's events that pass the filter: for every task that
     * passes, its kinds in order; nothing of any other task; and event ids never decreasing.
     */
    public static void assertExactly(final List<TaskEvent> events, final EventFilter filter, final List<Task> tasks)
    {
        final Map<String, List<Kind>> seen = new LinkedHashMap<>();
        long lastEventId = 0;
        for (final TaskEvent event : events)
        {
            seen.computeIfAbsent(event.keyAsString(), k -> new ArrayList<>()).add(event.kind());
            assertThat(event.eventId()).as("event ids never decrease: %s", event).isGreaterThanOrEqualTo(lastEventId);
            lastEventId = event.eventId();
            assertThat(filter.matches(event)).as("%s passes %s", event, filter).isTrue();
        }
        final Map<String, List<Kind>> expected = new LinkedHashMap<>();
        for (final Task task : tasks)
        {
            if (task.passes(filter))
            {
                expected.put(task.key(), task.kinds());
            }
        }
        assertThat(seen).as("events by key for filter %s", filter).isEqualTo(expected);
    }

    /** Collects what a subscription delivers. */
    public static class Collector implements TaskEventListener
    {
        public final List<TaskEvent> events = java.util.Collections.synchronizedList(new ArrayList<>());
        public final AtomicLong lost = new AtomicLong();
        public final AtomicLong lossNotices = new AtomicLong();
        public volatile boolean upperBound;
        public volatile boolean closed;

        @Override
        public void onEvent(final TaskEvent event)
        {
            events.add(event);
        }

        @Override
        public void onEventsLost(final long count, final boolean isUpperBound)
        {
            lost.addAndGet(count);
            lossNotices.incrementAndGet();
            upperBound |= isUpperBound;
        }

        /** Set when the engine ended the subscription for holding the most of its bound over all subscriptions. */
        public volatile boolean overflowed;

        @Override
        public void onOverflow()
        {
            overflowed = true;
        }

        @Override
        public void onClosed()
        {
            closed = true;
        }

        public List<TaskEvent> snapshot()
        {
            synchronized (events)
            {
                return new ArrayList<>(events);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------

    private static TaskRequest request(final String key, final String type, final String tenant)
    {
        return new TaskRequest().key(key).type(type).tenant(tenant).payload("{\"k\":\"" + key + "\"}");
    }

    /** A request for the workload's task, which the list expects to show these kinds. */
    private static TaskRequest expect(final List<Task> tasks, final String key, final String type, final String tenant, final Kind... kinds)
    {
        tasks.add(new Task(key, type, tenant, List.of(kinds)));
        return request(key, type, tenant);
    }

    private static Outcome outcome(final CompletableFuture<Outcome> future) throws Exception
    {
        return future.get(30, TimeUnit.SECONDS);
    }

    private static void awaitState(final Engine engine, final String key, final TaskState state)
    {
        await().atMost(15, TimeUnit.SECONDS).until(() -> engine.status(key).get(15, TimeUnit.SECONDS).state() == state);
    }

    private static void parkUntilStopped(final TaskContext context)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!context.stopRequested() && System.nanoTime() < deadline)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    private interface Body
    {
        void run(TaskContext context) throws Exception;
    }

    private static TaskHandler handler(final String type, final ExecutionMode mode, final Body body)
    {
        return new TaskHandler()
        {
            @Override
            public String type()
            {
                return type;
            }

            @Override
            public ExecutionMode executionMode()
            {
                return mode;
            }

            @Override
            public void execute(final TaskContext context) throws Exception
            {
                body.run(context);
            }
        };
    }
}
