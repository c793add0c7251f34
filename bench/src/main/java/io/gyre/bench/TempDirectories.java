package io.gyre.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Journal directories for benchmarks: under {@code gyre.bench.dir} (default the system temp directory), so
 * a run can be pointed at another disk or a tmpfs; deleted after the trial, and at exit those a run stopped by a
 * signal (Ctrl-C, SIGTERM) had not deleted yet (a round's journal is hundreds of MB).
 */
final class TempDirectories
{
    private static final java.util.Set<Path> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static
    {
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            for (final Path dir : LIVE)
            {
                try
                {
                    delete(dir);
                }
                catch (final RuntimeException ex)
                {
                    // best effort: the process is ending
                }
            }
        }, "gyre-bench-cleanup"));
    }

    private TempDirectories()
    {
    }

    static Path create(final String prefix)
    {
        try
        {
            final Path parent = Path.of(System.getProperty("gyre.bench.dir", System.getProperty("java.io.tmpdir")));
            Files.createDirectories(parent);
            final Path dir = Files.createTempDirectory(parent, prefix);
            LIVE.add(dir);
            return dir;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    static void delete(final Path dir)
    {
        if (dir == null || !Files.exists(dir))
        {
            return;
        }
        LIVE.remove(dir);
        try
        {
            Files.walkFileTree(dir, new SimpleFileVisitor<>()
            {
                @Override
                public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs) throws IOException
                {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(final Path d, final IOException exc) throws IOException
                {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
