package io.gyre.engine;

import io.gyre.journal.JournalProblem;
import io.gyre.journal.JvmFlags;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
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
 * Invariants 1 and 2 under real crashes: an engine in a child JVM under mixed load (inline, retried,
 * blocking and asynchronous tasks, held outcomes as waits have, attempts that time out, cancellations: see
 * {@link CrashLoadMain}) is killed with SIGKILL at a random moment, restarted on the same journal, killed
 * again, twenty times in a row. Then every task a client was told was accepted has exactly one outcome, the
 * one its kind must end with, none is lost, no task succeeded twice, no task used more attempts than its
 * policy allows, held outcomes were released at their journaled time, and the journal replays clean.
 * <p>
 * The seed is printed; rerun one with {@code -Dgyre.crash.seed=N}.
 */
class CrashRecoveryIT
{
    private static final int ROUNDS = 20;
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
                final long target = acksBefore + 2_000 + random.nextInt(20_000);
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

        int fromSnapshot = 0;
        for (int r = 0; r < ROUNDS; r++)
        {
            if (Files.readString(work.resolve("child-" + r + ".log")).contains("snapshot=SnapshotInfo["))
            {
                fromSnapshot++;
            }
        }
        System.out.println("CrashRecoveryIT: " + fromSnapshot + " of " + ROUNDS + " restarts recovered from a snapshot");
        assertThat(fromSnapshot).as("restarts that recovered from a snapshot").isPositive();

        // A kill can cut a child's write of an acknowledgement short (the kernel stops a write at a page boundary when
        // the process is killed): the key's first bytes, then the next child's first line on the same line
        // ("r12r13-0"). Such a line names no key; it is left out, and there is at most one per kill.
        final Set<String> acknowledged = new LinkedHashSet<>();
        final List<String> torn = new ArrayList<>();
        for (final String line : Files.readAllLines(acks, StandardCharsets.US_ASCII))
        {
            (line.matches("r[0-9]+-[0-9]+") ? acknowledged : torn).add(line);
        }
        assertThat(torn).as("acknowledgements cut short by the kills").hasSizeLessThanOrEqualTo(ROUNDS);
        assertThat(acknowledged).hasSizeGreaterThan(ROUNDS * 2_000);

        final List<String> heldToCancel = new ArrayList<>();
        JournalReplay.run(JournalReplay.Options.of(journal).onRecord(record ->
        {
            if (record.type() == RecordType.SUBMITTED)
            {
                final SubmittedRecord.Decoder d = record.submitted();
                final String key = d.buffer().getStringWithoutLengthAscii(d.keyOffset(), d.keyLength());
                if (CrashLoadMain.kind(index(key)) == CrashLoadMain.Kind.CANCELLED_HOLD)
                {
                    heldToCancel.add(key);
                }
            }
        }));

