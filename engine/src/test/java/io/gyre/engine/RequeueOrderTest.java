package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Attempts a stop or a crash interrupted run again first after the restart, ahead of the tasks of their priority that
 * were waiting behind them (an outside check found them requeued behind tasks submitted after them).
 */
class RequeueOrderTest
{
    @TempDir
    Path dir;

    /** BLOCKING: records the payloads it runs, in order; {@code A} waits until its thread is interrupted (or 30 s). */
    private static final class Recording implements TaskHandler
    {
        final List<String> ran = new CopyOnWriteArrayList<>();
        final CountDownLatch never = new CountDownLatch(1);
        private final boolean holdA;

        Recording(final boolean holdA)
        {
            this.holdA = holdA;
        }

        @Override
        public String type()
        {
            return "rec";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            final String payload = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
            ran.add(payload);
            if (holdA && payload.equals("A"))
            {
                never.await(30, TimeUnit.SECONDS);
            }
            context.succeed(payload.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static Engine open(final Path journal, final Recording handler)
    {
        return Engine.open(EngineConfig.builder(journal).ringSize(1024).timerFiresPerTick(16).discoverHandlers(false)
            .handler(handler).blockingPoolThreads(1).closeTimeout(Duration.ofMillis(300)).build());
    }

    /** A runs on the only thread; B and C, submitted after it, wait. */
    private static void load(final Engine engine, final Recording handler)
    {
        engine.submit(new TaskRequest().key("A").type("rec").payload("A"));
        await().until(() -> handler.ran.size() == 1);
        engine.submit(new TaskRequest().key("B").type("rec").payload("B"));
        engine.submit(new TaskRequest().key("C").type("rec").payload("C"));
        await().until(() -> engine.status("C").join().state() == PENDING);
    }

    private static void assertRanInOrder(final Path journal)
    {
        final Recording after = new Recording(false);
        try (Engine engine = open(journal, after))
        {
            await().until(() -> engine.status("C").join().state() == SUCCEEDED);
            assertThat(after.ran).containsExactly("A", "B", "C");
        }
        assertThat(TaskHistory.of(journal)).replaysDeterministically();
    }

    @Test
    void shouldRunTheAttemptsAGracefulStopInterruptedFirstAfterTheRestart()
    {
        final Recording before = new Recording(true);
        try (Engine engine = open(dir, before))
        {
            load(engine, before);
            // closed with A still running: at the deadline its thread is interrupted and the stop record lists it
        }
        assertRanInOrder(dir);
    }

    @Test
    void shouldRunTheAttemptsACrashInterruptedFirstAfterTheRestart() throws Exception
    {
        final Recording before = new Recording(true);
        final Path copy = dir.resolve("crashed");
        Files.createDirectories(copy);
        try (Engine engine = open(dir.resolve("live"), before))
        {
            load(engine, before);
            // the journal as a crash would leave it: no stop record, A running
            try (Stream<Path> files = Files.list(dir.resolve("live")))
            {
                for (final Path file : files.filter(p -> p.getFileName().toString().endsWith(".cq4")).toList())
                {
                    Files.copy(file, copy.resolve(file.getFileName()));
                }
            }
            before.never.countDown();
        }
        assertRanInOrder(copy);
    }
}
