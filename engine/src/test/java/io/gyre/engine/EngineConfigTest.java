package io.gyre.engine;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EngineConfigTest
{
    @TempDir
    Path dir;

    static Stream<Arguments> outOfRange()
    {
        return Stream.of(
            of("ringSize=1000 must be a power of two, at least 64", b -> b.ringSize(1000)),
            of("ringSize=32 must be a power of two, at least 64", b -> b.ringSize(32)),
            of("pipelineThreads=3 must be 1, 2 or 4", b -> b.pipelineThreads(3)),
            of("maxKeyBytes=0 must be in [1, 4096]", b -> b.maxKeyBytes(0)),
            of("maxPayloadBytes=-1 must be in [0, 4194304]", b -> b.maxPayloadBytes(-1)),
            of("maxInFlightBytes=10 must be in [max(maxPayloadBytes, maxOutputBytes), 2^40]", b -> b.maxInFlightBytes(10)),
            of("maxLiveTasks=0 must be in [1, 100000000]", b -> b.maxLiveTasks(0)),
            of("closeTimeout=null must be set", b -> b.closeTimeout(null)),
            of("abandonAfter=null must be set", b -> b.abandonAfter(null)),
            of("snapshotInterval=null must be set", b -> b.snapshotInterval(null)),
            of("journalRetention=null must be set", b -> b.journalRetention(null)),
            of("lowPriorityAdmissionPercent=101 must be in [1, normalPriorityAdmissionPercent=50] (admission(low, normal))", b -> b.admission(101, 50)),
            of("normalPriorityAdmissionPercent=0 must be in [1, 100] (admission(low, normal))", b -> b.admission(1, 0)),
            of("outcomeRetention=PT-1S must be between 0 and 3650 days", b -> b.outcomeRetention(Duration.ofSeconds(-1))),
            of("blockingPoolThreads=0 must be in [1, 4096]", b -> b.blockingPoolThreads(0)),
            of("defaultMaxAttempts=0 must be in [1, 1000]", b -> b.defaultMaxAttempts(0)),
            of("defaultBackoffMultiplier=0.5 must be in [1, 100]", b -> b.defaultBackoff(10, 100, 0.5f, 0f)),
            of("defaultBackoffJitter=2.0 must be in [0, 1]", b -> b.defaultBackoff(10, 100, 2f, 2f)),
            of("timerFiresPerTick=128 must be at most ringSize/16 (64)", b -> b.ringSize(1024).timerFiresPerTick(128)),
            of("timerFiresPerTick=0 must be in [1, 65536]", b -> b.timerFiresPerTick(0)),
            of("rollCycle=HOURLY_ISH is not a Chronicle Queue roll cycle; valid values: ", b -> b.rollCycle("HOURLY_ISH")),
            of("handler type=echo is registered twice", b -> b.handler(new BuiltInHandlers.Echo()).handler(new BuiltInHandlers.Echo())),
            of("cpuPoolThreads=0 must be in [1, 1024]", b -> b.cpuPoolThreads(0)),
            of("cpuPoolQueue=-1 must be in [0, 65536]", b -> b.cpuPoolQueue(-1)),
            of("cpuPoolQueue=-2147483648 must be in [0, 65536]", b -> b.cpuPoolQueue(Integer.MIN_VALUE)),
            of("blockingPoolQueue=65537 must be in [0, 65536]", b -> b.blockingPoolQueue(65537)),
            of("lowPriorityAdmissionPercent=96 must be in [1, normalPriorityAdmissionPercent=95]", b -> b.admission(96, 95)),
            of("normalPriorityAdmissionPercent=101 must be in [1, 100]", b -> b.admission(50, 101)),
            of("maxAsyncInFlight=0 must be in [1, 10000000]", b -> b.maxAsyncInFlight(0)),
            of("closeTimeout=PT-0.001S must not be negative", b -> b.closeTimeout(Duration.ofMillis(-1))),
            of("closeTimeout=PT24H0.001S must be at most PT24H", b -> b.closeTimeout(Duration.ofDays(1).plusMillis(1))),
            of("abandonAfter=PT0.099S must be at least 100 ms and at most 1 day", b -> b.abandonAfter(Duration.ofMillis(99))),
            of("maxDeadLetters=-1 must be in [0, 10000000]", b -> b.maxDeadLetters(-1)),
            of("maxDeadLetters=10000001 must be in [0, 10000000]", b -> b.maxDeadLetters(10_000_001)),
            of("handler setting timeout=5: the name must be a task type, a dot and the setting", b -> b.handlerSetting("timeout", "5")),
            of("handler settings nosuch.* name no registered task type (echo, noop)", b -> b.handlerSetting("nosuch.x", "1")),
            of("task type echo: echo.loud=yes is not a setting of echo (it has none)", b -> b.handlerSetting("echo.loud", "yes")),
            of("handler type=has space must be 1 to 64 printable ASCII characters without spaces", b -> b.handler(named("has space"))),
            of("handler type=many defaultMaxAttempts=5000 must be in [0, 1000] (0: the engine's default), as a submission's",
                b -> b.handler(limited("many", 5000, 0))),
            // an outside check found a negative default timeout or attempts refused without the field or value
            of("handler type=late defaultTimeoutMillis=-5 must not be negative (0: the engine's default)",
                b -> b.handler(timingOut("late", -5))),
            of("handler type=fewer defaultMaxAttempts=-1 must be in [0, 1000] (0: the engine's default), as a submission's",
                b -> b.handler(limited("fewer", -1, 0))),
            of("handler type=minus maxConcurrency=-1 must not be negative (0: no limit of its own)",
                b -> b.handler(limited("minus", 0, -1))),
            of("handler type=shrinking defaultBackoff: backoffMultiplier=0.5 must be in [1, 100]",
                b -> b.handler(backingOff("shrinking", () -> new Backoff(10, 100, 0.5f, 0f)))));
    }

    private static Arguments of(final String message, final Consumer<EngineConfig.Builder> setting)
    {
        return Arguments.of(message, setting);
    }

    /** A handler with these defaults of its own. */
    private static TaskHandler limited(final String type, final int defaultMaxAttempts, final int maxConcurrency)
    {
        return new TaskHandler()
        {
            @Override
            public String type()
            {
                return type;
            }

            @Override
            public int defaultMaxAttempts()
            {
                return defaultMaxAttempts;
            }

            @Override
            public int maxConcurrency()
            {
                return maxConcurrency;
            }

            @Override
            public void execute(final TaskContext context)
            {
            }
        };
    }

    /** A handler with this default timeout of its own. */
    private static TaskHandler timingOut(final String type, final int defaultTimeoutMillis)
    {
        return new TaskHandler()
        {
            @Override
            public String type()
            {
                return type;
            }

            @Override
            public int defaultTimeoutMillis()
            {
                return defaultTimeoutMillis;
            }

            @Override
            public void execute(final TaskContext context)
            {
            }
        };
    }

    /** A handler whose default backoff is what {@code backoff} makes (or throws) when asked. */
    private static TaskHandler backingOff(final String type, final java.util.function.Supplier<Backoff> backoff)
    {
        return new TaskHandler()
        {
            @Override
            public String type()
            {
                return type;
            }

            @Override
            public Backoff defaultBackoff()
            {
                return backoff.get();
            }

            @Override
            public void execute(final TaskContext context)
            {
            }
        };
    }

    private static TaskHandler named(final String type)
    {
        return limited(type, 0, 0);
    }

    /**
     * A ring the heap cannot hold is refused by name and value: an outside check found {@code ringSize(1 << 30)}
     * built, and {@code Engine.open} then threw OutOfMemoryError (each slot is an event preallocated with its buffers).
     */
    @org.junit.jupiter.api.Test
    void shouldRefuseANullClockNamingIt()
    {
        assertThatThrownBy(() -> EngineConfig.builder(dir).clock(null)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("clock=null must be set");
    }

    @org.junit.jupiter.api.Test
    void shouldRefuseARingLargerThanTheMaximumOrTheHeap()
    {
        assertThatThrownBy(() -> EngineConfig.builder(dir).ringSize(1 << 30).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("ringSize=1073741824 must be at most 1048576 (2^20)");
        assertThatThrownBy(() -> EngineConfig.builder(dir).ringSize(1 << 21).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("ringSize=2097152 must be at most 1048576 (2^20)");
        // the tests run with -Xmx2g: 2^20 slots take about 2 GiB, more than half of it; 2^19 take 1 GiB, half
        assertThat(Runtime.getRuntime().maxMemory()).isLessThan((long)EngineConfig.MAX_RING_SIZE * EngineConfig.RING_SLOT_BYTES * 2);
        assertThatThrownBy(() -> EngineConfig.builder(dir).ringSize(1 << 20).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("ringSize=1048576 needs 2.0 GiB of heap for its slots")
            .hasMessageContaining("-Xmx");
        assertThat(EngineConfig.builder(dir).ringSize(1 << 18).build().ringSize()).isEqualTo(1 << 18);
    }

    @org.junit.jupiter.api.Test
    void shouldRefuseARetainedOutcomeLimitWhoseTableTheHeapCannotHold()
    {
        // the tests run with -Xmx2g: a hundred million outcomes take 15 GiB, a million 124 MiB
        assertThat(RetainedOutcomes.bytesFor(1_000_000)).isBetween(120_000_000L, 140_000_000L);
        assertThat(Runtime.getRuntime().maxMemory()).isLessThan(RetainedOutcomes.bytesFor(100_000_000));
        assertThatThrownBy(() -> EngineConfig.builder(Path.of("j")).maxRetainedOutcomes(100_000_000).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("maxRetainedOutcomes=100000000 needs 15.0 GiB of heap")
            .hasMessageContaining("-Xmx");
        assertThat(EngineConfig.builder(Path.of("j")).maxRetainedOutcomes(1_000_000).build().maxRetainedOutcomes()).isEqualTo(1_000_000);
    }

    @org.junit.jupiter.api.Test
    void shouldRefuseAPluginsDirectoryThatIsAFileAndIgnoreOneThatDoesNotExist() throws Exception
    {
        final Path file = java.nio.file.Files.writeString(dir.resolve("plugins.txt"), "not a directory");
        assertThatThrownBy(() -> EngineConfig.builder(dir).pluginsDirectory(file).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("pluginsDirectory=" + file + " is not a directory");
        assertThat(EngineConfig.builder(dir).pluginsDirectory(dir.resolve("none")).build().handlers())
            .extracting(TaskHandler::type).containsExactlyInAnyOrder("noop", "echo");
    }

    @org.junit.jupiter.api.Test
    void shouldLetAnExplicitHandlerReplaceABuiltInOneAndHandEachItsSettings()
    {
        final java.util.Map<String, String> received = new java.util.HashMap<>();
        final TaskHandler echo = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "echo";
            }

            @Override
            public void configure(final java.util.Map<String, String> settings)
            {
                received.putAll(settings);
            }

            @Override
            public void execute(final TaskContext context)
            {
            }
        };
        final EngineConfig config = EngineConfig.builder(dir).handler(echo).handlerSetting("echo.mode", "loud").build();
        assertThat(config.handlers()).filteredOn(h -> h.type().equals("echo")).containsExactly(echo);
        assertThat(received).containsExactly(java.util.Map.entry("mode", "loud"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfRange")
    void shouldRefuseASettingOutOfRangeNamingItAndItsValue(final String message, final Consumer<EngineConfig.Builder> setting)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(dir);
        setting.accept(builder);
        assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message);
    }

    /**
     * Every ring size allowed builds with the other settings left alone: the default timer budget follows the
     * ring (an outside check found {@code gyre serve --ring-size 1024} refused over a setting it cannot set).
     */
    @ParameterizedTest
    @ValueSource(ints = {64, 128, 256, 512, 1024, 2048, 4096, 8192, 1 << 18})
    void shouldBuildEveryRingSizeWithTheDefaultTimerBudget(final int ringSize)
    {
        final EngineConfig config = EngineConfig.builder(dir).ringSize(ringSize).build();
        assertThat(config.timerFiresPerTick()).isEqualTo(Math.min(256, ringSize / 16));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 64})
    void shouldKeepAnExplicitTimerBudgetWithinTheRing(final int fires)
    {
        assertThat(EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(fires).build().timerFiresPerTick()).isEqualTo(fires);
    }

    @ParameterizedTest
    @MethodSource("outOfRange")
    void shouldBuildTheDefaultsWhateverOthersDo(final String ignored, final Consumer<EngineConfig.Builder> unused)
    {
        final EngineConfig config = EngineConfig.builder(dir).build();
        assertThat(config.ringSize()).isEqualTo(4 * 1024);
        assertThat(config.handlers()).extracting(TaskHandler::type).containsExactly("noop", "echo");
    }
}
