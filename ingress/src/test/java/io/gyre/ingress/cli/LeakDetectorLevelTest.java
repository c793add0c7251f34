package io.gyre.ingress.cli;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gyre serve} turns Netty's leak detector off unless the JVM was started with a level; these tests run at
 * PARANOID (the property is set by the build) and put both back.
 */
class LeakDetectorLevelTest
{
    private static final String LEVEL = "io.netty.leakDetection.level";

    @Test
    void shouldTurnTheLeakDetectorOffWhenTheJvmSetNoLevel()
    {
        final String property = System.getProperty(LEVEL);
        final Level level = ResourceLeakDetector.getLevel();
        try
        {
            System.clearProperty(LEVEL);
            ResourceLeakDetector.setLevel(Level.SIMPLE);

            ServeCommand.quietLeakDetector();

            assertThat(ResourceLeakDetector.getLevel()).isEqualTo(Level.DISABLED);
        }
        finally
        {
            restore(property, level);
        }
    }

    @Test
    void shouldKeepTheLevelTheJvmWasStartedWith()
    {
        final String property = System.getProperty(LEVEL);
        final Level level = ResourceLeakDetector.getLevel();
        try
        {
            System.setProperty(LEVEL, "advanced");
            ResourceLeakDetector.setLevel(Level.ADVANCED);

            ServeCommand.quietLeakDetector();

            assertThat(ResourceLeakDetector.getLevel()).isEqualTo(Level.ADVANCED);
        }
        finally
        {
            restore(property, level);
        }
    }

    private static void restore(final String property, final Level level)
    {
        if (property == null)
        {
            System.clearProperty(LEVEL);
        }
        else
        {
            System.setProperty(LEVEL, property);
        }
        ResourceLeakDetector.setLevel(level);
    }
}
