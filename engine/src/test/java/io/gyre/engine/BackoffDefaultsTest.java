package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The backoff a task is journaled with: its submission's, else its type's default, else the engine's.
 */
class BackoffDefaultsTest
{
    @TempDir
    Path dir;

    /** A type with a backoff of its own. */
    private static final class Patient implements TaskHandler
    {
        @Override
        public String type()
        {
            return "patient";
        }

        @Override
        public Backoff defaultBackoff()
        {
            return new Backoff(5_000, 600_000, 3f, 0.5f);
        }

        @Override
        public void execute(final TaskContext context)
        {
        }
    }

    @Test
    void shouldJournalTheSubmissionsBackoffElseTheTypesElseTheEngines() throws Exception
    {
        final EngineConfig config = EngineConfig.builder(dir).handler(new Patient()).defaultBackoff(200, 20_000, 1.5f, 0.1f).build();
        try (Engine engine = Engine.open(config))
        {
            engine.submit(new TaskRequest().key("own").type("patient").backoff(1, 10, 1f, 0f)).get(10, TimeUnit.SECONDS);
            engine.submit(new TaskRequest().key("type's").type("patient")).get(10, TimeUnit.SECONDS);
            engine.submit(new TaskRequest().key("engine's").type("noop")).get(10, TimeUnit.SECONDS);
        }
        final Map<String, String> journaled = new LinkedHashMap<>();
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                if (record.type() == RecordType.SUBMITTED)
                {
                    final SubmittedRecord.Decoder d = record.submitted();
                    journaled.put(d.buffer().getStringWithoutLengthUtf8(d.keyOffset(), d.keyLength()),
                        d.backoffInitialMillis() + " " + d.backoffMaxMillis() + " " + d.backoffMultiplier() + " " + d.backoffJitter());
                }
            });
        }
        assertThat(journaled).containsExactly(
            Map.entry("own", "1 10 1.0 0.0"),
            Map.entry("type's", "5000 600000 3.0 0.5"),
            Map.entry("engine's", "200 20000 1.5 0.1"));
    }

    @Test
    void shouldNameTheFieldOfABackoffOutOfRange()
    {
        assertThatThrownBy(() -> new Backoff(0, 10, 2f, 0f)).hasMessage("backoffInitialMillis=0 must be at least 1");
        assertThatThrownBy(() -> new Backoff(10, 9, 2f, 0f)).hasMessage("backoffMaxMillis=9 must be at least backoffInitialMillis=10");
        assertThatThrownBy(() -> new Backoff(10, 10, 101f, 0f)).hasMessage("backoffMultiplier=101.0 must be in [1, 100]");
        assertThatThrownBy(() -> new Backoff(10, 10, Float.NaN, 0f)).hasMessage("backoffMultiplier=NaN must be in [1, 100]");
        assertThatThrownBy(() -> new Backoff(10, 10, 2f, -0.1f)).hasMessage("backoffJitter=-0.1 must be in [0, 1]");
        assertThat(Backoff.DEFAULT).isEqualTo(new Backoff(100, 60_000, 2f, 0.2f));
    }
}
