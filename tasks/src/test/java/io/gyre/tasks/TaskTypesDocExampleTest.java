package io.gyre.tasks;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The handler written out in docs/TASK-TYPES.md ("Writing a task type"), compiled from the page as it stands (so the
 * page's code cannot drift from what compiles), then run by an engine.
 */
class TaskTypesDocExampleTest
{
    private static final Path DOC = Path.of("..", "docs", "TASK-TYPES.md");
    private static final Pattern FIRST_JAVA_BLOCK = Pattern.compile("## Writing a task type.*?```java\\n(.*?)```", Pattern.DOTALL);

    @TempDir
    Path dir;

    @Test
    void shouldCompileAndRunTheDocumentedExample() throws Exception
    {
        final Matcher m = FIRST_JAVA_BLOCK.matcher(Files.readString(DOC));
        assertThat(m.find()).as("a java block under 'Writing a task type' in " + DOC).isTrue();
        final Path source = dir.resolve("src/com/example/reverse/Reverse.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, m.group(1));
        final Path classes = Files.createDirectories(dir.resolve("classes"));

        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        final int status = javac.run(null, diagnostics, diagnostics, "--release", "17", "-cp", System.getProperty("java.class.path"),
            "-d", classes.toString(), source.toString());
        assertThat(status).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();

        try (URLClassLoader loader = new URLClassLoader(new java.net.URL[] {classes.toUri().toURL()}, getClass().getClassLoader());
             Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).handler(
                 (TaskHandler)loader.loadClass("com.example.reverse.Reverse").getConstructor().newInstance()).build()))
        {
            assertThat(engine.submit(new TaskRequest().key("a").type("reverse").payload("gyre")).get(5, TimeUnit.SECONDS)
                .outputAsString()).isEqualTo("eryg");
            assertThat(engine.submit(new TaskRequest().key("u").type("reverse").payload("héllo 😀")).get(5, TimeUnit.SECONDS)
                .outputAsString()).as("characters, not bytes").isEqualTo("😀 olléh");
            final Outcome empty = engine.submit(new TaskRequest().key("b").type("reverse")).get(5, TimeUnit.SECONDS);
            assertThat(empty.state()).isIn(TaskState.FAILED, TaskState.DEAD_LETTERED);
            assertThat(empty.error()).isEqualTo("invalid input: payload: empty; give the text to reverse");
        }
    }
}