        // restart once more, in-process, and let everything acknowledged finish
        final Map<String, TaskStatus> statuses = new HashMap<>();
        final Set<String> deadLettered = new LinkedHashSet<>();
        try (Engine engine = Engine.open(CrashLoadMain.config(journal)))
        {
            // a child may have been killed between a submission and its cancel (or its acknowledgement): cancel
            // every such task the journal holds again (a no-op for those already cancelled)
            for (final String key : heldToCancel)
            {
                engine.cancel(key).join();
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (engine.liveTasks() > 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
            }
            if (engine.liveTasks() > 0)
            {
                final List<String> unfinished = new ArrayList<>();
                for (final String key : acknowledged)
                {
                    final TaskStatus status = engine.status(key).join();
                    if (status.found() && !status.state().terminal() && unfinished.size() < 10)
                    {
                        unfinished.add(key + " (" + CrashLoadMain.kind(index(key)) + "): " + status);
                    }
                }
                throw new AssertionError("seed " + seed + ": " + engine.liveTasks() + " tasks unfinished after 120 s, e.g. " + unfinished);
            }
            for (final String key : acknowledged)
            {
                statuses.put(key, engine.status(key).join());
            }
            // the dead-letter list survived the kills: it holds exactly the tasks whose every attempt timed out
            long cursor = 0;
            DeadLetterPage page;
            do
            {
                page = engine.deadLetters(cursor, Engine.MAX_DEAD_LETTER_PAGE).join();
                for (final DeadLetter letter : page.letters())
                {
                    assertThat(deadLettered.add(letter.keyAsString())).as("one letter per key: %s", letter).isTrue();
                    assertThat(letter.reason()).as("%s", letter).isEqualTo(DeadLetterReason.TIMED_OUT);
                    assertThat(letter.attempts()).as("%s", letter).isEqualTo(CrashLoadMain.STUCK_ATTEMPTS);
                }
                cursor = page.nextCursor();
            }
            while (page.more());
            final List<String> sample = new ArrayList<>(acknowledged);
            for (int i = 0; i < 200; i++)
            {
                final String key = sample.get(random.nextInt(sample.size()));
                final Outcome again = engine.submit(CrashLoadMain.request(new TaskRequest(), key, index(key))).join();
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
            else
            {
                final int i = index(key);
                final CrashLoadMain.Kind kind = CrashLoadMain.kind(i);
                final TaskState expected = switch (kind)
                {
                    case SUCCEEDS, HELD -> TaskState.SUCCEEDED;
                    case TIMES_OUT -> TaskState.DEAD_LETTERED;
                    case CANCELLED_HOLD -> TaskState.CANCELLED;
                };
                if (status.state() != expected)
                {
                    problems.add(key + " (" + kind + "): ended " + status.state() + " where it must end " + expected);
                }
                else if (status.attempts() > CrashLoadMain.MAX_ATTEMPTS)
                {
                    problems.add(key + ": " + status.attempts() + " attempts, more than " + CrashLoadMain.MAX_ATTEMPTS);
                }
                else if (kind == CrashLoadMain.Kind.TIMES_OUT && status.attempts() != CrashLoadMain.STUCK_ATTEMPTS)
                {
                    problems.add(key + ": timed out after " + status.attempts() + " attempts, not " + CrashLoadMain.STUCK_ATTEMPTS);
                }
                else if (kind == CrashLoadMain.Kind.HELD &&
                    status.outcome().finishedAt() < status.submittedAt() + CrashLoadMain.holdMillis(i) * 1_000_000L)
                {
                    // exactly at submission + hold when the held result was journaled before a kill; later when a
                    // kill lost the result and the attempt ran again after the hold had passed; never earlier
                    problems.add(key + ": held outcome released at " + status.outcome().finishedAt() + ", before submission + " +
                        CrashLoadMain.holdMillis(i) + " ms (" + status.submittedAt() + ")");
                }
            }
        }
        assertThat(problems).as("seed %d", seed).isEmpty();
        final Set<String> timedOut = new LinkedHashSet<>();
        acknowledged.stream().filter(key -> CrashLoadMain.kind(index(key)) == CrashLoadMain.Kind.TIMES_OUT).forEach(timedOut::add);
        assertThat(timedOut).as("seed %d", seed).isNotEmpty();
        // a task killed between its submission and its acknowledgement may be dead-lettered without being acknowledged
        assertThat(deadLettered).as("seed %d: dead letters", seed).containsAll(timedOut)
            .allSatisfy(key -> assertThat(CrashLoadMain.kind(index(key))).isEqualTo(CrashLoadMain.Kind.TIMES_OUT));

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
        final Map<CrashLoadMain.Kind, Long> byKind = new java.util.TreeMap<>();
        acknowledged.forEach(key -> byKind.merge(CrashLoadMain.kind(index(key)), 1L, Long::sum));
        System.out.println("CrashRecoveryIT acknowledged=" + acknowledged.size() + " by kind " + byKind + " tasks=" + terminalTransitions.size() +
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

    /** @return the index i of key "r{round}-{i}". */
    private static int index(final String key)
    {
        return Integer.parseInt(key.substring(key.indexOf('-') + 1));
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
