package io.gyre.journal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.StandardOpenOption;

/**
 * Appends records in batches: every record between two {@link #flush()} calls goes into one Chronicle
 * Queue document, which becomes visible to readers, atomically, when flushed. The engine's journal stage
 * flushes at the Disruptor's end of batch, so one document carries a whole batch.
 * <p>
 * Single writer: only the thread that owns the journal stage calls it. Records are encoded one after the
 * other in a staging buffer, each stamped with its header and checksum on commit; the whole batch is
 * copied into the open document in one write when flushed, so the per-record cost is the encoding and the
 * checksum, and the memory-mapped file is touched once per batch:
 * <pre>{@code
 * int offset = writer.claim(maxFrameLength);
 * encoder.wrap(writer.buffer(), offset)...;            // fill the body
 * long eventId = writer.commit(type, flags, timestamp, encoder.frameLength());
 * ...
 * writer.flush();                                      // end of batch
 * }</pre>
 * <p>
 * <b>Disk space.</b> Chronicle Queue grows its files sparsely ({@code setLength}) and writes through a memory
 * map, so the file system allocates a page only when the writer first touches it. When it cannot (disk
 * full, a tmpfs at its size), the kernel answers the touch with SIGBUS, which the JVM turns into an
 * {@link InternalError} thrown <em>later</em>, at some point of the thread's code after the faulting access:
 * possibly after the document was committed and acknowledged, with its bytes lost (see docs/JOURNAL.md,
 * "When the journal cannot be written"). So this writer never lets a write get there: before opening a
 * document it makes sure the file system has room for a whole document plus
 * {@link JournalConfig#minFreeBytes()} (re-measured at least every {@value #CHECK_INTERVAL_MILLIS} ms, every
 * {@value #CHECK_EVERY_MIB} MiB written, and before every document once space runs low), and refuses the
 * document with a {@link JournalException} otherwise: a clean failure, nothing touched, and the next
 * document may succeed once space is freed.
 * <p>
 * Another process can fill the disk faster than the margin (a 100 MB copy takes milliseconds). So no document is
 * copied through the map onto pages the file system has not backed: the writer first writes zeros ahead of it with
 * {@code pwrite} ({@link FileChannel#write(ByteBuffer, long)}, the same page cache the map shows), a step at a time,
 * which fails at once with an {@link IOException} (ENOSPC) when the file system cannot take them: the document is
 * then rolled back and refused like any other, before anything in it could be acknowledged. Chronicle's own few
 * bytes (the document's header, its index) still go through the map: the next header's place, and room for the index
 * array Chronicle may write right after a document as it commits it, are reserved with that document. Should a fault
 * happen all the same, the writer is {@link #faulted()} for good: it
 * refuses everything, since Chronicle's appender state is unknown after it, and the journal's tail is checked when
 * it is next opened.
 */
public final class JournalWriter
{
    static final long CHECK_INTERVAL_MILLIS = 100;
    static final long CHECK_EVERY_MIB = 4;
    private static final long CHECK_INTERVAL_NANOS = CHECK_INTERVAL_MILLIS * 1_000_000L;
    private static final long CHECK_EVERY_BYTES = CHECK_EVERY_MIB << 20;
    /** Bytes reserved past a document: the next document's header (4 bytes, at most 4 more to align it). */
    private static final int NEXT_HEADER_ROOM = 8;
    /** Chronicle's header of an index array (a metadata document: {@code indexCount} longs after it). */
    private static final int INDEX_ARRAY_HEADER_ROOM = 128;
    /** Reserved ahead at once, so that a reservation's system call comes once per this many bytes written, not per document. */
    private static final long RESERVE_STEP = 128 * 1024;
    private static final int PAGE = 4096;

    private final ExcerptAppender appender;
    private final int maxDocumentBytes;
    private final String directory;
    private final FileStore store;
    private final long spaceNeeded;
    private final long minFreeBytes;
    /**
     * Bytes kept reserved past the end of each document: what Chronicle may write through the map before the next
     * document's first byte: that document's header and, when this document is the first a new index array covers,
     * that array.
     */
    private final long reserveAhead;
    private final ExpandableDirectByteBuffer staging = new ExpandableDirectByteBuffer(64 * 1024);

