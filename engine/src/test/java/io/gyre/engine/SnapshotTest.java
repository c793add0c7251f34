package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import io.gyre.journal.SnapshotStore;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Snapshots: the state loaded from a snapshot plus the journal after it is exactly the state a full replay
 * builds (invariant 4, whatever moment the snapshot was taken at); a damaged snapshot falls back to an older
 * one or to a full replay; retention deletes journal files no snapshot needs, and they really disappear.
 */
class SnapshotTest
{
    @TempDir
    Path dir;

    /** INLINE: holds its outcome for a minute after submission (a pending wait). */
    static final class Hold implements TaskHandler
    {
        @Override
        public String type()
        {
            return "hold";
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.holdUntil(context.submittedAt() + 60_000_000_000L);
            context.succeed("held".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** INLINE: its first attempt fails permanently (dead-lettered); once redriven, it holds its outcome a minute. */
    static final class FailThenHold implements TaskHandler
    {
        @Override
        public String type()
        {
            return "fail-then-hold";
        }

        @Override
        public void execute(final TaskContext context)
        {
            if (context.attempt() == 1)
            {
                context.fail(false, "first attempt fails");
                return;
            }
            context.holdUntil(context.submittedAt() + 60_000_000_000L);
            context.succeed("held after a redrive".getBytes(StandardCharsets.UTF_8));
        }
    }

    private EngineConfig.Builder config(final TestHandlers.Gated gated)
    {
        return EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).blockingPoolThreads(4)
            .closeTimeout(Duration.ofMillis(100))
            .handler(gated)
            .handler(new TestHandlers.Flaky("flaky", 2, true, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("doomed", 9, false, ExecutionMode.INLINE))
            .handler(new Hold())
            .handler(new FailThenHold());
    }

    /** Submit a bit of everything: finished, retrying, held, running, pending behind a full pool, cancelled. */
    private static List<CompletableFuture<Outcome>> mixedLoad(final Engine engine, final String prefix, final int n)
    {
        final List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            final String type = switch (i % 6)
            {
                case 0 -> "echo";
                case 1 -> "flaky";
                case 2 -> "doomed";
                case 3 -> "hold";
                case 4 -> "gated";
                default -> "noop";
            };
            futures.add(engine.submit(new TaskRequest().key(prefix + i).type(type).payload("p" + i)
                .backoff(60_000, 60_000, 2f, 0.5f).deadLetter(i % 12 == 2)));
            if (i % 17 == 5)
            {
                engine.cancel(prefix + (i - 3));
            }
        }
        return futures;
    }

    /** The canonical state a full replay of the journal builds. */
    private static byte[] fullReplayState(final EngineConfig config)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader();
             JournalReader reader = journal.newReader())
        {
            final Sequencer sequencer = new Sequencer(Settings.of(config), new HandlerRegistry(config.handlers()), lookup);
            final Effects scratch = new Effects();
            reader.readToEnd(record ->
            {
                scratch.reset();
                sequencer.apply(record, scratch);
            });
            return canonical(sequencer);
        }
    }

