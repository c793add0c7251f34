package io.gyre.bench;

import java.util.Arrays;

/**
 * Two settings of the same in-process workload measured in one JVM, round after round, the order swapped
 * every round (A B, B A, A B, ...) so that neither the machine's drift nor the JIT's favours one of them. The
 * medians of the rounds, and the median of the per-round ratios B / A, are what to compare: on this shared
 * machine a single round of either setting moves by more than most effects worth measuring. Use an even number
 * of rounds: then the geometric mean of the ratios cancels whatever running second is worth.
 */
final class AlternatingRounds
{
    /**
     * One round of one setting.
     */
    @FunctionalInterface
    interface Round
    {
        /**
         * @param setting false for A, true for B.
         * @param warmUp whether this is one of the two warm-up rounds, which are not counted (and may be shorter).
         * @return tasks per second.
         */
        double run(boolean setting, boolean warmUp) throws Exception;
    }

    private final String nameA;
    private final String nameB;
    private final double[] a;
    private final double[] b;

    private AlternatingRounds(final String nameA, final String nameB, final int rounds)
    {
        this.nameA = nameA;
        this.nameB = nameB;
        a = new double[rounds];
        b = new double[rounds];
    }

    /**
     * Run one warm-up round of each setting, then {@code rounds} measured rounds of each, printing every round.
     */
    static AlternatingRounds run(final String nameA, final String nameB, final int rounds, final Round round) throws Exception
    {
        final AlternatingRounds result = new AlternatingRounds(nameA, nameB, rounds);
        round.run(false, true);
        round.run(true, true);
        for (int r = 0; r < rounds; r++)
        {
            final boolean bFirst = (r & 1) == 1;
            if (bFirst)
            {
                result.b[r] = round.run(true, false);
            }
            result.a[r] = round.run(false, false);
            if (!bFirst)
            {
                result.b[r] = round.run(true, false);
            }
            System.out.printf("round %d (%s first): %s %,.0f tasks/s, %s %,.0f tasks/s, %s / %s %.3f%n",
                r + 1, bFirst ? nameB : nameA, nameA, result.a[r], nameB, result.b[r], nameB, nameA, result.b[r] / result.a[r]);
        }
        return result;
    }

    double medianA()
    {
        return median(a);
    }

    double medianB()
    {
        return median(b);
    }

    /**
     * @return the median of the rounds' ratios B / A (each round's two settings ran back to back).
     */
    double medianRatio()
    {
        final double[] ratios = new double[a.length];
        for (int r = 0; r < a.length; r++)
        {
            ratios[r] = b[r] / a[r];
        }
        return median(ratios);
    }

    /**
     * @return the geometric mean of the rounds' ratios B / A. With an even number of rounds, half ran A first and
     *     half B first, so an advantage of running second (seen here: 10 - 15 % at times, from the page cache and
     *     the heap the previous run left) cancels out of it, which it does not from the median.
     */
    double geometricMeanRatio()
    {
        double logs = 0;
        for (int r = 0; r < a.length; r++)
        {
            logs += Math.log(b[r] / a[r]);
        }
        return Math.exp(logs / a.length);
    }

    String summary()
    {
        return String.format("%s_per_s=%.0f %s_per_s=%.0f ratio=%.3f round_ratio_median=%.3f round_ratio_geomean=%.3f",
            nameA, medianA(), nameB, medianB(), medianB() / medianA(), medianRatio(), geometricMeanRatio());
    }

    private static double median(final double[] values)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final int n = sorted.length;
        return (n & 1) == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