    private DocumentContext document;
    private int staged;
    private long documentIndex = -1;
    private long documentFirstEventId;
    private long nextEventId;
    private long recordsInDocument;
    private int lastRecordOffset = -1;
    private int claimed = -1;

    private JournalPretoucher pretoucher;
    private int pretouchCycle = Integer.MIN_VALUE;
    private File currentFile;
    /** The current journal file, to reserve its next pages with {@code pwrite} ({@link #reserve}), and its cycle. */
    private FileChannel fileChannel;
    private int channelCycle = Integer.MIN_VALUE;
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(64 * 1024);
    /** The current journal file is backed up to here (written with zeros, or with documents), -1 when not known. */
    private long reservedUpTo = -1;
    /** Where the last document written into the current file ends (its content's last byte + 1), -1 before one. */
    private long documentEnd = -1;
    /** The journal file last seen by {@link #checkFileStillThere}, and its identity on the file system then. */
    private File watchedFile;
    private Object watchedFileKey;

    private long usableAtCheck = -1;
    private long checkedAtNanos;
    private long writtenSinceCheck;
    /** Set on the writer's thread; read by others (a snapshot must not be taken of records a fault may have torn). */
    private volatile String faulted;
    private volatile FaultInjection faults;

    /**
     * @param store the journal directory's file store, whose usable space is checked before each document;
     *     null for no check (a file system that cannot say).
     */
    JournalWriter(
        final ExcerptAppender appender,
        final JournalConfig config,
        final FileStore store,
        final long nextEventId)
    {
        this.appender = appender;
        this.maxDocumentBytes = config.maxDocumentBytes();
        this.directory = config.directory().toString();
        this.store = store;
        this.minFreeBytes = config.minFreeBytes();
        this.spaceNeeded = config.minFreeBytes() + config.maxDocumentBytes();
        this.reserveAhead = reserveAhead(JournalConfig.resolveRollCycle(config.rollCycle()).defaultIndexCount());
        this.nextEventId = nextEventId;
    }

    /**
     * Chronicle indexes every {@code indexSpacing}-th document of a cycle in arrays of {@code indexCount} entries, and
     * when one is full it writes the next at the write position as it commits the document the new array first covers,
     * right after it: through the map, with no chance for this writer to reserve it first. So each document's
     * reservation reaches far enough past it for a whole index array and the next document's header.
     */
    static long reserveAhead(final int indexCount)
    {
        return NEXT_HEADER_ROOM + INDEX_ARRAY_HEADER_ROOM + 8L * indexCount;
    }

    /**
     * A test seam: called before each document is opened and before each is committed.
     */
    @FunctionalInterface
    public interface FaultInjection
    {
        /**
         * @return null to let the write go ahead, or the message of the I/O error to fail it with (the
         *     document is then rolled back, exactly as when the file system refuses it).
         */
        String failure();
    }

    /**
     * Install a {@link FaultInjection} (tests only; null removes it), from any thread. Without one, the check
     * costs one read of a field per document.
     */
    public void faultInjection(final FaultInjection value)
    {
        faults = value;
    }

    /**
     * Make room for one record of at most {@code maxFrameLength} bytes and open a document if none is open.
     *
     * @return the offset in {@link #buffer()} at which to encode the record (its header included).
     * @throws IllegalArgumentException when the record could never fit a document.
     */
    public int claim(final int maxFrameLength)
    {
        if (maxFrameLength < RecordDescriptor.HEADER_LENGTH || maxFrameLength > RecordDescriptor.MAX_FRAME_LENGTH)
        {
            throw new IllegalArgumentException("maxFrameLength=" + maxFrameLength + " must be in [" +
                RecordDescriptor.HEADER_LENGTH + ", " + RecordDescriptor.MAX_FRAME_LENGTH + "]");
        }
        if (faulted != null)
        {
            throw new JournalException(faulted, null);
        }
        if (document != null && recordsInDocument > 0 && bytesInDocument() + maxFrameLength > maxDocumentBytes)
        {
            flush();
        }
        if (document == null)
        {
            openDocument();
        }
        staging.checkLimit(staged + maxFrameLength);
        claimed = maxFrameLength;
        return staged;
    }

