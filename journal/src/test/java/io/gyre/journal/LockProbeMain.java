package io.gyre.journal;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run in a child JVM by {@link JournalTest}: tries to lock a journal's lock file, as another process opening the
 * journal would. Exit status 0 when it got the lock (nobody held it), 3 when another process holds it.
 */
public final class LockProbeMain
{
    private LockProbeMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE);
             FileLock lock = channel.tryLock())
        {
            System.exit(lock == null ? 3 : 0);
        }
    }
}
