package io.gyre.journal;

import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.rollcycles.LargeRollCycles;
import net.openhft.chronicle.queue.rollcycles.SparseRollCycles;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the journal lives and how it is cut into files. Immutable; validated when built.
 *
 * @param directory the journal's directory (created when missing).
 * @param rollCycle the name of a Chronicle Queue roll cycle, e.g. {@code FAST_DAILY} or {@code FAST_HOURLY}.
 * @param maxDocumentBytes the writer closes a batch document once it holds this many bytes.
 * @param lockTimeoutMillis how long to wait for a write lock left by a process that died before freeing it.
 * @param pretouchAheadBytes how far ahead of the writer a background thread brings the file's pages into
 *     memory, so the writer does not stall on page faults (0: no pretouching).
 * @param minFreeBytes disk space the writer leaves free: it refuses to start a document unless the journal's
 *     file system has at least this much usable space beyond the document (see {@link JournalWriter}: a
 *     write into the memory-mapped file that the file system cannot back is a fault, not an error).
 */
public record JournalConfig(
    Path directory, String rollCycle, int maxDocumentBytes, long lockTimeoutMillis, long pretouchAheadBytes, long minFreeBytes)
{
    public static final String DEFAULT_ROLL_CYCLE = "FAST_DAILY";
    public static final int DEFAULT_MAX_DOCUMENT_BYTES = 1 << 20;
    public static final long DEFAULT_LOCK_TIMEOUT_MILLIS = 400;
    public static final long DEFAULT_PRETOUCH_AHEAD_BYTES = 32L << 20;
    public static final long DEFAULT_MIN_FREE_BYTES = 64L << 20;
    /** Smallest {@link #minFreeBytes}: room for the roll to a new file and Chronicle's index blocks. */
    public static final long MIN_MIN_FREE_BYTES = 1L << 20;

    public JournalConfig
    {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(rollCycle, "rollCycle");
        resolveRollCycle(rollCycle);
        if (maxDocumentBytes < 4096 || maxDocumentBytes > RecordDescriptor.MAX_FRAME_LENGTH)
        {
            throw new IllegalArgumentException(
                "maxDocumentBytes=" + maxDocumentBytes + " must be in [4096, " + RecordDescriptor.MAX_FRAME_LENGTH + "]");
        }
        if (lockTimeoutMillis < 10 || lockTimeoutMillis > 60_000)
        {
            throw new IllegalArgumentException("lockTimeoutMillis=" + lockTimeoutMillis + " must be in [10, 60000]");
        }
        if (pretouchAheadBytes < 0 || pretouchAheadBytes > (1L << 30))
        {
            throw new IllegalArgumentException("pretouchAheadBytes=" + pretouchAheadBytes + " must be in [0, 1073741824]");
        }
        if (minFreeBytes < MIN_MIN_FREE_BYTES || minFreeBytes > (1L << 40))
        {
            throw new IllegalArgumentException("minFreeBytes=" + minFreeBytes + " must be in [" + MIN_MIN_FREE_BYTES + ", 1099511627776]");
        }
    }

    public static JournalConfig of(final Path directory)
    {
        return new JournalConfig(directory, DEFAULT_ROLL_CYCLE, DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_LOCK_TIMEOUT_MILLIS,
            DEFAULT_PRETOUCH_AHEAD_BYTES, DEFAULT_MIN_FREE_BYTES);
    }

    public JournalConfig withRollCycle(final String name)
    {
        return new JournalConfig(directory, name, maxDocumentBytes, lockTimeoutMillis, pretouchAheadBytes, minFreeBytes);
    }

    public JournalConfig withMaxDocumentBytes(final int bytes)
    {
        return new JournalConfig(directory, rollCycle, bytes, lockTimeoutMillis, pretouchAheadBytes, minFreeBytes);
    }

    public JournalConfig withPretouchAheadBytes(final long bytes)
    {
        return new JournalConfig(directory, rollCycle, maxDocumentBytes, lockTimeoutMillis, bytes, minFreeBytes);
    }

    public JournalConfig withMinFreeBytes(final long bytes)
    {
        return new JournalConfig(directory, rollCycle, maxDocumentBytes, lockTimeoutMillis, pretouchAheadBytes, bytes);
    }

    /**
     * @param name a roll cycle name from any of Chronicle Queue's roll cycle families.
     * @return the roll cycle.
     * @throws IllegalArgumentException naming the value when no family has it.
     */
    public static RollCycle resolveRollCycle(final String name)
    {
        for (final Class<? extends Enum<?>> family : ROLL_CYCLE_FAMILIES)
        {
            for (final Enum<?> constant : family.getEnumConstants())
            {
                if (constant.name().equals(name))
                {
                    return (RollCycle)constant;
                }
            }
        }
        throw new IllegalArgumentException("rollCycle=" + name + " is not a Chronicle Queue roll cycle; valid values: " +
            String.join(", ", rollCycleNames()));
    }

    /** @return the names of every roll cycle of Chronicle Queue's families, sorted. */
    public static java.util.SortedSet<String> rollCycleNames()
    {
        final java.util.SortedSet<String> names = new java.util.TreeSet<>();
        for (final Class<? extends Enum<?>> family : ROLL_CYCLE_FAMILIES)
        {
            for (final Enum<?> constant : family.getEnumConstants())
            {
                names.add(constant.name());
            }
        }
        return names;
    }

    private static final java.util.List<Class<? extends Enum<?>>> ROLL_CYCLE_FAMILIES =
        java.util.List.of(RollCycles.class, LargeRollCycles.class, SparseRollCycles.class, TestRollCycles.class);
}
