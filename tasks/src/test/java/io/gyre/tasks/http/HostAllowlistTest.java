package io.gyre.tasks.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class HostAllowlistTest
{
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "localhost | 80 | true",
        "LocalHost | 8080 | true",
        "127.0.0.1 | 1 | true",
        "[::1] | 443 | true",
        "[0:0:0:0:0:0:0:1] | 443 | true",
        "[::ffff:127.0.0.1] | 80 | false",
        "127.0.0.2 | 80 | false",
        "localhost.localdomain | 80 | false",
        "example.com | 80 | false",
        "[fe80::1] | 80 | false"})
    void shouldAllowLoopbackOnlyByDefault(final String host, final int port, final boolean allowed)
    {
        assertThat(HostAllowlist.parse("allowed-hosts", HostAllowlist.DEFAULT).allows(host, port)).isEqualTo(allowed);
    }

    @Test
    void shouldAllowEveryPortOfAHostGivenAloneAndOnlyTheGivenPortOtherwise()
    {
        final HostAllowlist list = HostAllowlist.parse("allowed-hosts", "api.example.com, Payments.Example.com:8443, [2001:db8::1]:443, 10.0.0.7");

        assertThat(list.allows("api.example.com", 80)).isTrue();
        assertThat(list.allows("API.EXAMPLE.COM", 9999)).isTrue();
        assertThat(list.allows("payments.example.com", 8443)).isTrue();
        assertThat(list.allows("payments.example.com", 443)).isFalse();
        assertThat(list.allows("[2001:db8:0:0:0:0:0:1]", 443)).isTrue();
        assertThat(list.allows("[2001:db8::1]", 80)).isFalse();
        assertThat(list.allows("10.0.0.7", 22)).isTrue();
        assertThat(list.allows("10.0.0.8", 22)).isFalse();
        assertThat(list.allows("sub.api.example.com", 80)).isFalse();
        assertThat(list.allows("localhost", 80)).isFalse();
    }

    @Test
    void shouldAllowEveryHostWithAStar()
    {
        final HostAllowlist list = HostAllowlist.parse("allowed-hosts", "*");

        assertThat(list.allows("example.com", 443)).isTrue();
        assertThat(list.allows("[2001:db8::1]", 1)).isTrue();
        assertThat(list).hasToString("*");
    }

    @Test
    void shouldNeverLookUpABracketedNameInDns()
    {
        assertThat(HostAllowlist.canonicalHost("[localhost]")).isNull();
        assertThat(HostAllowlist.canonicalHost("[::1]")).isEqualTo("[0:0:0:0:0:0:0:1]");
        assertThat(HostAllowlist.canonicalHost("")).isNull();
        assertThat(HostAllowlist.canonicalHost("exa mple")).isNull();
    }
}
