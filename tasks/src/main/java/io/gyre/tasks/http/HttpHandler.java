package io.gyre.tasks.http;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;

import java.util.Map;

/**
 * The {@code http} task type: each attempt sends one HTTP request and succeeds with the response. Calls are
 * {@link ExecutionMode#ASYNC}: {@link #execute} starts the request on the JDK's non-blocking
 * {@link java.net.http.HttpClient} and returns, so thousands of calls can wait for their responses on a
 * handful of threads.
 * <p>
 * <b>Input</b> (the payload, JSON): {@code {"method": "POST", "url": "http://localhost:8080/x",
 * "headers": {"Content-Type": "application/json"}, "body": {"id": 7}, "timeoutMillis": 5000}}. Only
 * {@code url} is required; {@code method} defaults to GET (GET, POST, PUT, PATCH, DELETE); a string
 * {@code body} is sent as its UTF-8, any other JSON value as JSON (with {@code Content-Type:
 * application/json} unless a header says otherwise); {@code timeoutMillis} bounds the wait for the response
 * and defaults to {@code request-timeout-ms}. {@link #validate} refuses a malformed input, naming the field.
 * <p>
 * <b>Output</b> (JSON): {@code {"status": 200, "headers": {"content-type": ["application/json"]},
 * "body": {...}}}: the body parsed when the response's Content-Type is JSON and it parses (and can be written
 * parsed: no number past a decimal's exponent, under 1000 levels of nesting), else a string.
 * <p>
 * <b>Failures</b>: no connection, no response in time, 5xx and 429 are retryable and count against the
 * host's circuit breaker; any other 4xx is permanent (so is a body over {@code max-response-bytes}); 1xx to
 * 3xx succeed (redirects are not followed: the 3xx is the output); once a response arrived, nothing retries the
 * call (an error handling it is permanent: the server has acted on the request). A host whose breaker is open is not
 * called: the attempt fails at once, retryably, saying so. A body that does not fit in {@code max-buffered-bytes}
 * beside the bodies of the other calls in flight is not read further: the attempt fails retryably, counting neither
 * way on the host's breaker (the limit is the engine's).
 * <p>
 * <b>Memory</b>: a body holds about the bytes that arrived (a buffer that doubles as they do), never the length its
 * server declared; the bodies of all calls in flight hold at most {@code max-buffered-bytes} together.
 * <p>
 * <b>Settings</b> (engine handler settings {@code http.<name>}):
 * <table>
 * <caption>http settings</caption>
 * <tr><th>name</th><th>default</th><th>meaning</th></tr>
 * <tr><td>allowed-hosts</td><td>{@value HostAllowlist#DEFAULT}</td><td>hosts calls may go to: names, IP
 *     literals ({@code [::1]}), either with {@code :port}; {@code *} for any host</td></tr>
 * <tr><td>connect-timeout-ms</td><td>5000</td><td>longest wait for a connection</td></tr>
 * <tr><td>request-timeout-ms</td><td>10000</td><td>longest wait for a response when the task gives no
 *     {@code timeoutMillis}</td></tr>
 * <tr><td>max-response-bytes</td><td>1048576</td><td>largest body a successful response may have</td></tr>
 * <tr><td>max-buffered-bytes</td><td>a quarter of the heap, at least max-response-bytes</td><td>the response body
 *     bytes all calls in flight may hold together; at least max-response-bytes</td></tr>
 * <tr><td>executor-threads</td><td>cores, 2 to 8</td><td>threads processing responses</td></tr>
 * <tr><td>max-concurrency</td><td>10000</td><td>calls in flight at once; the engine keeps the rest PENDING</td></tr>
 * <tr><td>version</td><td>HTTP_1_1</td><td>HTTP_1_1 or HTTP_2</td></tr>
 * <tr><td>breaker.failure-rate-percent</td><td>50</td><td>failure rate that opens a host's breaker</td></tr>
 * <tr><td>breaker.minimum-calls</td><td>10</td><td>calls seen before the rate counts</td></tr>
 * <tr><td>breaker.sliding-window-size</td><td>20</td><td>latest calls the rate is computed over</td></tr>
 * <tr><td>breaker.wait-in-open-ms</td><td>30000</td><td>how long an open breaker refuses calls</td></tr>
 * <tr><td>breaker.half-open-calls</td><td>3</td><td>trial calls that decide whether it closes</td></tr>
 * <tr><td>breaker.max-hosts</td><td>10000</td><td>hosts breakers are kept for (the closed ones least recently
 *     called make room)</td></tr>
 * <tr><td>breaker.min-timeout-ms</td><td>1000</td><td>the shortest task {@code timeoutMillis} whose running out counts
 *     against the host's breaker</td></tr>
 * </table>
 * <p>
 * Lifecycle: {@link #configure} builds the client (before the engine starts); {@link #close} stops its
 * threads. Calls from the engine's threads are thread-safe.
 */
