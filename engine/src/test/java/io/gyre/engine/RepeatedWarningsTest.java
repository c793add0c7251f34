package io.gyre.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RepeatedWarningsTest
{
    @Test
    void shouldWarnOfTheFirstThenAtMostOnceAMinuteWithHowManySince()
    {
        final RepeatedWarnings warnings = new RepeatedWarnings();
        final long t0 = 1_000_000_000L;
        assertThat(warnings.occurred(t0)).isEqualTo(1);
        for (int i = 0; i < 999; i++)
        {
            assertThat(warnings.occurred(t0 + i * 1_000_000L)).as("within the minute").isZero();
        }
        assertThat(warnings.occurred(t0 + RepeatedWarnings.INTERVAL_NANOS)).as("a minute later: the 999 and this one").isEqualTo(1000);
        assertThat(warnings.occurred(t0 + RepeatedWarnings.INTERVAL_NANOS + 1)).isZero();
        assertThat(warnings.occurred(t0 + 3 * RepeatedWarnings.INTERVAL_NANOS)).isEqualTo(2);
        assertThat(warnings.count()).isEqualTo(1003);
        assertThat(RepeatedWarnings.since(1)).isEmpty();
        assertThat(RepeatedWarnings.since(1000)).contains("1000 times since the last warning");
    }
}
