package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batches that mix everything at once (inline successes, inline failures that retry or dead-letter, blocking
 * and CPU attempts, duplicates, cancels, status questions) from several producers: whatever path an inline
 * attempt takes (on the journal's thread or as an event of its own), every key gets one outcome, and the
 * journal replays to the same decisions, derived records in the order they were derived.
 */
class MixedBatchReplayTest
{
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} pipeline thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void shouldReplayMixedBatchesDeterministically(final int threads) throws Exception
    {
        final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
        final List<CompletableFuture<Outcome>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Engine engine = Engine.open(EngineConfig.builder(dir).ringSize(256).timerFiresPerTick(16).pipelineThreads(threads)
            .blockingPoolThreads(2).cpuPoolThreads(2)
            .handler(new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("doomed", 5, false, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("pooled", 1, true, ExecutionMode.BLOCKING))
            .handler(new TestHandlers.Flaky("crunch", 0, true, ExecutionMode.CPU))
            .build()))
        {
            final String[] types = {"noop", "echo", "flaky", "doomed", "pooled", "crunch"};
            final Thread[] producers = new Thread[3];
            for (int p = 0; p < producers.length; p++)
            {
                final int id = p;
                producers[p] = new Thread(() ->
                {
                    final ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < 2_000; i++)
                    {
                        final String key = "k" + random.nextInt(3_000);
                        final int pick = random.nextInt(10);
                        if (pick == 0)
                        {
                            engine.cancel(key);
                        }
                        else if (pick == 1)
                        {
                            engine.status(key);
                        }
                        else
                        {
                            final String type = types[random.nextInt(types.length)];
                            futures.add(engine.submit(new TaskRequest().key(key).type(type).payload(id + ":" + i)
                                .backoff(1, 5, 2f, 0.5f).maxAttempts(3)).whenComplete((o, t) ->
                                {
                                    if (o != null && !o.rejected())
                                    {
                                        final Outcome previous = outcomes.putIfAbsent(key, o);
                                        if (previous != null && previous.taskId() == o.taskId())
                                        {
                                            assertThat(o.state()).isEqualTo(previous.state());
                                        }
                                    }
                                }));
                        }
                    }
                }, "producer-" + p);
                producers[p].start();
            }
            for (final Thread producer : producers)
            {
                producer.join();
            }
            for (final CompletableFuture<Outcome> future : futures)
            {
                future.get(30, TimeUnit.SECONDS);
            }
            assertThat(engine.stageFailures()).isZero();
        }
        final TaskHistory history = TaskHistory.of(dir);
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsKeys(RecordType.SUCCEEDED, RecordType.FAILED, RecordType.RETRY_SCHEDULED,
            RecordType.DEAD_LETTERED, RecordType.STARTED);
        // reopened on that journal, the engine agrees with itself: nothing re-derived differently
        try (Engine again = Engine.open(EngineConfig.builder(dir).ringSize(256).timerFiresPerTick(16).pipelineThreads(threads)
            .handler(new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("doomed", 5, false, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("pooled", 1, true, ExecutionMode.BLOCKING))
            .handler(new TestHandlers.Flaky("crunch", 0, true, ExecutionMode.CPU))
            .build()))
        {
            for (final Map.Entry<String, Outcome> e : outcomes.entrySet())
            {
                final TaskStatus status = again.status(e.getKey()).get(5, TimeUnit.SECONDS);
                if (status.taskId() == e.getValue().taskId())
                {
                    assertThat(status.state()).isEqualTo(e.getValue().state());
                }
            }
        }
        assertThat(TaskHistory.of(dir)).replaysDeterministically();
    }
}
