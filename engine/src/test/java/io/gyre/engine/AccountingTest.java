package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.gyre.engine.EngineMetrics.Count.ACCEPTED;
import static io.gyre.engine.EngineMetrics.Count.ATTEMPT_STARTED;
import static io.gyre.engine.EngineMetrics.Count.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Per-task accounting (each outcome's queue time, execution time and attempts) and its totals by task type and
 * tenant: values after a known workload, the same outcome after a restart (replayed or from a snapshot), the
 * tenant label's bound.
 */
class AccountingTest
{
    private static final long MS = 1_000_000L;

    @TempDir
    Path dir;

    /** BLOCKING: sleeps the milliseconds its payload names, then echoes them. */
    static final class Sleeper implements TaskHandler
    {
        @Override
        public String type()
        {
            return "sleep";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            final String millis = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            Thread.sleep(Long.parseLong(millis));
            context.succeed(context.payload(), 0, context.payloadLength());
        }
    }

    private EngineConfig.Builder config()
    {
        return EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).blockingPoolThreads(1).defaultBackoff(1, 1, 1f, 0f)
            .handler(new Sleeper())
            .handler(new TestHandlers.Flaky("flaky", 2, true, ExecutionMode.INLINE));
    }

    @Test
    void shouldAccountQueueAndExecutionTimeOfEachOutcome() throws Exception
    {
        try (Engine engine = Engine.open(config().build()))
        {
            // one blocking slot: the second task waits for the first to finish
            final var first = engine.submit(new TaskRequest().key("a").type("sleep").payload("60").tenant("acme"));
            final var second = engine.submit(new TaskRequest().key("b").type("sleep").payload("40").tenant("acme"));
            final Outcome a = first.get(10, TimeUnit.SECONDS);
            final Outcome b = second.get(10, TimeUnit.SECONDS);

            assertThat(a.executionNanos()).as("ran 60 ms").isGreaterThanOrEqualTo(60 * MS);
            assertThat(b.executionNanos()).as("ran 40 ms").isGreaterThanOrEqualTo(40 * MS);
            assertThat(b.startedAt()).as("waited for the only slot, taken by a 60 ms task").isGreaterThanOrEqualTo(a.finishedAt());
            final Outcome inline = engine.submit(new TaskRequest().key("i").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
            for (final Outcome o : new Outcome[] {a, b, inline})
            {
                assertThat(o.attempts()).isEqualTo(1);
                assertThat(o.queueNanos()).as("one attempt: queued until its handler started").isEqualTo(o.startedAt() - o.submittedAt());
                assertThat(o.queueNanos() + o.executionNanos()).as("queue and execution fit in the task's life")
                    .isLessThanOrEqualTo(o.finishedAt() - o.submittedAt());
            }

            final Outcome flaky = engine.submit(new TaskRequest().key("f").type("flaky").tenant("globex")).get(10, TimeUnit.SECONDS);
            assertThat(flaky.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(flaky.attempts()).isEqualTo(3);
            assertThat(flaky.queueNanos()).isGreaterThanOrEqualTo(0);
            assertThat(flaky.queueNanos() + flaky.executionNanos()).isLessThanOrEqualTo(flaky.finishedAt() - flaky.submittedAt());

            // a duplicate carries the recorded accounting
            final Outcome again = engine.submit(new TaskRequest().key("a").type("sleep").payload("60")).get(10, TimeUnit.SECONDS);
            assertThat(again.duplicate()).isTrue();
            assertThat(again.queueNanos()).isEqualTo(a.queueNanos());
            assertThat(again.executionNanos()).isEqualTo(a.executionNanos());

            final EngineMetrics m = engine.metrics();
            assertThat(m.tenants()).containsExactly("", "(other)", "acme", "globex");
            assertThat(m.count("sleep", "acme", SUCCEEDED)).isEqualTo(2);
            assertThat(m.count("sleep", "acme", ACCEPTED)).isEqualTo(2);
            assertThat(m.count("sleep", "", EngineMetrics.Count.DUPLICATE)).isEqualTo(1);
            assertThat(m.count("flaky", "globex", ATTEMPT_STARTED)).isEqualTo(3);
            assertThat(m.count("flaky", "acme", ATTEMPT_STARTED)).isZero();
            assertThat(m.count("sleep", SUCCEEDED)).as("all tenants").isEqualTo(2);
            assertThat(m.executionNanos("sleep", "acme")).isEqualTo(a.executionNanos() + b.executionNanos());
            assertThat(m.queueNanos("sleep", "acme")).isEqualTo(a.queueNanos() + b.queueNanos());
            assertThat(m.executionNanos("flaky", "globex")).isEqualTo(flaky.executionNanos());
            assertThat(m.executionNanos("sleep", "globex")).isZero();
        }
    }

    @ParameterizedTest(name = "snapshots {0}")
    @ValueSource(booleans = {false, true})
    void shouldAnswerTheSameAccountingAfterARestartAndCountATaskUnderItsTenant(final boolean snapshots) throws Exception
    {
        final Outcome before;
        try (Engine engine = Engine.open(config().snapshots(snapshots).build()))
        {
            before = engine.submit(new TaskRequest().key("a").type("sleep").payload("20").tenant("acme")).get(10, TimeUnit.SECONDS);
            // a task left waiting for a retry far ahead when the engine closes; it finishes after the restart
            engine.submit(new TaskRequest().key("later").type("flaky").tenant("initech").backoff(1500, 1500, 1f, 0f));
            org.awaitility.Awaitility.await().until(() -> engine.metrics().count("flaky", EngineMetrics.Count.RETRY_SCHEDULED) == 1);
        }
        try (Engine engine = Engine.open(config().snapshots(snapshots).build()))
        {
            assertThat(engine.recovery().snapshot() != null).isEqualTo(snapshots);
            final Outcome after = engine.submit(new TaskRequest().key("a").type("sleep").payload("20")).get(10, TimeUnit.SECONDS);
            assertThat(after.duplicate()).isTrue();
            assertThat(after.queueNanos()).as("rebuilt from the journal").isEqualTo(before.queueNanos());
            assertThat(after.executionNanos()).isEqualTo(before.executionNanos());

            final Outcome later = engine.submit(new TaskRequest().key("later").type("flaky")).get(10, TimeUnit.SECONDS);
            assertThat(later.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(later.attempts()).isEqualTo(3);
            assertThat(later.queueNanos() + later.executionNanos()).isLessThanOrEqualTo(later.finishedAt() - later.submittedAt());
            assertThat(later.finishedAt() - later.submittedAt()).as("two retries 1.5 s apart").isGreaterThanOrEqualTo(3000 * MS - MS);
            assertThat(engine.metrics().count("flaky", "initech", SUCCEEDED)).as("its tenant, known from before the restart")
                .isEqualTo(1);
            assertThat(engine.metrics().tenants()).contains("acme", "initech");
        }
    }

    @Test
    void shouldBoundTheTenantsCountedApart() throws Exception
    {
        try (Engine engine = Engine.open(config().build()))
        {
            for (int i = 0; i < TenantIndex.LIMIT + 5; i++)
            {
                engine.submit(new TaskRequest().key("k" + i).type("echo").tenant("t" + i)).get(10, TimeUnit.SECONDS);
            }
            engine.submit(new TaskRequest().key("o").type("echo").tenant("(other)")).get(10, TimeUnit.SECONDS);
            engine.submit(new TaskRequest().key("t0-again").type("echo").tenant("t0")).get(10, TimeUnit.SECONDS);
            final EngineMetrics m = engine.metrics();
            assertThat(m.tenants()).hasSize(TenantIndex.LIMIT + 2).startsWith("", "(other)", "t0", "t1")
                .doesNotContain("t" + TenantIndex.LIMIT);
            assertThat(m.count("echo", "(other)", SUCCEEDED)).as("five past the bound, and one calling itself (other)").isEqualTo(6);
            assertThat(m.count("echo", "t0", SUCCEEDED)).isEqualTo(2);
            assertThat(m.count("echo", SUCCEEDED)).isEqualTo(TenantIndex.LIMIT + 7);
        }
        // the same ids after a replay
        try (Engine engine = Engine.open(config().snapshots(false).build()))
        {
            engine.submit(new TaskRequest().key("n").type("echo").tenant("t" + (TenantIndex.LIMIT + 1))).get(10, TimeUnit.SECONDS);
            engine.submit(new TaskRequest().key("m").type("echo").tenant("t7")).get(10, TimeUnit.SECONDS);
            assertThat(engine.metrics().tenants()).hasSize(TenantIndex.LIMIT + 2).element(9).isEqualTo("t7");
            assertThat(engine.metrics().count("echo", "(other)", SUCCEEDED)).isEqualTo(1);
            assertThat(engine.metrics().count("echo", "t7", SUCCEEDED)).isEqualTo(1);
        }
    }

    /**
     * A tenant is bytes. The names were decoded as UTF-8, so every tenant that is not UTF-8 became "\uFFFD": three
     * ids under one label, and the counts of two lost from /metrics. An outside check found it. A tenant that is not
     * UTF-8 is named {@code 0x} and its bytes in hex, and so is one whose text starts with {@code 0x}, so that no
     * UTF-8 tenant can take another's name.
     */
    @Test
    void shouldNameEveryTenantApartWhenItIsNotUtf8() throws Exception
    {
        try (Engine engine = Engine.open(config().build()))
        {
            // the last two: UTF-8 with a NUL and an ESC, which reached an operator's terminal from /metrics (an outside check)
            final byte[][] tenants = {{(byte)0xff}, {(byte)0xfe}, {(byte)0xfd}, {'o', 'k'}, {'0', 'x', 'f', 'f'}, {'0', 'x', (byte)0xc3},
                {'a', 0}, {'e', 0x1b, '['}};
            for (int i = 0; i < tenants.length; i++)
            {
                engine.submit(new TaskRequest().key("k" + i).type("echo").tenant(tenants[i], 0, tenants[i].length)).get(10, TimeUnit.SECONDS);
            }
            engine.submit(new TaskRequest().key("again").type("echo").tenant(tenants[0], 0, 1)).get(10, TimeUnit.SECONDS);
            final EngineMetrics m = engine.metrics();
            assertThat(m.tenants()).containsExactly("", "(other)", "0xff", "0xfe", "0xfd", "ok", "0x30786666", "0x3078c3", "0x6100", "0x651b5b");
            assertThat(m.count("echo", "0xff", SUCCEEDED)).isEqualTo(2);
            assertThat(m.count("echo", "0xfe", SUCCEEDED)).isEqualTo(1);
            assertThat(m.count("echo", "0xfd", SUCCEEDED)).isEqualTo(1);
            assertThat(m.count("echo", "ok", SUCCEEDED)).isEqualTo(1);
            assertThat(m.count("echo", "0x30786666", SUCCEEDED)).as("the UTF-8 tenant 0xff").isEqualTo(1);
        }
    }

    @Test
    void shouldReportGaugesOfWaitingAndRunningWork() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        try (Engine engine = Engine.open(config().handler(gated).closeTimeout(Duration.ofSeconds(5)).build()))
        {
            final var running = engine.submit(new TaskRequest().key("g1").type("gated"));
            final var waiting = engine.submit(new TaskRequest().key("g2").type("gated"));
            final EngineMetrics m = engine.metrics();
            org.awaitility.Awaitility.await().until(() -> m.gauge(EngineMetrics.Gauge.WAITING_BLOCKING) == 1);
            assertThat(m.gauge(EngineMetrics.Gauge.RUNNING_BLOCKING)).isEqualTo(1);
            assertThat(engine.journalLag()).isZero();
            assertThat(engine.journalDiskUsage()[1]).isPositive();
            gated.open();
            running.get(10, TimeUnit.SECONDS);
            waiting.get(10, TimeUnit.SECONDS);
            engine.submit(new TaskRequest().key("e").type("echo")).get(10, TimeUnit.SECONDS);
            assertThat(m.gauge(EngineMetrics.Gauge.WAITING_BLOCKING)).isZero();
            assertThat(m.gauge(EngineMetrics.Gauge.RUNNING_BLOCKING)).isZero();
            assertThat(m.gauge(EngineMetrics.Gauge.RETAINED_OUTCOMES)).isEqualTo(3);
        }
    }
}
