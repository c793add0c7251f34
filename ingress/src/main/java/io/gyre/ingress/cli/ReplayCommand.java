package io.gyre.ingress.cli;

import io.gyre.engine.JournalReplay;
import io.gyre.engine.TaskState;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalException;
import io.gyre.journal.JournalProblem;
import io.gyre.journal.RecordType;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code gyre replay}: replays a journal read only through the engine's state machine and prints what it
 * holds, what state every task ends in, how each engine run ended (stopped cleanly, leaving what, or
 * crashed), and what is damaged. It changes nothing in the journal, so it may
 * run while an engine has the journal open.
 * <p>
 * The summary goes to standard output; progress, errors and the verdict of {@code --verify} to standard
 * error. Exit codes: 0 done (with {@code --verify}: no corruption), 1 the journal could not be read,
 * 2 a usage error or (with {@code --verify}) corruption beyond a torn tail.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {
        "Replay a journal read only and summarize it: records by type, tasks by final state, engine runs (stopped "
            + "cleanly and what they left, or crashed), torn tail, derived records re-derived, problems. Safe to run while "
            + "an engine has the journal open."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:done (with --verify: no corruption found; a torn tail is not corruption)",
        "1:the journal could not be read",
        "2:usage error, or (with --verify) corruption beyond a torn tail"})
public final class ReplayCommand implements Callable<Integer>
{
    /** Exit code of {@code --verify} on a corrupted journal. */
    public static final int EXIT_CORRUPTED = 2;
    /** Exit code when the journal cannot be read. */
    public static final int EXIT_ERROR = 1;

    /** Engine runs the summary lists at most (the latest). */
    static final int MAX_RUNS_SHOWN = 50;

    /** How often (in records printed) {@code --print} checks that standard output is still open. */
    private static final int CHECK_OUTPUT_EVERY = 4096;

    @Spec
    private CommandSpec spec;

    @Option(names = "--journal", paramLabel = "DIR", required = true, description = "The journal directory.")
    private Path journal;

    @Option(names = "--roll-cycle", paramLabel = "NAME", defaultValue = JournalConfig.DEFAULT_ROLL_CYCLE,
        description = "A roll cycle for a journal that does not record its own (default: ${DEFAULT-VALUE}); a journal's "
            + "metadata names the one it was written with, which is used, and shown, instead.")
    private String rollCycle;

    /** The roll cycle the journal was written with, as its metadata says (null when it cannot be opened). */
    private String journalsRollCycle;

    @Option(names = "--from", paramLabel = "INDEX", converter = IndexConverter.class,
        description = "Replay from this document index (hex with 0x, or decimal), as --print and the summary show "
            + "them. Tasks submitted before it are unknown to the replay, so derived records are not checked.")
    private Long fromIndex;

    @Option(names = "--snapshot", paramLabel = "FILE|latest",
        description = "Start from a snapshot's state (a file: a path, or a name in the journal's snapshots directory; or 'latest' "
            + "for the newest usable one) and replay only the records after it; needed once retention has deleted the journal's "
            + "first files.")
    private Path snapshot;

    /** {@code --snapshot}: as given when it names a file, else that name in the journal's snapshots directory. */
    private Path snapshotFile()
    {
        if (java.nio.file.Files.exists(snapshot) || snapshot.getNameCount() != 1)
        {
            return snapshot;
        }
        final Path inJournal = journal.resolve(io.gyre.journal.SnapshotStore.DIRECTORY).resolve(snapshot);
        return java.nio.file.Files.exists(inJournal) ? inJournal : snapshot;
    }

    @Option(names = "--verify", description = "Exit with code 2 when the journal holds corruption beyond a torn tail.")
    private boolean verify;

    @Option(names = "--print", description = "Print every record, one line each, before the summary.")
    private boolean print;

    @Option(names = "--progress-every", paramLabel = "N", defaultValue = "1000000",
        description = "Report progress on standard error every N records (default: ${DEFAULT-VALUE}; 0: never).")
    private long progressEvery;

