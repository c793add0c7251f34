package io.gyre.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Checks the checksums of a journal's records on a thread of its own, ahead of a {@link JournalReader} that
 * replays them, so that the replaying thread, the one every recovery waits for, does not compute them.
 * <p>
 * The checker reads the same documents with a tailer of its own. For each document whose every record has a
 * frame length within the document and a checksum that matches, it publishes the document's index and length
 * into a single-producer, single-consumer ring; for any other document it publishes nothing, and the reader
 * checks that document itself, finding and reporting whatever is wrong exactly as without a checker. The
 * reader skips only the checksum comparison of a document it finds in the ring with the same index and
 * length: a complete document's bytes never change once written, so both threads saw the same bytes. Every
 * other check of a record (type, version, layout, event-id order) stays with the reader.
 * <p>
 * Given a {@link DocumentLookAhead}, the checker runs it on each document it found whole, into the slot of
 * the ring it then publishes the document in; the reader hands that slot to its handler. The checker keeps
 * one slot of the ring free, so the slot of the document the reader is in is never written until the reader
 * has taken the next.
 * <p>
 * When the checker falls behind the reader, it passes over the documents the reader has already read
 * without checking them; at the end of the journal it stops. It only reads, and a failure of its own stops it
 * without effect on the replay: the reader then checks everything itself.
 */
final class ChecksumsAhead implements Runnable
{
    private static final Logger LOG = LoggerFactory.getLogger(ChecksumsAhead.class);
    private static final int SLOTS = DocumentLookAhead.SLOTS;
    private static final int MASK = SLOTS - 1;

    private final ChronicleQueue queue;
    private final long startIndex;
    private final DocumentLookAhead lookAhead;
    private final long[] indexes = new long[SLOTS];
    private final int[] lengths = new int[SLOTS];
    /** Verdicts written by the checker (its release store makes the slots visible). */
    private final AtomicLong published = new AtomicLong();
    /** Verdicts taken or passed over by the reader (frees their slots for the checker). */
    private final AtomicLong consumed = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;
    /** The index of the document the reader read last. */
    private volatile long readerAt = Long.MIN_VALUE;
    private final UnsafeBuffer document = new UnsafeBuffer(0, 0);
    private final DocumentBounds bounds = new DocumentBounds();

    // the reader's thread only
    private long taken;
    private long trusted;

    /**
     * @param startIndex the index of the first document the reader will read, or -1 for the journal's start.
     */
    ChecksumsAhead(final ChronicleQueue queue, final long startIndex, final DocumentLookAhead lookAhead, final String name)
    {
        this.queue = queue;
        this.startIndex = startIndex;
        this.lookAhead = lookAhead;
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /**
     * Called by the reader for each document, in order, before its records.
     *
     * @return the document's slot when the checker found every checksum of this document (index and length) to
     *     match, and the look-ahead's work on it is in that slot; -1 otherwise.
     */
    int verified(final long documentIndex, final int length)
    {
        readerAt = documentIndex;
        final long available = published.get();
        long next = taken;
        int verified = -1;
        while (next < available)
        {
            final int slot = (int)(next & MASK);
            final long index = indexes[slot];
            if (index > documentIndex)
            {
                break;   // a later document's verdict: this one has none
            }
            next++;
            if (index == documentIndex)
            {
                verified = lengths[slot] == length ? slot : -1;
                break;
            }
        }
        if (next != taken)
        {
            taken = next;
            consumed.lazySet(next);
        }
        if (verified >= 0)
        {
            trusted++;
        }
        return verified;
    }

    /**
     * @return documents whose checksums the reader took from the checker.
     */
    long trusted()
    {
        return trusted;
    }

    void stop()
    {
        running = false;
        LockSupport.unpark(thread);
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run()
    {
        try (ExcerptTailer tailer = queue.createTailer())
        {
            if (startIndex >= 0 ? !tailer.moveToIndex(startIndex) : tailer.toStart() == null)
            {
                return;
            }
            long written = 0;
            while (running)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        return;   // the end: the reader checks whatever is written after it
                    }
                    final long index = dc.index();
                    if (dc.isMetaData() || index <= readerAt)
                    {
                        continue;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    final long start = bytes.readPosition();
                    final long remaining = bytes.readRemaining();
                    if (bounds.implausible(tailer, start, remaining) != null)
                    {
                        return;   // a damaged header: the reader finds and reports it
                    }
                    final int length = (int)remaining;
                    document.wrap(bytes.addressForRead(start, length), length);
                    if (!checksumsMatch(document))
                    {
                        continue;
                    }
                    // one slot short of the ring: the reader uses the slot it took last until it takes the next
                    while (written - consumed.get() >= SLOTS - 1)
                    {
                        if (!running)
                        {
                            return;
                        }
                        LockSupport.parkNanos(50_000);
                    }
                    final int slot = (int)(written & MASK);
                    if (lookAhead != null)
                    {
                        lookAhead.lookAhead(document, index, slot);
                    }
                    indexes[slot] = index;
                    lengths[slot] = length;
                    published.lazySet(++written);
                }
            }
        }
        catch (final RuntimeException | InternalError ex)
        {
            LOG.debug("checking the journal's checksums ahead of the replay stopped; the replay checks them itself", ex);
        }
    }

    /**
     * @return true when the document is a sequence of records, each with a frame length within the document
     *     and a stored checksum equal to the one computed over its bytes.
     */
    static boolean checksumsMatch(final UnsafeBuffer document)
    {
        final int length = document.capacity();
        int offset = 0;
        while (offset < length)
        {
            if (length - offset < RecordDescriptor.HEADER_LENGTH)
            {
                return false;
            }
            final int frame = RecordDescriptor.frameLength(document, offset);
            if (frame < RecordDescriptor.HEADER_LENGTH || frame > length - offset || frame > RecordDescriptor.MAX_FRAME_LENGTH)
            {
                return false;
            }
            if (RecordDescriptor.storedChecksum(document, offset) != RecordDescriptor.checksum(document, offset, frame))
            {
                return false;
            }
            offset += frame;
        }
        return true;
    }
}
