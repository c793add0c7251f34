package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A recorded outcome is read back from the journal at the position the sequencer remembered; the record found
 * there must be that task's, or the answer says so: never another task's output (as when the journal's files
 * were replaced under a running engine, outside check).
 */
class PublishStageReadBackTest
{
    @TempDir
    Path dir;

    @Test
    void shouldAnswerWithTheRecordedOutputOnlyWhenTheRecordThereIsTheTasks() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
        {
            engine.submit(new TaskRequest().key("x").type("echo").payload("X")).get();
        }
        final long[] succeeded = new long[3];   // document, offset, task id
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(r ->
            {
                if (r.type() == RecordType.SUCCEEDED)
                {
                    succeeded[0] = r.documentIndex();
                    succeeded[1] = r.offsetInDocument();
                    succeeded[2] = r.succeeded().taskId();
                }
            });
        }
        assertThat(succeeded[2]).isPositive();

        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader outcomes = journal.newReader())
        {
            final PublishStage stage = new PublishStage(outcomes, new ByteBudget(1 << 20), HandlerRegistry.forReplay(), query -> { });
            assertThat(answer(stage, succeeded, succeeded[2])).containsExactly("output X");
            assertThat(answer(stage, succeeded, succeeded[2] + 1)).containsExactly("error " + PublishStage.MISPLACED_OUTCOME);
        }
    }

    private static List<String> answer(final PublishStage stage, final long[] at, final long taskId)
    {
        final List<String> answers = new ArrayList<>();
        final OutcomeListener listener = outcome -> answers.add(outcome.error() != null ? "error " + outcome.error() :
            "output " + new String(outcome.output(), StandardCharsets.UTF_8));
        final RingEvent e = new RingEvent();
        final int i = e.effects.reply(Effects.REPLY_OUTCOME, listener, 1, taskId);
        e.effects.replyTask(i, TaskState.SUCCEEDED, 1, 3, at[0], (int)at[1], 0, 0, 1, 2, 3);
        e.effects.replySource(i, Effects.SOURCE_JOURNAL);
        stage.onEvent(e, 0, true);
        return answers;
    }
}
