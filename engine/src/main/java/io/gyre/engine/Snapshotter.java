package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.SnapshotCorruptedException;
import io.gyre.journal.SnapshotStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Takes snapshots of the sequencer's state and applies journal retention.
 * <p>
 * The sequence stage calls {@link #applied} for every journaled record it applies and {@link #maybeSnapshot}
 * at the end of each batch: when a snapshot is due (so many records, or so much time, since the last) and the
 * previous one is written, the state is copied into a reused off-heap buffer on that thread, which is the
 * only pause the pipeline sees, and the snapshot thread writes it out, keeps the newest
 * {@link EngineConfig#snapshotsKept()}, and deletes the journal cycles no kept snapshot needs and the
 * retention window no longer covers.
 */
final class Snapshotter implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Snapshotter.class);

    private final Journal journal;
    private final SnapshotStore store;
    private final long everyRecords;
    private final long intervalNanos;
    private final int kept;
    private final long retentionMillis;
    private final StateWriter state = new StateWriter(1 << 20);
    private final AtomicBoolean writing = new AtomicBoolean();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong filesDeleted = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;

    // sequence stage's thread only
    private long eventId;
    private long documentIndex = -1;
    private int offsetInDocument;
    private long timestamp;
    private long recordsSince;
    private long lastAt = System.nanoTime();

    // handed from the sequence stage's thread to the snapshot thread through the writing flag
    private volatile SnapshotStore.Position pendingPosition;
    private long captureNanos;
    private CompletableFuture<SnapshotInfo> pendingReply;

    private volatile SnapshotInfo last;
    /**
     * Snapshots known whole: those this engine wrote, the one it started from, and those the clean-up read through
     * once. The others are read through (both checksums) before they count as kept, so that a damaged snapshot never
     * takes the place of a good one, nor lets retention delete journal cycles only a damaged one covers. Snapshot
     * thread only, but for {@link #verified} before it starts.
     */
    private final java.util.Set<java.nio.file.Path> whole = new java.util.HashSet<>();
    /**
     * Snapshots the start found unusable (damaged, or of another journal: one whose checksums hold but whose record
     * this journal does not have): never counted as kept, deleted by the next clean-up.
     */
    private final java.util.Set<java.nio.file.Path> unusable = new java.util.HashSet<>();

    Snapshotter(final Journal journal, final EngineConfig config)
    {
        this.journal = journal;
        this.store = SnapshotStore.of(config.journal().directory());
        this.everyRecords = config.snapshotEveryRecords();
        this.intervalNanos = config.snapshotInterval().toNanos();
        this.kept = config.snapshotsKept();
        this.retentionMillis = config.journalRetention().toMillis();
        try
        {
            // what a crash while writing one left: this engine is the journal's one writer, and has not begun to write
            final int unfinished = store.deleteUnfinished();
            if (unfinished > 0)
            {
                LOG.info("deleted {} unfinished snapshot file(s) in {} (a stop while one was written)", unfinished, store.directory());
            }
        }
        catch (final io.gyre.journal.JournalException ex)
        {
            LOG.warn("{}; they stay, and change nothing", ex.getMessage());
        }
        this.thread = new Thread(this::run, "gyre-snapshot");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Before the stages start: the snapshot the engine started from was read through and is whole.
     */
    void verified(final java.nio.file.Path snapshot)
    {
        whole.add(snapshot);
    }

    /**
     * Before the stages start: the start skipped this snapshot as unusable.
     */
    void unusable(final java.nio.file.Path snapshot)
    {
        unusable.add(snapshot);
    }

    /**
     * Before the stages start: the records the engine replayed after the snapshot it started from (or from the
     * journal's start) count towards the next snapshot, as if applied since the last. Otherwise an engine restarted
     * more often than every {@code snapshotEveryRecords} records (a crash loop) would never snapshot, and each start
     * would replay more than the last.
     */
    void replayed(final long records)
    {
        recordsSince = Math.max(0, records);
    }

    /**
     * Sequence stage's thread: a journaled record at this position was applied.
     */
    void applied(final long recordEventId, final long document, final int offset, final long time)
    {
        eventId = recordEventId;
        documentIndex = document;
        offsetInDocument = offset;
        timestamp = time;
        recordsSince++;
    }

    /**
     * Sequence stage's thread, at the end of a batch: snapshot when one is due and none is being written.
     */
    void maybeSnapshot(final Sequencer sequencer)
    {
        if (recordsSince == 0 || (recordsSince < everyRecords && System.nanoTime() - lastAt < intervalNanos))
        {
            return;
        }
        capture(sequencer, null);
    }

    /**
     * Sequence stage's thread: snapshot now, answering {@code reply} once it is written (or why not).
     */
    void snapshotNow(final Sequencer sequencer, final CompletableFuture<SnapshotInfo> reply, final boolean onlyIfChanged)
    {
        if (documentIndex < 0 || (onlyIfChanged && recordsSince == 0))
        {
            if (onlyIfChanged)
            {
                reply.complete(last);
            }
            else
            {
                reply.completeExceptionally(new IllegalStateException("nothing journaled yet to snapshot"));
            }
            return;
        }
        capture(sequencer, reply);
    }

    private void capture(final Sequencer sequencer, final CompletableFuture<SnapshotInfo> reply)
    {
        if (!running)
        {
            if (reply != null)
            {
                reply.completeExceptionally(new EngineClosedException("the engine is closing"));
            }
            return;
        }
        final String faulted = journal.writer().faulted();
        if (faulted != null)
        {
            // the state holds records of the document the fault tore, which the journal will not have after its
            // repair: a snapshot of it would be of records that are not there (outside check: a SIGTERM after a
            // fault wrote one, which the next start then refused as "a snapshot of another journal?")
            if (reply != null)
            {
                reply.completeExceptionally(new IllegalStateException("no snapshot: " + faulted));
            }
            return;
        }
        if (!writing.compareAndSet(false, true))
        {
            if (reply != null)
            {
                reply.completeExceptionally(new SnapshotBusyException());
            }
            return;
        }
        final long start = System.nanoTime();
        final long oldest = sequencer.writeState(state.reset(), false);
        captureNanos = System.nanoTime() - start;
        pendingReply = reply;
        pendingPosition = new SnapshotStore.Position(eventId, documentIndex, offsetInDocument, timestamp,
            oldest == Long.MAX_VALUE ? documentIndex : oldest);
        recordsSince = 0;
        lastAt = System.nanoTime();
        LockSupport.unpark(thread);
    }

    private void run()
    {
        while (running)
        {
            if (pendingPosition != null)
            {
                write();
            }
            else
            {
                LockSupport.parkNanos(this, 100_000_000L);
            }
        }
    }

    private void write()
    {
        final SnapshotStore.Position position = pendingPosition;
        final CompletableFuture<SnapshotInfo> reply = pendingReply;
        pendingReply = null;
        pendingPosition = null;
        SnapshotInfo info = null;
        RuntimeException error = null;
        try
        {
            info = writeAndPrune(position);
        }
        catch (final RuntimeException ex)
        {
            error = ex;
        }
        finally
        {
            // free before answering: whoever waits on the reply may ask for the next snapshot at once
            writing.set(false);
        }
        if (reply != null)
        {
            if (error != null)
            {
                reply.completeExceptionally(error);
            }
            else
            {
                reply.complete(info);
            }
        }
    }

    private SnapshotInfo writeAndPrune(final SnapshotStore.Position position)
    {
        final SnapshotStore.Entry entry;
        try
        {
            entry = store.write(position, state.buffer(), 0, state.length());
            whole.add(entry.path());
        }
        catch (final RuntimeException ex)
        {
            failed.incrementAndGet();
            LOG.error("snapshot at event {} failed (the journal still holds everything; the next snapshot tries again)",
                position.eventId(), ex);
            throw ex;
        }
        final int deleted;
        try
        {
            deleted = prune();
        }
        catch (final RuntimeException ex)
        {
            // the snapshot is written and usable: only the clean-up after it failed
            last = new SnapshotInfo(entry.path(), position.eventId(), entry.sizeBytes(), captureNanos, 0);
            written.incrementAndGet();
            LOG.error("snapshot at event {} written to {}; deleting the snapshots and journal files it made unneeded failed " +
                "(they are kept; the next snapshot tries again)", position.eventId(), entry.path(), ex);
            throw new IllegalStateException("snapshot written to " + entry.path() +
                ", but deleting what it made unneeded failed: " + ex.getMessage(), ex);
        }
        final SnapshotInfo info = new SnapshotInfo(entry.path(), position.eventId(), entry.sizeBytes(), captureNanos, deleted);
        last = info;
        written.incrementAndGet();
        LOG.info("snapshot at event {}: {} bytes, state copied in {} us{}", position.eventId(), entry.sizeBytes(),
            captureNanos / 1000, deleted > 0 ? ", " + deleted + " journal file(s) deleted by retention" : "");
        return info;
    }

    /**
     * Keep the newest snapshots, delete the rest, then, once there are as many whole ones as kept, the journal cycles
     * none of them needs that are older than the retention window.
     *
     * @return journal files deleted.
     */
    private int prune()
    {
        final List<SnapshotStore.Entry> entries = store.list();
        long keepFrom = Long.MAX_VALUE;
        int valid = 0;
        for (final SnapshotStore.Entry entry : entries)
        {
            if (valid >= kept)
            {
                store.delete(entry);
                continue;
            }
            if (unusable.remove(entry.path()))
            {
                LOG.warn("deleting {}: the engine's start found it unusable", entry.path().getFileName());
                store.delete(entry);
                continue;
            }
            try
            {
                final SnapshotStore.Position position = whole.contains(entry.path()) ? store.position(entry) : store.load(entry).position();
                whole.add(entry.path());
                keepFrom = Math.min(keepFrom, position.firstDocumentKept());
                valid++;
            }
            catch (final SnapshotCorruptedException ex)
            {
                // not counted: an older whole one is kept in its place, and the journal it needs
                LOG.warn("deleting unreadable {}", ex.getMessage());
                whole.remove(entry.path());
                store.delete(entry);
            }
        }
        whole.retainAll(entries.stream().map(SnapshotStore.Entry::path).toList());
        if (valid < kept || keepFrom == Long.MAX_VALUE)
        {
            // fewer whole snapshots than kept: the journal they do not cover is what a damaged one falls back to
            return 0;
        }
        final List<Path> deleted = journal.deleteCyclesBefore(keepFrom, System.currentTimeMillis() - retentionMillis);
        filesDeleted.addAndGet(deleted.size());
        for (final Path file : deleted)
        {
            LOG.info("retention deleted journal file {}", file.getFileName());
        }
        return deleted.size();
    }

    /**
     * @return the last snapshot written by this engine, or null.
     */
    SnapshotInfo last()
    {
        return last;
    }

    long written()
    {
        return written.get();
    }

    long failed()
    {
        return failed.get();
    }

    long journalFilesDeleted()
    {
        return filesDeleted.get();
    }

    /**
     * Wait for a snapshot being written, then stop the thread.
     */
    @Override
    public void close()
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (writing.get() && System.nanoTime() < deadline)
        {
            LockSupport.parkNanos(1_000_000);
        }
        running = false;
        LockSupport.unpark(thread);
        try
        {
            thread.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** A snapshot was asked for while the previous one was still being written. */
    static final class SnapshotBusyException extends IllegalStateException
    {
        private static final long serialVersionUID = 1L;

        SnapshotBusyException()
        {
            super("a snapshot is being written; try again when it is done");
        }
    }
}
