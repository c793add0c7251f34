package io.gyre.engine;

import java.util.concurrent.TimeUnit;

/**
 * Which occurrences of a failure that may repeat for every task (a listener that throws on each call) are logged at
 * WARN: the first, then at most one a minute, saying how many there were since; the others go to DEBUG, so a broken
 * listener cannot flood the log at the engine's rate. Single-threaded, as each of its users is.
 */
final class RepeatedWarnings
{
    static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private long count;
    private long countAtWarning;
    private long warnedAt;

    /**
     * @param nowNanos {@link System#nanoTime()}.
     * @return 0 when this occurrence goes to DEBUG; else how many occurred since the last WARN, this one included (1
     *     for the first).
     */
    long occurred(final long nowNanos)
    {
        count++;
        if (count == 1 || nowNanos - warnedAt >= INTERVAL_NANOS)
        {
            final long since = count - countAtWarning;
            countAtWarning = count;
            warnedAt = nowNanos;
            return since;
        }
        return 0;
    }

    /** @return every occurrence so far. */
    long count()
    {
        return count;
    }

    /** @return what to add to the WARN line of an occurrence {@link #occurred} gave {@code since} for. */
    static String since(final long since)
    {
        return since <= 1 ? "" : " (" + since + " times since the last warning, a minute or more ago; each is logged at DEBUG)";
    }
}
