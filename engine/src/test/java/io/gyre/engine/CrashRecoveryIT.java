package io.gyre.engine;

import io.gyre.journal.JournalProblem;
import io.gyre.journal.JvmFlags;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Invariants 1 and 2 under real crashes: an engine in a child JVM under load (inline, retried and blocking
 * tasks) is killed with SIGKILL at a random moment, restarted on the same journal, killed again, several
 * times. Then every task a client was told was accepted has exactly one outcome, none is lost, no task
 * succeeded twice, no task used more attempts than allowed, and the journal replays clean.
 * <p>
 * The seed is printed; rerun one with {@code -Dgyre.crash.seed=N}.
 */
class CrashRecoveryIT
{
    private static final int ROUNDS = 5;
    private static final int TASKS_PER_ROUND = 400_000;

    @TempDir
    Path work;

    @Test
    void everyAcknowledgedTaskHasExactlyOneOutcomeAfterRepeatedKills() throws Exception
    {
        final long seed = Long.getLong("gyre.crash.seed", System.nanoTime());
        System.out.println("CrashRecoveryIT seed=" + seed);
        final Random random = new Random(seed);
        final Path journal = work.resolve("journal");
        final Path acks = work.resolve("acks.log");

        for (int r = 0; r < ROUNDS; r++)
        {
            final int round = r;
            final Path log = work.resolve("child-" + round + ".log");
            final Process child = startChild(journal, round, acks, log);
            try
            {
                await("child round " + round + " ready").atMost(Duration.ofSeconds(60))
                    .until(() -> Files.exists(log) && Files.readString(log).contains("ready round=" + round));
                final long acksBefore = lineCount(acks);
                final long target = acksBefore + 2_000 + random.nextInt(40_000);
                await("child round " + round + " acknowledged tasks").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> !child.isAlive() || lineCount(acks) >= target);
                assertThat(child.isAlive()).as("child of round %d alive until killed; its log:%n%s", round, Files.readString(log)).isTrue();
                Thread.sleep(random.nextInt(50));
            }
            finally
            {
                child.destroyForcibly();                     // SIGKILL on Linux
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
        }

        final Set<String> acknowledged = new LinkedHashSet<>(Files.readAllLines(acks, StandardCharsets.US_ASCII));
        assertThat(acknowledged).hasSizeGreaterThan(ROUNDS * 2_000);

        // restart once more, in-process, and let everything acknowledged finish
        final Map<String, TaskStatus> statuses = new HashMap<>();
        try (Engine engine = Engine.open(CrashLoadMain.config(journal)))
        {
            await("every recovered task finished").atMost(Duration.ofSeconds(120)).until(() -> engine.liveTasks() == 0);
            for (final String key : acknowledged)
            {
                statuses.put(key, engine.status(key).join());
            }
            final List<String> sample = new ArrayList<>(acknowledged);
            for (int i = 0; i < 200; i++)
            {
                final String key = sample.get(random.nextInt(sample.size()));
                final int index = Integer.parseInt(key.substring(key.indexOf('-') + 1));
                final Outcome again = engine.submit(CrashLoadMain.request(new TaskRequest(), key, index)).join();
                assertThat(again.duplicate()).as("resubmitted %s", key).isTrue();
                assertThat(again.taskId()).isEqualTo(statuses.get(key).taskId());
                assertThat(again.state()).isEqualTo(statuses.get(key).state());
            }
        }

        final List<String> problems = new ArrayList<>();
        for (final String key : acknowledged)
        {
            final TaskStatus status = statuses.get(key);
            if (!status.found())
            {
                problems.add(key + ": lost (no task for an acknowledged key)");
            }
            else if (!status.state().terminal())
            {
                problems.add(key + ": not finished: " + status);
            }
            else if (status.state() != TaskState.SUCCEEDED)
            {
                problems.add(key + ": ended " + status.state() + ", but every task of this test succeeds within its attempts");
            }
            else if (status.attempts() > CrashLoadMain.MAX_ATTEMPTS)
            {
                problems.add(key + ": " + status.attempts() + " attempts, more than " + CrashLoadMain.MAX_ATTEMPTS);
            }
        }
        assertThat(problems).as("seed %d", seed).isEmpty();

        // the journal: every task reaches a final state exactly once, succeeds at most once, and replays clean
        final Map<Long, Integer> terminalTransitions = new HashMap<>();
        final Map<Long, Integer> succeededRecords = new HashMap<>();
        final JournalReplay.Report report = JournalReplay.run(JournalReplay.Options.of(journal)
            .onTransition((taskId, from, to, attempt, timestamp) ->
            {
                if (to.terminal())
                {
                    terminalTransitions.merge(taskId, 1, Integer::sum);
                }
                assertThat(attempt).as("task %d attempt", taskId).isLessThanOrEqualTo(CrashLoadMain.MAX_ATTEMPTS);
            })
            .onRecord(record ->
            {
                if (record.type() == RecordType.SUCCEEDED)
                {
                    succeededRecords.merge(record.succeeded().taskId(), 1, Integer::sum);
                }
            }));
        assertThat(report.problems()).as("journal problems").noneMatch(p -> p.kind() == JournalProblem.Kind.CORRUPTION);
        assertThat(report.derivedMismatches()).as("derived records re-derived differently: %s", report.firstMismatch()).isZero();
        assertThat(report.corrupted()).isFalse();
        assertThat(succeededRecords).as("tasks with more than one SUCCEEDED record").allSatisfy((task, count) -> assertThat(count).isEqualTo(1));
        assertThat(terminalTransitions).as("tasks that ended more than once").allSatisfy((task, count) -> assertThat(count).isEqualTo(1));
        for (final TaskStatus status : statuses.values())
        {
            assertThat(terminalTransitions.get(status.taskId())).as("final transitions of task %d", status.taskId()).isEqualTo(1);
        }
        System.out.println("CrashRecoveryIT acknowledged=" + acknowledged.size() + " tasks=" + terminalTransitions.size() +
            " records=" + report.records() + " problems=" + report.problems());
    }

    private static Process startChild(final Path journal, final int round, final Path acks, final Path log) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JvmFlags.REQUIRED);
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(CrashLoadMain.class.getName());
        command.add(journal.toString());
        command.add(Integer.toString(round));
        command.add(acks.toString());
        command.add(Integer.toString(TASKS_PER_ROUND));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long lineCount(final Path file) throws IOException
    {
        if (!Files.exists(file))
        {
            return 0;
        }
        final byte[] bytes = Files.readAllBytes(file);
        long lines = 0;
        for (final byte b : bytes)
        {
            if (b == '\n')
            {
                lines++;
            }
        }
        return lines;
    }
}
