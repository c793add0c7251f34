package io.gyre.journal;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.File;

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
 */
public final class JournalWriter
{
    private final ExcerptAppender appender;
    private final int maxDocumentBytes;
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

    JournalWriter(final ExcerptAppender appender, final int maxDocumentBytes, final long nextEventId)
    {
        this.appender = appender;
        this.maxDocumentBytes = maxDocumentBytes;
        this.nextEventId = nextEventId;
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
        }
        catch (final RuntimeException ex)
        {
            // the document is lost: its event ids go to the next records
            nextEventId = documentFirstEventId;
            throw new JournalException("cannot commit a document of " + records + " records: " + ex.getMessage(), ex);
        }
    }

    private void write(final DocumentContext dc, final int length)
    {
        try
        {
            final var bytes = dc.wire().bytes();
            bytes.unsafeWrite(staging.addressOffset(), length);
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
            dc.rollbackOnClose();
            dc.close();
        }
    }

    private void openDocument()
    {
        document = appender.writingDocument();
        documentIndex = document.index();
        staged = 0;
        documentFirstEventId = nextEventId;
        recordsInDocument = 0;
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
     * @return true while a document is open (records committed but not yet flushed).
     */
    public boolean hasOpenDocument()
    {
        return document != null;
    }
}