    /**
     * @return the staging buffer records are encoded into.
     */
    public MutableDirectBuffer buffer()
    {
        return staging;
    }

    /**
     * Finish the claimed record: stamp its header and checksum and append it to the open document.
     *
     * @return the record's event id.
     */
    public long commit(final RecordType type, final int flags, final long timestamp, final int frameLength)
    {
        if (claimed < 0)
        {
            throw new IllegalStateException("commit without claim");
        }
        if (frameLength < RecordDescriptor.HEADER_LENGTH || frameLength > claimed)
        {
            throw new IllegalArgumentException("frameLength=" + frameLength + " must be in [" +
                RecordDescriptor.HEADER_LENGTH + ", " + claimed + "] (the claimed length)");
        }
        claimed = -1;
        final long eventId = nextEventId;
        final int offset = staged;
        RecordDescriptor.writeHeader(staging, offset, type, flags, eventId, timestamp);
        staging.putInt(offset + RecordDescriptor.LENGTH_OFFSET, frameLength, RecordDescriptor.BYTE_ORDER);
        staging.putInt(offset + RecordDescriptor.CHECKSUM_OFFSET,
            RecordDescriptor.checksum(staging.addressOffset() + offset, frameLength), RecordDescriptor.BYTE_ORDER);
        lastRecordOffset = offset;
        staged = offset + frameLength;
        recordsInDocument++;
        nextEventId = eventId + 1;
        return eventId;
    }

    /**
     * Abandon the claimed record (nothing of it is written).
     */
    public void abandon()
    {
        claimed = -1;
    }

    /**
     * Close the open document, making its records durable in the page cache and visible to readers.
     * Does nothing when no document is open.
     */
    public void flush()
    {
        if (document == null)
        {
            return;
        }
        final DocumentContext dc = document;
        final long records = recordsInDocument;
        final int length = staged;
        document = null;
        recordsInDocument = 0;
        staged = 0;
        try
        {
            if (records == 0)
            {
                dc.rollbackOnClose();
            }
            else
            {
                write(dc, length);
            }
            dc.close();
            writtenSinceCheck += length;
        }
        catch (final RuntimeException ex)
        {
            // the document is lost: its event ids go to the next records
            nextEventId = documentFirstEventId;
            throw new JournalException("cannot commit a document of " + records + " records to " + directory + ": " + ex.getMessage(), ex);
        }
        catch (final InternalError ex)
        {
            nextEventId = documentFirstEventId;
            throw fault(ex);
        }
    }

    private void write(final DocumentContext dc, final int length)
    {
        try
        {
            final String failure = faults != null ? faults.failure() : null;
            if (failure != null)
            {
                throw new JournalException(failure, new IOException(failure));
            }
            final var bytes = dc.wire().bytes();
            final long start = bytes.writePosition();
            reserve(start, length);
            bytes.unsafeWrite(staging.addressOffset(), length);
            documentEnd = start + length;
            if (pretoucher != null)
            {
                reportPosition(bytes.writePosition());
            }
        }
        catch (final RuntimeException ex)
        {
            dc.rollbackOnClose();
            try
            {
                dc.close();
            }
            catch (final RuntimeException closeFailure)
            {
                ex.addSuppressed(closeFailure);
            }
            throw ex;
        }
    }

    /**
     * Makes sure the file system backs the current journal file from {@code start} to {@link #reserveAhead} bytes past
     * a document of {@code length} bytes there, before the document is copied through the map: the part not yet
     * reserved, and {@value #RESERVE_STEP} bytes more, is written with zeros
     * by {@code pwrite} (what a reader finds beyond the last document anyway), which fails at once with an
     * {@link IOException} (ENOSPC) when the file system cannot take it. A full disk then refuses the document on this
     * thread before it is written, instead of faulting inside the mapped copy. Zeros go only at or past the document's
     * start, never over anything written: Chronicle writes its own metadata before a document's start.
     */
    private void reserve(final long start, final int length)
    {
        final long end = start + length + reserveAhead;
        final FileChannel channel = channel();
        if (reservedUpTo < start)
        {
            reservedUpTo = start;
        }
        if (end <= reservedUpTo)
        {
            return;
        }
        final long to = (Math.max(end, reservedUpTo + RESERVE_STEP) + PAGE - 1) & ~(PAGE - 1L);
        long at = reservedUpTo;
        try
        {
            while (at < to)
            {
                final ByteBuffer chunk = zeros.duplicate();
                chunk.limit((int)Math.min(chunk.capacity(), to - at));
                at += channel.write(chunk, at);
            }
        }
        catch (final IOException ex)
        {
            // the zeros written stand where zeros stood: nothing to undo
            throw new JournalException("cannot write a document of " + length + " bytes to journal " +
                directory + ": " + ex.getMessage() + " (nothing of it is written; refused until it can be)", ex);
        }
        reservedUpTo = to;
    }

