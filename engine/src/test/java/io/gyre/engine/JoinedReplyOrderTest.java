package io.gyre.engine;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A submission that joins a task hears ACCEPTED before the task's outcome, also when both submissions of the key
 * land in one batch and the task's inline attempt finishes in that batch (its result is applied after the whole
 * batch, so before the joining submission's own event is published).
 */
class JoinedReplyOrderTest
{
    private static final int KEYS = 2000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} stage threads")
    @ValueSource(ints = {1, 2, 4})
    void shouldAcceptAJoiningSubmissionBeforeItsOutcome(final int stageThreads)
    {
        final Recorder recorder = new Recorder();
        try (Engine engine = Engine.open(EngineConfig.builder(dir).pipelineThreads(stageThreads).build()))
        {
            final TaskRequest request = new TaskRequest();
            for (int k = 0; k < KEYS; k++)
            {
                // the same key twice, back to back: the second joins the task the first created
                engine.submit(request.clear().key("k-" + k).type("echo").payload("{\"k\":" + k + "}").correlationId(2L * k), recorder);
                engine.submit(request.clear().key("k-" + k).type("echo").payload("{\"other\":true}").correlationId(2L * k + 1), recorder);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> recorder.outcomes.size() == 2 * KEYS);
        }

        final List<String> events = recorder.events;
        final Map<Long, Integer> acceptedAt = new HashMap<>();
        final Map<Long, Integer> outcomeAt = new HashMap<>();
        for (int i = 0; i < events.size(); i++)
        {
            final String[] words = events.get(i).split(" ");
            (words[0].equals("accepted") ? acceptedAt : outcomeAt).merge(Long.parseLong(words[1]), i, (a, b) -> -1);
        }
        assertThat(outcomeAt).hasSize(2 * KEYS).doesNotContainValue(-1);
        assertThat(acceptedAt).doesNotContainValue(-1);
        final long joinedInOneBatch = acceptedAt.keySet().stream().filter(c -> c % 2 == 1).count();
        assertThat(joinedInOneBatch).as("second submissions that joined rather than found a recorded outcome").isPositive();
        acceptedAt.forEach((correlation, at) -> assertThat(at).as("ACCEPTED of correlation %d before its outcome", correlation)
            .isLessThan(outcomeAt.get(correlation)));
        for (final Outcome o : recorder.outcomes)
        {
            // a joiner hears the task's outcome, read back from the journal: the first submission's output
            assertThat(o.state()).isEqualTo(TaskState.SUCCEEDED);
            assertThat(o.outputAsString()).isEqualTo("{\"k\":" + o.correlationId() / 2 + "}");
        }
    }
}
