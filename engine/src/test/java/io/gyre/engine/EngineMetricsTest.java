package io.gyre.engine;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.gyre.engine.EngineMetrics.Count.ACCEPTED;
import static io.gyre.engine.EngineMetrics.Count.ATTEMPT_FAILED_PERMANENT;
import static io.gyre.engine.EngineMetrics.Count.ATTEMPT_FAILED_RETRYABLE;
import static io.gyre.engine.EngineMetrics.Count.ATTEMPT_STARTED;
import static io.gyre.engine.EngineMetrics.Count.ATTEMPT_TIMED_OUT;
import static io.gyre.engine.EngineMetrics.Count.CANCELLED;
import static io.gyre.engine.EngineMetrics.Count.DEAD_LETTERED;
import static io.gyre.engine.EngineMetrics.Count.DUPLICATE;
import static io.gyre.engine.EngineMetrics.Count.FAILED;
import static io.gyre.engine.EngineMetrics.Count.REJECTED_CAPACITY;
import static io.gyre.engine.EngineMetrics.Count.RETRY_SCHEDULED;
import static io.gyre.engine.EngineMetrics.Count.SUCCEEDED;
import static io.gyre.engine.EngineMetrics.Count.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Metric values after a known workload: every count by type, latencies recorded once per task (or attempt),
 * nothing counted for history replayed at open, and nothing at all when metrics are off.
 */
class EngineMetricsTest
{
    @TempDir
    Path dir;