    /** @return how far the current journal file is reserved, -1 when not known (for tests). */
    long reservedUpTo()
    {
        return reservedUpTo;
    }

    /** @return where the last document written into the current file ends, -1 before one (for tests). */
    long documentEnd()
    {
        return documentEnd;
    }

    private FileChannel channel()
    {
        final int cycle = appender.cycle();
        if (fileChannel == null || cycle != channelCycle)
        {
            closeChannel();
            final File file = appender.currentFile();
            try
            {
                fileChannel = FileChannel.open(file.toPath(), StandardOpenOption.WRITE);
            }
            catch (final IOException ex)
            {
                throw new JournalException("cannot open journal file " + file + " to write: " + ex.getMessage(), ex);
            }
            channelCycle = cycle;
            reservedUpTo = -1;
            documentEnd = -1;
        }
        return fileChannel;
    }

    private void closeChannel()
    {
        if (fileChannel != null)
        {
            try
            {
                fileChannel.close();
            }
            catch (final IOException ignored)
            {
                // written documents are in the page cache whatever closing says
            }
            fileChannel = null;
        }
    }

    /**
     * Releases the file this writer writes documents with (the journal closes the queue itself).
     */
    void close()
    {
        closeChannel();
    }

    private void reportPosition(final long position)
    {
        final int cycle = appender.cycle();
        if (cycle != pretouchCycle || currentFile == null)
        {
            pretouchCycle = cycle;
            currentFile = appender.currentFile();
        }
        pretoucher.writerAt(currentFile, position);
    }

    void pretoucher(final JournalPretoucher value)
    {
        pretoucher = value;
    }

    /**
     * Discard the open document and every record committed to it since the last flush; their event ids
     * are given to the next records.
     */
    public void rollback()
    {
        if (document != null)
        {
            final DocumentContext dc = document;
            document = null;
            recordsInDocument = 0;
            staged = 0;
            nextEventId = documentFirstEventId;
            if (faulted == null)
            {
                dc.rollbackOnClose();
                dc.close();
            }
        }
    }

    private void openDocument()
    {
        final String failure = faults != null ? faults.failure() : null;
        if (failure != null)
        {
            throw new JournalException("cannot open a document in " + directory + ": " + failure, new IOException(failure));
        }
        ensureSpace();
        try
        {
            document = appender.writingDocument();
        }
        catch (final InternalError ex)
        {
            throw fault(ex);
        }
        documentIndex = document.index();
        staged = 0;
        documentFirstEventId = nextEventId;
        recordsInDocument = 0;
    }

    /**
     * Refuse to open a document unless the file system can back all of it, with {@code minFreeBytes} to
     * spare. Re-measures when the last measure is stale (by time or by bytes written since) or space is low.
     */
    private void ensureSpace()
    {
        if (store == null)
        {
            return;
        }
        final long now = System.nanoTime();
        final long known = usableAtCheck - writtenSinceCheck;
        if (usableAtCheck < 0 || known < 2 * spaceNeeded || writtenSinceCheck >= CHECK_EVERY_BYTES ||
            now - checkedAtNanos >= CHECK_INTERVAL_NANOS)
        {
            try
            {
                usableAtCheck = store.getUsableSpace();
            }
            catch (final IOException ex)
            {
                usableAtCheck = -1;
                throw new JournalException("cannot measure the free space of journal " + directory + ": " + ex.getMessage(), ex);
            }
            checkedAtNanos = now;
            writtenSinceCheck = 0;
            checkFileStillThere();
            if (usableAtCheck < spaceNeeded)
            {
                final long usable = usableAtCheck;
                usableAtCheck = -1;
                throw new JournalException(outOfSpace(usable), null);
            }
        }
    }

