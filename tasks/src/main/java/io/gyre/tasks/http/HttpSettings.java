package io.gyre.tasks.http;

import java.net.http.HttpClient;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code http} task type's settings, immutable and validated once by {@link #parse(Map)}. Each arrives
 * as engine handler setting {@code http.<name>}; see {@link HttpHandler} for what each means.
 *
 * @param allowedHosts the hosts tasks may call.
 * @param connectTimeoutMillis how long a connection may take to open.
 * @param requestTimeoutMillis how long a response may take when the task gives no {@code timeoutMillis}.
 * @param maxResponseBytes the largest response body a successful call may return.
 * @param maxBufferedBytes the response body bytes all calls in flight may hold together.
 * @param executorThreads threads of the client's executor (response processing and completion).
 * @param maxConcurrency calls in flight at once, beyond which the engine keeps tasks PENDING.
 * @param version the HTTP version the client asks for.
 * @param breakerFailureRatePercent failure rate, in percent, at or above which a host's breaker opens.
 * @param breakerMinimumCalls calls a breaker must see before it computes a failure rate.
 * @param breakerSlidingWindowSize how many of the latest calls the failure rate is computed over.
 * @param breakerWaitInOpenMillis how long an open breaker refuses calls before letting trial calls through.
 * @param breakerHalfOpenCalls trial calls a half-open breaker lets through to decide whether to close.
 * @param breakerMinTimeoutMillis the shortest timeout a task may set whose running out counts against the host's breaker.
 * @param breakerMaxHosts the most hosts breakers are kept for (the closed ones least recently used make room).
 */
