package io.gyre.tasks.json;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class PointerTest
{
    @Test
    void shouldParseTheEmptyPointerAsTheWholeDocument()
    {
        final Pointer pointer = Pointer.parse("");

        assertThat(pointer.isWholeDocument()).isTrue();
        assertThat(pointer.depth()).isZero();
        assertThat(pointer.toString()).isEmpty();
    }

    @Test
    void shouldSplitTokensAndUnescapeTildeAndSlash()
    {
        final Pointer pointer = Pointer.parse("/a~1b/m~0n/~01/0/");

        assertThat(pointer.depth()).isEqualTo(5);
        assertThat(pointer.token(0)).isEqualTo("a/b");
        assertThat(pointer.token(1)).isEqualTo("m~n");
        assertThat(pointer.token(2)).isEqualTo("~1");
        assertThat(pointer.token(3)).isEqualTo("0");
        assertThat(pointer.token(4)).isEmpty();
        assertThat(pointer.toString()).isEqualTo("/a~1b/m~0n/~01/0/");
    }

    @Test
    void shouldQuoteEachPrefixAsWritten()
    {
        final Pointer pointer = Pointer.parse("/a~1b/c/d");

        assertThat(pointer.prefix(0)).isEmpty();
        assertThat(pointer.prefix(1)).isEqualTo("/a~1b");
        assertThat(pointer.prefix(2)).isEqualTo("/a~1b/c");
        assertThat(pointer.prefix(3)).isEqualTo("/a~1b/c/d");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a/b   | must be empty or start with '/'",
        "#/a   | must be empty or start with '/'",
        "/a~2b | '~' at offset 2 must be followed by 0 or 1",
        "/a~   | '~' at offset 2 must be followed by 0 or 1"})
    void shouldRefuseMalformedPointers(final String text, final String problem)
    {
        assertThatIllegalArgumentException().isThrownBy(() -> Pointer.parse(text)).withMessage(problem);
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "7, 7", "10, 10", "2147483647, 2147483647", "2147483648, -1", "01, -1", "-, -1", "-1, -1",
        "1a, -1", "'', -1", "12345678901, -1"})
    void shouldReadArrayIndicesAsRfc6901Says(final String token, final int index)
    {
        assertThat(Pointer.index(token)).isEqualTo(index);
    }

    @Test
    void shouldTellWhetherAPointerIsStrictlyInsideAnother()
    {
        assertThat(Pointer.parse("/a").isProperPrefixOf(Pointer.parse("/a/b"))).isTrue();
        assertThat(Pointer.parse("").isProperPrefixOf(Pointer.parse("/a"))).isTrue();
        assertThat(Pointer.parse("/a").isProperPrefixOf(Pointer.parse("/a"))).isFalse();
        assertThat(Pointer.parse("/a").isProperPrefixOf(Pointer.parse("/ab/c"))).isFalse();
        assertThat(Pointer.parse("/a/b").isProperPrefixOf(Pointer.parse("/a"))).isFalse();
    }
}
