package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pool's queue: attempts handed to a pool beyond its threads wait there for a thread, by priority then in hand-off
 * order; the sequence stage counts threads plus queue as the pool's slots, and keeps the rest PENDING.
 */
class PoolQueueTest extends EngineTestSupport
{
    /** CPU: records the payloads it runs, in order; the payload {@code gate} waits until opened. */
    private static final class Ordered implements TaskHandler
    {
        final List<String> ran = new CopyOnWriteArrayList<>();
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public String type()
        {
            return "ordered";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.CPU;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            final String payload = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            ran.add(payload);
            if (payload.equals("gate") && !gate.await(30, TimeUnit.SECONDS))
            {
                throw new IllegalStateException("the gate was never opened");
            }
            context.succeed(payload.getBytes(StandardCharsets.UTF_8));
        }
    }

    private void submit(final String key, final Priority priority, final Recorder recorder)
    {
        engine.submit(new TaskRequest().key(key).type("ordered").payload(key).priority(priority), recorder);
    }

    @Test
    void shouldHandThePoolAsManyAttemptsAsItsThreadsAndQueueHoldAndRunTheQueuedOnesByPriority() throws Exception
    {
        final Ordered ordered = new Ordered();
        open(b -> b.handler(ordered).cpuPoolThreads(1).cpuPoolQueue(4));
        final Recorder recorder = new Recorder();
        submit("gate", Priority.NORMAL, recorder);
        await().until(() -> ordered.ran.size() == 1);
        submit("low-a", Priority.LOW, recorder);
        submit("low-b", Priority.LOW, recorder);
        submit("high", Priority.HIGH, recorder);
        submit("normal", Priority.NORMAL, recorder);
        submit("extra", Priority.NORMAL, recorder);

        // one thread and four in its queue: five RUNNING (handed over); the sixth waits in the engine
        await().until(() -> engine.status("extra").join().state() == PENDING);
        for (final String key : List.of("gate", "low-a", "low-b", "high", "normal"))
        {
            assertThat(engine.status(key).join().state()).as(key).isEqualTo(RUNNING);
        }
        assertThat(ordered.ran).containsExactly("gate");
        assertThat(engine.queuedCpuAttempts()).isEqualTo(4);
        ordered.gate.countDown();

        assertThat(recorder.awaitOutcomes(6)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        // "extra" reaches the queue only once "gate" has freed a slot, and may then pass the low ones still there
        assertThat(ordered.ran.stream().filter(k -> !k.equals("extra"))).containsExactly("gate", "high", "normal", "low-a", "low-b");
        final var history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.STARTED, 6L);
    }

    @Test
    void shouldNotRunAQueuedAttemptCancelledBeforeAThreadTookItAndFreeItsSlotAtOnce() throws Exception
    {
        final Ordered ordered = new Ordered();
        open(b -> b.handler(ordered).cpuPoolThreads(1).cpuPoolQueue(1).abandonAfter(java.time.Duration.ofSeconds(30)));
        final Recorder recorder = new Recorder();
        submit("gate", Priority.NORMAL, recorder);
        await().until(() -> ordered.ran.size() == 1);
        submit("victim", Priority.NORMAL, recorder);
        submit("next", Priority.NORMAL, recorder);
        await().until(() -> engine.status("next").join().state() == PENDING);
        assertThat(engine.status("victim").join().state()).isEqualTo(RUNNING);

        assertThat(engine.cancel("victim").get(5, TimeUnit.SECONDS).state()).isEqualTo(TaskState.CANCELLED);
        // its slot comes back while the gate still holds the only thread: the next task takes its place in the queue
        // (not after abandonAfter, when the watchdog would give up on an attempt whose handler never started)
        await().atMost(java.time.Duration.ofSeconds(5)).until(() -> engine.status("next").join().state() == RUNNING);
        Thread.sleep(300);
        assertThat(engine.abandonedCpuAttempts()).isZero();
        assertThat(ordered.ran).containsExactly("gate");
        ordered.gate.countDown();

        assertThat(recorder.awaitOutcomes(3)).extracting(Outcome::state).containsExactlyInAnyOrder(SUCCEEDED, TaskState.CANCELLED, SUCCEEDED);
        assertThat(ordered.ran).containsExactly("gate", "next");
        final var history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.FAILED, 1L);
    }

    @Test
    void shouldKeepEveryAttemptPastThePoolsThreadsPendingWithoutAQueue() throws Exception
    {
        final Ordered ordered = new Ordered();
        open(b -> b.handler(ordered).cpuPoolThreads(1).cpuPoolQueue(0));
        final Recorder recorder = new Recorder();
        submit("gate", Priority.NORMAL, recorder);
        await().until(() -> ordered.ran.size() == 1);
        submit("low", Priority.LOW, recorder);
        submit("high", Priority.HIGH, recorder);
        await().until(() -> engine.status("high").join().state() == PENDING);
        assertThat(engine.status("low").join().state()).isEqualTo(PENDING);
        ordered.gate.countDown();

        assertThat(recorder.awaitOutcomes(3)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        assertThat(ordered.ran).containsExactly("gate", "high", "low");
        assertThat(closeAndReplay()).replaysDeterministically();
    }

    @Test
    void shouldReplayWithTheSlotsTheJournalWasWrittenWithWhateverTheQueueNow() throws Exception
    {
        final Ordered ordered = new Ordered();
        open(b -> b.handler(ordered).cpuPoolThreads(1).cpuPoolQueue(2).snapshots(false));
        final Recorder recorder = new Recorder();
        submit("gate", Priority.NORMAL, recorder);
        await().until(() -> ordered.ran.size() == 1);
        submit("a", Priority.NORMAL, recorder);
        submit("b", Priority.NORMAL, recorder);
        submit("c", Priority.NORMAL, recorder);
        await().until(() -> engine.status("c").join().state() == PENDING);
        assertThat(engine.status("b").join().state()).isEqualTo(RUNNING);
        ordered.gate.countDown();
        assertThat(recorder.awaitOutcomes(4)).allSatisfy(o -> assertThat(o.state()).isEqualTo(SUCCEEDED));
        engine.close();

        // reopened without a queue, the whole journal replayed: its decisions (three slots) are re-derived as they
        // were made, or the engine would refuse to open (a derived record mismatched)
        final Ordered again = new Ordered();
        again.gate.countDown();
        open(b -> b.handler(again).cpuPoolThreads(1).cpuPoolQueue(0).snapshots(false));
        assertThat(engine.status("c").join().state()).isEqualTo(SUCCEEDED);
        assertThat(again.ran).isEmpty();
    }
}
