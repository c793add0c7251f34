package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The sample plugin (module sample-plugin, kept off this test's class path): its jar dropped into the
 * plugins directory adds the {@code sha256} task type on restart, over TCP.
 */
class PluginTest
{
    @TempDir
    Path dir;

    /**
     * @return the sample plugin's jar as Maven packaged it, or (when only its classes were built, e.g. by
     *     {@code mvn test}) a jar made from its classes.
     */
    static Path samplePluginJar(final Path into) throws IOException
    {
        final Path packaged = Path.of(System.getProperty("gyre.samplePlugin.jar", "../sample-plugin/target/none.jar"));
        if (Files.isRegularFile(packaged))
        {
            return Files.copy(packaged, into.resolve(packaged.getFileName()));
        }
        final Path classes = Path.of(System.getProperty("gyre.samplePlugin.classes", "../sample-plugin/target/classes"));
        final Path jar = into.resolve("gyre-sample-plugin.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes))
        {
            for (final Path file : files.filter(Files::isRegularFile).sorted().toList())
            {
                out.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    private static String sha256(final String text) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private TaskResult submitOverTcp(final Path plugins, final Submission submission)
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).build());
            GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
            GyreClient client = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
        {
            return client.blocking().submit(submission);
        }
    }

    @Test
    void shouldAddTheSampleTaskTypeWhenItsJarIsDroppedInAndTheEngineRestarts() throws Exception
    {
        assertThatThrownBy(() -> Class.forName("io.gyre.sample.Sha256Handler")).isInstanceOf(ClassNotFoundException.class);
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));

        final TaskResult before = submitOverTcp(plugins, Submission.of("before", "sha256").payload("gyre"));
        assertThat(before.rejected()).isTrue();
        assertThat(before.rejectCode()).isEqualTo(RejectCode.UNKNOWN_TYPE);

        final Path jar = samplePluginJar(plugins);
        final TaskResult after = submitOverTcp(plugins, Submission.of("after", "sha256").payload("gyre"));
        assertThat(after.succeeded()).isTrue();
        assertThat(after.outputAsString()).isEqualTo(sha256("gyre"));

        // the jar taken out again: the finished key keeps its outcome, answered as recorded; a new key of the type
        // has nothing to answer with and nothing to run it
        Files.delete(jar);
        final TaskResult again = submitOverTcp(plugins, Submission.of("after", "sha256").payload("gyre"));
        assertThat(again.duplicate()).isTrue();
        assertThat(again.succeeded()).isTrue();
        assertThat(again.taskId()).isEqualTo(after.taskId());
        assertThat(again.outputAsString()).isEqualTo(sha256("gyre"));
        final TaskResult fresh = submitOverTcp(plugins, Submission.of("fresh", "sha256").payload("gyre"));
        assertThat(fresh.rejected()).isTrue();
        assertThat(fresh.rejectCode()).isEqualTo(RejectCode.UNKNOWN_TYPE);
        assertThat(fresh.error()).contains("not installed");
    }

    @Test
    void shouldHandThePluginItsSettingsAndRefuseABadOne() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        samplePluginJar(plugins);
        try (Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins)
            .handlerSetting("sha256.rounds", "2").build()))
        {
            final String once = sha256("x");
            final String twice = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(HexFormat.of().parseHex(once)));
            assertThat(engine.submit(new io.gyre.engine.TaskRequest().key("r").type("sha256").payload("x")).get().outputAsString())
                .isEqualTo(twice);
        }
        assertThatThrownBy(() -> EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins)
            .handlerSetting("sha256.rounds", "many").build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("task type sha256: rounds=many must be a whole number in [1, 1000000]");
    }

    @Test
    void shouldRefuseToStartWithAJarThatIsNotAJarNamingIt() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (OutputStream out = Files.newOutputStream(plugins.resolve("broken.jar")))
        {
            out.write("not a zip".getBytes(StandardCharsets.UTF_8));
        }
        assertThatThrownBy(() -> EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("plugin " + plugins.resolve("broken.jar") + " is not a readable jar: ");
    }
}
