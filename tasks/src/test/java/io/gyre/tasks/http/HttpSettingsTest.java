package io.gyre.tasks.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpClient;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpSettingsTest
{
    @Test
    void shouldDefaultToLoopbackOnlyAndTheDocumentedValues()
    {
        final HttpSettings settings = HttpSettings.defaults();

        assertThat(settings.allowedHosts()).hasToString("localhost,127.0.0.1,[::1]");
        assertThat(settings.allowedHosts().allows("localhost", 80)).isTrue();
        assertThat(settings.allowedHosts().allows("example.com", 80)).isFalse();
        assertThat(settings.connectTimeoutMillis()).isEqualTo(5_000);
        assertThat(settings.requestTimeoutMillis()).isEqualTo(10_000);
        assertThat(settings.maxResponseBytes()).isEqualTo(1 << 20);
        assertThat(settings.maxBufferedBytes()).isEqualTo(Math.max(1 << 20, Runtime.getRuntime().maxMemory() / 4));
        assertThat(settings.executorThreads()).isBetween(2, 8);
        assertThat(settings.maxConcurrency()).isEqualTo(10_000);
        assertThat(settings.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(settings.breakerFailureRatePercent()).isEqualTo(50f);
        assertThat(settings.breakerMinimumCalls()).isEqualTo(10);
        assertThat(settings.breakerSlidingWindowSize()).isEqualTo(20);
        assertThat(settings.breakerWaitInOpenMillis()).isEqualTo(30_000);
        assertThat(settings.breakerHalfOpenCalls()).isEqualTo(3);
    }

    @Test
    void shouldTakeEverySetting()
    {
        final HttpSettings settings = HttpSettings.parse(Map.ofEntries(
            Map.entry("allowed-hosts", "api.internal:8443, *"),
            Map.entry("connect-timeout-ms", "100"),
            Map.entry("request-timeout-ms", " 200 "),
            Map.entry("max-response-bytes", "300"),
            Map.entry("max-buffered-bytes", "5000000000"),
            Map.entry("executor-threads", "1"),
            Map.entry("max-concurrency", "400"),
            Map.entry("version", "HTTP_2"),
            Map.entry("breaker.failure-rate-percent", "12.5"),
            Map.entry("breaker.minimum-calls", "5"),
            Map.entry("breaker.sliding-window-size", "6"),
            Map.entry("breaker.wait-in-open-ms", "700"),
            Map.entry("breaker.half-open-calls", "8"),
            Map.entry("breaker.min-timeout-ms", "250"),
            Map.entry("breaker.max-hosts", "77")));

        assertThat(settings).isEqualTo(new HttpSettings(settings.allowedHosts(), 100, 200, 300, 5_000_000_000L, 1, 400, HttpClient.Version.HTTP_2, 12.5f,
            5, 6, 700, 8, 250, 77));
        assertThat(settings.allowedHosts().allows("anything.example", 1)).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "connect-timeout-ms | 0 | connect-timeout-ms=0 must be an integer in [1, 86400000]",
        "request-timeout-ms | 10s | request-timeout-ms=10s must be an integer in [1, 86400000]",
        "max-response-bytes | 5000000 | max-response-bytes=5000000 must be an integer in [0, 4194304]",
        "max-buffered-bytes | 1048575 | max-buffered-bytes=1048575 must be at least max-response-bytes (1048576)",
        "max-buffered-bytes | -1 | max-buffered-bytes=-1 must be an integer in [0, 9223372036854775807]",
        "max-buffered-bytes | 1g | max-buffered-bytes=1g must be an integer in [0, 9223372036854775807]",
        "executor-threads | -1 | executor-threads=-1 must be an integer in [1, 256]",
        "max-concurrency | lots | max-concurrency=lots must be an integer in [1, 10000000]",
        "version | HTTP_3 | version=HTTP_3 must be HTTP_1_1 or HTTP_2",
        "breaker.failure-rate-percent | 0 | breaker.failure-rate-percent=0 must be a percentage in (0, 100]",
        "breaker.failure-rate-percent | 101 | breaker.failure-rate-percent=101 must be a percentage in (0, 100]",
        "breaker.failure-rate-percent | NaN | breaker.failure-rate-percent=NaN must be a percentage in (0, 100]",
        "breaker.minimum-calls | 0 | breaker.minimum-calls=0 must be an integer in [1, 100000]",
        "breaker.minimum-calls | 21 | breaker.minimum-calls=21 must be at most breaker.sliding-window-size (20)",
        "breaker.wait-in-open-ms | 1.5 | breaker.wait-in-open-ms=1.5 must be an integer in [1, 86400000]",
        "breaker.half-open-calls | 0 | breaker.half-open-calls=0 must be an integer in [1, 10000]",
        "allowed-hosts | '' | allowed-hosts= has an empty entry; list host names or IP addresses, or * for every host",
        "allowed-hosts | 'localhost,,x' | allowed-hosts=localhost,,x has an empty entry; list host names or IP addresses, or * for every host",
        "allowed-hosts | ::1 | allowed-hosts=::1 entry \"::1\": an IPv6 address goes in brackets ([::1])",
        "allowed-hosts | [::1 | allowed-hosts=[::1 entry \"[::1\" opens an IPv6 bracket it does not close",
        "allowed-hosts | [nope] | allowed-hosts=[nope] entry \"[nope]\" is not a host name or IP address",
        "allowed-hosts | host:0 | allowed-hosts=host:0 entry \"host:0\" has a port that is not a number in [1, 65535]",
        "allowed-hosts | host:http | allowed-hosts=host:http entry \"host:http\" has a port that is not a number in [1, 65535]",
        "allowed-hosts | [::1]x | allowed-hosts=[::1]x entry \"[::1]x\" has text after its host that is not :port",
        "allowed-hosts | http://host | allowed-hosts=http://host entry \"http://host\" is a URL; give the host alone (host or host:port)",
        "allowed-hosts | a/b:80 | allowed-hosts=a/b:80 entry \"a/b:80\" is not a host name or IP address",
        "allowed-hosts | a b | allowed-hosts=a b entry \"a b\" is not a host name or IP address"})
    void shouldRefuseAMalformedSettingNamingItAndItsValue(final String name, final String value, final String message)
    {
        assertThatThrownBy(() -> HttpSettings.parse(Map.of(name, value)))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(message);
    }

    /**
     * The budget of the bodies in flight must hold one whole body: a smaller one would fail every response that long,
     * retryably, forever. Its default follows a {@code max-response-bytes} larger than a quarter of the heap.
     */
    @Test
    void shouldRefuseABufferBudgetSmallerThanOneBodyAndDefaultToAtLeastOne()
    {
        assertThatThrownBy(() -> HttpSettings.parse(Map.of("max-response-bytes", "1000", "max-buffered-bytes", "999")))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("max-buffered-bytes=999 must be at least max-response-bytes (1000)");
        assertThat(HttpSettings.parse(Map.of("max-response-bytes", "1000", "max-buffered-bytes", "1000")).maxBufferedBytes())
            .isEqualTo(1000);
        assertThat(HttpSettings.defaultMaxBufferedBytes(4 << 20)).isGreaterThanOrEqualTo(4 << 20);
        assertThat(HttpSettings.defaultMaxBufferedBytes(0)).isEqualTo(Runtime.getRuntime().maxMemory() / 4);
    }

    @Test
    void shouldRefuseAnUnknownSettingListingTheKnownOnes()
    {
        assertThatThrownBy(() -> HttpSettings.parse(Map.of("allowed-host", "x")))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("allowed-host=x is not a setting of the http task type (allowed-hosts, breaker.failure-rate-percent, " +
                "breaker.half-open-calls, breaker.max-hosts, breaker.min-timeout-ms, breaker.minimum-calls, breaker.sliding-window-size, breaker.wait-in-open-ms, " +
                "connect-timeout-ms, executor-threads, max-buffered-bytes, max-concurrency, max-response-bytes, request-timeout-ms, version)");
    }

    @Test
    void shouldRefuseABadSettingThroughTheHandlerAndKeepTheLastGoodOnes()
    {
        final HttpHandler handler = new HttpHandler();
        try
        {
            handler.configure(Map.of("max-concurrency", "7"));
            assertThatThrownBy(() -> handler.configure(Map.of("max-concurrency", "0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max-concurrency=0 must be an integer in [1, 10000000]");
            assertThat(handler.maxConcurrency()).isEqualTo(7);
        }
        finally
        {
            handler.close();
        }
    }
}
