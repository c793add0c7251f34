package io.gyre.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.RollingResourcesCache;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A journal directory: a Chronicle Queue of batch documents, each holding records laid out as
 * {@link RecordDescriptor} describes.
 * <p>
 * Opened for append, it takes an exclusive lock on the directory (one engine per journal), finds the last
 * event id, and repairs a torn tail before anything new is written: bad bytes in the last document, or a
 * document a crashed writer never finished, are discarded and a {@link RecordType#JOURNAL_RECOVERED} record
 * says so (padded over an unfinished document, so no remnant of it can later be read as data). Opened read
 * only, it changes nothing and reports what it finds.
 */
public final class Journal implements AutoCloseable
{
    /** Name of the file whose lock marks a journal as open for append by a process. */
    public static final String LOCK_FILE = "gyre.lock";

    /**
     * Chronicle's own disk space monitor is off unless the JVM says otherwise: the writer checks the space before
     * every document itself (and refuses what it cannot write), while Chronicle's logged "your disk ... is almost
     * full" at ERROR every 10 s on a tmpfs at 1 % used (an outside check), for the life of the process.
     */
    static final String CHRONICLE_DISK_MONITOR = "chronicle.disk.monitor.disable";

    static
    {
        if (System.getProperty(CHRONICLE_DISK_MONITOR) == null)
        {
            System.setProperty(CHRONICLE_DISK_MONITOR, "true");
        }
    }

    /**
     * The journals this process has open for append, by the real path of their lock file. Checked before the lock
     * file is opened: on Linux a process's file locks are released when it closes any channel to the file, so a
     * refused second open that opened and closed the lock file itself would drop the first open's lock, and let
     * another process append to the same journal.
     */
    private static final Set<Path> OPEN_FOR_APPEND = ConcurrentHashMap.newKeySet();

    private final Path registeredLock;

    private final JournalConfig config;
    private final SingleChronicleQueue queue;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final JournalWriter writer;
    private final List<JournalProblem> repairedTail;
    private final long lastEventIdAtOpen;
    private final long lastTimestampAtOpen;
    private JournalPretoucher pretoucher;
    /** Opened read only: damage found at the journal's end, or null. */
    private JournalProblem damagedEnd;
    /** Opened read only: a file cut off short of what was committed in it, which no reader may touch; or null. */
    private JournalProblem cutOff;

    private Journal(
        final JournalConfig config,
        final SingleChronicleQueue queue,
        final Path registeredLock,
        final FileChannel lockChannel,
        final FileLock lock,
        final JournalWriter writer,
        final List<JournalProblem> repairedTail,
        final long lastEventIdAtOpen,
        final long lastTimestampAtOpen)
    {
        this.config = config;
        this.queue = queue;
        this.registeredLock = registeredLock;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.writer = writer;
        this.repairedTail = repairedTail;
        this.lastEventIdAtOpen = lastEventIdAtOpen;
        this.lastTimestampAtOpen = lastTimestampAtOpen;
    }

    /**
     * Open a journal to append to, creating it when absent and repairing a torn tail.
     *
     * @throws JournalException when another process has it open, or it cannot be opened.
     */
    public static Journal openForAppend(final JournalConfig config)
    {
        return openForAppend(config, null);
    }

    /**
     * As {@link #openForAppend(JournalConfig)}, with the clock that decides roll cycles (tests roll cycles
     * without waiting for them); null for the system clock.
     */
    static Journal openForAppend(final JournalConfig config, final TimeProvider cycleClock)
    {
        final Path directory = config.directory();
        FileChannel channel = null;
        SingleChronicleQueue queue = null;
        Path registered = null;
        try
        {
            Files.createDirectories(directory);
            final Path lockFile = directory.toRealPath().resolve(LOCK_FILE);
            if (!OPEN_FOR_APPEND.add(lockFile))
            {
                throw new JournalException("journal " + directory + " is already open for append in this process", null);
            }
            registered = lockFile;
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            final FileLock lock = tryLock(channel, directory);
            refuseIfCutOff(config);
            final SingleChronicleQueueBuilder builder = SingleChronicleQueueBuilder.binary(directory.toFile())
                .rollCycle(JournalConfig.resolveRollCycle(config.rollCycle()))
                .timeoutMS(config.lockTimeoutMillis());
            if (cycleClock != null)
            {
                builder.timeProvider(cycleClock);
            }
            queue = builder.build();

            final TailState tail = inspectTail(queue);
            if (tail.damagedEnd != null)
            {
                throw cannotAppend(directory, tail.damagedEnd);
            }
            final FileStore store = Files.getFileStore(directory);
            final JournalWriter writer = new JournalWriter(queue.createAppender(), config, store, Math.max(1, tail.lastEventId + 1));
            final List<JournalProblem> repaired = repairTail(writer, tail);
            if (!repaired.isEmpty())
            {
                requireReadableAfterRepair(queue, tail, writer.nextEventId() - 1);
            }
            final Journal journal = new Journal(config, queue, registered, channel, lock, writer, repaired, tail.lastEventId, tail.lastTimestamp);
            // on tmpfs, reading a page of a hole allocates it: pretouching there would spend the space the
            // writer's check counts on, and it has nothing to win (no disk behind the pages)
            if (config.pretouchAheadBytes() > 0 && !isMemoryFileSystem(store))
            {
                journal.pretoucher = new JournalPretoucher("gyre-journal-pretouch", config.pretouchAheadBytes());
                writer.pretoucher(journal.pretoucher);
                journal.pretoucher.start();
            }
            return journal;
        }
        catch (final IOException ex)
        {
            closeQuietly(queue, channel, registered);
            throw new JournalException("cannot open journal " + directory + ": " + ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(queue, channel, registered);
            throw ex;
        }
    }

    private static boolean isMemoryFileSystem(final FileStore store)
    {
        final String type = store.type();
        return "tmpfs".equals(type) || "ramfs".equals(type);
    }

    /**
     * Open an existing journal to read only: nothing in it is changed, not even a torn tail.
     *
     * @throws JournalException when the directory holds no journal.
     */
    public static Journal openReadOnly(final JournalConfig config)
    {
        final Path directory = config.directory();
        if (!Files.isDirectory(directory))
        {
            throw new JournalException("no journal at " + directory + ": not a directory", null);
        }
        try (var files = Files.list(directory))
        {
            if (files.noneMatch(p -> p.getFileName().toString().endsWith(".cq4") || p.getFileName().toString().endsWith(".cq4t")))
            {
                throw new JournalException("no journal at " + directory + ": it holds no Chronicle Queue files", null);
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot read " + directory + ": " + ex.getMessage(), ex);
        }
        final SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(directory.toFile())
            .rollCycle(JournalConfig.resolveRollCycle(config.rollCycle()))
            .readOnly(true)
            .build();
        // a file cut off is not read at all: reading the queue's index, as finding its end does, would fault on the
        // missing pages (opening for append checks this before Chronicle extends the file)
        final JournalProblem cut = cutOffFile(queue);
        final TailState tail = cut == null ? inspectTail(queue) : new TailState();
        final Journal journal = new Journal(config, queue, null, null, null, null, Collections.emptyList(), tail.lastEventId, tail.lastTimestamp);
        journal.damagedEnd = cut != null ? cut : tail.damagedEnd;
        journal.cutOff = cut;
        return journal;
    }

    private static FileLock tryLock(final FileChannel channel, final Path directory) throws IOException
    {
        final FileLock lock;
        try
        {
            lock = channel.tryLock();
        }
        catch (final OverlappingFileLockException ex)
        {
            throw new JournalException("journal " + directory + " is already open for append in this process", ex);
        }
        if (lock == null)
        {
            throw new JournalException("journal " + directory + " is open for append by another process (" + LOCK_FILE + " is locked)", null);
        }
        return lock;
    }

    private static JournalException cannotAppend(final Path directory, final JournalProblem damage)
    {
        return new JournalException("journal " + directory + " cannot be appended to: " + damage.reason() +
            ". A crash leaves at most one unfinished document, which is repaired; this is more (the journal's last " +
            "pages lost, as after a power loss, or a truncated copy). Nothing was changed. gyre replay --journal " +
            directory + " --verify shows what can be read; keep a copy of the journal before doing anything else", null);
    }

    /**
     * Before the journal is opened for writing (which extends its files): refuse a file cut off short of what its
     * writer committed, leaving it as it is.
     */
    private static void refuseIfCutOff(final JournalConfig config) throws IOException
    {
        final Path directory = config.directory();
        try (var files = Files.list(directory))
        {
            if (files.noneMatch(p -> p.getFileName().toString().endsWith(".cq4")))
            {
                return;
            }
        }
        try (SingleChronicleQueue readOnly = SingleChronicleQueueBuilder.binary(directory.toFile())
            .rollCycle(JournalConfig.resolveRollCycle(config.rollCycle()))
            .readOnly(true)
            .build())
        {
            final JournalProblem cut = cutOffFile(readOnly);
            if (cut != null)
            {
                throw cannotAppend(directory, cut);
            }
        }
    }

    /**
     * @return the damage of a journal file shorter than what its writer committed (a truncated copy: Chronicle
     *     Queue's files are extended ahead of the writer, never cut back), or null. Reading the missing pages through a
     *     mapping would crash the reading thread (SIGBUS), not fail it.
     */
    static JournalProblem cutOffFile(final SingleChronicleQueue queue)
    {
        final int first = queue.firstCycle();
        final int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE)
        {
            return null;
        }
        for (int cycle = first; cycle <= last; cycle++)
        {
            final SingleChronicleQueueStore store;
            try
            {
                store = queue.storeForCycle(cycle, queue.epoch(), false, null);
            }
            catch (final RuntimeException ex)
            {
                continue;   // a cycle with no file, or one Chronicle cannot open: the readers report what they find
            }
            if (store == null)
            {
                continue;
            }
            try
            {
                final File file = store.file();
                final long written = store.writePosition();
                final long length = file.length();
                if (written > 0 && length < written + Integer.BYTES)
                {
                    return new JournalProblem(JournalProblem.Kind.CORRUPTION, -1, 0, 0, file.getName() + " is " + length +
                        " bytes long, but its writer committed a document at byte " + written + ": the file was cut off, " +
                        "and committed documents cannot be read (reading a file cut short can crash the reader, so nothing " +
                        "is read: to read what it holds, extend a copy with zeros, e.g. truncate -s " + (written + (1 << 20)) +
                        " on the copy, and read that)");
                }
            }
            finally
            {
                queue.closeStore(store);
            }
        }
        return null;
    }

    /**
     * The last valid event id, and anything torn at the end, found by reading backwards from the last
     * document and looking past it for an unfinished one.
     */
    private static TailState inspectTail(final SingleChronicleQueue queue)
    {
        final TailState state = new TailState();
        // First the end as a forward reader finds it: committed documents lost at the end (zeroed, cut off) leave the
        // queue's index pointing at documents that cannot be read, and a backward read from the end would start at
        // one of them (Chronicle then winds to the journal's start). Nothing else is looked at then: the journal is
        // refused for append, and a read-only reader reports the damage itself.
        try (JournalReader reader = new JournalReader(queue.createTailer()))
        {
            reader.toEnd();
            reader.read(record -> { }, 1);
            final JournalProblem tail = reader.tornTail();
            if (tail != null && tail.documentIndex() < 0)
            {
                state.unfinishedDocument = tail;
            }
            for (final JournalProblem problem : reader.problems())
            {
                if (problem.kind() == JournalProblem.Kind.CORRUPTION && state.damagedEnd == null)
                {
                    state.damagedEnd = problem;
                }
            }
        }
        if (state.damagedEnd != null)
        {
            return state;
        }
        final RecordView view = new RecordView();
        final UnsafeBuffer document = new UnsafeBuffer(0, 0);
        final DocumentBounds bounds = new DocumentBounds();
        try (ExcerptTailer tailer = queue.createTailer().direction(TailerDirection.BACKWARD).toEnd())
        {
            boolean last = true;
            while (state.lastEventId < 0)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        break;
                    }
                    if (dc.isMetaData())
                    {
                        continue;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    if (bounds.implausible(tailer, bytes.readPosition(), bytes.readRemaining()) != null)
                    {
                        continue;   // a damaged header, not a torn tail: replay reports it as corruption
                    }
                    final int length = (int)bytes.readRemaining();
                    document.wrap(bytes.addressForRead(bytes.readPosition(), length), length);
                    int offset = 0;
                    while (offset < length)
                    {
                        final String error = view.wrap(document, offset, length - offset, dc.index(), offset);
                        if (error != null)
                        {
                            if (last)
                            {
                                state.tornInLastDocument = new JournalProblem(
                                    JournalProblem.Kind.TORN_TAIL, dc.index(), offset, length - offset, error);
                            }
                            break;
                        }
                        state.lastEventId = view.eventId();
                        state.lastTimestamp = view.timestamp();
                        state.lastDocumentIndex = dc.index();
                        offset += view.frameLength();
                    }
                    last = false;
                }
            }
        }
        return state;
    }

    /**
     * After a repair: read forward from the last good document, as every reader will, and insist on reaching the
     * repair's own record. Chronicle's appender normally writes the repair over the unfinished document; when it
     * put it elsewhere (a header marked unfinished on a document of known length, say), readers would stop at the
     * unfinished header and never see anything written from now on: better not to start than to acknowledge
     * work into a part of the journal that can never be replayed.
     */
    private static void requireReadableAfterRepair(final SingleChronicleQueue queue, final TailState tail, final long repairEventId)
    {
        final long[] reached = {-1};
        try (JournalReader reader = new JournalReader(queue.createTailer()))
        {
            if (tail.lastDocumentIndex < 0)
            {
                reader.toStart();
            }
            else if (!reader.moveToIndex(tail.lastDocumentIndex))
            {
                reader.toStart();
            }
            reader.read(record -> reached[0] = Math.max(reached[0], record.eventId()), 8);
        }
        if (reached[0] < repairEventId)
        {
            throw new JournalException("the journal's torn tail could not be repaired: its repair record (event " + repairEventId +
                ") cannot be read after the last good document (readers stop at event " + reached[0] + "), so nothing written " +
                "from now on could be replayed; copy the journal aside and see gyre replay --verify", null);
        }
    }

    private static List<JournalProblem> repairTail(final JournalWriter writer, final TailState tail)
    {
        if (tail.tornInLastDocument == null && tail.unfinishedDocument == null)
        {
            return Collections.emptyList();
        }
        final List<JournalProblem> repaired = new ArrayList<>(2);
        final long timestamp = Math.max(tail.lastTimestamp, System.currentTimeMillis() * 1_000_000L);
        final JournalRecoveredRecord.Encoder encoder = new JournalRecoveredRecord.Encoder();
        int written = 0;
        if (tail.tornInLastDocument != null)
        {
            final JournalProblem torn = tail.tornInLastDocument;
            final int offset = writer.claim(JournalRecoveredRecord.PADDING_OFFSET);
            encoder.wrap(writer.buffer(), offset)
                .tornDocumentIndex(torn.documentIndex())
                .tornOffset(torn.offsetInDocument())
                .tornLength((int)torn.bytes())
                .lastGoodEventId(tail.lastEventId);
            writer.commit(RecordType.JOURNAL_RECOVERED, 0, timestamp, encoder.frameLength());
            written += encoder.frameLength();
            repaired.add(torn);
        }
        if (tail.unfinishedDocument != null)
        {
            final JournalProblem unfinished = tail.unfinishedDocument;
            // The document's own 4-byte header plus its records must cover every torn byte.
            final int padding = (int)Math.max(0, unfinished.bytes() - Integer.BYTES - written - JournalRecoveredRecord.PADDING_OFFSET);
            final int offset = writer.claim(JournalRecoveredRecord.PADDING_OFFSET + padding);
            encoder.wrap(writer.buffer(), offset)
                .tornDocumentIndex(-1)
                .tornOffset(0)
                .tornLength((int)unfinished.bytes())
                .lastGoodEventId(tail.lastEventId)
                .padding(padding);
            writer.commit(RecordType.JOURNAL_RECOVERED, 0, timestamp, encoder.frameLength());
            repaired.add(unfinished);
        }
        writer.flush();
        // the engine's first record must not be earlier than these (timestamps never decrease), whatever its clock
        tail.lastTimestamp = timestamp;
        return Collections.unmodifiableList(repaired);
    }

    /**
     * @return a new reader positioned at the start; the caller owns and closes it.
     */
    public JournalReader newReader()
    {
        final JournalReader reader = new JournalReader(queue.createTailer());
        if (cutOff != null)
        {
            reader.refuseToRead(cutOff);
            return reader;
        }
        return reader.toStart();
    }

    /**
     * @return the writer of a journal opened for append.
     * @throws IllegalStateException when opened read only.
     */
    public JournalWriter writer()
    {
        if (writer == null)
        {
            throw new IllegalStateException("journal " + config.directory() + " was opened read only");
        }
        return writer;
    }

    /**
     * @return the torn tail this journal discarded when opened for append (empty when it ended cleanly).
     */
    public List<JournalProblem> repairedTail()
    {
        return repairedTail;
    }

    /**
     * @return the last valid event id found when the journal was opened, or -1 when it was empty.
     */
    public long lastEventIdAtOpen()
    {
        return lastEventIdAtOpen;
    }

    /**
     * @return the timestamp of that last valid record, or 0.
     */
    public long lastTimestampAtOpen()
    {
        return lastTimestampAtOpen;
    }

    /**
     * @return the index of the first document still held, or -1 when the journal is empty.
     */
    public long firstIndex()
    {
        final long index = queue.firstIndex();
        return index == Long.MAX_VALUE ? -1 : index;
    }

    /**
     * @return the index of the last document, or -1 when the journal is empty or its end is damaged (committed
     *     documents lost, or a file cut off: Chronicle's own search for the last document would start at one it cannot
     *     read, or fault on the missing pages; a reader reports the damage).
     */
    public long lastIndex()
    {
        return damagedEnd != null ? -1 : queue.lastIndex();
    }

    public JournalConfig config()
    {
        return config;
    }

    /**
     * What the journal takes on disk: its cycle files and their count. Any thread; reads the directory, so for
     * monitoring, not for a hot path.
     *
     * @return {bytes, files}: the cycle files' sizes added up (Chronicle grows a cycle file in blocks, sparse, as it
     *     fills: the most the disk holds for them, not the records' length), and their count.
     */
    public long[] diskUsage()
    {
        long bytes = 0;
        long files = 0;
        try (var cycles = Files.newDirectoryStream(config.directory(), "*.cq4"))
        {
            for (final Path cycle : cycles)
            {
                try
                {
                    final var attributes = Files.readAttributes(cycle, java.nio.file.attribute.BasicFileAttributes.class);
                    bytes += attributes.size();
                    files++;
                }
                catch (final IOException ex)
                {
                    // deleted by retention while listed: not on disk any more
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot list journal " + config.directory() + ": " + ex.getMessage(), ex);
        }
        return new long[] {bytes, files};
    }

    /**
     * @return the Chronicle cycle (file) a document index is in.
     */
    public int cycleOf(final long documentIndex)
    {
        return queue.rollCycle().toCycle(documentIndex);
    }

    /**
     * Delete the journal's cycle files that hold only documents before {@code keepFromDocument} and that ended
     * at or before {@code endedBy} (epoch millis): both conditions, so that what a snapshot still needs and
     * what the retention window promises are kept. The cycle being written is never deleted. Readers that
     * have a deleted file open keep reading it until they move on (the file system frees it then).
     *
     * @return the files deleted, oldest first.
     * @throws JournalException when a file cannot be deleted (those before it are gone).
     */
    public List<Path> deleteCyclesBefore(final long keepFromDocument, final long endedBy)
    {
        final List<Path> deleted = new ArrayList<>();
        if (keepFromDocument <= 0)
        {
            return deleted;
        }
        final RollCycle rollCycle = queue.rollCycle();
        final int keepCycle = rollCycle.toCycle(keepFromDocument);
        final int writing = queue.lastCycle();
        final int first = queue.firstCycle();
        if (first == Integer.MAX_VALUE || first >= keepCycle)
        {
            return deleted;
        }
        final File directory = config.directory().toFile();
        final RollingResourcesCache files = new RollingResourcesCache(rollCycle, queue.epoch(),
            name -> new File(directory, name + SingleChronicleQueue.SUFFIX),
            file -> file.getName().substring(0, file.getName().length() - SingleChronicleQueue.SUFFIX.length()));
        // the cycle files on disk, oldest first: a cycle in which nothing was written has no file (Chronicle's own
        // listing of a range fails when the range's last cycle has none)
        final java.util.TreeMap<Integer, Path> cycles = new java.util.TreeMap<>();
        try (var listing = Files.newDirectoryStream(config.directory(), "*" + SingleChronicleQueue.SUFFIX))
        {
            for (final Path path : listing)
            {
                final String name = path.getFileName().toString();
                try
                {
                    cycles.put(files.parseCount(name.substring(0, name.length() - SingleChronicleQueue.SUFFIX.length())), path);
                }
                catch (final RuntimeException notACycle)
                {
                    // another file with the suffix: not the journal's to delete
                }
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot list journal " + config.directory() + ": " + ex.getMessage(), ex);
        }
        try
        {
            for (final Map.Entry<Integer, Path> entry : cycles.headMap(keepCycle, false).entrySet())
            {
                final long cycle = entry.getKey();
                final long endMillis = queue.epoch() + (cycle + 1) * rollCycle.lengthInMillis();
                if (cycle >= writing || endMillis > endedBy)
                {
                    continue;
                }
                final Path file = entry.getValue();
                try
                {
                    if (Files.deleteIfExists(file))
                    {
                        deleted.add(file);
                    }
                }
                catch (final IOException ex)
                {
                    throw new JournalException("cannot delete journal file " + file + ": " + ex.getMessage(), ex);
                }
            }
        }
        finally
        {
            if (!deleted.isEmpty())
            {
                queue.refreshDirectoryListing();
            }
        }
        return deleted;
    }

    /**
     * @return pages of the journal file brought into memory ahead of the writer so far (0 when pretouching
     *     is off); approximate while the writer runs.
     */
    public long pagesPretouched()
    {
        return pretoucher == null ? 0 : pretoucher.pagesTouched();
    }

    /**
     * @return how many windows of the journal file the pretoucher has mapped and touched so far (0 when
     *     pretouching is off); approximate while the writer runs.
     */
    public long windowsPretouched()
    {
        return pretoucher == null ? 0 : pretoucher.windowsTouched();
    }

    /**
     * @return null when the journal's file system has room for the writer's next document, else why not (measured
     *     now; any thread); null for a journal opened read-only.
     */
    public String spaceShortage()
    {
        return writer == null ? null : writer.spaceShortage();
    }

    /**
     * Flush nothing (the writer's owner flushes), release the files and the directory lock.
     */
    @Override
    public void close()
    {
        if (pretoucher != null)
        {
            pretoucher.close();
        }
        if (writer != null)
        {
            writer.close();
        }
        queue.close();
        try
        {
            if (lock != null && lock.isValid())
            {
                lock.release();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        finally
        {
            closeQuietly(null, lockChannel, registeredLock);
        }
    }

    private static void closeQuietly(final SingleChronicleQueue queue, final FileChannel channel, final Path registered)
    {
        try
        {
            if (queue != null)
            {
                queue.close();
            }
            if (channel != null)
            {
                try
                {
                    channel.close();
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            }
        }
        finally
        {
            // after the channel is closed: until then another open in this process must not touch the file
            if (registered != null)
            {
                OPEN_FOR_APPEND.remove(registered);
            }
        }
    }

    private static final class TailState
    {
        long lastEventId = -1;
        long lastTimestamp;
        /** The index of the last document with a valid record, or -1. */
        long lastDocumentIndex = -1;
        JournalProblem tornInLastDocument;
        /** Damage at the end that is not a torn tail (committed documents lost): nothing may be appended after it. */
        JournalProblem damagedEnd;
        JournalProblem unfinishedDocument;
    }
}
