package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failure message longer than the journal keeps is cut at a character boundary, never inside one, and ends with
 * U+2026 so that a reader can tell it was cut; one that fits is kept whole.
 */
class FailureMessageTest
{
    private static final int MAX = AttemptContext.MAX_MESSAGE_BYTES;

    @TempDir
    Path dir;

    @Test
    void longMessagesAreCutBetweenCharactersAndMarked()
    {
        // 1020 ASCII bytes, then two-byte characters: the cut that leaves room for the 3-byte marker (1021) falls
        // inside the first of them
        assertThat(failWith("a".repeat(MAX - 4) + "é".repeat(10))).isEqualTo("a".repeat(MAX - 4) + "…")
            .doesNotContain("\uFFFD");
        assertThat(failWith("b".repeat(MAX + 1))).isEqualTo("b".repeat(MAX - 3) + "…");
        assertThat(failWith("b".repeat(MAX + 1)).getBytes(StandardCharsets.UTF_8)).hasSize(MAX);
    }

    @Test
    void messagesThatFitAreKeptWhole()
    {
        assertThat(failWith("c".repeat(MAX))).isEqualTo("c".repeat(MAX));
        assertThat(failWith("d".repeat(MAX - 2) + "é")).isEqualTo("d".repeat(MAX - 2) + "é");
    }

    private String failWith(final String message)
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).handler(new TaskHandler()
        {
            @Override
            public String type()
            {
                return "fails";
            }

            @Override
            public void execute(final TaskContext context) throws Exception
            {
                throw TaskFailure.permanent(message);
            }
        }).build()))
        {
            return engine.submit(new TaskRequest().key("k" + message.length() + message.hashCode()).type("fails")).join().error();
        }
    }
}