    @Override
    public Integer call()
    {
        // buffered: --print writes a line per record, and the command line's writer flushes at every line
        final PrintWriter out = new PrintWriter(new BufferedWriter(spec.commandLine().getOut(), 1 << 16), false);
        final PrintWriter err = spec.commandLine().getErr();
        validateRollCycle();
        if (progressEvery < 0)
        {
            throw new ParameterException(spec.commandLine(), "--progress-every must be 0 or more, not " + progressEvery);
        }
        final String unusable = checkDirectory(journal);
        if (unusable != null)
        {
            err.println("gyre replay: " + unusable);
            err.flush();
            return EXIT_ERROR;
        }

        // the journal's own roll cycle from here on: Chronicle Queue would use it anyway, warning that it overrides ours
        journalsRollCycle = quietly(() -> journalRollCycle(journal, rollCycle));
        final String readWith = journalsRollCycle != null && rollCycleNames().contains(journalsRollCycle) ? journalsRollCycle : rollCycle;
        JournalReplay.Options options = JournalReplay.Options.of(journal).withRollCycle(readWith);
        if (fromIndex != null && snapshot != null)
        {
            throw new ParameterException(spec.commandLine(), "--from and --snapshot cannot be used together");
        }
        if (fromIndex != null)
        {
            options = options.from(fromIndex);
        }
        if (snapshot != null && !snapshot.toString().equals("latest") && !Files.exists(snapshotFile()))
        {
            err.println("gyre replay: no snapshot " + snapshot + (snapshot.getNameCount() == 1 ? " (looked for it as given, and in " +
                journal.resolve(io.gyre.journal.SnapshotStore.DIRECTORY) + ")" : ""));
            err.flush();
            return EXIT_ERROR;
        }
        if (snapshot != null)
        {
            options = options.fromSnapshot(snapshot.toString().equals("latest") ? JournalReplay.Options.LATEST : snapshotFile());
        }
        if (print)
        {
            final RecordFormat format = new RecordFormat();
            final long[] printed = {0};
            options = options.onRecord(record ->
            {
                out.println(format.format(record));
                if (++printed[0] % CHECK_OUTPUT_EVERY == 0 && out.checkError())
                {
                    throw new OutputClosedException();
                }
            });
        }
        if (progressEvery > 0)
        {
            options = options.onProgress(progress -> progress(err, progress), progressEvery);
        }

        final JournalReplay.Report report;
        try
        {
            report = JournalReplay.run(options);
        }
        catch (final OutputClosedException ex)
        {
            // standard output was closed (e.g. piped into head): stop replaying, quietly
            return EXIT_ERROR;
        }
        catch (final JournalException ex)
        {
            out.flush();
            err.println("gyre replay: " + ex.getMessage());
            err.flush();
            return EXIT_ERROR;
        }
        catch (final IllegalArgumentException ex)
        {
            out.flush();
            err.println("gyre replay: " + (fromIndex != null ? indexNotInJournal(fromIndex) : ex.getMessage()));
            err.flush();
            return EXIT_ERROR;
        }
        catch (final RuntimeException ex)
        {
            out.flush();
            err.println("gyre replay: cannot read the journal at " + journal + ": " + ex);
            err.flush();
            return EXIT_ERROR;
        }

        summarize(out, report);
        out.flush();
        if (verify && corrupted(report))
        {
            err.println("gyre replay: journal " + journal + " is corrupted: " + firstProblem(report));
            err.flush();
            return EXIT_CORRUPTED;
        }
        return 0;
    }

