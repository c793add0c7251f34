package io.gyre.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Appends records in batches: every record between two {@link #flush()} calls goes into one Chronicle
 * Queue document, which becomes visible to readers, atomically, when flushed. The engine's journal stage
 * flushes at the Disruptor's end of batch, so one document carries a whole batch.
 * <p>
 * Single writer: only the thread that owns the journal stage calls it. A record is encoded in a staging
 * buffer, its checksum computed, then copied into the open document:
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
    private Bytes<?> documentBytes;
    private long documentStart;
    private long documentIndex = -1;
    private long documentFirstEventId;
    private long nextEventId;
    private long recordsInDocument;
    private int lastRecordOffset = -1;
    private int claimed = -1;

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
        staging.checkLimit(maxFrameLength);
        claimed = maxFrameLength;
        return 0;
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
        RecordDescriptor.writeHeader(staging, 0, type, flags, eventId, timestamp);
        staging.putInt(RecordDescriptor.LENGTH_OFFSET, frameLength, RecordDescriptor.BYTE_ORDER);
        final long address = staging.addressOffset();
        staging.putInt(RecordDescriptor.CHECKSUM_OFFSET, RecordDescriptor.checksum(address, frameLength), RecordDescriptor.BYTE_ORDER);
        lastRecordOffset = bytesInDocument();
        documentBytes.unsafeWrite(address, frameLength);
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
        document = null;
        documentBytes = null;
        recordsInDocument = 0;
        if (records == 0)
        {
            dc.rollbackOnClose();
        }
        try
        {
            dc.close();
        }
        catch (final RuntimeException ex)
        {
            // the document is lost: its event ids go to the next records
            nextEventId = documentFirstEventId;
            throw new JournalException("cannot commit a document of " + records + " records: " + ex.getMessage(), ex);
        }
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
            documentBytes = null;
            recordsInDocument = 0;
            nextEventId = documentFirstEventId;
            dc.rollbackOnClose();
            dc.close();
        }
    }

    private void openDocument()
    {
        document = appender.writingDocument();
        documentBytes = document.wire().bytes();
        documentStart = documentBytes.writePosition();
        documentIndex = document.index();
        documentFirstEventId = nextEventId;
        recordsInDocument = 0;
    }

    private int bytesInDocument()
    {
        return (int)(documentBytes.writePosition() - documentStart);
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
