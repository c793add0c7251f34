package io.gyre.journal;

import org.agrona.IoUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.LockSupport;

/**
 * Brings the pages of the journal file ahead of the writer into the page cache, on its own thread, so the
 * writer does not pay for them.
 * <p>
 * Why: the first touch of a page of a fresh (sparse) queue file faults it in, and the kernel zeroes it
 * before handing it over. On this machine that zeroing was 44% of all CPU time of a thread appending
 * 100-byte records (perf: {@code __pi_memset} under {@code zero_user_segments}), and it comes in bursts
 * whenever Chronicle maps a new chunk. Reading one byte of each page through a read-only mapping of the
 * same file does that work here instead: the writer's later fault finds the page cached.
 * <p>
 * It only reads, and only the part of the file that already exists (never extends it), so it can neither
 * corrupt nor reorder anything the writer does. The writer publishes the file and position it reached at
 * each flush; this thread stays up to {@code aheadBytes} in front of it.
 */
final class JournalPretoucher implements Runnable
{
    private static final Logger LOG = LoggerFactory.getLogger(JournalPretoucher.class);
    private static final int PAGE = 4096;
    private static final long WINDOW = 4L << 20;
    /**
     * Between looks at the writer when there was nothing to touch. The lead is tens of MiB: at the fastest the
     * writer has gone here (about 700 MB/s), a millisecond spends a few per cent of it.
     */
    private static final long IDLE_NANOS = 1_000_000;

    private final long aheadBytes;
    /**
     * The least the lead is topped up by: a window is mapped, touched and unmapped only once the writer has used
     * this much of the lead, not after every flush (each unmap costs the other cores a TLB shootdown).
     */
    private final long step;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile File file;
    private volatile long writePosition;

    private File mappedFile;
    private FileChannel channel;
    private long touchedUpTo;
    private long fileSize = Long.MAX_VALUE;
    private long pagesTouched;
    private long windowsTouched;
    private long sink;

    JournalPretoucher(final String name, final long aheadBytes)
    {
        this.aheadBytes = aheadBytes;
        this.step = Math.min(WINDOW, Math.max(PAGE, aheadBytes / 4));
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /**
     * Called by the writer's thread after each flush.
     */
    void writerAt(final File currentFile, final long position)
    {
        file = currentFile;
        writePosition = position;
    }

    @Override
    public void run()
    {
        try
        {
            while (running)
            {
                if (!touchAhead())
                {
                    LockSupport.parkNanos(IDLE_NANOS);
                }
            }
        }
        catch (final RuntimeException | InternalError ex)
        {
            // InternalError: a page the file system could not back (SIGBUS); this thread only reads, so
            // nothing is damaged, and the writer's own space check refuses documents before it gets there
            LOG.warn("journal pretoucher stopped; the writer faults its own pages from now on", ex);
        }
        finally
        {
            closeChannel();
        }
    }

    /**
     * @return true when it touched something.
     */
    private boolean touchAhead()
    {
        final File target = file;
        if (target == null)
        {
            return false;
        }
        final long position = writePosition;
        try
        {
            if (!target.equals(mappedFile))
            {
                closeChannel();
                channel = FileChannel.open(target.toPath(), StandardOpenOption.READ);
                mappedFile = target;
                touchedUpTo = 0;
                fileSize = Long.MAX_VALUE;
            }
            if (touchedUpTo > position && touchedUpTo - position > aheadBytes - step && touchedUpTo < fileSize)
            {
                // still well ahead: top up in steps, not after every flush
                return false;
            }
            final long from = Math.max(touchedUpTo, position & ~(PAGE - 1L));
            fileSize = channel.size();
            final long limit = Math.min(fileSize, position + aheadBytes);
            if (from >= limit)
            {
                return false;
            }
            final long length = Math.min(WINDOW, limit - from);
            final MappedByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, from, length);
            try
            {
                long sum = 0;
                for (int offset = 0; offset < length; offset += PAGE)
                {
                    sum += window.get(offset);
                }
                sink += sum;
                pagesTouched += (length + PAGE - 1) / PAGE;
                windowsTouched++;
            }
            finally
            {
                IoUtil.unmap(window);
            }
            touchedUpTo = from + length;
            return true;
        }
        catch (final IOException ex)
        {
            // the file may have been rolled away or deleted: start again from the writer's next report
            closeChannel();
            return false;
        }
    }

    private void closeChannel()
    {
        if (channel != null)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignored)
            {
                // read-only: nothing to lose
            }
            channel = null;
            mappedFile = null;
        }
    }

    /**
     * @return windows mapped and touched so far (for tests and diagnostics; approximate while running).
     */
    long windowsTouched()
    {
        return windowsTouched;
    }

    /**
     * @return pages brought in so far (for tests and diagnostics; approximate while running).
     */
    long pagesTouched()
    {
        return pagesTouched;
    }

    void close()
    {
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

    @Override
    public String toString()
    {
        return "JournalPretoucher{ahead=" + aheadBytes + ", touchedUpTo=" + touchedUpTo + ", sink=" + sink + '}';
    }
}
