package io.gyre.ingress.cli;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import io.gyre.journal.RecordType;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gyre replay}, run in-process against journals written by a real engine, then torn, corrupted,
 * or not journals at all.
 */
class ReplayCommandTest
{
    private static final String MARKER = "corrupt-me-please";
    private static final Pattern COUNT_LINE = Pattern.compile("^  ([A-Z_]+) +([0-9,]+)$");

    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------------------------
    // A journal from a real engine

    @Test
    void shouldSummarizeAJournalAsTheEngineWroteIt() throws Exception
    {
        writeJournal(dir);
        final Map<String, String> before = snapshot(dir);

        final Result result = run("replay", "--journal", dir.toString());

        assertThat(result.exitCode).as(result.toString()).isZero();
        assertThat(result.out).contains("journal:     " + dir.toAbsolutePath().normalize());
        final Map<String, Long> records = counts(result.out, "records:");
        assertThat(records)
            .containsEntry("SUBMITTED", 14L)
            .containsEntry("FAILED", 6L)
            .containsEntry("STARTED", 1L)
            .containsEntry("ENGINE_STARTED", 1L)
            .containsEntry("CANCEL_REQUESTED", 1L)
            .containsEntry("CANCELLED", 1L)
            .containsEntry("DEAD_LETTERED", 1L)
            .containsEntry("RETRY_SCHEDULED", 2L)
            .containsEntry("SUCCEEDED", 10L)
            .containsKey("TICK");
        assertThat(counts(result.out, "tasks:")).containsExactly(
            Map.entry("SUCCEEDED", 10L), Map.entry("FAILED", 2L), Map.entry("CANCELLED", 1L), Map.entry("DEAD_LETTERED", 1L));
        assertThat(result.out)
            .contains("tasks:       14 known")
            .containsPattern("replayed: +from the start, in [0-9,]+ ms \\([0-9,]+ records/s\\)")
            .containsPattern("first: +index 0x[0-9a-f]+, event 1, 20[0-9-]+T[0-9:.]+Z")
            .containsPattern("last: +index 0x[0-9a-f]+, event [0-9]+, 20")
            .contains("torn tail:   none")
            .containsPattern("derived: +[1-9][0-9]* verified, 0 mismatched")
            .contains("problems:    none")
            .contains("verdict:     ok");
        assertThat(result.err).doesNotContain("gyre replay:");
        assertThat(snapshot(dir)).as("replay changes nothing in the journal").isEqualTo(before);

        assertThat(run("replay", "--journal", dir.toString(), "--verify").exitCode).isZero();
    }

    @Test
    void shouldReplayFromASnapshotOnceRetentionDeletedTheJournalsFirstFiles() throws Exception
    {
        final EngineConfig config = EngineConfig.builder(dir).rollCycle("TEST_SECONDLY").ringSize(1024).timerFiresPerTick(16)
            .maxRetainedOutcomes(4).outcomeRetention(java.time.Duration.ofMillis(200)).snapshotsKept(1)
            .journalRetention(java.time.Duration.ZERO).build();
        try (Engine engine = Engine.open(config))
        {
            final long end = System.nanoTime() + 2_500_000_000L;
            for (int i = 0; System.nanoTime() < end; i++)
            {
                engine.submit(new TaskRequest().key("k" + i).type("echo").payload("v" + i)).get(10, TimeUnit.SECONDS);
                Thread.sleep(20);
            }
            assertThat(engine.snapshot().get(10, TimeUnit.SECONDS).journalFilesDeleted()).isPositive();
            engine.submit(new TaskRequest().key("after").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
        }

        final Result full = run("replay", "--journal", dir.toString(), "--roll-cycle", "TEST_SECONDLY", "--verify");
        assertThat(full.out).as(full.toString()).contains("its first files were deleted by retention").contains("--snapshot latest");
        // the tasks before the first record left are unknown: its derived records are not checked, nor called a mismatch,
        // and the counts say whose they are (an outside check saw "DERIVED MISMATCH" listed, then "verdict: ok")
        assertThat(full.exitCode).as(full.toString()).isZero();
        assertThat(full.out).containsPattern("derived: +not checked \\([0-9,]+ matched, [0-9,]+ did not\\): the tasks and settings before event [0-9]+ went with the deleted files")
            .containsPattern("tasks: +[0-9,]+ known \\(submitted from event [0-9]+ on: earlier ones are unknown to this replay\\)")
            .contains("problems:    none")
            .doesNotContain("DERIVED MISMATCH");

        final Result fromSnapshot = run("replay", "--journal", dir.toString(), "--roll-cycle", "TEST_SECONDLY",
            "--snapshot", "latest", "--verify");
        assertThat(fromSnapshot.exitCode).as(fromSnapshot.toString()).isZero();
        assertThat(fromSnapshot.out).containsPattern("replayed: +from snapshot snapshot-[0-9]{20}\\.gsnap \\(records up to event [0-9]+\\)")
            .containsPattern("derived: +[0-9]+ verified, 0 mismatched")
            .contains("verdict:     ok");
        // the records line counts the records after the snapshot, as the counts by type do
        final java.util.regex.Matcher records = java.util.regex.Pattern.compile("records: +([0-9,]+) in").matcher(fromSnapshot.out);
        assertThat(records.find()).isTrue();
        final java.util.regex.Matcher first = java.util.regex.Pattern.compile("first: +index 0x[0-9a-f]+, event ([0-9]+)").matcher(fromSnapshot.out);
        final java.util.regex.Matcher last = java.util.regex.Pattern.compile("last: +index 0x[0-9a-f]+, event ([0-9]+)").matcher(fromSnapshot.out);
        assertThat(first.find() && last.find()).as(fromSnapshot.out).isTrue();
        assertThat(Long.parseLong(records.group(1).replace(",", ""))).as(fromSnapshot.out)
            .isEqualTo(Long.parseLong(last.group(1)) - Long.parseLong(first.group(1)) + 1);

        // a bare file name is looked for in the journal's snapshots directory
        final String newest;
        try (var files = Files.list(dir.resolve("snapshots")))
        {
            newest = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".gsnap")).sorted().reduce((a, b) -> b).orElseThrow();
        }
        final Result byName = run("replay", "--journal", dir.toString(), "--roll-cycle", "TEST_SECONDLY", "--snapshot", newest);
        assertThat(byName.exitCode).as(byName.toString()).isZero();
        assertThat(byName.out).contains("from snapshot " + newest);

