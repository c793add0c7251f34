package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failure message longer than the journal keeps is cut at a character boundary, never inside one.
 */
class FailureMessageTest
{
    @TempDir
    Path dir;

    @Test
    void longMessagesAreCutBetweenCharacters()
    {
        // 1023 ASCII bytes, then two-byte characters: the 1024-byte cut falls inside the first of them
        final String message = "a".repeat(AttemptContext.MAX_MESSAGE_BYTES - 1) + "é".repeat(10);
        try (Engine engine = Engine.open(EngineConfig.builder(dir).handler(new TaskHandler()
        {
            @Override
            public String type()
            {
                return "fails-long";
            }

            @Override
            public void execute(final TaskContext context) throws Exception
            {
                throw TaskFailure.permanent(message);
            }
        }).build()))
        {
            final Outcome outcome = engine.submit(new TaskRequest().key("long").type("fails-long")).join();
            final byte[] error = outcome.error().getBytes(StandardCharsets.UTF_8);
            assertThat(error.length).isEqualTo(AttemptContext.MAX_MESSAGE_BYTES - 1);
            assertThat(outcome.error()).isEqualTo("a".repeat(AttemptContext.MAX_MESSAGE_BYTES - 1)).doesNotContain("\uFFFD");
        }
    }
}
