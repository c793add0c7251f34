package io.gyre.tasks;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The handler written out in docs/TASK-TYPES.md ("Writing a task type"), as written there.
 */
class TaskTypesDocExampleTest
{
    @TempDir
    Path dir;

    public static final class Reverse implements TaskHandler
    {
        @Override
        public String type()
        {
            return "reverse";                       // 1 to 64 printable ASCII characters, no spaces
        }

        @Override
        public void validate(final TaskContext context) throws TaskFailure
        {
            if (context.payloadLength() == 0)
            {
                throw TaskFailure.permanent("payload: empty; give the text to reverse");
            }
        }

        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            final int n = context.payloadLength();
            final MutableDirectBuffer out = context.outputBuffer(n);
            for (int i = 0; i < n; i++)
            {
                out.putByte(i, context.payload().getByte(n - 1 - i));
            }
            context.succeed(n);
        }
    }

    @Test
    void shouldRunTheDocumentedExample() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).handler(new Reverse()).build()))
        {
            assertThat(engine.submit(new TaskRequest().key("a").type("reverse").payload("gyre")).get(5, TimeUnit.SECONDS)
                .outputAsString()).isEqualTo("eryg");
            final Outcome empty = engine.submit(new TaskRequest().key("b").type("reverse")).get(5, TimeUnit.SECONDS);
            assertThat(empty.state()).isIn(TaskState.FAILED, TaskState.DEAD_LETTERED);
            assertThat(empty.error()).isEqualTo("invalid input: payload: empty; give the text to reverse");
        }
    }
}