    private void validateRollCycle()
    {
        try
        {
            JournalConfig.resolveRollCycle(rollCycle);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(),
                "Invalid value for option '--roll-cycle': '" + rollCycle + "' is not a roll cycle; valid values: " +
                String.join(", ", rollCycleNames()));
        }
    }

    /**
     * @return the roll cycle the journal is read with: the one its metadata records (Chronicle Queue uses it whatever
     *     the builder was given), with a note when {@code --roll-cycle} named another.
     */
    private String rollCycleShown()
    {
        final String used = journalsRollCycle;
        if (used == null)
        {
            return rollCycle;
        }
        final boolean given = spec.commandLine().getParseResult() != null &&
            spec.commandLine().getParseResult().hasMatchedOption("--roll-cycle");
        return given && !used.equals(rollCycle) ? used + " (the journal's; --roll-cycle " + rollCycle + " does not apply)" : used;
    }

    /**
     * Run a look at the journal's metadata with Chronicle Queue's warnings that it overrides the roll cycle it was
     * given turned off: that is what the look is for, not news for the user.
     */
    static <T> T quietly(final java.util.function.Supplier<T> look)
    {
        final org.slf4j.Logger[] chatty = {org.slf4j.LoggerFactory.getLogger("net.openhft.chronicle.queue.impl.single.SCQMeta"),
            org.slf4j.LoggerFactory.getLogger("net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder")};
        final ch.qos.logback.classic.Level[] levels = new ch.qos.logback.classic.Level[chatty.length];
        for (int i = 0; i < chatty.length; i++)
        {
            if (chatty[i] instanceof ch.qos.logback.classic.Logger logger)
            {
                levels[i] = logger.getLevel();
                logger.setLevel(ch.qos.logback.classic.Level.ERROR);
            }
        }
        try
        {
            return look.get();
        }
        finally
        {
            for (int i = 0; i < chatty.length; i++)
            {
                if (chatty[i] instanceof ch.qos.logback.classic.Logger logger)
                {
                    logger.setLevel(levels[i]);
                }
            }
        }
    }

    /**
     * @return the name of the roll cycle Chronicle Queue reads the journal in {@code directory} with (its metadata's,
     *     or {@code fallback}'s when it records none), or null when the journal cannot be opened.
     */
    static String journalRollCycle(final Path directory, final String fallback)
    {
        final RollCycle used;
        try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(directory.toFile())
            .rollCycle(JournalConfig.resolveRollCycle(fallback)).readOnly(true).build())
        {
            used = queue.rollCycle();
        }
        catch (final RuntimeException ex)
        {
            return null;
        }
        for (final String name : rollCycleNames())
        {
            if (JournalConfig.resolveRollCycle(name) == used)
            {
                return name;
            }
        }
        for (final String name : rollCycleNames())
        {
            final RollCycle known = JournalConfig.resolveRollCycle(name);
            if (known.lengthInMillis() == used.lengthInMillis() && known.format().equals(used.format()) &&
                known.defaultIndexCount() == used.defaultIndexCount() && known.defaultIndexSpacing() == used.defaultIndexSpacing())
            {
                return name;
            }
        }
        return used.format() + " every " + used.lengthInMillis() + " ms";
    }

    /**
     * @return the roll cycle names the journal accepts: every constant of Chronicle Queue's roll cycle families.
     */
    static Set<String> rollCycleNames()
    {
        return JournalConfig.rollCycleNames();
    }

    /**
     * @return why the directory cannot hold a journal to read, or null when it may.
     */
    private static String checkDirectory(final Path directory)
    {
        if (!Files.exists(directory))
        {
            return "no journal at " + directory + ": the directory does not exist";
        }
        if (!Files.isDirectory(directory))
        {
            return "no journal at " + directory + ": it is not a directory";
        }
        if (!Files.isReadable(directory) || !Files.isExecutable(directory))
        {
            return "cannot read the journal at " + directory + ": permission denied";
        }
        // the journal's own files too: Chronicle Queue would otherwise fail on one with a stack trace of its own, and
        // try to create the files it cannot read
        try (java.util.stream.Stream<Path> files = Files.list(directory))
        {
            final java.util.Optional<Path> unreadable = files
                .filter(f -> f.getFileName().toString().endsWith(".cq4") || f.getFileName().toString().endsWith(".cq4t"))
                .filter(f -> !Files.isReadable(f)).sorted().findFirst();
            if (unreadable.isPresent())
            {
                return "cannot read the journal at " + directory + ": " + unreadable.get().getFileName() + ": permission denied";
            }
        }
        catch (final java.io.IOException ex)
        {
            return "cannot read the journal at " + directory + ": " + ex.getMessage();
        }
        return null;
    }

    private String indexNotInJournal(final long index)
    {
        final String asked = "index 0x" + Long.toHexString(index) + " (" + index + ") is not in the journal at " + journal;
        try (Journal opened = Journal.openReadOnly(JournalConfig.of(journal).withRollCycle(
            journalsRollCycle != null && rollCycleNames().contains(journalsRollCycle) ? journalsRollCycle : rollCycle)))
        {
            final long first = opened.firstIndex();
            final long last = opened.lastIndex();
            return first < 0 ? asked + ": the journal is empty"
                : asked + ": it holds documents 0x" + Long.toHexString(first) + " to 0x" + Long.toHexString(last);
        }
        catch (final RuntimeException ex)
        {
            return asked;
        }
    }

    private static void progress(final PrintWriter err, final JournalReplay.Progress progress)
    {
        final double seconds = Math.max(1e-9, progress.replayNanos() / 1e9);
        err.printf(Locale.ROOT, "replay: %,d records, %,.0f records/s, at index 0x%x of 0x%x (%s)%n",
            progress.records(), progress.records() / seconds, progress.lastIndex(), progress.journalLastIndex(),
            RecordFormat.time(progress.lastTimestamp()));
        err.flush();
    }

    private void summarize(final PrintWriter out, final JournalReplay.Report report)
    {
        out.println("journal:     " + journal.toAbsolutePath().normalize());
        out.println("roll cycle:  " + rollCycleShown());
        final String start = report.snapshot() != null ?
            "from snapshot " + report.snapshot().getFileName() + " (records up to event " + report.snapshotEventId() + ")" :
            fromIndex == null ? "from the start" : "from index 0x" + Long.toHexString(fromIndex);
        out.println("replayed:    " + start + String.format(Locale.ROOT, ", in %,d ms (%,.0f records/s)", report.replayNanos() / 1_000_000,
            report.records() * 1e9 / Math.max(1, report.replayNanos())));
        for (final String skipped : report.snapshotsSkipped())
        {
            out.println("skipped:     snapshot " + skipped);
        }
        if (report.snapshot() == null && fromIndex == null && report.firstEventId() > 1)
        {
            out.println("note:        the journal starts at event " + report.firstEventId() + " (its first files were deleted by " +
                "retention): replay with --snapshot latest to check it from a snapshot's state");
        }
        if (report.records() == 0)
        {
            out.println("first:       none");
            out.println("last:        none");
        }
        else
        {
            out.println("first:       index 0x" + Long.toHexString(report.firstIndex()) + ", event " + report.firstEventId() +
                ", " + RecordFormat.time(report.firstTimestamp()));
            out.println("last:        index 0x" + Long.toHexString(report.lastIndex()) + ", event " + report.lastEventId() +
                ", " + RecordFormat.time(report.lastTimestamp()));
        }
        out.printf(Locale.ROOT, "records:     %,d in %,d documents%n", report.records(), report.documents());
        for (final RecordType type : RecordType.values())
        {
            final Long count = report.recordsByType().get(type);
            if (count != null && count > 0)
            {
                out.printf(Locale.ROOT, "  %-18s %,d%n", type.name(), count);
            }
        }
        long tasks = 0;
        for (final Long count : report.tasksByState().values())
        {
            tasks += count;
        }
        out.printf(Locale.ROOT, "tasks:       %,d known%s, by final state%n", tasks, derivedCheckable(report) ? "" :
            " (submitted from event " + report.firstEventId() + " on: earlier ones are unknown to this replay)");
        for (final TaskState state : TaskState.values())
        {
            final Long count = report.tasksByState().get(state);
            if (count != null && count > 0)
            {
                out.printf(Locale.ROOT, "  %-18s %,d%n", state.name(), count);
            }
        }
        out.printf(Locale.ROOT, "timers:      %,d pending%n", report.pendingTimers());
        runs(out, report.runs());
        out.printf(Locale.ROOT, "dead letters: %,d in the list%n", report.deadLetters());
        tornTail(out, report.problems());
        if (derivedCheckable(report))
        {
            out.printf(Locale.ROOT, "derived:     %,d verified, %,d mismatched%n", report.derivedVerified(), report.derivedMismatches());
        }
        else if (fromIndex != null)
        {
            out.printf(Locale.ROOT, "derived:     not checked (%,d matched, %,d did not): a replay from an index does not know "
                + "the tasks and settings before it%n", report.derivedVerified(), report.derivedMismatches());
        }
        else
        {
            out.printf(Locale.ROOT, "derived:     not checked (%,d matched, %,d did not): the tasks and settings before event %d "
                + "went with the deleted files; --snapshot latest checks them%n", report.derivedVerified(), report.derivedMismatches(),
                report.firstEventId());
        }
        final List<String> problems = problems(report);
        if (problems.isEmpty())
        {
            out.println("problems:    none");
        }
        else
        {
            out.println("problems:    " + problems.size());
            for (final String problem : problems)
            {
                out.println("  " + problem);
            }
        }
        out.println("verdict:     " + (corrupted(report) ? "CORRUPTED" : "ok"));
    }

    /**
     * One line per engine run (the last {@link #MAX_RUNS_SHOWN}): when it started, and whether it stopped
     * cleanly (and what it left) or crashed.
     */
    private static void runs(final PrintWriter out, final List<JournalReplay.Run> runs)
    {
        out.printf(Locale.ROOT, "runs:        %,d%n", runs.size());
        final int first = Math.max(0, runs.size() - MAX_RUNS_SHOWN);
        if (first > 0)
        {
            out.printf(Locale.ROOT, "  (%,d earlier runs not shown)%n", first);
        }
        for (int i = first; i < runs.size(); i++)
        {
            out.println("  " + (i + 1) + " " + describe(runs.get(i)));
        }
    }

    static String describe(final JournalReplay.Run run)
    {
        final StringBuilder text = new StringBuilder();
        if (run.startEventId() < 0)
        {
            text.append("started before the first record replayed");
        }
        else
        {
            text.append("started ").append(RecordFormat.time(run.startedAt())).append(" (event ").append(run.startEventId())
                .append(", pid ").append(run.pid()).append(", version ").append(run.engineVersion()).append(')');
        }
        text.append(": ");
        switch (run.ending())
        {
            case CLEAN ->
            {
                final var stop = run.stop();
                text.append("stopped cleanly (stop began ").append(RecordFormat.time(stop.beganAt()))
                    .append(stop.finishedInTime() ? ", everything running finished before the deadline" :
                        ", deadline " + RecordFormat.time(stop.deadline()) + " reached")
                    .append("): ").append(stop.describe());
            }
            case CRASH -> text.append(run.stopBeganAt() != 0 ?
                "crashed while stopping (stop began " + RecordFormat.time(run.stopBeganAt()) + "): no stop record before the next start" :
                "crashed: no stop record before the next start (killed, or its stop could not be recorded)");
            default -> text.append(run.stopBeganAt() != 0 ?
                "stopping since " + RecordFormat.time(run.stopBeganAt()) + ", no stop record yet (still stopping, or it crashed)" :
                "no stop record (still running, or it crashed)");
        }
        return text.toString();
    }

    private static void tornTail(final PrintWriter out, final List<JournalProblem> all)
    {
        final List<String> lines = new ArrayList<>();
        for (final JournalProblem problem : all)
        {
            if (problem.kind() == JournalProblem.Kind.TORN_TAIL)
            {
                lines.add(where(problem) + ", " + problem.bytes() + " bytes (" + problem.reason() +
                    "); not recovered yet: the next engine to open the journal discards it");
            }
            else if (problem.kind() == JournalProblem.Kind.RECOVERED_TORN_TAIL)
            {
                lines.add(where(problem) + ", " + problem.bytes() + " bytes; recovered: " + problem.reason());
            }
        }
        if (lines.isEmpty())
        {
            out.println("torn tail:   none");
        }
        else if (lines.size() == 1)
        {
            out.println("torn tail:   " + lines.get(0));
        }
        else
        {
            out.println("torn tail:   " + lines.size());
            for (final String line : lines)
            {
                out.println("  " + line);
            }
        }
    }

    private static String where(final JournalProblem problem)
    {
        return problem.documentIndex() < 0 ? "an unfinished document after the last one"
            : "document 0x" + Long.toHexString(problem.documentIndex()) + " offset " + problem.offsetInDocument();
    }

    /**
     * Like {@link JournalReplay.Report#corrupted()}, except that a replay from an index cannot check derived
     * records (it misses the tasks and settings before the index), so only damage to the journal counts.
     */
    private boolean corrupted(final JournalReplay.Report report)
    {
        if (derivedCheckable(report))
        {
            return report.corrupted();
        }
        return report.problems().stream().anyMatch(p -> p.kind() == JournalProblem.Kind.CORRUPTION);
    }

    /**
     * @return whether the replay knew every task and setting its records act on, so that its derived records could be
     *     checked: not from an index, nor from the first record left of a journal whose first files retention deleted
     *     (without a snapshot's state: those tasks are in it).
     */
    private boolean derivedCheckable(final JournalReplay.Report report)
    {
        return fromIndex == null && (report.snapshot() != null || report.firstEventId() <= 1);
    }

    /**
     * @return corruption found, and the first disagreement between the journal and the state machine.
     */
    private List<String> problems(final JournalReplay.Report report)
    {
        final List<String> problems = new ArrayList<>();
        for (final JournalProblem problem : report.problems())
        {
            if (problem.kind() == JournalProblem.Kind.CORRUPTION)
            {
                problems.add(problem.toString());
            }
        }
        if (derivedCheckable(report) && report.derivedMismatches() > 0)
        {
            problems.add("DERIVED MISMATCH: " + report.derivedMismatches() + " derived records differ from what the state machine derives" +
                (report.firstMismatch() != null ? "; first: " + report.firstMismatch() : ""));
        }
        return problems;
    }

    private String firstProblem(final JournalReplay.Report report)
    {
        final List<String> problems = problems(report);
        return problems.isEmpty() ? "unknown" : problems.get(0) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : "");
    }

    /**
     * Thrown from the record printer to stop a replay whose output nobody reads any more.
     */
    private static final class OutputClosedException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        OutputClosedException()
        {
            super("standard output is closed", null, false, false);
        }
    }

    /**
     * Parses a document index: hex with a {@code 0x} prefix, or decimal; never negative.
     */
    static final class IndexConverter implements CommandLine.ITypeConverter<Long>
    {
        @Override
        public Long convert(final String value)
        {
            final String text = value.trim();
            final long index;
            try
            {
                index = text.startsWith("0x") || text.startsWith("0X")
                    ? Long.parseUnsignedLong(text.substring(2), 16)
                    : Long.parseLong(text);
            }
            catch (final NumberFormatException ex)
            {
                throw new CommandLine.TypeConversionException(
                    "'" + value + "' is not a document index (hex with 0x, e.g. 0x4c3a00000000, or decimal)");
            }
            if (index < 0)
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a document index: it is negative");
            }
            return index;
        }
    }
}
