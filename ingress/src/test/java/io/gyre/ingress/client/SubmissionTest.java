package io.gyre.ingress.client;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A String that UTF-8 cannot encode (an unpaired surrogate) is refused naming its field, before anything is sent:
 * Java's encoder would send it as {@code ?}, and an outside check found {@code "\uD800"}, {@code "\uDFFF"} and
 * {@code "?"} answered as one key.
 */
class SubmissionTest
{
    @Test
    void shouldRefuseAnUnpairedSurrogateNamingTheField()
    {
        assertThatThrownBy(() -> Submission.of("\uD800", "echo")).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("key has an unpaired surrogate (U+D800) at index 0, which UTF-8 cannot encode");
        assertThatThrownBy(() -> Submission.of("k", "ec\uDFFFho")).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("type has an unpaired surrogate (U+DFFF) at index 2, which UTF-8 cannot encode");
        final Submission fine = Submission.of("k\uD83D\uDE00", "echo");
        assertThat(fine.keyBytes).hasSize(5);
        assertThatThrownBy(() -> fine.tenant("t\uD83D")).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("tenant has an unpaired surrogate (U+D83D) at index 1, which UTF-8 cannot encode");
        assertThatThrownBy(() -> fine.payload("\uDE00")).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("payload has an unpaired surrogate (U+DE00) at index 0, which UTF-8 cannot encode");
        assertThatThrownBy(() -> GyreClient.validateKey("a\uDFFF")).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("key has an unpaired surrogate (U+DFFF) at index 1, which UTF-8 cannot encode");
        GyreClient.validateKey("?");
    }

    @Test
    void shouldNameANullField()
    {
        assertThatThrownBy(() -> Submission.of(null, "echo")).isInstanceOf(NullPointerException.class).hasMessage("key");
        assertThatThrownBy(() -> Submission.of("k", "echo").tenant(null)).isInstanceOf(NullPointerException.class).hasMessage("tenant");
        assertThatThrownBy(() -> Submission.of("k", "echo").payload((String)null)).isInstanceOf(NullPointerException.class)
            .hasMessage("payload");
    }

    /**
     * A task type over 64 bytes (EngineConfig.MAX_TYPE_BYTES, WELCOME's {@code max_type}, "always 64") is refused by validate:
     * no server registers one, and an outside check found a 65-byte type passing validation only to be answered
     * UNKNOWN_TYPE.
     */
    @Test
    void shouldRefuseATypeOverSixtyFourBytes()
    {
        GyreClient.validate(Submission.of("k", "t".repeat(64)));
        GyreClient.validate(Submission.of("k", "\u00e9".repeat(32))); // 64 bytes of UTF-8
        assertThatThrownBy(() -> GyreClient.validate(Submission.of("k", "t".repeat(65)))).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("type must be 1 to 64 bytes of UTF-8, not 65");
        assertThatThrownBy(() -> GyreClient.validate(Submission.of("k", "\u00e9".repeat(32) + "t"))).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("type must be 1 to 64 bytes of UTF-8, not 65");
        assertThatThrownBy(() -> GyreClient.validate(Submission.of("k", "t".repeat(255)))).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("type must be 1 to 64 bytes of UTF-8, not 255");
        assertThatThrownBy(() -> GyreClient.validate(Submission.of("k", ""))).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("type must be 1 to 64 bytes of UTF-8, not 0");
    }
}
