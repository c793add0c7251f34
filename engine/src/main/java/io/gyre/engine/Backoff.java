package io.gyre.engine;

/**
 * How long a task waits before its next attempt after a retryable failure: the n-th retry (counted from the
 * last redrive) waits {@code initialMillis × multiplier^(n-1)}, capped at {@code maxMillis}, then spread by up
 * to {@code jitter} of itself either way, drawn from the task id and attempt so that a replay draws the same.
 * The jitter applies after the cap: a wait may exceed {@code maxMillis} by up to {@code jitter} of it.
 * <p>
 * A submission may carry one ({@link TaskRequest#backoff}); a task type may give its own default
 * ({@link TaskHandler#defaultBackoff()}); otherwise the engine's applies ({@link EngineConfig.Builder#defaultBackoff}).
 *
 * @param initialMillis the first retry's wait, at least 1 ms.
 * @param maxMillis the cap before jitter, at least {@code initialMillis}.
 * @param multiplier the growth from one retry to the next, in [1, 100].
 * @param jitter the spread, in [0, 1].
 */
public record Backoff(int initialMillis, int maxMillis, float multiplier, float jitter)
{
    /** The engine's default: 100 ms doubling up to 60 s, 20 % jitter. */
    public static final Backoff DEFAULT = new Backoff(100, 60_000, 2.0f, 0.2f);

    /**
     * @throws IllegalArgumentException naming the first value out of range.
     */
    public Backoff
    {
        final String problem = problem(initialMillis, maxMillis, multiplier, jitter);
        if (problem != null)
        {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * @return what is wrong with these values, naming the field and value, or null when they make a backoff.
     */
    static String problem(final int initialMillis, final int maxMillis, final float multiplier, final float jitter)
    {
        if (initialMillis < 1)
        {
            return "backoffInitialMillis=" + initialMillis + " must be at least 1";
        }
        if (maxMillis < initialMillis)
        {
            return "backoffMaxMillis=" + maxMillis + " must be at least backoffInitialMillis=" + initialMillis;
        }
        if (!(multiplier >= 1f && multiplier <= 100f))
        {
            return "backoffMultiplier=" + multiplier + " must be in [1, 100]";
        }
        if (!(jitter >= 0f && jitter <= 1f))
        {
            return "backoffJitter=" + jitter + " must be in [0, 1]";
        }
        return null;
    }
}