public final class HttpHandler implements TaskHandler
{
    /** The task type name. */
    public static final String TYPE = "http";

    private final Object lifecycle = new Object();
    private volatile HttpSettings settings = HttpSettings.defaults();
    private volatile HttpTransport transport;
    private boolean closed;
    /** The input {@link #validate} parsed, for the {@link #execute} that follows it on the same thread. */
    private Validated validated;

    /**
     * A handler with every setting at its default; {@link #configure} changes them. Builds nothing until
     * started or first used.
     */
    public HttpHandler()
    {
    }

    @Override
    public String type()
    {
        return TYPE;
    }

    @Override
    public ExecutionMode executionMode()
    {
        return ExecutionMode.ASYNC;
    }

    @Override
    public int maxConcurrency()
    {
        return settings.maxConcurrency();
    }

    /**
     * Take the settings (parsed and checked here; the client is built by {@link #start}, when an engine opens,
     * so a configuration that is built but never opened holds no threads).
     *
     * @throws IllegalArgumentException naming the first unknown or malformed setting and its value.
     */
    @Override
    public void configure(final Map<String, String> settings)
    {
        final HttpSettings parsed = HttpSettings.parse(settings);
        synchronized (lifecycle)
        {
            final HttpTransport previous = transport;
            this.settings = parsed;
            if (previous != null)
            {
                this.transport = new HttpTransport(parsed);
                previous.close();
            }
        }
    }

    /**
     * Build the client, its executor and the breakers (the first client in a JVM takes a few hundred
     * milliseconds: not on the ring).
     */
    @Override
    public void start()
    {
        synchronized (lifecycle)
        {
            closed = false;
            if (transport == null)
            {
                transport = new HttpTransport(settings);
            }
        }
    }

    /**
     * Parse the payload and check the URL's host against the allowlist.
     *
     * @throws TaskFailure (permanent) naming the field that is wrong: {@code url: scheme "ftp" not supported
     *     (http, https)}.
     */
    @Override
    public void validate(final TaskContext context) throws TaskFailure
    {
        final HttpTaskInput input = HttpTaskInput.parse(context.payload(), context.payloadLength(), settings);
        validated = new Validated(context, context.taskId(), context.attempt(), input);
    }

    /**
     * Start the call and return (on the engine's execute stage); the result is reported from a client thread.
     *
     * @throws TaskFailure permanent when the input is invalid, retryable when the host's breaker is open.
     */
    @Override
    public void execute(final TaskContext context) throws TaskFailure
    {
        final Validated last = validated;
        validated = null;
        final HttpTaskInput input = last != null && last.context == context && last.taskId == context.taskId() &&
            last.attempt == context.attempt() ? last.input : HttpTaskInput.parse(context.payload(), context.payloadLength(), settings);
        transport().call(context, input);
    }

    /**
     * Stop the client's executor. Attempts still in flight get no result from the handler.
     */
    @Override
    public void close()
    {
        synchronized (lifecycle)
        {
            closed = true;
            final HttpTransport current = transport;
            transport = null;
            if (current != null)
            {
                current.close();
            }
        }
    }

    /**
     * @param host {@code host:port}.
     * @return the state of that host's circuit breaker, or null when it has not been called (or the handler
     *     is closed).
     */
    CircuitBreaker.State breakerState(final String host)
    {
        final HttpTransport current = transport;
        return current == null ? null : current.breakerState(host);
    }

    /**
     * @return the bytes the response bodies of the calls in flight hold, 0 when the handler is closed (for tests).
     */
    long bufferedBytes()
    {
        final HttpTransport current = transport;
        return current == null ? 0 : current.bufferedBytes();
    }

    /**
     * Each host's circuit breaker state (see {@link HostBreakers#gauges}).
     */
    @Override
    public void gauges(final io.gyre.engine.GaugeSink sink)
    {
        final HttpTransport current = transport;
        if (current != null)
        {
            current.gauges(sink);
        }
    }

    private HttpTransport transport() throws TaskFailure
    {
        final HttpTransport current = transport;
        if (current != null)
        {
            return current;
        }
        synchronized (lifecycle)
        {
            if (closed)
            {
                throw TaskFailure.retryable("the http task type is closed");
            }
            if (transport == null)
            {
                transport = new HttpTransport(settings);
            }
            return transport;
        }
    }

    /**
     * An input and the attempt it was parsed for: immutable, so reading it from another thread than the one
     * that wrote it sees either a whole one or none.
     */
    private record Validated(TaskContext context, long taskId, int attempt, HttpTaskInput input)
    {
    }
}