    /** The canonical state recovery builds (newest usable snapshot, then the journal after it). */
    private static Engine.Recovered recovered(final EngineConfig config)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader())
        {
            final Engine.Recovered recovered = Engine.recover(config, journal, new HandlerRegistry(config.handlers()), lookup);
            recovered.sequencer().writeState(new StateWriter(1024), true);
            return recovered;
        }
    }

    private static byte[] canonical(final Sequencer sequencer)
    {
        final StateWriter out = new StateWriter(1024);
        sequencer.writeState(out, true);
        final byte[] bytes = new byte[out.length()];
        out.buffer().getBytes(0, bytes);
        return bytes;
    }

    private static byte[] recoveredState(final EngineConfig config)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader())
        {
            return canonical(Engine.recover(config, journal, new HandlerRegistry(config.handlers()), lookup).sequencer());
        }
    }

    @Test
    void shouldRebuildFromASnapshotTakenUnderLoadExactlyWhatAFullReplayBuilds() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final EngineConfig config = config(gated).build();
        final SnapshotInfo snapshot;
        try (Engine engine = Engine.open(config))
        {
            mixedLoad(engine, "a", 300);
            // a task redriven before the snapshot, live in it (held) with attempts numbered on from its first
            assertThat(engine.submit(new TaskRequest().key("redriven").type("fail-then-hold")).get(10, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.DEAD_LETTERED);
            engine.redrive("redriven").get(10, TimeUnit.SECONDS);
            await().until(() -> engine.status("redriven").get().attempts() == 2);
            // the snapshot lands wherever the pipeline is: tasks running, retries waiting, outcomes held
            snapshot = engine.snapshot().get(10, TimeUnit.SECONDS);
            // dead letters from before the snapshot, redriven and purged after it
            await().until(() -> engine.status("a14").get().state() == TaskState.DEAD_LETTERED);
            engine.redrive("a2").get(10, TimeUnit.SECONDS);
            engine.purgeDeadLetter("a14").get(10, TimeUnit.SECONDS);
            final List<CompletableFuture<Outcome>> later = mixedLoad(engine, "b", 300);
            gated.open();
            later.get(0).get(10, TimeUnit.SECONDS);
            assertThat(snapshot.eventId()).isPositive();
            assertThat(Files.exists(snapshot.file())).isTrue();
            assertThat(engine.liveTasks()).isPositive();
            // keep the close from snapshotting again, so recovery starts from the one under load
            Files.createDirectories(SnapshotStore.of(dir).directory());
        }
        for (final SnapshotStore.Entry entry : SnapshotStore.of(dir).list())
        {
            if (entry.eventId() != snapshot.eventId())
            {
                SnapshotStore.of(dir).delete(entry);
            }
        }
        final Engine.Recovered recovered = recovered(config);
        assertThat(recovered.snapshot().eventId()).isEqualTo(snapshot.eventId());
        assertThat(recovered.replayed()).isPositive();
        assertThat(recovered.sequencer().derivedMismatches()).isZero();
        assertThat(recovered.sequencer().derivedVerified()).isPositive();
        assertThat(recoveredState(config)).isEqualTo(fullReplayState(config));
    }

    @Test
    void shouldReopenFromTheSnapshotTakenAtCloseAndAnswerEveryKeyAsAFullReplayDoes() throws Exception
    {
        final EngineConfig config = config(new TestHandlers.Gated("gated")).build();
        try (Engine engine = Engine.open(config))
        {
            mixedLoad(engine, "c", 120);
            await().atMost(Duration.ofSeconds(10)).until(() -> engine.status("c0").get().state() == TaskState.SUCCEEDED);
        }
        assertThat(SnapshotStore.of(dir).list()).hasSize(1);
        // the same journal without its snapshots, for comparison
        final Path bare = dir.resolve("bare");
        Files.createDirectories(bare);
        try (Stream<Path> files = Files.list(dir))
        {
            for (final Path file : files.filter(p -> p.getFileName().toString().endsWith(".cq4")).toList())
            {
                Files.copy(file, bare.resolve(file.getFileName()));
            }
        }
        final EngineConfig bareConfig = EngineConfig.builder(bare).ringSize(1024).timerFiresPerTick(16).blockingPoolThreads(4)
            .closeTimeout(Duration.ofMillis(100)).handler(new TestHandlers.Gated("gated"))
            .handler(new TestHandlers.Flaky("flaky", 2, true, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("doomed", 9, false, ExecutionMode.INLINE))
            .handler(new Hold()).snapshots(false).build();
        try (Engine fromSnapshot = Engine.open(config(new TestHandlers.Gated("gated")).build());
             Engine fromJournal = Engine.open(bareConfig))
        {
            assertThat(fromSnapshot.recovery().snapshot()).isNotNull();
            assertThat(fromJournal.recovery().snapshot()).isNull();
            // only what was journaled after the snapshot at close (its last derived records), not the hundreds before
            assertThat(fromSnapshot.recovery().recordsReplayed()).isLessThan(50);
            assertThat(fromJournal.recovery().recordsReplayed()).isGreaterThan(200);
            for (int i = 0; i < 120; i++)
            {
                assertThat(fromSnapshot.status("c" + i).get(10, TimeUnit.SECONDS)).as("c" + i)
                    .isEqualTo(fromJournal.status("c" + i).get(10, TimeUnit.SECONDS));
            }
            final Outcome echo = fromSnapshot.submit(new TaskRequest().key("c0").type("echo").payload("other")).get(10, TimeUnit.SECONDS);
            assertThat(echo.duplicate()).isTrue();
            assertThat(echo.outputAsString()).isEqualTo("p0");
        }
    }

    /**
     * A stop while a snapshot was being written leaves its temporary file: the next engine deletes it (an outside check
     * found one kept for good), and not the snapshots.
     */
    @Test
    void shouldDeleteTheTemporaryFileOfASnapshotWhoseWritingNeverFinished() throws Exception
    {
        try (Engine engine = Engine.open(config(new TestHandlers.Gated("gated")).build()))
        {
            mixedLoad(engine, "t", 20);
        }
        final SnapshotStore store = SnapshotStore.of(dir);
        final List<SnapshotStore.Entry> whole = store.list();
        assertThat(whole).isNotEmpty();
        final Path unfinished = store.directory().resolve("snapshot-00000000000000099999.gsnap.tmp");
        Files.write(unfinished, new byte[] {1, 2, 3});

        try (Engine engine = Engine.open(config(new TestHandlers.Gated("gated")).build()))
        {
            assertThat(engine.recovery().snapshot()).isNotNull();
            assertThat(unfinished).doesNotExist();
            assertThat(whole.get(0).path()).exists();
        }
    }

    @Test
    void shouldFallBackToAnOlderSnapshotWhenTheNewestIsDamagedAndToAFullReplayWhenAllAre() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        gated.open();
        final EngineConfig config = config(gated).snapshotsKept(3).build();
        final SnapshotInfo older;
        final SnapshotInfo newer;
        try (Engine engine = Engine.open(config))
        {
            mixedLoad(engine, "d", 60);
            older = engine.snapshot().get(10, TimeUnit.SECONDS);
            mixedLoad(engine, "e", 60);
            newer = engine.snapshot().get(10, TimeUnit.SECONDS);
            mixedLoad(engine, "f", 60);
        }
        final List<SnapshotStore.Entry> entries = SnapshotStore.of(dir).list();
        assertThat(entries).hasSize(3);    // older, newer, and the one at close
        SnapshotStore.of(dir).delete(entries.get(0));
        flipByte(newer.file(), Files.size(newer.file()) - 10);

        final Engine.Recovered fromOlder = recovered(config);
        assertThat(fromOlder.snapshot().eventId()).isEqualTo(older.eventId());
        assertThat(fromOlder.skipped()).singleElement().asString().contains("checksum");
        assertThat(recoveredState(config)).isEqualTo(fullReplayState(config));

        Files.write(older.file(), new byte[] {1, 2, 3});   // truncated
        final Engine.Recovered full = recovered(config);
        assertThat(full.snapshot()).isNull();
        assertThat(full.skipped()).hasSize(2);
        assertThat(recoveredState(config)).isEqualTo(fullReplayState(config));

        try (Engine engine = Engine.open(config))
        {
            assertThat(engine.recovery().snapshot()).isNull();
            assertThat(engine.recovery().snapshotsSkipped()).hasSize(2);
            assertThat(engine.submit(new TaskRequest().key("e0").type("echo").payload("z")).get(10, TimeUnit.SECONDS).outputAsString())
                .isEqualTo("p0");
        }
    }

    @Test
    void shouldIgnoreASnapshotOfAnotherJournal() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        gated.open();
        final EngineConfig config = config(gated).build();
        try (Engine engine = Engine.open(config))
        {
            mixedLoad(engine, "g", 30);
        }
        final Path snapshot = SnapshotStore.of(dir).list().get(0).path();
        final Path other = dir.resolve("other");
        final Path copied = SnapshotStore.of(other).directory().resolve("snapshot-" + String.format("%020d", 5) + ".gsnap");
        Files.createDirectories(copied.getParent());
        // a valid snapshot, renamed to claim event 5: its header disagrees with its name
        Files.copy(snapshot, copied);
        final EngineConfig otherConfig = EngineConfig.builder(other).handler(new TestHandlers.Gated("gated")).build();
        try (Engine engine = Engine.open(otherConfig))
        {
            assertThat(engine.recovery().snapshot()).isNull();
            assertThat(engine.recovery().snapshotsSkipped()).singleElement().asString().contains("header says event");
        }
    }

    @Test
    void shouldDeleteJournalFilesAcrossCyclesInWhichNothingWasWritten() throws Exception
    {
        // an idle cycle has no file: retention must not need the file of the cycle just before the one it keeps
        final EngineConfig config = EngineConfig.builder(dir).rollCycle("TEST_SECONDLY").ringSize(1024).timerFiresPerTick(16)
            .maxRetainedOutcomes(16).outcomeRetention(Duration.ofMillis(500)).snapshotsKept(1).journalRetention(Duration.ZERO).build();
        try (Engine engine = Engine.open(config))
        {
            for (int i = 0; i < 20; i++)
            {
                engine.submit(new TaskRequest().key("early" + i).type("echo").payload("v")).get(10, TimeUnit.SECONDS);
            }
            Thread.sleep(3_200);
            for (int i = 0; i < 20; i++)
            {
                engine.submit(new TaskRequest().key("late" + i).type("echo").payload("v")).get(10, TimeUnit.SECONDS);
            }
            final List<Path> before = journalFiles();
            final SnapshotInfo info = engine.snapshot().get(10, TimeUnit.SECONDS);
            assertThat(info.journalFilesDeleted()).isPositive();
            assertThat(before.get(0)).doesNotExist();
            assertThat(journalFiles()).hasSize(before.size() - info.journalFilesDeleted());
        }
    }

    @Test
    void shouldDeleteJournalFilesNoSnapshotNeedsAndRefuseAFullReplayWithoutThem() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        gated.open();
        final EngineConfig config = EngineConfig.builder(dir).rollCycle("TEST_SECONDLY").ringSize(1024).timerFiresPerTick(16)
            .maxRetainedOutcomes(16).outcomeRetention(Duration.ofMillis(500)).snapshotsKept(1).journalRetention(Duration.ZERO)
            .handler(gated).build();
        final long deadline = System.nanoTime() + 3_500_000_000L;
        int round = 0;
        try (Engine engine = Engine.open(config))
        {
            while (System.nanoTime() < deadline)
            {
                engine.submit(new TaskRequest().key("r" + round).type("echo").payload("v" + round)).get(10, TimeUnit.SECONDS);
                round++;
                Thread.sleep(20);
            }
            final List<Path> before = journalFiles();
            assertThat(before.size()).isGreaterThanOrEqualTo(3);
            final SnapshotInfo info = engine.snapshot().get(10, TimeUnit.SECONDS);
            assertThat(info.journalFilesDeleted()).isPositive();
            final List<Path> after = journalFiles();
            assertThat(after.size()).isEqualTo(before.size() - info.journalFilesDeleted());
            assertThat(before.get(0)).doesNotExist();
            // what is still retained is answered as before
            final String last = "r" + (round - 1);
            assertThat(engine.submit(new TaskRequest().key(last).type("echo").payload("again")).get(10, TimeUnit.SECONDS).outputAsString())
                .isEqualTo("v" + (round - 1));
        }
        try (Engine engine = Engine.open(config))
        {
            assertThat(engine.recovery().snapshot()).isNotNull();
            final String last = "r" + (round - 1);
            assertThat(engine.submit(new TaskRequest().key(last).type("echo").payload("again")).get(10, TimeUnit.SECONDS).duplicate())
                .isTrue();
        }
        try (Stream<Path> files = Files.list(SnapshotStore.of(dir).directory()))
        {
            for (final Path file : files.toList())
            {
                Files.delete(file);
            }
        }
        assertThatThrownBy(() -> Engine.open(config))
            .isInstanceOf(JournalCorruptedException.class)
            .hasMessageContaining("deleted by retention");
    }

    /**
     * A damaged snapshot never counts as one of those kept: the clean-up after the next snapshot deletes it and keeps
     * the older whole one, and the journal cycles it needs; so a newest snapshot damaged later still leaves one to start
     * from, though retention deleted the journal's beginning (outside check: the damaged one was kept in the good one's
     * place, then the next damage left the journal unrecoverable).
     */
    @Test
    void shouldKeepWholeSnapshotsInPlaceOfADamagedOneSoThatTheJournalStaysRecoverable() throws Exception
    {
        // outcomes remembered briefly: a snapshot needs the journal cycles of the outcomes it remembers
        final EngineConfig config = EngineConfig.builder(dir).rollCycle("TEST_SECONDLY").ringSize(1024).timerFiresPerTick(16)
            .maxRetainedOutcomes(16).outcomeRetention(Duration.ofMillis(500)).snapshotsKept(2).journalRetention(Duration.ZERO).build();
        final SnapshotInfo newer;
        try (Engine engine = Engine.open(config))
        {
            for (int i = 0; i < 3; i++)
            {
                engine.submit(new TaskRequest().key("a" + i).type("echo").payload("v" + i)).get(10, TimeUnit.SECONDS);
                Thread.sleep(1_100);
            }
            final Path journalFilesAtStart = journalFiles().get(0).getFileName();
            // one whole snapshot of the two kept: the journal it does not cover is the fallback, kept
            assertThat(engine.snapshot().get(10, TimeUnit.SECONDS).journalFilesDeleted()).isZero();
            Thread.sleep(600);
            engine.submit(new TaskRequest().key("b").type("echo").payload("w")).get(10, TimeUnit.SECONDS);
            newer = engine.snapshot().get(10, TimeUnit.SECONDS);
            assertThat(newer.journalFilesDeleted()).isPositive();
            assertThat(journalFiles().get(0).getFileName()).as("retention deleted the journal's beginning")
                .isNotEqualTo(journalFilesAtStart);
        }
        // the newest one (the one taken at close) damaged: the engine starts from the one before
        final List<SnapshotStore.Entry> atClose = SnapshotStore.of(dir).list();
        flipByte(atClose.get(0).path(), Files.size(atClose.get(0).path()) - 10);
        try (Engine engine = Engine.open(config))
        {
            assertThat(engine.recovery().snapshot().eventId()).isEqualTo(newer.eventId());
            engine.submit(new TaskRequest().key("c").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
        }
        // one snapshot since (at close): its clean-up met the damaged one
        // kept: two whole ones, not the damaged one
        final List<SnapshotStore.Entry> kept = SnapshotStore.of(dir).list();
        assertThat(kept).hasSize(2).noneMatch(entry -> entry.path().equals(atClose.get(0).path()));
        // the newest damaged again: the older whole one is there to start from
        flipByte(kept.get(0).path(), Files.size(kept.get(0).path()) - 10);
        try (Engine engine = Engine.open(config))
        {
            assertThat(engine.recovery().snapshot()).isNotNull();
            assertThat(engine.recovery().snapshotsSkipped()).singleElement().asString().contains("checksum");
            assertThat(engine.submit(new TaskRequest().key("d").type("echo").payload("y")).get(10, TimeUnit.SECONDS).outputAsString())
                .isEqualTo("y");
        }
    }

    /**
     * A snapshot the start could not use although its checksums hold (one of another journal) is not kept either: the
     * next clean-up deletes it, so it never takes the place of this journal's own (outside check).
     */
    @Test
    void shouldNotKeepASnapshotOfAnotherJournalThatTheStartSkipped() throws Exception
    {
        final Path other = Files.createDirectories(dir.resolve("other"));
        final Path mine = Files.createDirectories(dir.resolve("mine"));
        try (Engine engine = Engine.open(EngineConfig.builder(other).build()))
        {
            for (int i = 0; i < 200; i++)
            {
                engine.submit(new TaskRequest().key("o" + i).type("echo").payload("v")).get(10, TimeUnit.SECONDS);
            }
        }
        final EngineConfig config = EngineConfig.builder(mine).snapshotsKept(2).build();
        try (Engine engine = Engine.open(config))
        {
            engine.submit(new TaskRequest().key("m").type("echo").payload("w")).get(10, TimeUnit.SECONDS);
        }
        // the other journal's newest snapshot, further along than any of mine, copied in: the start skips it
        final SnapshotStore.Entry foreign = SnapshotStore.of(other).list().get(0);
        final Path copied = Files.copy(foreign.path(), SnapshotStore.of(mine).directory().resolve(foreign.path().getFileName()));
        final List<Path> ownBefore = SnapshotStore.of(mine).list().stream().map(SnapshotStore.Entry::path)
            .filter(path -> !path.equals(copied)).toList();
        try (Engine engine = Engine.open(config))
        {
            assertThat(engine.recovery().snapshotsSkipped()).singleElement().asString().contains("another journal");
            engine.submit(new TaskRequest().key("m2").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
        }
        final List<Path> kept = SnapshotStore.of(mine).list().stream().map(SnapshotStore.Entry::path).toList();
        assertThat(kept).hasSize(2).doesNotContain(copied).contains(ownBefore.get(0));
    }

    /**
     * The records replayed at open count towards the next snapshot: an engine restarted (killed) more often than
     * every {@code snapshotEveryRecords} records must still snapshot, or each start replays more than the last
     * (outside check: twelve restarts of a crash loop over 9,033 records, no snapshot, everything replayed each time).
     */
    @Test
    void shouldCountTheRecordsReplayedAtOpenTowardsTheNextSnapshot() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
        {
            for (int i = 0; i < 60; i++)
            {
                engine.submit(new TaskRequest().key("k" + i).type("noop")).get(10, TimeUnit.SECONDS);
            }
        }
        try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshotEveryRecords(100).build()))
        {
            assertThat(engine.recovery().recordsReplayed()).isGreaterThanOrEqualTo(100);
            engine.submit(new TaskRequest().key("after").type("noop")).get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> engine.snapshotsWritten() == 1);
        }
    }

    @Test
    void shouldTakeTheNextSnapshotWhenAskedAsSoonAsTheLastHasAnswered() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        gated.open();
        try (Engine engine = Engine.open(config(gated).build()))
        {
            engine.submit(new TaskRequest().key("a").type("noop")).get(10, TimeUnit.SECONDS);
            final CompletableFuture<SnapshotInfo> first = engine.snapshot();
            final CompletableFuture<SnapshotInfo> second = first.thenCompose(info ->
            {
                engine.submit(new TaskRequest().key("b").type("noop"));
                final CompletableFuture<SnapshotInfo> next = engine.snapshot();
                // whoever answered the first is slow to return: the next request must not find it still being written
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                return next;
            });
            assertThat(second.get(10, TimeUnit.SECONDS).eventId()).isGreaterThan(first.get().eventId());
            assertThat(engine.snapshotsWritten()).isEqualTo(2);
        }
    }

    /**
     * A close (or a request) that finds a snapshot still being written waits for it and then takes its own: the one being written
     * holds less than the journal does by then (the last outside-check run of EngineAB found every close logging
     * "no snapshot at close (a snapshot is being written)", and the next open replayed what followed).
     */
    @Test
    void shouldSnapshotAtCloseOrWhenAskedEvenWhileAnotherSnapshotIsBeingWritten() throws Exception
    {
        final EngineConfig config = EngineConfig.builder(dir).snapshotEveryRecords(100_000_000L).build();
        final int before = 600_000;
        final int after = 2_000;
        try (Engine engine = Engine.open(config))
        {
            submitNoops(engine, "a", before);
            // a million-slot retained-outcome table with 600,000 entries: tens of MB to checksum and write
            final CompletableFuture<SnapshotInfo> busy = engine.snapshot();
            // asked for while the first is being written: waits for it, then is taken
            final CompletableFuture<SnapshotInfo> next = engine.snapshot();
            submitNoops(engine, "b", after);
            assertThat(busy).isNotCompletedExceptionally();
            assertThat(next.get(30, TimeUnit.SECONDS).eventId()).isGreaterThanOrEqualTo(busy.get(30, TimeUnit.SECONDS).eventId());
        }
        try (Engine reopened = Engine.open(config))
        {
            assertThat(reopened.recovery().snapshot()).isNotNull();
            // only the records journaled after the close's snapshot, not the 4,000 of the tasks after the first one
            assertThat(reopened.recovery().recordsReplayed()).isLessThan(50);
            assertThat(reopened.status("b" + (after - 1)).get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
        }
    }

    private static void submitNoops(final Engine engine, final String prefix, final int count)
    {
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(count);
        final OutcomeListener listener = new OutcomeListener()
        {
            @Override
            public void onAccepted(final long correlationId, final long taskId)
            {
            }

            @Override
            public void onOutcome(final TaskOutcome outcome)
            {
                done.countDown();
            }
        };
        final TaskRequest request = new TaskRequest();
        for (int i = 0; i < count; i++)
        {
            engine.submit(request.clear().key(prefix + i).type("noop"), listener);
        }
        try
        {
            assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
        }
        catch (final InterruptedException ex)
        {
            throw new AssertionError(ex);
        }
    }

    @Test
    void shouldRejectSnapshotSettingsOutOfRange()
    {
        assertThatThrownBy(() -> EngineConfig.builder(dir).snapshotsKept(0).build()).hasMessageContaining("snapshotsKept=0");
        assertThatThrownBy(() -> EngineConfig.builder(dir).snapshotInterval(Duration.ofMillis(10)).build())
            .hasMessageContaining("snapshotInterval");
        assertThatThrownBy(() -> EngineConfig.builder(dir).journalRetention(Duration.ofSeconds(-1)).build())
            .hasMessageContaining("journalRetention");
        assertThatThrownBy(() -> EngineConfig.builder(dir).snapshotEveryRecords(0).build())
            .hasMessageContaining("snapshotEveryRecords=0");
    }

    @Test
    void shouldSayWhySnapshotsCannotBeTakenWhenTheyAreOff() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).snapshots(false).build()))
        {
            engine.submit(new TaskRequest().key("x").type("noop")).get(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> engine.snapshot().get(10, TimeUnit.SECONDS)).hasMessageContaining("snapshots are off");
        }
        assertThat(SnapshotStore.of(dir).list()).isEmpty();
    }

    private List<Path> journalFiles() throws Exception
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
    }

    private static void flipByte(final Path file, final long at) throws Exception
    {
        final byte[] bytes = Files.readAllBytes(file);
        bytes[(int)at] ^= 0x55;
        Files.write(file, bytes);
        new UnsafeBuffer(bytes).getByte(0);
    }
}
