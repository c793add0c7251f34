package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real full disk: the journal on a 32 MiB tmpfs, a filler file taking all but a little of it. The engine
 * refuses submissions once the journal's space check says no (before any write could fault), keeps the
 * result of an attempt that finishes meanwhile, and resumes by itself when the filler is deleted. Skipped
 * where a tmpfs cannot be mounted (it needs root and a mount namespace that allows it).
 */
class DiskFullTest
{
    private static final long MIN_FREE = 2L << 20;

    private Path mount;
    private boolean mounted;
    private Engine engine;

    @BeforeEach
    void mountTmpfs() throws Exception
    {
        mount = Files.createTempDirectory("gyre-disk-full");
        final Process process = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", mount.toString())
            .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        final boolean exited = process.waitFor(30, TimeUnit.SECONDS);
        mounted = exited && process.exitValue() == 0;
        assumeTrue(mounted, "cannot mount a 32 MiB tmpfs at " + mount + " (needs root and permission to mount): " + output);
    }

    @AfterEach
    void unmount() throws Exception
    {
        if (engine != null)
        {
            engine.close();
        }
        if (mounted && run("umount", mount.toString()) != 0)
        {
            // the JVM may still map a page of it (unmapped when collected): detach it now, freed once unused
            run("umount", "-l", mount.toString());
        }
        Files.deleteIfExists(mount);
    }

    private static int run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        return process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    private Engine open(final TaskHandler... handlers)
    {
        final EngineConfig.Builder builder = EngineConfig.builder(mount.resolve("journal")).ringSize(1024).timerFiresPerTick(16)
            .journalMinFreeBytes(MIN_FREE);
        for (final TaskHandler handler : handlers)
        {
            builder.handler(handler);
        }
        engine = Engine.open(builder.build());
        return engine;
    }