    private EngineConfig.Builder config()
    {
        return EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).maxLiveTasks(20).admission(100, 100)
            .defaultBackoff(1, 1, 1f, 0f)
            .handler(new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("doomed", 9, false, ExecutionMode.INLINE))
            .handler(new TestHandlers.Stuck(9));
    }

    @Test
    void shouldCountAndTimeAKnownWorkloadByType() throws Exception
    {
        try (Engine engine = Engine.open(config().build()))
        {
            for (int i = 0; i < 3; i++)
            {
                engine.submit(new TaskRequest().key("e" + i).type("echo").payload("x")).get(10, TimeUnit.SECONDS);
            }
            engine.submit(new TaskRequest().key("e0").type("echo").payload("again")).get(10, TimeUnit.SECONDS);
            assertThat(engine.submit(new TaskRequest().key("f").type("flaky")).get(10, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.SUCCEEDED);
            assertThat(engine.submit(new TaskRequest().key("d").type("doomed").deadLetter(false)).get(10, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.FAILED);
            assertThat(engine.submit(new TaskRequest().key("dl").type("doomed").deadLetter(true)).get(10, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.DEAD_LETTERED);
            assertThat(engine.submit(new TaskRequest().key("s").type("stuck").timeoutMillis(50).maxAttempts(2).deadLetter(false))
                .get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.TIMED_OUT);
            // read before the cancelled tasks below add their own (shorter) lifetimes to the same type's histogram,
            // once the sequence stage's batch that recorded it has ended (values are flushed per batch); a recorded
            // value lies at most at its bucket's highest equivalent value
            await().until(() -> engine.metrics().latency("stuck", EngineMetrics.Latency.END_TO_END).getTotalCount() == 1);
            final Histogram stuckEndToEnd = engine.metrics().latency("stuck", EngineMetrics.Latency.END_TO_END);
            assertThat(stuckEndToEnd.highestEquivalentValue(stuckEndToEnd.getMinValue()))
                .as("a task timed out twice at 50 ms took at least 100 ms").isGreaterThanOrEqualTo(Duration.ofMillis(100).toNanos());
            // fill the engine with stuck tasks, then one more is refused at capacity; cancel them all
            for (int i = 0; i < 20; i++)
            {
                engine.submit(new TaskRequest().key("full" + i).type("stuck").timeoutMillis(60_000));
            }
            await().until(() -> engine.liveTasks() == 20);
            assertThat(engine.submit(new TaskRequest().key("over").type("noop")).get(10, TimeUnit.SECONDS).rejected()).isTrue();
            for (int i = 0; i < 20; i++)
            {
                engine.cancel("full" + i).get(10, TimeUnit.SECONDS);
            }

            final EngineMetrics m = engine.metrics();
            assertThat(m.types()).contains("echo", "flaky", "doomed", "stuck", "noop").endsWith("unknown");
            assertThat(m.count("echo", ACCEPTED)).isEqualTo(3);
            assertThat(m.count("echo", DUPLICATE)).isEqualTo(1);
            assertThat(m.count("echo", SUCCEEDED)).isEqualTo(3);
            assertThat(m.count("echo", ATTEMPT_STARTED)).isEqualTo(3);
            assertThat(m.count("flaky", ATTEMPT_STARTED)).isEqualTo(2);
            assertThat(m.count("flaky", ATTEMPT_FAILED_RETRYABLE)).isEqualTo(1);
            assertThat(m.count("flaky", RETRY_SCHEDULED)).isEqualTo(1);
            assertThat(m.count("flaky", SUCCEEDED)).isEqualTo(1);
            assertThat(m.count("doomed", ATTEMPT_FAILED_PERMANENT)).isEqualTo(2);
            assertThat(m.count("doomed", FAILED)).isEqualTo(1);
            assertThat(m.count("doomed", DEAD_LETTERED)).isEqualTo(1);
            assertThat(m.count("stuck", ATTEMPT_TIMED_OUT)).isEqualTo(2);
            assertThat(m.count("stuck", RETRY_SCHEDULED)).isEqualTo(1);
            assertThat(m.count("stuck", TIMED_OUT)).isEqualTo(1);
            assertThat(m.count("stuck", CANCELLED)).isEqualTo(20);
            assertThat(m.count("noop", REJECTED_CAPACITY)).isEqualTo(1);
            assertThat(m.count("noop", ACCEPTED)).isZero();

            assertThat(m.latency("echo", EngineMetrics.Latency.END_TO_END).getTotalCount()).isEqualTo(3);
            assertThat(m.latency("echo", EngineMetrics.Latency.QUEUE_WAIT).getTotalCount()).isEqualTo(3);
            // the summary and the accounting measure the same span: acceptance to the handler's real start (an inline
            // attempt starts once its batch is journaled, after its submission's timestamp); the summary was 0 for
            // every inline task (outside check: sum 0.0 against 39.7 s accounted)
            final org.HdrHistogram.Histogram queueWait = m.latency("echo", EngineMetrics.Latency.QUEUE_WAIT);
            final long accounted = m.queueNanos("echo", "");
            assertThat(accounted).isPositive();
            assertThat(queueWait.getMean() * queueWait.getTotalCount()).isCloseTo((double)accounted, org.assertj.core.data.Percentage.withPercentage(5));
            assertThat(m.latency("flaky", EngineMetrics.Latency.EXECUTION).getTotalCount()).isEqualTo(2);
            assertThat(m.latency("stuck", EngineMetrics.Latency.END_TO_END).getTotalCount()).as("the timed-out task and the 20 cancelled")
                .isEqualTo(21);
            assertThat(m.journalAppend().getTotalCount()).isPositive();
            assertThat(m.count("nope", ACCEPTED)).isZero();
        }
        // replayed history is not counted again
        try (Engine engine = Engine.open(config().build()))
        {
            assertThat(engine.metrics().count("echo", ACCEPTED)).isZero();
            assertThat(engine.metrics().count("echo", SUCCEEDED)).isZero();
            engine.submit(new TaskRequest().key("e0").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
            assertThat(engine.metrics().count("echo", DUPLICATE)).isEqualTo(1);
        }
    }

    @Test
    void shouldRecordNothingWhenOff() throws Exception
    {
        try (Engine engine = Engine.open(config().metrics(false).build()))
        {
            engine.submit(new TaskRequest().key("x").type("echo")).get(10, TimeUnit.SECONDS);
            assertThat(engine.metrics()).isNull();
        }
    }
}
