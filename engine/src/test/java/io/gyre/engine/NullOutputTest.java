package io.gyre.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * succeed(null) is a report, of a failure: the attempt ends at once, permanently failed, saying why (an outside check's
 * ASYNC handler got a NullPointerException thrown at it and its task waited out its timeout).
 */
class NullOutputTest
{
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = ExecutionMode.class, names = {"INLINE", "ASYNC"})
    void shouldFailTheAttemptAtOnce(final ExecutionMode mode) throws Exception
    {
        final TaskHandler handler = new TestHandlers.Typed("null-output", mode)
        {
            @Override
            public void execute(final TaskContext context)
            {
                if (mode == ExecutionMode.ASYNC)
                {
                    new Thread(() -> context.succeed((byte[])null)).start();
                }
                else
                {
                    context.succeed((byte[])null);
                }
            }
        };
        try (Engine engine = Engine.open(EngineConfig.builder(dir).handler(handler).build()))
        {
            final long start = System.nanoTime();
            final Outcome outcome = engine.submit(new TaskRequest().key("n").type("null-output").timeoutMillis(20_000)).get(10, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(5);
            assertThat(outcome.state()).isEqualTo(TaskState.DEAD_LETTERED);
            assertThat(outcome.error()).isEqualTo(AttemptContext.NULL_OUTPUT);
        }
    }
}