        final Path damaged = dir.resolve("snapshots").resolve("snapshot-00000000000000000001.gsnap");
        Files.write(damaged, "not a snapshot, and long enough to have a header: 0123456789 0123456789 0123456789".getBytes(StandardCharsets.UTF_8));
        final Result bad = run("replay", "--journal", dir.toString(), "--roll-cycle", "TEST_SECONDLY", "--snapshot", damaged.toString());
        assertThat(bad.exitCode).isNotZero();
        assertThat(bad.err).contains("no usable snapshot").contains("bad magic");

        final Result missing = run("replay", "--journal", dir.toString(), "--snapshot", "snapshot-00000000000000000002.gsnap");
        assertThat(missing.exitCode).isEqualTo(1);
        assertThat(missing.err).contains("gyre replay: no snapshot snapshot-00000000000000000002.gsnap (looked for it as given, and in " +
            dir.resolve("snapshots") + ")");

        final Result both = run("replay", "--journal", dir.toString(), "--snapshot", "latest", "--from", "0");
        assertThat(both.exitCode).isNotZero();
        assertThat(both.err).contains("--from and --snapshot cannot be used together");
    }

    @Test
    void shouldNotApplyASnapshotOfAnotherJournal() throws Exception
    {
        final Path other = dir.resolveSibling(dir.getFileName() + "-other");
        for (final Path journal : List.of(other, dir))
        {
            try (Engine engine = Engine.open(EngineConfig.builder(journal).ringSize(1024).timerFiresPerTick(16).build()))
            {
                for (int i = 0; i < (journal == other ? 300 : 100); i++)
                {
                    engine.submit(new TaskRequest().key("k" + i).type("echo").payload("v" + i)).get(10, TimeUnit.SECONDS);
                }
                engine.snapshot().get(10, TimeUnit.SECONDS);
            }
        }
        // this journal's snapshots replaced by the other's, taken at a record this journal does not have
        try (var files = Files.list(dir.resolve("snapshots")))
        {
            for (final Path file : files.toList())
            {
                Files.delete(file);
            }
        }
        try (var files = Files.list(other.resolve("snapshots")))
        {
            for (final Path file : files.toList())
            {
                Files.copy(file, dir.resolve("snapshots").resolve(file.getFileName()));
            }
        }
        final Result foreign = run("replay", "--journal", dir.toString(), "--snapshot", "latest", "--verify");
        assertThat(foreign.exitCode).as(foreign.toString()).isNotZero();
        assertThat(foreign.err).contains("no usable snapshot").contains("a snapshot of another journal, or taken past");
        assertThat(foreign.out).doesNotContain("CORRUPTED");

        final Result full = run("replay", "--journal", dir.toString(), "--verify");
        assertThat(full.exitCode).as(full.toString()).isZero();
        assertThat(full.out).contains("verdict:     ok");
    }

    @Test
    void shouldPrintEveryRecordOnOneReadableLine() throws Exception
    {
        writeJournal(dir);

        final Result result = run("replay", "--journal", dir.toString(), "--print");

        assertThat(result.exitCode).as(result.toString()).isZero();
        final long total = counts(result.out, "records:").values().stream().mapToLong(Long::longValue).sum();
        final List<String> lines = result.out.lines().filter(l -> l.startsWith("0x")).toList();
        assertThat(lines).hasSize((int)total);
        for (final String type : counts(result.out, "records:").keySet())
        {
            assertThat(lines).as(type).anySatisfy(line -> assertThat(line).contains(" " + type));
        }
        assertThat(lines).allSatisfy(line ->
            assertThat(line).matches("0x[0-9a-f]+\\+[0-9]+ event=[0-9]+ time=20[0-9-]+T[0-9:.]+Z [A-Z_]+.*"));
        assertThat(lines.get(0)).contains("event=1 ").contains("ENGINE_STARTED").contains("settings={");
        assertThat(lines).anySatisfy(line -> assertThat(line)
            .contains("SUBMITTED key=\"e1\" type=\"echo\" tenant=\"\" payload=\"{\\\"n\\\":1}\""));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("SUBMITTED key=\"bin\"").contains("payload=hex:00ff7f10"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("SUBMITTED key=\"long\"")
            .contains("payload=\"" + "x".repeat(RecordFormat.MAX_BYTES_SHOWN) + "\"...(5000 bytes)"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("FAILED task=").contains("kind=PERMANENT")
            .contains("message=\"boom: b1\""));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("RETRY_SCHEDULED task=").contains("reason=1(after-failure)")
            .contains("dueAt=20"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("DEAD_LETTERED task=").contains("(permanent-failure)"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("CANCELLED task=").contains("(was-running)"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("CANCEL_REQUESTED key=\"w1\""));
    }

    @Test
    void shouldReplayFromAGivenIndexSkippingEarlierRecords() throws Exception
    {
        writeJournal(dir);
        final List<Long> documents = new ArrayList<>();
        long recordsBefore = 0;
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                if (documents.isEmpty() || documents.get(documents.size() - 1) != record.documentIndex())
                {
                    documents.add(record.documentIndex());
                }
            });
        }
        assertThat(documents).hasSizeGreaterThan(3);
        final long from = documents.get(documents.size() / 2);
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            final long[] before = {0};
            reader.readToEnd(record ->
            {
                if (record.documentIndex() < from)
                {
                    before[0]++;
                }
            });
            recordsBefore = before[0];
        }
        final Result all = run("replay", "--journal", dir.toString());
        final long total = counts(all.out, "records:").values().stream().mapToLong(Long::longValue).sum();

        final Result result = run("replay", "--journal", dir.toString(), "--from", "0x" + Long.toHexString(from), "--print");

        assertThat(result.exitCode).as(result.toString()).isZero();
        assertThat(result.out).contains("replayed:    from index 0x" + Long.toHexString(from))
            .containsPattern("first: +index 0x" + Long.toHexString(from) + ",");
        final List<String> lines = result.out.lines().filter(l -> l.startsWith("0x")).toList();
        assertThat(lines).hasSize((int)(total - recordsBefore))
            .allSatisfy(line -> assertThat(Long.parseUnsignedLong(line.substring(2, line.indexOf('+')), 16)).isGreaterThanOrEqualTo(from));
        assertThat(counts(result.out, "records:").values().stream().mapToLong(Long::longValue).sum()).isEqualTo(total - recordsBefore);

        assertThat(result.out).contains("derived:     not checked").contains("verdict:     ok");

        final Result decimal = run("replay", "--journal", dir.toString(), "--from", Long.toString(from), "--verify");
        assertThat(decimal.exitCode).as(decimal.toString()).isZero();
        assertThat(decimal.out).containsPattern("first: +index 0x" + Long.toHexString(from) + ",");
    }

    @Test
    void shouldReplayWhileAnEngineHasTheJournalOpen() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).build()))
        {
            for (int i = 0; i < 20; i++)
            {
                await(engine.submit(new TaskRequest().key("k" + i).type("noop")));
            }

            final Result result = run("replay", "--journal", dir.toString(), "--verify");

            assertThat(result.exitCode).as(result.toString()).isZero();
            assertThat(counts(result.out, "records:")).containsEntry("SUBMITTED", 20L).containsEntry("SUCCEEDED", 20L);
            assertThat(counts(result.out, "tasks:")).containsExactly(Map.entry("SUCCEEDED", 20L));
            await(engine.submit(new TaskRequest().key("after").type("noop")));
        }
        assertThat(counts(run("replay", "--journal", dir.toString()).out, "records:")).containsEntry("SUBMITTED", 21L);
    }

    @Test
    void shouldReportProgressOnStandardError() throws Exception
    {
        writeJournal(dir);

        final Result result = run("replay", "--journal", dir.toString(), "--progress-every", "5");

        assertThat(result.exitCode).isZero();
        assertThat(result.err.lines().filter(l -> l.startsWith("replay: ")).toList())
            .hasSizeGreaterThan(3)
            .first().asString().matches("replay: 5 records, [0-9,]+ records/s, at index 0x[0-9a-f]+ of 0x[0-9a-f]+ \\(20.*Z\\)");
        assertThat(result.out).doesNotContain("replay: ");
    }

    // ------------------------------------------------------------------------------------------------
    // Torn tails and corruption

    @Test
    void shouldShowHowEachEngineRunEndedAndWhatItLeft() throws Exception
    {
        final Waiting waiting = new Waiting();
        final Engine first = Engine.open(EngineConfig.builder(dir).handler(waiting).closeTimeout(java.time.Duration.ofMillis(50)).build());
        final long task = first.submit(new TaskRequest().key("w").type("wait")).thenApply(Outcome::taskId).getNow(-1L);
        assertThat(waiting.running.await(15, TimeUnit.SECONDS)).isTrue();
        final io.gyre.engine.StopReport left = first.stop();
        assertThat(left.running()).isEqualTo(1);
        final long taskId = left.interrupted().get(0).taskId();
        assertThat(task).isEqualTo(-1L);                        // never answered: the task carries on in the next run

        final TaskHandler quick = new TaskHandler()
        {
            @Override
            public String type()
            {
                return "wait";
            }

            @Override
            public void execute(final TaskContext context)
            {
                context.succeed(0);
            }
        };
        try (Engine second = Engine.open(EngineConfig.builder(dir).handler(quick).build()))
        {
            assertThat(await(second.submit(new TaskRequest().key("w").type("wait"))).taskId()).isEqualTo(taskId);
            final Result open = run("replay", "--journal", dir.toString(), "--print");
            assertThat(open.exitCode).as(open.toString()).isZero();
            final List<String> runs = section(open.out, "runs:");
            assertThat(open.out).contains("runs:        2");
            assertThat(runs).hasSize(2);
            assertThat(runs.get(0)).matches("  1 started 20[0-9-]+T[0-9:.]+Z \\(event 1, pid [0-9]+, version [^)]+\\): stopped cleanly "
                + "\\(stop began 20[0-9-]+T[0-9:.]+Z, deadline 20[0-9-]+T[0-9:.]+Z reached\\): left 1 running \\(interrupted at the "
                + "deadline: task " + taskId + " attempt 1\\), 0 pending, 0 waiting to retry, 0 holding an outcome; they carry on after "
                + "the next start");
            assertThat(runs.get(1)).matches("  2 started .*: no stop record \\(still running, or it crashed\\)");
            assertThat(open.out.lines().filter(l -> l.startsWith("0x") && l.contains(" ENGINE_STOP ")).toList()).satisfiesExactly(
                line -> assertThat(line).matches(".* ENGINE_STOP phase=stopping beganAt=20[^ ]+Z deadline=20[^ ]+Z"),
                line -> assertThat(line).matches(".* ENGINE_STOP phase=stopped beganAt=20[^ ]+Z deadline=20[^ ]+Z finishedInTime=false "
                    + "pending=0 running=1 retryWaiting=0 held=0 interrupted=\\[task " + taskId + " attempt 1\\]"));
        }

        final Result closed = run("replay", "--journal", dir.toString(), "--verify");
        assertThat(closed.exitCode).as(closed.toString()).isZero();
        assertThat(section(closed.out, "runs:")).satisfiesExactly(
            line -> assertThat(line).startsWith("  1 started ").contains("): left 1 running"),
            line -> assertThat(line).startsWith("  2 started ")
                .endsWith(": stopped cleanly (stop began " + line.substring(line.indexOf("(stop began ") + 12, line.indexOf(", everything"))
                    + ", everything running finished before the deadline): nothing left"));
    }

    @Test
    void shouldTellRunsThatCrashedFromOnesStillGoing() throws Exception
    {
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final io.gyre.journal.JournalWriter writer = journal.writer();
            final long t0 = 1_763_856_000_000_000_000L;
            engineStarted(writer, t0, 11);
            engineStarted(writer, t0 + 1_000_000_000L, 12);
            stopping(writer, t0 + 2_000_000_000L);
            engineStarted(writer, t0 + 3_000_000_000L, 13);
            stopping(writer, t0 + 4_000_000_000L);
        }
        final Result result = run("replay", "--journal", dir.toString());
        assertThat(result.exitCode).as(result.toString()).isZero();
        assertThat(section(result.out, "runs:")).containsExactly(
            "  1 started 2025-11-23T00:00:00Z (event 1, pid 11, version test): crashed: no stop record before the next start "
                + "(killed, or its stop could not be recorded)",
            "  2 started 2025-11-23T00:00:01Z (event 2, pid 12, version test): crashed while stopping (stop began "
                + "2025-11-23T00:00:02Z): no stop record before the next start",
            "  3 started 2025-11-23T00:00:03Z (event 4, pid 13, version test): stopping since 2025-11-23T00:00:04Z, no stop record "
                + "yet (still stopping, or it crashed)");
    }

    private static void engineStarted(final io.gyre.journal.JournalWriter writer, final long time, final int pid)
    {
        final int offset = writer.claim(256);
        final io.gyre.journal.EngineStartedRecord.Encoder encoder = new io.gyre.journal.EngineStartedRecord.Encoder()
            .wrap(writer.buffer(), offset).pid(pid).engineVersion("test");
        writer.commit(RecordType.ENGINE_STARTED, 0, time, encoder.frameLength());
        writer.flush();
    }

    private static void stopping(final io.gyre.journal.JournalWriter writer, final long time)
    {
        final int offset = writer.claim(io.gyre.journal.EngineStopRecord.frameLength(0));
        final io.gyre.journal.EngineStopRecord.Encoder encoder = new io.gyre.journal.EngineStopRecord.Encoder()
            .wrap(writer.buffer(), offset).phase(io.gyre.journal.EngineStopRecord.PHASE_STOPPING).beganAt(time).deadline(time + 10_000_000_000L);
        writer.commit(RecordType.ENGINE_STOP, 0, time, encoder.frameLength());
        writer.flush();
    }

    /**
     * @return the indented lines under a summary heading.
     */
    private static List<String> section(final String out, final String heading)
    {
        final List<String> lines = new ArrayList<>();
        boolean inside = false;
        for (final String line : out.lines().toList())
        {
            if (line.startsWith(heading))
            {
                inside = true;
                continue;
            }
            if (inside)
            {
                if (!line.startsWith("  "))
                {
                    break;
                }
                lines.add(line);
            }
        }
        return lines;
    }

    @Test
    void shouldReportATornTailLeftByACrashedWriterAndStillVerify() throws Exception
    {
        writeJournal(dir);
        crashMidDocument(dir);

        final Result result = run("replay", "--journal", dir.toString(), "--verify");

        assertThat(result.exitCode).as(result.toString()).isZero();
        assertThat(result.out)
            .containsPattern("torn tail: +an unfinished document after the last one, [0-9]+ bytes \\(a document was left unfinished")
            .contains("not recovered yet")
            .contains("problems:    none")
            .contains("verdict:     ok");
        assertThat(counts(result.out, "tasks:")).containsEntry("SUCCEEDED", 10L);

        // an engine opening the journal discards the tail; replay then says it was recovered
        Engine.open(EngineConfig.builder(dir).build()).close();
        final Result recovered = run("replay", "--journal", dir.toString(), "--verify", "--print");
        assertThat(recovered.exitCode).as(recovered.toString()).isZero();
        assertThat(recovered.out)
            .containsPattern("torn tail: +an unfinished document after the last one, [0-9]+ bytes; recovered: ")
            .contains("JOURNAL_RECOVERED tornDocument=unfinished")
            .contains("verdict:     ok");
    }

    @Test
    void shouldReportBadBytesAtTheEndOfTheLastDocumentAsATornTail() throws Exception
    {
        writeJournal(dir);
        final byte[] record = lastRecord(dir);
        record[record.length - 1] ^= 0x5A;
        appendDocument(dir, record);

        final Result result = run("replay", "--journal", dir.toString(), "--verify");

        assertThat(result.exitCode).as(result.toString()).isZero();
        assertThat(result.out)
            .containsPattern("torn tail: +document 0x[0-9a-f]+ offset 0, [0-9]+ bytes \\(checksum mismatch")
            .contains("verdict:     ok");
    }

    @Test
    void shouldFailVerificationOfACorruptedJournalAndNameTheProblem() throws Exception
    {
        writeJournal(dir);
        flipByteOf(dir, MARKER);

        final Result verified = run("replay", "--journal", dir.toString(), "--verify");

        assertThat(verified.exitCode).as(verified.toString()).isEqualTo(ReplayCommand.EXIT_CORRUPTED);
        assertThat(verified.out)
            .containsPattern("problems: +[1-9]")
            .containsPattern("  CORRUPTION at document 0x[0-9a-f]+ offset [0-9]+, [0-9]+ bytes: checksum mismatch")
            .contains("torn tail:   none")
            .contains("verdict:     CORRUPTED");
        assertThat(verified.err).contains("gyre replay: journal " + dir + " is corrupted: CORRUPTION at document")
            .contains("checksum mismatch");

        final Result unverified = run("replay", "--journal", dir.toString());
        assertThat(unverified.exitCode).as(unverified.toString()).isZero();
        assertThat(unverified.out).contains("checksum mismatch").contains("verdict:     CORRUPTED");
    }

    // ------------------------------------------------------------------------------------------------
    // Bad input

    @Test
    void shouldRefuseADirectoryThatDoesNotExistWithoutCreatingIt()
    {
        final Path missing = dir.resolve("nowhere");

        final Result result = run("replay", "--journal", missing.toString());

        assertThat(result.exitCode).isEqualTo(ReplayCommand.EXIT_ERROR);
        assertThat(result.err).contains("gyre replay: no journal at " + missing + ": the directory does not exist");
        assertThat(result.out).isEmpty();
        assertThat(missing).doesNotExist();
    }

    @Test
    void shouldRefuseADirectoryThatIsNotAJournalWithoutChangingIt() throws Exception
    {
        Files.writeString(dir.resolve("notes.txt"), "not a journal");
        final Map<String, String> before = snapshot(dir);

        final Result result = run("replay", "--journal", dir.toString());

        assertThat(result.exitCode).isEqualTo(ReplayCommand.EXIT_ERROR);
        assertThat(result.err).contains("no journal at " + dir + ": it holds no Chronicle Queue files");
        assertThat(result.out).isEmpty();
        assertThat(snapshot(dir)).isEqualTo(before);

        final Result file = run("replay", "--journal", dir.resolve("notes.txt").toString());
        assertThat(file.exitCode).isEqualTo(ReplayCommand.EXIT_ERROR);
        assertThat(file.err).contains("it is not a directory");
    }

    @Test
    void shouldRefuseABadFromIndex() throws Exception
    {
        writeJournal(dir);
        final Map<String, String> before = snapshot(dir);

        final Result notANumber = run("replay", "--journal", dir.toString(), "--from", "twelve");
        assertThat(notANumber.exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(notANumber.err).contains("Invalid value for option '--from'", "'twelve' is not a document index");

        final Result negative = run("replay", "--journal", dir.toString(), "--from", "-5");
        assertThat(negative.exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(negative.err).contains("'-5' is not a document index: it is negative");

        final Result absent = run("replay", "--journal", dir.toString(), "--from", "0x7fff00000000");
        assertThat(absent.exitCode).isEqualTo(ReplayCommand.EXIT_ERROR);
        assertThat(absent.err).containsPattern("index 0x7fff00000000 \\([0-9]+\\) is not in the journal at .*: it holds documents 0x[0-9a-f]+ to 0x[0-9a-f]+");
        assertThat(absent.out).isEmpty();
        assertThat(snapshot(dir)).isEqualTo(before);
    }

    @Test
    void shouldRefuseAnUnknownRollCycleListingTheValidOnes() throws Exception
    {
        writeJournal(dir);
        final Map<String, String> before = snapshot(dir);

        final Result result = run("replay", "--journal", dir.toString(), "--roll-cycle", "FORTNIGHTLY");

        assertThat(result.exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(result.err).contains("Invalid value for option '--roll-cycle': 'FORTNIGHTLY' is not a roll cycle; valid values: ")
            .contains("FAST_DAILY", "FAST_HOURLY");
        assertThat(result.out).isEmpty();
        assertThat(snapshot(dir)).isEqualTo(before);

        final Result hourly = run("replay", "--journal", dir.toString(), "--roll-cycle", "FAST_HOURLY");
        assertThat(hourly.exitCode).as("a valid roll cycle other than the journal's: Chronicle uses the journal's").isZero();
        assertThat(hourly.out).contains("SUBMITTED");
    }

    /**
     * The summary names the roll cycle the journal was written with, which Chronicle reads it with: an outside check
     * found {@code roll cycle: FAST_DAILY} (the option's default) printed for a FIVE_MINUTELY journal read correctly.
     */
    @Test
    void shouldShowTheRollCycleTheJournalWasWrittenWith() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).rollCycle("FIVE_MINUTELY").ringSize(1024).timerFiresPerTick(16).build()))
        {
            await(engine.submit(new TaskRequest().key("k").type("echo").payload("x")));
        }
        final Map<String, String> before = snapshot(dir);

        final Result unsaid = run("replay", "--journal", dir.toString());
        assertThat(unsaid.exitCode).as(unsaid.toString()).isZero();
        assertThat(unsaid.out).contains("roll cycle:  FIVE_MINUTELY\n").doesNotContain("FAST_DAILY");
        final Result other = run("replay", "--journal", dir.toString(), "--roll-cycle", "FAST_HOURLY");
        assertThat(other.exitCode).as(other.toString()).isZero();
        assertThat(other.out).contains("roll cycle:  FIVE_MINUTELY (the journal's; --roll-cycle FAST_HOURLY does not apply)\n");
        final Result same = run("replay", "--journal", dir.toString(), "--roll-cycle", "FIVE_MINUTELY");
        assertThat(same.out).contains("roll cycle:  FIVE_MINUTELY\n");
        assertThat(snapshot(dir)).isEqualTo(before);
    }

    @Test
    void shouldRequireTheJournalOptionAndASubcommand()
    {
        final Result noJournal = run("replay");
        assertThat(noJournal.exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(noJournal.err).contains("Missing required option: '--journal=DIR'");

        final Result noSubcommand = run();
        assertThat(noSubcommand.exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(noSubcommand.err).contains("Missing subcommand");

        final Result help = run("--help");
        assertThat(help.exitCode).isZero();
        assertThat(help.out).contains("Usage: gyre", "replay");
    }

    // ------------------------------------------------------------------------------------------------
    // Helpers

    /**
     * 14 tasks: 10 succeed (5 noop, 3 echo, 2 after a retry), 2 fail permanently without dead-lettering,
     * 1 fails permanently and is dead-lettered, 1 runs on the blocking pool and is cancelled while running
     * (its attempt then fails late, which changes nothing).
     */
    private static void writeJournal(final Path directory) throws Exception
    {
        final Waiting waiting = new Waiting();
        final EngineConfig config = EngineConfig.builder(directory)
            .ringSize(1024)
            .timerFiresPerTick(16)
            .handler(new Boom())
            .handler(new Flaky())
            .handler(waiting)
            .build();
        try (Engine engine = Engine.open(config))
        {
            await(engine.submit(new TaskRequest().key("e1").type("echo").payload("{\"n\":1}")));
            await(engine.submit(new TaskRequest().key("bin").type("echo").payload(new byte[] {0, (byte)0xFF, 0x7F, 0x10})));
            await(engine.submit(new TaskRequest().key("long").type("echo").payload("x".repeat(5000))));
            await(engine.submit(new TaskRequest().key("marker").type("noop").payload(MARKER)));
            for (int i = 0; i < 3; i++)
            {
                await(engine.submit(new TaskRequest().key("n" + i).type("noop")));
            }
            assertThat(await(engine.submit(new TaskRequest().key("b1").type("boom").payload("b1").deadLetter(false))).state())
                .isEqualTo(TaskState.FAILED);
            assertThat(await(engine.submit(new TaskRequest().key("b2").type("boom").payload("b2").deadLetter(false))).state())
                .isEqualTo(TaskState.FAILED);
            assertThat(await(engine.submit(new TaskRequest().key("b3").type("boom").payload("b3"))).state())
                .isEqualTo(TaskState.DEAD_LETTERED);
            for (int i = 0; i < 2; i++)
            {
                final Outcome flaky = await(engine.submit(new TaskRequest().key("f" + i).type("flaky").maxAttempts(2).backoff(1, 1, 1f, 0f)));
                assertThat(flaky.state()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(flaky.attempts()).isEqualTo(2);
            }
            final CompletableFuture<Outcome> cancelled = engine.submit(new TaskRequest().key("w1").type("wait"));
            assertThat(waiting.running.await(15, TimeUnit.SECONDS)).isTrue();
            engine.cancel("w1").get(15, TimeUnit.SECONDS);
            assertThat(await(cancelled).state()).isEqualTo(TaskState.CANCELLED);
            assertThat(waiting.stopped.await(15, TimeUnit.SECONDS)).isTrue();
            // the late result of the cancelled attempt, then a last task so it is journaled before closing
            await(engine.submit(new TaskRequest().key("last").type("noop")));
        }
    }

    private static Outcome await(final CompletableFuture<Outcome> future) throws Exception
    {
        return future.get(15, TimeUnit.SECONDS);
    }

    private static Result run(final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int exitCode = new CommandLine(new GyreCommand())
            .setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true))
            .execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    /**
     * @return the {@code  NAME  count} lines under a summary heading, in order.
     */
    private static Map<String, Long> counts(final String out, final String heading)
    {
        final Map<String, Long> counts = new LinkedHashMap<>();
        boolean inside = false;
        for (final String line : out.lines().toList())
        {
            if (line.startsWith(heading))
            {
                inside = true;
                continue;
            }
            if (inside)
            {
                final Matcher m = COUNT_LINE.matcher(line);
                if (!m.matches())
                {
                    break;
                }
                counts.put(m.group(1), Long.parseLong(m.group(2).replace(",", "")));
            }
        }
        return counts;
    }

    /**
     * @return every file in the directory with its size, modification time and a checksum of its bytes.
     */
    private static Map<String, String> snapshot(final Path directory) throws IOException
    {
        final Map<String, String> files = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(directory))
        {
            for (final Path file : list.sorted().toList())
            {
                final CRC32 crc = new CRC32();
                if (Files.isRegularFile(file))
                {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
                    {
                        final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
                        while (channel.read(buffer.clear()) > 0)
                        {
                            crc.update(buffer.flip());
                        }
                    }
                }
                files.put(file.getFileName().toString(),
                    Files.size(file) + " " + Files.getLastModifiedTime(file) + " " + Long.toHexString(crc.getValue()));
            }
        }
        return files;
    }

    /**
     * Crash a writer in a child JVM in the middle of a document.
     */
    private static void crashMidDocument(final Path directory) throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(io.gyre.journal.JvmFlags.REQUIRED);
        command.addAll(List.of(
            "-cp", System.getProperty("java.class.path"),
            TornTailWriter.class.getName(),
            directory.toString()));
        final Path log = directory.resolveSibling(directory.getFileName() + "-child.log");
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child finished").isTrue();
        assertThat(Files.readString(log)).contains(TornTailWriter.HALTING);
    }

    private static byte[] lastRecord(final Path directory)
    {
        final byte[][] last = new byte[1][];
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(directory)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                last[0] = new byte[record.frameLength()];
                record.buffer().getBytes(record.offset(), last[0]);
            });
        }
        return last[0];
    }

    /**
     * Append a complete document holding these bytes, past the journal's own writer (as bytes that never
     * fully reached the disk would look).
     */
    private static void appendDocument(final Path directory, final byte[] content)
    {
        try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(directory.toFile())
                .rollCycle(JournalConfig.resolveRollCycle(JournalConfig.DEFAULT_ROLL_CYCLE)).build();
             ExcerptAppender appender = queue.createAppender();
             DocumentContext document = appender.writingDocument())
        {
            document.wire().bytes().write(content);
        }
    }

    /**
     * Flip one bit of the first occurrence of {@code text} in the journal's files: inside a committed
     * record's body, so its checksum no longer matches.
     */
    private static void flipByteOf(final Path directory, final String text) throws IOException
    {
        final byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        final List<Path> files;
        try (Stream<Path> list = Files.list(directory))
        {
            files = list.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
        for (final Path file : files)
        {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
            {
                final MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_WRITE, 0, channel.size());
                for (int i = 0; i + needle.length <= map.limit(); i++)
                {
                    int matched = 0;
                    while (matched < needle.length && map.get(i + matched) == needle[matched])
                    {
                        matched++;
                    }
                    if (matched == needle.length)
                    {
                        map.put(i + 3, (byte)(map.get(i + 3) ^ 0x01));
                        map.force();
                        return;
                    }
                }
            }
        }
        throw new AssertionError("'" + text + "' is not in the journal");
    }

    private record Result(int exitCode, String out, String err)
    {
        @Override
        public String toString()
        {
            return "exit " + exitCode + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    /** Fails every attempt permanently. */
    private static final class Boom implements TaskHandler
    {
        @Override
        public String type()
        {
            return "boom";
        }

        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            final byte[] payload = new byte[context.payloadLength()];
            context.payload().getBytes(0, payload);
            throw TaskFailure.permanent("boom: " + new String(payload, StandardCharsets.UTF_8));
        }
    }

    /** Fails its first attempt (retryably), succeeds on the next. */
    private static final class Flaky implements TaskHandler
    {
        @Override
        public String type()
        {
            return "flaky";
        }

        @Override
        public void execute(final TaskContext context)
        {
            if (context.attempt() == 1)
            {
                context.fail(true, "first attempt fails");
                return;
            }
            context.succeed("second time lucky".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** On the blocking pool: runs until asked to stop. */
    private static final class Waiting implements TaskHandler
    {
        final CountDownLatch running = new CountDownLatch(1);
        final CountDownLatch stopped = new CountDownLatch(1);

        @Override
        public String type()
        {
            return "wait";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context) throws InterruptedException
        {
            running.countDown();
            try
            {
                while (!context.stopRequested())
                {
                    Thread.sleep(1);
                }
                context.fail(true, "stopped");
            }
            finally
            {
                stopped.countDown();
            }
        }
    }
}