record HttpSettings(
    HostAllowlist allowedHosts,
    int connectTimeoutMillis,
    int requestTimeoutMillis,
    int maxResponseBytes,
    long maxBufferedBytes,
    int executorThreads,
    int maxConcurrency,
    HttpClient.Version version,
    float breakerFailureRatePercent,
    int breakerMinimumCalls,
    int breakerSlidingWindowSize,
    int breakerWaitInOpenMillis,
    int breakerHalfOpenCalls,
    int breakerMinTimeoutMillis,
    int breakerMaxHosts)
{
    static final String ALLOWED_HOSTS = "allowed-hosts";
    static final String CONNECT_TIMEOUT_MS = "connect-timeout-ms";
    static final String REQUEST_TIMEOUT_MS = "request-timeout-ms";
    static final String MAX_RESPONSE_BYTES = "max-response-bytes";
    static final String MAX_BUFFERED_BYTES = "max-buffered-bytes";
    static final String EXECUTOR_THREADS = "executor-threads";
    static final String MAX_CONCURRENCY = "max-concurrency";
    static final String VERSION = "version";
    static final String BREAKER_FAILURE_RATE_PERCENT = "breaker.failure-rate-percent";
    static final String BREAKER_MINIMUM_CALLS = "breaker.minimum-calls";
    static final String BREAKER_SLIDING_WINDOW_SIZE = "breaker.sliding-window-size";
    static final String BREAKER_WAIT_IN_OPEN_MS = "breaker.wait-in-open-ms";
    static final String BREAKER_HALF_OPEN_CALLS = "breaker.half-open-calls";
    static final String BREAKER_MIN_TIMEOUT_MS = "breaker.min-timeout-ms";
    static final String BREAKER_MAX_HOSTS = "breaker.max-hosts";

    static final int DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
    static final int DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
    static final int DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;
    static final int DEFAULT_MAX_CONCURRENCY = 10_000;
    static final float DEFAULT_BREAKER_FAILURE_RATE_PERCENT = 50f;
    static final int DEFAULT_BREAKER_MINIMUM_CALLS = 10;
    static final int DEFAULT_BREAKER_SLIDING_WINDOW_SIZE = 20;
    static final int DEFAULT_BREAKER_WAIT_IN_OPEN_MS = 30_000;
    static final int DEFAULT_BREAKER_HALF_OPEN_CALLS = 3;
    static final int DEFAULT_BREAKER_MIN_TIMEOUT_MS = 1_000;
    static final int DEFAULT_BREAKER_MAX_HOSTS = 10_000;

    /** The longest timeout a task or setting may ask for: one day. */
    static final int MAX_TIMEOUT_MS = 86_400_000;

    /** The engine's own ceiling on an output; a larger body could never be returned. */
    static final int MAX_MAX_RESPONSE_BYTES = 4 << 20;

    private static final Set<String> NAMES = Set.of(ALLOWED_HOSTS, CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS, MAX_RESPONSE_BYTES,
        MAX_BUFFERED_BYTES, EXECUTOR_THREADS, MAX_CONCURRENCY, VERSION, BREAKER_FAILURE_RATE_PERCENT, BREAKER_MINIMUM_CALLS,
        BREAKER_SLIDING_WINDOW_SIZE, BREAKER_WAIT_IN_OPEN_MS, BREAKER_HALF_OPEN_CALLS, BREAKER_MIN_TIMEOUT_MS,
        BREAKER_MAX_HOSTS);

    /**
     * @return every setting at its default.
     */
    static HttpSettings defaults()
    {
        return parse(Map.of());
    }

    /**
     * @return the default number of executor threads: one per core, at least 2 and at most 8. They only
     *     process responses, never wait on the network.
     */
    static int defaultExecutorThreads()
    {
        return Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * @param maxResponseBytes the largest body of one response.
     * @return the default of {@code max-buffered-bytes}: a quarter of the JVM's maximum heap, so that response bodies
     *     alone cannot fill it, and never less than one whole body.
     */
    static long defaultMaxBufferedBytes(final int maxResponseBytes)
    {
        return Math.max(maxResponseBytes, Runtime.getRuntime().maxMemory() / 4);
    }

    /**
     * @param settings the type's settings with the {@code http.} prefix removed.
     * @return the settings, defaults filling what is not given.
     * @throws IllegalArgumentException naming the first unknown or malformed setting and its value.
     */
    static HttpSettings parse(final Map<String, String> settings)
    {
        for (final String name : settings.keySet())
        {
            if (!NAMES.contains(name))
            {
                throw new IllegalArgumentException(name + "=" + settings.get(name) + " is not a setting of the http task type (" +
                    String.join(", ", new TreeSet<>(NAMES)) + ")");
            }
        }
        final Map<String, String> s = new LinkedHashMap<>(settings);
        final HostAllowlist allowedHosts = HostAllowlist.parse(ALLOWED_HOSTS, s.getOrDefault(ALLOWED_HOSTS, HostAllowlist.DEFAULT));
        final int minimumCalls = intSetting(s, BREAKER_MINIMUM_CALLS, DEFAULT_BREAKER_MINIMUM_CALLS, 1, 100_000);
        final int windowSize = intSetting(s, BREAKER_SLIDING_WINDOW_SIZE, DEFAULT_BREAKER_SLIDING_WINDOW_SIZE, 1, 100_000);
        if (minimumCalls > windowSize)
        {
            throw new IllegalArgumentException(BREAKER_MINIMUM_CALLS + "=" + minimumCalls + " must be at most " +
                BREAKER_SLIDING_WINDOW_SIZE + " (" + windowSize + ")");
        }
        final int maxResponseBytes = intSetting(s, MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES, 0, MAX_MAX_RESPONSE_BYTES);
        final long maxBufferedBytes = longSetting(s, MAX_BUFFERED_BYTES, defaultMaxBufferedBytes(maxResponseBytes), 0, Long.MAX_VALUE);
        if (maxBufferedBytes < maxResponseBytes)
        {
            // a budget smaller than one body would fail every response that long, retryably, forever
            throw new IllegalArgumentException(MAX_BUFFERED_BYTES + "=" + maxBufferedBytes + " must be at least " +
                MAX_RESPONSE_BYTES + " (" + maxResponseBytes + ")");
        }
        return new HttpSettings(
            allowedHosts,
            intSetting(s, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
            intSetting(s, REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
            maxResponseBytes,
            maxBufferedBytes,
            intSetting(s, EXECUTOR_THREADS, defaultExecutorThreads(), 1, 256),
            intSetting(s, MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY, 1, 10_000_000),
            version(s.get(VERSION)),
            percentSetting(s, BREAKER_FAILURE_RATE_PERCENT, DEFAULT_BREAKER_FAILURE_RATE_PERCENT),
            minimumCalls,
            windowSize,
            intSetting(s, BREAKER_WAIT_IN_OPEN_MS, DEFAULT_BREAKER_WAIT_IN_OPEN_MS, 1, MAX_TIMEOUT_MS),
            intSetting(s, BREAKER_HALF_OPEN_CALLS, DEFAULT_BREAKER_HALF_OPEN_CALLS, 1, 10_000),
            intSetting(s, BREAKER_MIN_TIMEOUT_MS, DEFAULT_BREAKER_MIN_TIMEOUT_MS, 0, MAX_TIMEOUT_MS),
            intSetting(s, BREAKER_MAX_HOSTS, DEFAULT_BREAKER_MAX_HOSTS, 1, 1_000_000));
    }

    private static int intSetting(final Map<String, String> settings, final String name, final int defaultValue, final int min, final int max)
    {
        final String value = settings.get(name);
        if (value == null)
        {
            return defaultValue;
        }
        try
        {
            final int parsed = Integer.parseInt(value.trim());
            if (parsed >= min && parsed <= max)
            {
                return parsed;
            }
        }
        catch (final NumberFormatException ignored)
        {
            // reported below
        }
        throw new IllegalArgumentException(name + "=" + value + " must be an integer in [" + min + ", " + max + "]");
    }

    private static long longSetting(final Map<String, String> settings, final String name, final long defaultValue, final long min,
        final long max)
    {
        final String value = settings.get(name);
        if (value == null)
        {
            return defaultValue;
        }
        try
        {
            final long parsed = Long.parseLong(value.trim());
            if (parsed >= min && parsed <= max)
            {
                return parsed;
            }
        }
        catch (final NumberFormatException ignored)
        {
            // reported below
        }
        throw new IllegalArgumentException(name + "=" + value + " must be an integer in [" + min + ", " + max + "]");
    }

    private static float percentSetting(final Map<String, String> settings, final String name, final float defaultValue)
    {
        final String value = settings.get(name);
        if (value == null)
        {
            return defaultValue;
        }
        try
        {
            final float parsed = Float.parseFloat(value.trim());
            if (parsed > 0f && parsed <= 100f)
            {
                return parsed;
            }
        }
        catch (final NumberFormatException ignored)
        {
            // reported below
        }
        throw new IllegalArgumentException(name + "=" + value + " must be a percentage in (0, 100]");
    }

    private static HttpClient.Version version(final String value)
    {
        if (value == null)
        {
            return HttpClient.Version.HTTP_1_1;
        }
        return switch (value.trim())
        {
            case "HTTP_1_1", "1.1" -> HttpClient.Version.HTTP_1_1;
            case "HTTP_2", "2" -> HttpClient.Version.HTTP_2;
            default -> throw new IllegalArgumentException(VERSION + "=" + value + " must be HTTP_1_1 or HTTP_2");
        };
    }
}
