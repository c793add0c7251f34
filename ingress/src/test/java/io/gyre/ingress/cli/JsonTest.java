package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the client commands print a task's output (or a dead letter's payload): JSON exactly as the task wrote it,
 * anything else as a string (outside check: {@code 1.10} was printed {@code 1.1}, {@code 1e400} as
 * {@code "Infinity"}, and of {@code {"a":1}{"b":2}} only the first object).
 */
class JsonTest
{
    private static String printed(final String output)
    {
        final ObjectNode node = Json.MAPPER.createObjectNode();
        Json.embed(node, "output", output.getBytes(StandardCharsets.UTF_8));
        return Json.write(node);
    }

    @Test
    void shouldEmbedJsonExactlyAsWritten()
    {
        assertThat(printed("{\"x\":1.10,\"y\":1e3}")).isEqualTo("{\"output\":{\"x\":1.10,\"y\":1e3}}");
        assertThat(printed("{\"x\":1.00000000000000000001,\"w\":1e400}")).isEqualTo("{\"output\":{\"x\":1.00000000000000000001,\"w\":1e400}}");
        assertThat(printed("{\"a\":1,\"b\":1E+3}")).isEqualTo("{\"output\":{\"a\":1,\"b\":1E+3}}");
        assertThat(printed("2")).isEqualTo("{\"output\":2}");
        assertThat(printed("\"text\"")).isEqualTo("{\"output\":\"text\"}");
    }

    @Test
    void shouldKeepAnAnswerOnOneLineAndLineBreaksInsideStringsEscaped()
    {
        assertThat(printed("{\n  \"a\": \"x\\ny\"\r\n}\n")).isEqualTo("{\"output\":{   \"a\": \"x\\ny\"  }}");
    }

    @Test
    void shouldPrintWhatIsNotExactlyOneJsonValueAsAString()
    {
        assertThat(printed("{\"a\":1}{\"b\":2}")).isEqualTo("{\"output\":\"{\\\"a\\\":1}{\\\"b\\\":2}\"}");
        assertThat(printed("{\"a\":1,\"a\":2}")).isEqualTo("{\"output\":\"{\\\"a\\\":1,\\\"a\\\":2}\"}");
        assertThat(printed("plain text")).isEqualTo("{\"output\":\"plain text\"}");
        assertThat(printed("NaN")).isEqualTo("{\"output\":\"NaN\"}");
        assertThat(printed("{'a':1}")).isEqualTo("{\"output\":\"{'a':1}\"}");
        assertThat(printed("\uFEFF{}")).isEqualTo("{\"output\":\"\uFEFF{}\"}");
        assertThat(printed("")).isEqualTo("{\"output\":\"\"}");
    }
}
