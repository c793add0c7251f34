package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two plugin jars offering the same type are equally specific: the engine refuses to start, naming both handlers and
 * both jars (an outside check found only {@code handler type=dup is registered twice}, without which files).
 */
class PluginDuplicatesTest
{
    @TempDir
    Path dir;

    @Test
    void shouldNameBothJarsOfATypeOfferedTwice() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        final Path first = pluginJar(plugins.resolve("first.jar"), "one.DupHandler", "dup");
        final Path second = pluginJar(plugins.resolve("second.jar"), "two.DupHandler", "dup");
        assertThatThrownBy(() -> EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("handler type=dup is registered twice, equally specific (two plugin jars, two class path entries, or two " +
                "handlers added to the builder): one.DupHandler (" + first + ") and two.DupHandler (" + second + "); remove one");
    }

    @Test
    void shouldLetAHandlerAddedToTheBuilderReplaceAPluginsType() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        pluginJar(plugins.resolve("only.jar"), "one.DupHandler", "dup");
        final TaskHandler mine = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "dup";
            }

            @Override
            public void execute(final TaskContext context)
            {
            }
        };
        assertThat(EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).handler(mine).build().handlers())
            .contains(mine).noneMatch(h -> h.getClass().getName().equals("one.DupHandler"));
    }

    /** @return a jar holding one handler class, compiled here (off the test's class path), declared as a service. */
    private Path pluginJar(final Path jar, final String className, final String type) throws IOException
    {
        return pluginJar(dir, jar, className, "    public String type() { return \"" + type + "\"; }\n" +
            "    public void execute(io.gyre.engine.TaskContext context) { }\n");
    }

    /**
     * @return a jar holding one handler class whose body is {@code body}, compiled in {@code dir} (off the test's class
     *     path), declared as a service.
     */
    static Path pluginJar(final Path dir, final Path jar, final String className, final String body) throws IOException
    {
        final int dot = className.lastIndexOf('.');
        final String simple = className.substring(dot + 1);
        final Path sources = Files.createDirectories(dir.resolve("src-" + jar.getFileName()));
        final Path classes = Files.createDirectories(dir.resolve("classes-" + jar.getFileName()));
        final Path source = sources.resolve(simple + ".java");
        Files.writeString(source, "package " + className.substring(0, dot) + ";\n" +
            "public class " + simple + " implements io.gyre.engine.TaskHandler {\n" + body + "}\n");
        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final String classPath = location(TaskHandler.class) + java.io.File.pathSeparator + location(DirectBuffer.class);
        assertThat(javac.run(null, null, null, "-d", classes.toString(), "-cp", classPath, source.toString())).isZero();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)))
        {
            final String entry = className.replace('.', '/') + ".class";
            out.putNextEntry(new JarEntry(entry));
            Files.copy(classes.resolve(entry), out);
            out.closeEntry();
            out.putNextEntry(new JarEntry("META-INF/services/" + TaskHandler.class.getName()));
            out.write((className + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }

    private static String location(final Class<?> type)
    {
        try
        {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        }
        catch (final java.net.URISyntaxException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
