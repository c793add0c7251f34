package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded example in the README, as written there, and what the README says of it: a second submit of
 * the key, in the same process or after a restart, returns the recorded outcome without running anything.
 */
class ReadmeExampleTest
{
    @TempDir
    Path dir;

    @Test
    void theReadmeExampleDoesWhatTheReadmeSays()
    {
        final Path data = dir.resolve("data");
        final Outcome first;
        try (Engine engine = Engine.open(EngineConfig.builder(data).build()))
        {
            first = engine.submit(new TaskRequest().key("order-42").type("echo").payload("{\"x\":1}")).join();
            final TaskStatus status = engine.status("order-42").join();

            assertThat(first.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(first.outputAsString()).isEqualTo("{\"x\":1}");
            assertThat(status.found()).isTrue();
            assertThat(status.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(status.outcome().outputAsString()).isEqualTo("{\"x\":1}");
            assertThat(status.outcome().taskId()).isEqualTo(first.taskId());
        }

        final AtomicInteger runs = new AtomicInteger();
        final TaskHandler countingEcho = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "echo";
            }

            @Override
            public void execute(final TaskContext context)
            {
                runs.incrementAndGet();
                context.succeed(context.payload(), 0, context.payloadLength());
            }
        };
        try (Engine engine = Engine.open(EngineConfig.builder(data).builtInHandlers(false).handler(countingEcho).build()))
        {
            final Outcome again = engine.submit(new TaskRequest().key("order-42").type("echo").payload("{\"x\":1}")).join();

            assertThat(again.duplicate()).isTrue();
            assertThat(again.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(again.taskId()).isEqualTo(first.taskId());
            assertThat(again.outputAsString()).isEqualTo("{\"x\":1}");
            assertThat(runs).hasValue(0);
        }
    }
}
