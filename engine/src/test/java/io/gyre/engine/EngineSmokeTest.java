package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EngineSmokeTest
{
    @TempDir
    Path dir;

    @Test
    void shouldRunEchoAndAnswerADuplicateFromTheJournal() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
        {
            final Outcome first = engine.submit(new TaskRequest().key("k1").type("echo").payload("{\"x\":1}")).get(10, TimeUnit.SECONDS);
            assertThat(first.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(first.outputAsString()).isEqualTo("{\"x\":1}");
            final Outcome again = engine.submit(new TaskRequest().key("k1").type("echo").payload("other")).get(10, TimeUnit.SECONDS);
            assertThat(again.duplicate()).isTrue();
            assertThat(again.outputAsString()).isEqualTo("{\"x\":1}");
            assertThat(again.taskId()).isEqualTo(first.taskId());
            final TaskStatus status = engine.status("k1").get(10, TimeUnit.SECONDS);
            assertThat(status.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(status.outcome().outputAsString()).isEqualTo("{\"x\":1}");
        }
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
        {
            final Outcome after = engine.submit(new TaskRequest().key("k1").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
            assertThat(after.duplicate()).isTrue();
            assertThat(after.outputAsString()).isEqualTo("{\"x\":1}");
            assertThat(engine.stageFailures()).isZero();
        }
    }
}