    /**
     * What the next document's space check would say, measured now, from any thread: a readiness probe of an idle
     * engine, which writes nothing and so checks nothing.
     *
     * @return null when the file system has room for a document and {@code minFreeBytes}, else why not.
     */
    public String spaceShortage()
    {
        if (store == null)
        {
            return null;
        }
        try
        {
            final long usable = store.getUsableSpace();
            return usable >= spaceNeeded ? null : outOfSpace(usable);
        }
        catch (final IOException ex)
        {
            return "cannot measure the free space of journal " + directory + ": " + ex.getMessage();
        }
    }

    private String outOfSpace(final long usable)
    {
        return "journal " + directory + " is out of disk space: " + usable + " bytes usable, a document needs up to maxDocumentBytes=" +
            maxDocumentBytes + " with minFreeBytes=" + minFreeBytes + " kept free";
    }

    /**
     * Refuse to go on writing into a journal file that was deleted or replaced under the writer (an operator
     * removing the journal's directory, say): its mapping still takes writes, but nobody can read them back, so
     * nothing more may be acknowledged. Checked with the free space, so at most every
     * {@value #CHECK_INTERVAL_MILLIS} ms.
     */
    private void checkFileStillThere()
    {
        final File file = appender.currentFile();
        if (file == null)
        {
            return;
        }
        final Object key = fileKey(file);
        if (!file.equals(watchedFile))
        {
            watchedFile = file;
            watchedFileKey = key;
        }
        else if (key == null || !key.equals(watchedFileKey))
        {
            usableAtCheck = -1;   // checked again before every document from now on: no write gets through
            throw new JournalException("journal file " + file + " was " + (key == null ? "deleted" : "replaced") + " while this " +
                "engine was writing it: what it writes there could never be read back, so it stops writing; restart the engine " +
                "on an intact journal directory", null);
        }
    }

    private static Object fileKey(final File file)
    {
        try
        {
            final Object key = java.nio.file.Files.readAttributes(file.toPath(), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            return key != null ? key : Boolean.TRUE;   // no identity on this file system: only a deletion shows
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    private JournalException fault(final InternalError ex)
    {
        document = null;
        recordsInDocument = 0;
        staged = 0;
        faulted = "journal writer of " + directory + " faulted (" + ex.getMessage() + ": the file system could not back a " +
            "page of the memory-mapped journal, e.g. the disk filled up faster than minFreeBytes=" + minFreeBytes +
            " allowed for); it refuses every write from now on: restart to have the journal's tail checked and repaired";
        return new JournalException(faulted, ex);
    }

    /**
     * @return why this writer refuses every write for good (a fault inside the memory-mapped write), or
     *     null while it works.
     */
    public String faulted()
    {
        return faulted;
    }

    private int bytesInDocument()
    {
        return staged;
    }

    /**
     * Hand the writer to another thread: call it from the thread taking over, after a safe hand-off.
     */
    public void transferOwnership()
    {
        appender.singleThreadedCheckReset();
    }

    /**
     * @return the Chronicle Queue index of the open document (the last one, once flushed).
     */
    public long documentIndex()
    {
        return documentIndex;
    }

    /**
     * @return the offset in its document of the last committed record.
     */
    public int lastRecordOffset()
    {
        return lastRecordOffset;
    }

    /**
     * @return the event id the next committed record will take.
     */
    public long nextEventId()
    {
        return nextEventId;
    }

    /**
     * @return how many records the open document holds (0 when none is open).
     */
    public long recordsInOpenDocument()
    {
        return document == null ? 0 : recordsInDocument;
    }

    /**
     * @return true when a record of up to {@code maxFrameLength} bytes fits the open document without
     *     {@link #claim} flushing it first (always true when none is open).
     */
    public boolean fits(final int maxFrameLength)
    {
        return document == null || recordsInDocument == 0 || bytesInDocument() + maxFrameLength <= maxDocumentBytes;
    }

    /**
     * @return true while a document is open (records committed but not yet flushed).
     */
    public boolean hasOpenDocument()
    {
        return document != null;
    }
}
