package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.journal.JvmFlags;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code gyre serve --log-format json} in a child JVM running the packaged gyre.jar (logging is set up once per
 * process, from the jar's logback.xml, so the test's own JVM cannot stand in for it): every line on its standard error is one JSON object
 * with the usual fields, and a task-level line carries the task's id, key, type, attempt and state as top-level
 * fields. The child logs Gyre's lines from DEBUG ({@code -Dgyre.log.level=DEBUG}), where a failed attempt is
 * logged; a task that succeeds logs nothing even there. The text format ends such a line with the same fields.
 */
class ServeLogFormatIT
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FORGED = "00:00:00.000 ERROR [main] forged - a line a client wrote";
    /** Packaged before failsafe runs (phase package); {@code gyre.jar} overrides where. */
    private static final Path GYRE_JAR = Path.of(System.getProperty("gyre.jar", "target/gyre.jar"));

    @TempDir
    Path dir;

    private Process server;
    /** The task id of the task that failed, from gyre submit's answer. */
    private long failedTaskId;

    @AfterEach
    void cleanUp() throws Exception
    {
        if (server != null && server.isAlive())
        {
            server.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldWriteEachLogLineAsAJsonObjectWithTheTaskFieldsAtTopLevel() throws Exception
    {
        final Path err = serveAndFailATask("--log-format", "json");

        final List<JsonNode> lines = new ArrayList<>();
        for (final String line : Files.readAllLines(err))
        {
            if (line.isBlank())
            {
                continue;
            }
            final JsonNode node = JSON.readTree(line);
            assertThat(node.isObject()).as("a JSON object: %s", line).isTrue();
            for (final String field : List.of("@timestamp", "level", "logger_name", "thread_name", "message"))
            {
                assertThat(node.has(field)).as("%s in %s", field, line).isTrue();
            }
            lines.add(node);
        }
        final List<JsonNode> failed = lines.stream().filter(n -> n.path("key").asText().equals("bad-1")).toList();
        assertThat(failed).as("lines about bad-1 in:%n%s", read(err)).hasSize(1);
        final JsonNode line = failed.get(0);
        assertThat(line.get("level").asText()).isEqualTo("DEBUG");
        assertThat(line.get("message").asText()).startsWith("the handler failed the attempt: ");
        assertThat(line.get("taskId").isIntegralNumber()).isTrue();
        assertThat(line.get("taskId").asLong()).isEqualTo(failedTaskId);
        assertThat(line.get("type").asText()).isEqualTo("set");
        assertThat(line.get("attempt").asInt()).isEqualTo(1);
        assertThat(line.get("state").asText()).isEqualTo("RUNNING");
        assertThat(lines).noneMatch(n -> n.toString().contains("fine-1"));
    }

    @Test
    void shouldEndATextLineWithTheTaskFields() throws Exception
    {
        final Path err = serveAndFailATask();

        final List<String> failed = Files.readAllLines(err).stream().filter(l -> l.contains("bad-1")).toList();
        assertThat(failed).as("lines about bad-1 in:%n%s", read(err)).hasSize(1);
        assertThat(failed.get(0)).contains(" DEBUG ").contains("the handler failed the attempt: ")
            .endsWith(" taskId=\"" + failedTaskId + "\" key=\"bad-1\" type=\"set\" attempt=\"1\" state=\"RUNNING\"");
        assertThat(Files.readString(err)).doesNotContain("fine-1");
        assertThat(Files.readAllLines(err)).noneMatch(l -> l.startsWith(FORGED))
            .anyMatch(l -> l.contains("key=\"forged-1\\n" + FORGED + "\""));
    }

    /**
     * Start {@code gyre serve} with these options, submit a task that succeeds and one that fails (a {@code set} whose
     * payload is not JSON), stop the server with SIGTERM.
     *
     * @return the file holding its standard error, once it exited 0.
     */
    private Path serveAndFailATask(final String... options) throws Exception
    {
        assertThat(GYRE_JAR).as("the packaged gyre.jar (mvn package)").isRegularFile();
        final int port;
        try (ServerSocket socket = new ServerSocket(0))
        {
            port = socket.getLocalPort();
        }
        final Path out = dir.resolve("out.log");
        final Path err = dir.resolve("err.log");
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JvmFlags.REQUIRED);
        command.add("-Xmx256m");
        command.add("-Dgyre.log.level=DEBUG");
        command.add("-cp");
        // the jar users run, with its logback.xml (the test class path has the engine's test jar, whose
        // logback-test.xml would take precedence)
        command.add(GYRE_JAR.toString());
        command.add(GyreCommand.class.getName());
        command.addAll(List.of("serve", "--journal", dir.resolve("journal").toString(), "--port", Integer.toString(port),
            "--monitor-port", "-1"));
        command.addAll(List.of(options));
        server = new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
        await().atMost(Duration.ofSeconds(60)).until(() -> contains(out, "gyre serving on") || !server.isAlive());
        assertThat(server.isAlive()).as("gyre serve is up; it wrote:%n%s%n%s", read(out), read(err)).isTrue();
        // stdout is the command's own: nothing of logback's there (its status messages, were it to print them)
        assertThat(read(out)).startsWith("gyre serving on ");

        final ServeAndClientCommandsTest.Run fine = ServeAndClientCommandsTest.gyre("submit", "--port", Integer.toString(port),
            "--type", "echo", "--payload", "x", "--key", "fine-1");
        assertThat(fine.exit()).as(fine.err()).isZero();
        final ServeAndClientCommandsTest.Run bad = ServeAndClientCommandsTest.gyre("submit", "--port", Integer.toString(port),
            "--type", "set", "--payload", "not json", "--key", "bad-1");
        assertThat(bad.exit()).as(bad.err()).isEqualTo(3);
        failedTaskId = bad.json().get("taskId").asLong();
        // a key with a line break, as a client may send: it must not start a log line of its own
        final ServeAndClientCommandsTest.Run forged = ServeAndClientCommandsTest.gyre("submit", "--port", Integer.toString(port),
            "--type", "set", "--payload", "not json", "--key", "forged-1\n" + FORGED);
        assertThat(forged.exit()).as(forged.err()).isEqualTo(3);

        server.destroy();                                           // SIGTERM: a clean stop, and stderr flushed
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).as("exit code; it wrote:%n%s%n%s", read(out), read(err)).isZero();
        assertThat(read(out)).contains("gyre stopped cleanly");
        return err;
    }

    private static boolean contains(final Path file, final String text) throws IOException
    {
        return Files.exists(file) && Files.readString(file).contains(text);
    }

    private static String read(final Path file) throws IOException
    {
        return Files.exists(file) ? Files.readString(file) : "";
    }
}
