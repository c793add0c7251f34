package io.gyre.engine.testing;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * For tests of one engine on a journal in a temporary directory: open it with some settings (a small
 * ring, a small timer fan-out), wait for outcomes, close it and read back what its journal says. The
 * engine is closed after each test.
 */
public abstract class EngineTestSupport
{
    @TempDir
    protected Path dir;

    protected Engine engine;

    @AfterEach
    void closeEngine()
    {
        if (engine != null)
        {
            engine.close();
            engine = null;
        }
    }

    protected Engine open(final Consumer<EngineConfig.Builder> settings)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16);
        settings.accept(builder);
        engine = Engine.open(builder.build());
        return engine;
    }

    protected static Outcome get(final CompletableFuture<Outcome> future) throws Exception
    {
        return future.get(15, TimeUnit.SECONDS);
    }

    /**
     * @return the journal's history, after closing the engine.
     */
    protected TaskHistory closeAndReplay()
    {
        engine.close();
        engine = null;
        return TaskHistory.of(dir);
    }
}
