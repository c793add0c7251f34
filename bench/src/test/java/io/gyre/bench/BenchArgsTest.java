package io.gyre.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The load runners' arguments ({@code gyre bench NAME ...}): each bad one is refused naming it and its value, never
 * taken as a default or ignored.
 */
class BenchArgsTest
{
    private static BenchArgs args(final int max, final String... args)
    {
        return BenchArgs.parse("runner", "[a] [b]", max, args);
    }

    @Test
    void shouldReadGivenArgumentsAndDefaultsForTheOthers()
    {
        final BenchArgs in = args(4, "3_000_000", "0", "dir");
        assertThat(in.positiveLong(0, "tasks", 7)).isEqualTo(3_000_000L);
        assertThat(in.nonNegativeInt(1, "queue", 9)).isZero();
        assertThat(in.string(2, "none")).isEqualTo("dir");
        assertThat(in.positiveInt(3, "rounds", 10)).isEqualTo(10);
        assertThat(in.count()).isEqualTo(3);
    }

    @Test
    void shouldRefuseEachBadArgumentNamingItAndItsValue()
    {
        assertThatThrownBy(() -> args(2, "x").positiveLong(0, "tasks per round", 1))
            .isInstanceOf(BenchArgs.UsageException.class).hasMessage("tasks per round 'x' is not a whole number");
        assertThatThrownBy(() -> args(2, "0").positiveLong(0, "tasks per round", 1))
            .hasMessage("tasks per round '0' must be at least 1");
        assertThatThrownBy(() -> args(2, "-3").positiveInt(0, "rounds", 1)).hasMessage("rounds '-3' must be at least 1");
        assertThatThrownBy(() -> args(2, "3000000000").positiveInt(0, "rounds", 1))
            .hasMessage("rounds '3000000000' must be at most 2147483647");
        assertThatThrownBy(() -> args(2, "-1").nonNegativeInt(0, "queue", 1)).hasMessage("queue '-1' must be from 0 to 2147483647");
        assertThatThrownBy(() -> args(2, "1.5").nonNegativeInt(0, "queue", 1)).hasMessage("queue '1.5' is not a whole number");
        assertThatThrownBy(() -> args(2).required(0, "JOURNAL_DIR")).hasMessage("missing JOURNAL_DIR");
        assertThatThrownBy(() -> args(2, "1", "2", "3")).hasMessage("expected at most 2 argument(s), got 3 ('3' is one too many)");
    }

    @Test
    void shouldRefuseABadEngineSettingNamingIt()
    {
        assertThatThrownBy(() -> EngineAB.check(args(4, "default", "ring=abc"), "ring=abc"))
            .hasMessage("setting 'ring=abc': 'abc' is not a whole number");
        assertThatThrownBy(() -> EngineAB.check(args(4), "wait=FOO"))
            .hasMessageStartingWith("setting 'wait=FOO': one of [");
        assertThatThrownBy(() -> EngineAB.check(args(4), "metrics=yes")).hasMessage("setting 'metrics=yes': true or false");
        assertThatThrownBy(() -> EngineAB.check(args(4), "colour=red"))
            .hasMessage("setting 'colour=red': the names are ring, metrics, threads, wait and retained");
        assertThatThrownBy(() -> EngineAB.check(args(4), "ring")).hasMessage("setting 'ring': expected NAME=VALUE");
        assertThatThrownBy(() -> EngineAB.check(args(4), "ring=64,")).hasMessage("setting '': expected NAME=VALUE");
        assertThatThrownBy(() -> EngineAB.check(args(4), "ring=64,ring=128")).hasMessage("setting 'ring=128': ring is given twice");
        assertThatThrownBy(() -> EngineAB.check(args(4), "ring=100"))
            .hasMessage("configuration 'ring=100': ringSize=100 must be a power of two, at least 64");
        EngineAB.check(args(4), "ring=4096,threads=1,wait=BACKOFF,metrics=false,retained=1000");
        EngineAB.check(args(4), "default");
    }
}
