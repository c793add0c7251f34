package io.gyre.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A plugin whose handler throws where the engine asks it about itself (its type, its settings, its class's static
 * initializer) refuses the start with a reason naming the jar or the type and what was thrown, as a setting it refuses
 * does (`gyre serve` prints it, exit 2), not with a bare stack trace (an outside check's plugins got exit 1 and a trace).
 */
class PluginFailuresTest
{
    @TempDir
    Path dir;

    @Test
    void shouldNameTheJarOfAHandlerWhoseTypeThrows() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        final Path jar = PluginDuplicatesTest.pluginJar(dir, plugins.resolve("bad.jar"), "bad.ThrowType",
            "    public String type() { throw new IllegalStateException(\"type boom\"); }\n" +
            "    public void execute(io.gyre.engine.TaskContext context) { }\n");
        assertThatThrownBy(() -> EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("plugin " + jar + ": bad.ThrowType.type() threw java.lang.IllegalStateException: type boom");
    }

    @Test
    void shouldSayWhatAStaticInitializerThrew() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        PluginDuplicatesTest.pluginJar(dir, plugins.resolve("static.jar"), "bad.StaticBoom",
            "    static { if (true) throw new IllegalStateException(\"static boom\"); }\n" +
            "    public String type() { return \"static-boom\"; }\n" +
            "    public void execute(io.gyre.engine.TaskContext context) { }\n");
        assertThatThrownBy(() -> EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("static.jar cannot be loaded")
            .hasMessageEndingWith("(java.lang.IllegalStateException: static boom)");
    }

    @Test
    void shouldNameATypeWhoseConfigureThrowsSomethingElseThanIllegalArgument() throws Exception
    {
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        PluginDuplicatesTest.pluginJar(dir, plugins.resolve("conf.jar"), "bad.ConfigureNpe",
            "    public String type() { return \"conf-npe\"; }\n" +
            "    public void configure(java.util.Map<String, String> settings) { throw new NullPointerException(\"no map\"); }\n" +
            "    public void execute(io.gyre.engine.TaskContext context) { }\n");
        assertThatThrownBy(() -> EngineConfig.builder(dir.resolve("journal")).pluginsDirectory(plugins).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("task type conf-npe: configure threw java.lang.NullPointerException: no map");
    }
}
