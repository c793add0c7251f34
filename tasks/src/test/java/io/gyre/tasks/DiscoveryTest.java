package io.gyre.tasks;

import io.gyre.engine.EngineConfig;
import io.gyre.engine.TaskHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The task types of this module are found by the engine on the class path, without being named.
 */
class DiscoveryTest
{
    @TempDir
    Path dir;

    @Test
    void shouldFindEveryTaskTypeOfThisModuleOnTheClassPath()
    {
        assertThat(EngineConfig.builder(dir).build().handlers()).extracting(TaskHandler::type)
            .contains("noop", "echo", "wait", "http", "set", "inject", "transform");
    }

    @Test
    void shouldFindNoneWhenDiscoveryIsOff()
    {
        assertThat(EngineConfig.builder(dir).discoverHandlers(false).build().handlers()).extracting(TaskHandler::type)
            .containsExactlyInAnyOrder("noop", "echo");
    }
}
