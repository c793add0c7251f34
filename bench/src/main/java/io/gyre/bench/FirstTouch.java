package io.gyre.bench;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a page of memory costs the first time it is touched on this machine: the price of every new page of the
 * journal, which {@code JournalPretoucher} pays on its own thread ahead of the writer. Two measures per round:
 * <ol>
 * <li><b>file</b>: a new sparse file of {@code MiB} mebibytes in {@code DIR}, mapped read-only and read one byte per
 * 4 KiB page, as the pretoucher reads the journal's next pages: each read faults a page of the file's hole into the
 * page cache, which the kernel zeroes;</li>
 * <li><b>anonymous</b>: as many bytes of direct memory allocated, which the JVM zeroes at once.</li>
 * </ol>
 * On bare metal both run at several GB/s. Under a hypervisor that takes back the guest's free pages (virtio-balloon's
 * free page reporting: {@code dmesg | grep -i "free page reporting"}), a page the guest has freed faults in the host
 * again when reused, and both fall by an order of magnitude.
 * <pre>
 * ./gyre bench first-touch [MiB, default 1024] [rounds, default 3] [DIR, default java.io.tmpdir]
 * </pre>
 * Last line per round: {@code RESULT round=<n> file_gb_per_s=<n> file_us_per_page=<n> anonymous_gb_per_s=<n> anonymous_us_per_page=<n>}.
 */
public final class FirstTouch
{
    private static final int PAGE = 4096;

    private FirstTouch()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("first-touch", "[MiB, default 1024] [rounds, default 3] [DIR, default java.io.tmpdir]", 3, args, FirstTouch::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final int mebibytes = in.positiveInt(0, "MiB", 1024);
        if (mebibytes > 2047)
        {
            in.fail("MiB '" + mebibytes + "' must be at most 2047 (one mapping)");
        }
        final int rounds = in.positiveInt(1, "rounds", 3);
        final Path dir = Path.of(in.string(2, System.getProperty("java.io.tmpdir")));
        if (!Files.isDirectory(dir))
        {
            in.fail("DIR '" + dir + "' is not a directory");
        }
        final int bytes = mebibytes << 20;
        for (int round = 1; round <= rounds; round++)
        {
            final double fileNanos = file(dir, bytes);
            final double anonymousNanos = anonymous(bytes);
            final long pages = bytes / PAGE;
            System.out.printf("RESULT round=%d file_gb_per_s=%.2f file_us_per_page=%.2f anonymous_gb_per_s=%.2f anonymous_us_per_page=%.2f%n",
                round, bytes / fileNanos, fileNanos / pages / 1e3, bytes / anonymousNanos, anonymousNanos / pages / 1e3);
        }
    }

    private static double file(final Path dir, final int bytes) throws Exception
    {
        final Path file = Files.createTempFile(dir, "gyre-first-touch", ".bin");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.setLength(bytes);                                    // a hole: no block, no page yet
            final MappedByteBuffer map = raf.getChannel().map(FileChannel.MapMode.READ_ONLY, 0, bytes);
            final long start = System.nanoTime();
            long sum = 0;
            for (int i = 0; i < bytes; i += PAGE)
            {
                sum += map.get(i);
            }
            final long nanos = System.nanoTime() - start;
            if (sum != 0)
            {
                throw new IllegalStateException("a hole read as non-zero");
            }
            return nanos;
        }
        finally
        {
            Files.deleteIfExists(file);
        }
    }

    private static double anonymous(final int bytes)
    {
        final long start = System.nanoTime();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(bytes);   // zeroed by the JVM: every page touched once
        final long nanos = System.nanoTime() - start;
        if (buffer.get(bytes - 1) != 0)
        {
            throw new IllegalStateException("direct memory not zeroed");
        }
        return nanos;
    }
}
