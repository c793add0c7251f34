package io.gyre.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.ExcerptContext;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.wire.DocumentContext;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.Wires;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Reads records in journal order, validating each (length, checksum, type, version, layout, event id
 * continuity) before a handler sees it. Problems are collected, not thrown: the last document's bad bytes
 * and a document the writer never finished are a {@link JournalProblem.Kind#TORN_TAIL}; bad bytes anywhere
 * else are {@link JournalProblem.Kind#CORRUPTION}.
 * <p>
 * Single-threaded: one reader belongs to one thread. Records are read in place from the mapped journal
 * files; a handler must copy what it keeps.
 */
public final class JournalReader implements AutoCloseable
{
    /** How far past the last document to look for the bytes of a document that was never finished. */
    static final long TORN_SCAN_LIMIT = 2L * RecordDescriptor.MAX_FRAME_LENGTH;
    private static final int TORN_QUICK_SCAN = 4096;

    private final ExcerptTailer tailer;
    private final UnsafeBuffer document = new UnsafeBuffer(0, 0);
    private final RecordView view = new RecordView();
    private final List<JournalProblem> problems = new ArrayList<>();

    private long expectedEventId = -1;
    private long lastEventId = -1;
    private long lastTimestamp;
    private long documentsRead;
    private long recordsRead;
    private boolean atEnd;
    private JournalProblem pending;
    private JournalProblem unfinished;
    /** The index the last {@link #moveToIndex} went to, -1 after {@link #toStart}: where a checker starts. */
    private long positionedAt = -1;
    private ChecksumsAhead ahead;
    /** A damaged document header this reader cannot read past (reported among the problems), or null. */
    private JournalProblem blocked;
    /** Set when the journal cannot be read at all ({@link #refuseToRead}). */
    private JournalProblem unreadable;
    /** The last committed document runs past its file's end: reading stops there, a torn tail. */
    private boolean lastCutShort;
    /** Whether the end was checked for unreachable documents since a document was last read. */
    private boolean endChecked;
    private final DocumentBounds bounds = new DocumentBounds();

    JournalReader(final ExcerptTailer tailer)
    {
        this.tailer = tailer;
    }

    /**
     * Position before the first document still in the journal.
     */
    public JournalReader toStart()
    {
        tailer.toStart();
        positionedAt = -1;
        resetContinuity();
        return this;
    }

    /**
     * Position after the last document, so the next read returns only what is written from now on.
     */
    public JournalReader toEnd()
    {
        tailer.toEnd();
        resetContinuity();
        return this;
    }

    /**
     * Position at a document, so the next read starts with it.
     *
     * @return false when the journal has no document at that index.
     */
    public boolean moveToIndex(final long documentIndex)
    {
        resetContinuity();
        positionedAt = documentIndex;
        return unreadable == null && tailer.moveToIndex(documentIndex);
    }

    /**
     * From the current position on, check the records' checksums on a second thread, ahead of this reader's
     * reads, for a long read to the end (a replay): this thread then compares no checksum the other has
     * already found matching, and still makes every other check. Nothing read or reported changes
     * ({@link ChecksumsAhead}). The thread stops at the journal's end, or when this reader is closed.
     */
    public JournalReader checkChecksumsAhead()
    {
        return checkChecksumsAhead(null);
    }

    /**
     * As {@link #checkChecksumsAhead()}, and the checking thread also runs {@code lookAhead} on each document
     * it found whole, handing its slot to {@link RecordHandler#onDocument(org.agrona.DirectBuffer, long, int)}.
     *
     * @param lookAhead work on whole documents for the checking thread, or null for none.
     */
    public JournalReader checkChecksumsAhead(final DocumentLookAhead lookAhead)
    {
        if (ahead == null && unreadable == null)
        {
            ahead = new ChecksumsAhead(tailer.queue(), positionedAt, lookAhead, "gyre-journal-check");
            ahead.start();
        }
        return this;
    }

    /**
     * @return documents whose checksums this reader took from the thread checking them ahead.
     */
    public long documentsCheckedAhead()
    {
        return ahead == null ? 0 : ahead.trusted();
    }

    private void resetContinuity()
    {
        expectedEventId = -1;
        atEnd = false;
        pending = null;
        unfinished = null;
        blocked = null;
        lastCutShort = false;
        endChecked = false;
    }

    /**
     * Read up to {@code maxDocuments} documents, handing each valid record to {@code handler}.
     *
     * @return the number of records handed over; 0 with {@link #atEnd()} true once nothing more is written.
     */
    public long read(final RecordHandler handler, final int maxDocuments)
    {
        long delivered = 0;
        for (int i = 0; i < maxDocuments; i++)
        {
            if (unreadable != null && blocked == null)
            {
                blocked = unreadable;
                problems.add(unreadable);
            }
            if (blocked != null || lastCutShort)
            {
                atEnd = true;
                break;
            }
            try (DocumentContext dc = tailer.readingDocument())
            {
                if (!dc.isPresent())
                {
                    atEnd = true;
                    concludeAtEnd();
                    if (!atEnd)
                    {
                        continue;   // more was written meanwhile
                    }
                    break;
                }
                atEnd = false;
                if (dc.isMetaData())
                {
                    continue;
                }
                final Bytes<?> bytes = dc.wire().bytes();
                final long start = bytes.readPosition();
                final long remaining = bytes.readRemaining();
                final String implausible = bounds.implausible(tailer, start, remaining);
                if (implausible != null && bounds.pastFile() && committedAt() == start - Integer.BYTES)
                {
                    // the last document its writer committed, with its end cut off (a copy made while it was being
                    // written, or a file truncated in it): a torn tail, as bad bytes at its end would be; the engine
                    // discards it when it opens the journal (its file is extended with zeros there)
                    resolvePending(dc.index(), null);
                    pending = new JournalProblem(JournalProblem.Kind.TORN_TAIL, dc.index(), 0, remaining, implausible);
                    lastCutShort = true;
                    dc.rollbackOnClose();
                    atEnd = true;
                    break;
                }
                if (implausible != null)
                {
                    // its header is damaged: reading it would run past the file, and nothing after it can be found
                    blocked = new JournalProblem(JournalProblem.Kind.CORRUPTION, dc.index(), 0, 0, implausible +
                        ": the documents after it cannot be read");
                    problems.add(blocked);
                    dc.rollbackOnClose();
                    atEnd = true;
                    break;
                }
                final int length = (int)remaining;
                document.wrap(bytes.addressForRead(start, length), length);
                endChecked = false;
                // what was found unfinished at an earlier end was a document being written (a live journal): it is not
                // the tail any more
                unfinished = null;
                final int slot = ahead == null ? -1 : ahead.verified(dc.index(), length);
                handler.onDocument(document, dc.index(), slot);
                delivered += readDocument(dc.index(), handler, slot >= 0);
                documentsRead++;
            }
        }
        return delivered;
    }

    /**
     * Read the whole journal from the current position to its end.
     *
     * @return the number of records handed over.
     */
    public long readToEnd(final RecordHandler handler)
    {
        long total = 0;
        do
        {
            total += read(handler, 1024);
        }
        while (!atEnd);
        return total;
    }

    private long readDocument(final long documentIndex, final RecordHandler handler, final boolean checksumsVerified)
    {
        final int length = document.capacity();
        int offset = 0;
        long delivered = 0;
        boolean first = true;
        while (offset < length)
        {
            final String error = view.wrap(document, offset, length - offset, documentIndex, offset, checksumsVerified);
            if (error != null)
            {
                resolvePending(documentIndex, null);
                pending = new JournalProblem(JournalProblem.Kind.TORN_TAIL, documentIndex, offset, length - offset, error);
                return delivered;
            }
            if (first)
            {
                resolvePending(documentIndex, view);
                first = false;
            }
            final long eventId = view.eventId();
            if (expectedEventId >= 0 && eventId != expectedEventId)
            {
                problems.add(new JournalProblem(JournalProblem.Kind.CORRUPTION, documentIndex, offset, view.frameLength(),
                    "event id " + eventId + " where " + expectedEventId + " was expected (" +
                    (eventId > expectedEventId ? (eventId - expectedEventId) + " records missing)" : "repeated or out of order)")));
            }
            if (expectedEventId >= 0 && view.timestamp() < lastTimestamp)
            {
                problems.add(new JournalProblem(JournalProblem.Kind.CORRUPTION, documentIndex, offset, view.frameLength(),
                    "timestamp " + view.timestamp() + " is earlier than the previous record's, " + lastTimestamp + " (timestamps never decrease)"));
            }
            if (view.type() == RecordType.JOURNAL_RECOVERED && view.journalRecovered().tornDocumentIndex() < 0)
            {
                problems.add(new JournalProblem(JournalProblem.Kind.RECOVERED_TORN_TAIL, -1, 0, view.journalRecovered().tornLength(),
                    "an unfinished document was discarded by recovery (last good event id " + view.journalRecovered().lastGoodEventId() + ")"));
            }
            expectedEventId = eventId + 1;
            lastEventId = eventId;
            lastTimestamp = view.timestamp();
            recordsRead++;
            delivered++;
            handler.onRecord(view);
            offset += view.frameLength();
        }
        return delivered;
    }

    /**
     * A document with bad bytes is a torn tail only if nothing follows it but the recovery record that
     * names it; once another document is read, decide which it was.
     */
    private void resolvePending(final long nextDocumentIndex, final RecordView next)
    {
        if (pending == null)
        {
            return;
        }
        final boolean recovered = next != null && next.type() == RecordType.JOURNAL_RECOVERED &&
            next.journalRecovered().tornDocumentIndex() == pending.documentIndex();
        problems.add(new JournalProblem(
            recovered ? JournalProblem.Kind.RECOVERED_TORN_TAIL : JournalProblem.Kind.CORRUPTION,
            pending.documentIndex(), pending.offsetInDocument(), pending.bytes(),
            recovered ? pending.reason() + " (discarded by recovery)" : pending.reason() + " (followed by document 0x" + Long.toHexString(nextDocumentIndex) + ")"));
        pending = null;
    }

    private void concludeAtEnd()
    {
        if (unfinished == null)
        {
            unfinished = inspectUnfinishedDocument();
        }
        if (!endChecked)
        {
            endChecked = true;
            checkNothingUnreachable();
        }
    }

    /**
     * At the end of what can be read: does the queue know of documents past it? Damaged bytes (a header zeroed
     * or flipped in the middle of a file) end a read early while the queue's index, and its writer, go on past
     * them: records there would be lost without a word. A document written meanwhile is read instead.
     */
    private void checkNothingUnreachable()
    {
        checkWriterNotPast(tailer.index());
        if (blocked != null || !atEnd)
        {
            return;   // asking the queue for its last index would start from the unreadable document
        }
        final long last;
        try
        {
            last = tailer.queue().lastIndex();
        }
        catch (final RuntimeException ex)
        {
            return;
        }
        final long reached = tailer.index();
        if (last < 0 || last < reached)
        {
            return;
        }
        try (DocumentContext dc = tailer.readingDocument())
        {
            if (dc.isPresent())
            {
                dc.rollbackOnClose();
                atEnd = false;   // written since: read on
                return;
            }
        }
        if ((unfinished != null || pending != null) && last == reached)
        {
            return;   // a torn tail: the queue may count the document its writer never finished, but none after it
        }
        blocked = new JournalProblem(JournalProblem.Kind.CORRUPTION, reached, 0, 0, "reading stops before document 0x" +
            Long.toHexString(reached) + " but the journal's index goes on to 0x" + Long.toHexString(last) +
            ": bytes in between are damaged (zeroed?), and the documents after them cannot be read");
        problems.add(blocked);
    }

    /**
     * The journal has a file cut off short of what its writer committed (a truncated copy): Chronicle Queue's own
     * reading, even of the documents before the cut, may touch the missing pages and crash the thread (SIGBUS). This
     * reader reads nothing and reports {@code problem}.
     */
    void refuseToRead(final JournalProblem problem)
    {
        unreadable = problem;
    }

    /**
     * @return the position of the last document the queue's writer committed in the current file, or -1.
     */
    private long committedAt()
    {
        if (!(tailer.queue() instanceof SingleChronicleQueue queue))
        {
            return -1;
        }
        try
        {
            final SingleChronicleQueueStore store = queue.storeForCycle(tailer.cycle(), queue.epoch(), false, null);
            if (store == null)
            {
                return -1;
            }
            try
            {
                return store.writePosition();
            }
            finally
            {
                queue.closeStore(store);
            }
        }
        catch (final RuntimeException ex)
        {
            return -1;
        }
    }

    /**
     * At the end of what can be read, with the queue's index no further: has the queue's writer committed a
     * document at or past the point where reading stops? Chronicle Queue records in each file the position of the
     * last document it committed, updated after the document's header is; a read that ends before that position
     * ended at damage (the last pages zeroed or cut off, as a power loss or a truncated copy leaves them), not at a
     * writer that died mid-document: whole committed documents were lost, and a writer opening the journal would
     * append after them, where no reader could reach what it wrote.
     */
    private void checkWriterNotPast(final long reached)
    {
        if (blocked != null)
        {
            return;
        }
        final Wire wire = ((ExcerptContext)tailer).wire();
        final File file = tailer.currentFile();
        if (wire == null || file == null)
        {
            return;
        }
        final long position = wire.bytes().readPosition();
        final long written = committedAt();
        if (position <= 0 || written < position || (written == position && unfinished != null))
        {
            return;   // the last committed document was read (or, at the reading position, is one left unfinished)
        }
        // a journal being written (gyre replay while an engine has it open): the writer may have committed documents
        // since the read ended. Its position was taken before this look, so a document it had committed there by then
        // is readable now; only one that is not is damage (an outside check saw live journals called corrupted)
        try (DocumentContext dc = tailer.readingDocument())
        {
            if (dc.isPresent())
            {
                dc.rollbackOnClose();
                atEnd = false;   // written since: read on
                return;
            }
        }
        blocked = new JournalProblem(JournalProblem.Kind.CORRUPTION, reached, 0, 0, "reading stops at byte " + position +
            " of " + file.getName() + " (before document 0x" + Long.toHexString(reached) + "), but the queue's writer had " +
            "committed documents up to the one at byte " + written + ": bytes there are damaged (zeroed or cut off?), and " +
            "committed documents cannot be read");
        problems.add(blocked);
    }

    /**
     * After the last complete document: are there bytes of a document whose writer died before finishing
     * it? Chronicle Queue leaves its header zero (or marked incomplete) with data behind it.
     */
    private JournalProblem inspectUnfinishedDocument()
    {
        final Wire wire = ((ExcerptContext)tailer).wire();
        final File file = tailer.currentFile();
        if (wire == null || file == null)
        {
            return null;
        }
        final Bytes<?> bytes = wire.bytes();
        final long position = bytes.readPosition();
        final long fileLength = file.length();
        if (position <= 0 || position + Integer.BYTES > fileLength)
        {
            return null;
        }
        // read with the file's own reads, not through the map: past the last document are the file's holes, and on a
        // tmpfs a mapped read of a hole allocates a page, which on a full one faults (gyre serve and gyre replay
        // crashed with an InternalError on a tmpfs with 0 bytes free: an outside check)
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file.toPath(), java.nio.file.StandardOpenOption.READ))
        {
            final java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(Integer.BYTES).order(java.nio.ByteOrder.nativeOrder());
            while (head.hasRemaining() && channel.read(head, position + head.position()) > 0)
            {
                // all four bytes: the file is longer
            }
            final int header = head.getInt(0);
            if (header == Wires.END_OF_DATA || (header != 0 && !Wires.isNotComplete(header)))
            {
                return null;
            }
            final long limit = Math.min(fileLength, position + TORN_SCAN_LIMIT);
            if (lastNonZero(channel, position + Integer.BYTES, Math.min(limit, position + TORN_QUICK_SCAN)) < 0)
            {
                return null;
            }
            final long last = lastNonZero(channel, position + Integer.BYTES, limit);
            return new JournalProblem(JournalProblem.Kind.TORN_TAIL, -1, 0, last - position + 1,
                "a document was left unfinished at file position " + position + " of " + file.getName());
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException("cannot read the tail of journal file " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static long lastNonZero(final java.nio.channels.FileChannel channel, final long from, final long to) throws java.io.IOException
    {
        final java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(64 * 1024);
        long last = -1;
        long p = from;
        while (p < to)
        {
            buffer.clear().limit((int)Math.min(buffer.capacity(), to - p));
            final int n = channel.read(buffer, p);
            if (n <= 0)
            {
                break;
            }
            for (int i = n - 1; i >= 0; i--)
            {
                if (buffer.get(i) != 0)
                {
                    last = p + i;
                    break;
                }
            }
            p += n;
        }
        return last;
    }

    /**
     * Read one record by its position.
     *
     * @return false when there is no valid record there (the handler is not called).
     */
    public boolean readRecordAt(final long documentIndex, final int offsetInDocument, final RecordHandler handler)
    {
        if (unreadable != null || !tailer.moveToIndex(documentIndex))
        {
            return false;
        }
        try (DocumentContext dc = tailer.readingDocument())
        {
            if (!dc.isPresent() || dc.index() != documentIndex)
            {
                return false;
            }
            // leave the tailer on this document: the next read by position is often of the same one (the records of a
            // batch), and Chronicle then reuses this move instead of scanning again from its index (every 256th document)
            dc.rollbackOnClose();
            final Bytes<?> bytes = dc.wire().bytes();
            final long start = bytes.readPosition();
            final int length = (int)bytes.readRemaining();
            if (offsetInDocument < 0 || offsetInDocument >= length)
            {
                return false;
            }
            document.wrap(bytes.addressForRead(start, length), length);
            if (view.wrap(document, offsetInDocument, length - offsetInDocument, documentIndex, offsetInDocument) != null)
            {
                return false;
            }
            handler.onRecord(view);
            return true;
        }
    }

    /**
     * @return true once a read found nothing more to read (more may be written later).
     */
    public boolean atEnd()
    {
        return atEnd;
    }

    /**
     * @return everything wrong found so far, with any torn tail last (the tail is known only at the end).
     */
    public List<JournalProblem> problems()
    {
        final List<JournalProblem> all = new ArrayList<>(problems);
        if (atEnd && pending != null)
        {
            all.add(pending);
        }
        if (atEnd && unfinished != null)
        {
            all.add(unfinished);
        }
        return Collections.unmodifiableList(all);
    }

    /**
     * @return true when {@link #problems()} holds corruption (anything but a torn tail).
     */
    public boolean corrupted()
    {
        for (final JournalProblem problem : problems())
        {
            if (problem.kind() == JournalProblem.Kind.CORRUPTION)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * @return the torn tail found at the end of the journal (an unfinished document, or bad bytes in the last
     *     document), or null when the journal ends cleanly or the end was not reached yet.
     */
    public JournalProblem tornTail()
    {
        if (!atEnd)
        {
            return null;
        }
        return pending != null ? pending : unfinished;
    }

    public long lastEventId()
    {
        return lastEventId;
    }

    public long lastTimestamp()
    {
        return lastTimestamp;
    }

    public long documentsRead()
    {
        return documentsRead;
    }

    public long recordsRead()
    {
        return recordsRead;
    }

    /**
     * @return the index the next read starts at.
     */
    public long index()
    {
        return tailer.index();
    }

    /**
     * Hand this reader to another thread: call it from the thread taking over, after a safe hand-off
     * (the old owner no longer uses it).
     */
    public void transferOwnership()
    {
        tailer.singleThreadedCheckReset();
    }

    @Override
    public void close()
    {
        if (ahead != null)
        {
            ahead.stop();
        }
        tailer.singleThreadedCheckReset();
        tailer.close();
    }
}