    @Test
    void shouldRefuseWhenTheDiskIsFullAndResumeWhenSpaceIsFreed() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(gated);
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("running").type("gated").payload("kept"));
        await().until(() -> gated.started.get() == 1);

        // fill the disk but for a little more than the journal keeps free and one document takes
        final long usable = Files.getFileStore(mount).getUsableSpace();
        final Path filler = mount.resolve("filler");
        writeFiller(filler, usable - MIN_FREE - (1L << 20) - (512L << 10));

        final byte[] payload = new byte[4096];
        Arrays.fill(payload, (byte)'x');
        // submit until one is refused; one accepted just before may have its result kept until space is freed
        final List<String> keys = new ArrayList<>();
        final List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        Outcome refusal = null;
        for (int i = 0; i < 5_000 && refusal == null; i++)
        {
            final CompletableFuture<Outcome> future = engine.submit(new TaskRequest().key("fill-" + i).type("echo").payload(payload));
            keys.add("fill-" + i);
            futures.add(future);
            await().until(() -> future.isDone() || !engine.health().ready());
            if (!engine.health().ready())
            {
                refusal = engine.submit(new TaskRequest().key("refused").type("echo").payload(payload)).get(15, TimeUnit.SECONDS);
            }
        }
        assertThat(refusal).as("the disk filled up within 5,000 submissions of 4 KiB").isNotNull();
        assertThat(refusal.rejectReason()).isEqualTo(RejectReason.JOURNAL_UNAVAILABLE);
        assertThat(refusal.error()).contains("out of disk space").contains("minFreeBytes=" + MIN_FREE);
        assertThat(engine.health().state()).isEqualTo(EngineHealth.State.JOURNAL_UNAVAILABLE);
        assertThat(engine.health().reason()).contains("out of disk space");

        // an attempt that finishes while the disk is full: its result is kept
        gated.open();
        await().until(() -> gated.finished.get() == 1);
        assertThat(engine.submit(new TaskRequest().key("while-full").type("echo")).get(15, TimeUnit.SECONDS).rejectReason())
            .isEqualTo(RejectReason.JOURNAL_UNAVAILABLE);

        // free the space: the engine resumes by itself, the kept result is the task's outcome
        Files.delete(filler);
        await().until(() -> engine.health().ready());
        final Outcome kept = running.get(15, TimeUnit.SECONDS);
        assertThat(kept.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(kept.outputAsString()).isEqualTo("kept");
        final List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++)
        {
            final Outcome outcome = futures.get(i).get(15, TimeUnit.SECONDS);
            if (!outcome.rejected())
            {
                assertThat(outcome.state()).as(keys.get(i)).isEqualTo(TaskState.SUCCEEDED);
                acknowledged.add(keys.get(i));
            }
        }
        assertThat(acknowledged).hasSizeGreaterThan(10);
        for (int i = 0; i < 20; i++)
        {
            assertThat(engine.submit(new TaskRequest().key("after-" + i).type("echo").payload(payload)).get(15, TimeUnit.SECONDS).state())
                .isEqualTo(TaskState.SUCCEEDED);
        }
        assertThat(engine.status("while-full").get(15, TimeUnit.SECONDS).found()).isFalse();
        assertThat(engine.stageFailures()).isZero();

        // nothing acknowledged was lost: the journal replays clean, and a restarted engine knows every outcome
        engine.close();
        engine = null;
        final TaskHistory history = TaskHistory.of(mount.resolve("journal"));
        assertThat(history.report().corrupted()).as(String.valueOf(history.report().problems())).isFalse();
        final TestHandlers.Gated again = new TestHandlers.Gated("gated");
        open(again);
        for (final String key : acknowledged)
        {
            assertThat(engine.status(key).get(15, TimeUnit.SECONDS).state()).as(key).isEqualTo(TaskState.SUCCEEDED);
        }
        assertThat(engine.status("running").get(15, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(again.started.get()).isZero();
    }

    /**
     * Another process fills the disk in one go, past the journal's free-space margin between two of its checks (an
     * outside check: a 100 MB copy onto a tmpfs with 4 MiB kept free, while a client submitted 300 tasks a second).
     * The writer's next page then had nothing to back it: the memory-mapped write faulted, the JVM reported the fault
     * only later, and a submission of the document it tore had been acknowledged already: after the restart its key
     * was unknown (and a task whose outcome had been answered ran again). Every acknowledged key must survive.
     */
    @Test
    void shouldLoseNothingAcknowledgedWhenTheDiskFillsAtOnceBetweenTwoChecks() throws Exception
    {
        open();
        final byte[] payload = new byte[2048];
        Arrays.fill(payload, (byte)'y');
        final java.util.Set<String> acknowledged = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final Thread submitter = new Thread(() ->
        {
            for (int i = 0; !stop.get(); i++)
            {
                final String key = "sudden-" + i;
                engine.submit(new TaskRequest().key(key).type("echo").payload(payload), new OutcomeListener()
                {
                    @Override
                    public void onAccepted(final long correlationId, final long taskId)
                    {
                        acknowledged.add(key);
                    }

                    @Override
                    public void onOutcome(final TaskOutcome outcome)
                    {
                    }
                });
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
        });
        submitter.start();
        await().until(() -> acknowledged.size() > 200);
        // everything usable, well past the margin, at once: the writer's next pages cannot be backed
        final Path filler = mount.resolve("filler");
        try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(filler, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE))
        {
            final java.nio.ByteBuffer block = java.nio.ByteBuffer.allocate(1 << 20);
            while (true)
            {
                block.clear();
                try
                {
                    if (out.write(block) <= 0)
                    {
                        break;
                    }
                }
                catch (final IOException full)
                {
                    break;
                }
            }
        }
        await().until(() -> !engine.health().ready());
        Thread.sleep(200);                                     // submissions go on against the full disk
        // refused cleanly (the document that could not be written was rolled back), not a faulted writer
        assertThat(engine.health().reason()).doesNotContain("faulted").contains("journal");
        stop.set(true);
        submitter.join();
        Files.delete(filler);
        await().until(() -> engine.health().ready());          // and it resumes by itself

        engine.close();
        engine = null;
        open();
        for (final String key : acknowledged)
        {
            final TaskStatus status = engine.status(key).get(15, TimeUnit.SECONDS);
            assertThat(status.found()).as("acknowledged %s", key).isTrue();
        }
        assertThat(acknowledged).hasSizeGreaterThan(200);
    }

    /**
     * An idle engine writes nothing, so its own check never runs: a readiness probe asks for a measure now (an
     * outside check found /health/ready at 200 for 25 s on a full disk, while every submission was refused).
     */
    @Test
    void shouldSayTheJournalHasNoRoomWhenAskedWhileIdle() throws Exception
    {
        open();
        assertThat(engine.journalSpaceShortage()).isNull();
        final Path filler = mount.resolve("filler");
        writeFiller(filler, Files.getFileStore(mount).getUsableSpace() - MIN_FREE / 2);

        assertThat(engine.health().ready()).as("idle: nothing tried to write").isTrue();
        assertThat(engine.journalSpaceShortage()).contains("out of disk space").contains("minFreeBytes=" + MIN_FREE);
        Thread.sleep(150);                                     // the writer's own measure is at most 100 ms old when it writes
        final Outcome refused = engine.submit(new TaskRequest().key("refused").type("echo")).get(15, TimeUnit.SECONDS);
        assertThat(refused.rejectReason()).isEqualTo(RejectReason.JOURNAL_UNAVAILABLE);

        Files.delete(filler);
        assertThat(engine.journalSpaceShortage()).isNull();
        await().until(() -> engine.health().ready());
    }

    /**
     * A journal on a file system with no byte left: reading past its last document through Chronicle's map faulted on
     * a tmpfs (a mapped read of a hole allocates a page there), and gyre serve and gyre replay ended with a JVM
     * InternalError (an outside check). Opening refuses with the reason, and the journal replays.
     */
    @Test
    void shouldRefuseToOpenAndStillReplayAJournalOnADiskWithNoByteLeft() throws Exception
    {
        open();
        for (int i = 0; i < 50; i++)
        {
            engine.submit(new TaskRequest().key("before-" + i).type("echo").payload("x")).get(15, TimeUnit.SECONDS);
        }
        engine.close();
        engine = null;
        final Path filler = mount.resolve("filler");
        try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(filler, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE))
        {
            final java.nio.ByteBuffer block = java.nio.ByteBuffer.allocate(4096);
            try
            {
                while (true)
                {
                    block.clear();
                    out.write(block);
                }
            }
            catch (final IOException full)
            {
                // every byte taken
            }
        }
        assertThat(Files.getFileStore(mount).getUsableSpace()).isZero();

        final TaskHistory history = TaskHistory.of(mount.resolve("journal"));
        assertThat(history.report().corrupted()).as(String.valueOf(history.report().problems())).isFalse();
        assertThat(history.report().tasksByState()).containsEntry(TaskState.SUCCEEDED, 50L);
        org.assertj.core.api.Assertions.assertThatThrownBy(this::open).isInstanceOf(RuntimeException.class)
            .hasMessageContaining("out of disk space");

        Files.delete(filler);
        open();
        assertThat(engine.status("before-49").get(15, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
    }

    private static void writeFiller(final Path file, final long bytes) throws IOException
    {
        final byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file))
        {
            long left = bytes;
            while (left > 0)
            {
                final int n = (int)Math.min(block.length, left);
                out.write(block, 0, n);
                left -= n;
            }
        }
    }
}
