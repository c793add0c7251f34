package io.gyre.tasks.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.gyre.engine.TaskContext;
import io.gyre.tasks.http.BoundedBodySubscriber.ResponseTooLargeException;
import io.gyre.tasks.http.HostBreakers.HostBreaker;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One attempt's request in flight: sends it, then turns the response (or the reason there is none) into the
 * attempt's result and the host breaker's record, exactly once.
 * <p>
 * Two threads race to end a call: the client's, completing the response, and the engine's, stopping the
 * attempt (cancelled or timed out). One {@link AtomicInteger} decides: the first to move it from IN_FLIGHT
 * wins, so the breaker hears of the call exactly once. A stop that wins cancels the request (closing its
 * connection), gives the breaker its permission back and reports nothing: the engine ends a stopped attempt
 * itself. A stop that loses does nothing: the report on its way and the engine's own end of the attempt meet
 * in the context, where the first wins (the engine never reuses an ASYNC context, so a late report cannot
 * land in another attempt). The stop action never waits for the reporting thread: it runs on the execute
 * stage, which a report may itself be waiting on for ring space.
 * <p>
 * The body's reservation of the {@link BufferBudget} is given back by whichever thread ends the call: the
 * report, once the response is turned into the result, or the stop that wins (the client may not signal the
 * body again after a cancel). A body the client makes after the call ended gives its own back. However many
 * of them release it, and whatever the client's thread is doing then, its bytes go back once
 * ({@link BoundedBodySubscriber#release}).
 * <pre>
 *   IN_FLIGHT --response or error--> REPORTED
 *       |
 *       +------------stop----------> STOPPED
 * </pre>
 */
final class HttpCall implements BiConsumer<HttpResponse<byte[]>, Throwable>, Runnable
{
    /** Bytes of an error response's body kept for the failure message. */
    static final int ERROR_SNIPPET_BYTES = 256;

    private static final int IN_FLIGHT = 0;
    private static final int REPORTED = 1;
    private static final int STOPPED = 2;

    private final TaskContext context;
    private final HttpTaskInput input;
    private final HostBreaker breaker;
    private final BufferBudget budget;
    private final int maxResponseBytes;
    private final int connectTimeoutMillis;
    /** A timeout the task set shorter than this says nothing of the host: its running out counts neither way. */
    private final int breakerMinTimeoutMillis;
    private final AtomicInteger state = new AtomicInteger(IN_FLIGHT);
    private final long startNanos = System.nanoTime();
    private volatile CompletableFuture<HttpResponse<byte[]>> response;
    /** The whole call's deadline, {@code timeoutMillis} from the send: the client's own covers only the headers. */
    private volatile ScheduledFuture<?> deadline;
    /** Set when the deadline cancelled the call, before it did: the cancellation is then a timeout. */
    private volatile boolean deadlinePassed;
    /** Set when the response's status and headers arrived (its body may still be on its way). */
    private volatile boolean headersArrived;
    /** The response's body, once its headers arrived: what holds bytes of the budget. */
    private volatile BoundedBodySubscriber body;

    /**
     * @param breaker the host's breaker, whose permission the caller has taken: this call gives it back.
     * @param budget what the response body is reserved from: this call gives its reservation back.
     */
    HttpCall(final TaskContext context, final HttpTaskInput input, final HostBreaker breaker, final BufferBudget budget,
        final int maxResponseBytes, final int connectTimeoutMillis, final int breakerMinTimeoutMillis)
    {
        this.context = context;
        this.input = input;
        this.breaker = breaker;
        this.budget = budget;
        this.maxResponseBytes = maxResponseBytes;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.breakerMinTimeoutMillis = breakerMinTimeoutMillis;
    }

    /**
     * Send the request and return at once (on the engine's execute stage). The result is reported later, on
     * a thread of {@code executor}.
     *
     * @throws RuntimeException when the client refuses to start the call; the breaker's permission is given
     *     back and nothing is reported.
     */
    void start(final HttpClient client, final Executor executor, final ScheduledExecutorService deadlines)
    {
        context.onStop(this);
        if (state.get() == STOPPED)
        {
            return;
        }
        final CompletableFuture<HttpResponse<byte[]>> future;
        try
        {
            future = client.sendAsync(input.request(), this::bodySubscriber);
        }
        catch (final RuntimeException ex)
        {
            if (state.compareAndSet(IN_FLIGHT, REPORTED))
            {
                breaker.release();
            }
            throw ex;
        }
        response = future;
        // a stop between the check above and the assignment saw no future to cancel: cancel it here
        if (state.get() == STOPPED)
        {
            future.cancel(true);
            return;
        }
        try
        {
            deadline = deadlines.schedule(this::deadlinePassed, input.timeoutMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final RejectedExecutionException ex)
        {
            // closing: the client's own timeout still bounds the wait for the headers
        }
        // the client completes this future on the JVM's default async pool (a new thread per response when
        // the common pool has one thread): the report runs on the client's bounded executor instead
        future.whenCompleteAsync(this, executor);
    }

    /**
     * The stop action: the engine cancelled the attempt or it timed out (on the thread that stops it).
     */
    @Override
    public void run()
    {
        cancelDeadline();
        if (state.compareAndSet(IN_FLIGHT, STOPPED))
        {
            final CompletableFuture<HttpResponse<byte[]>> future = response;
            if (future != null)
            {
                future.cancel(true);
            }
            breaker.release();
            releaseBody();
        }
    }

    /**
     * The response arrived, or the call failed (or was cancelled by a stop, and then it is ignored): on a
     * thread of the client's executor.
     */
    @Override
    public void accept(final HttpResponse<byte[]> result, final Throwable error)
    {
        cancelDeadline();
        if (!state.compareAndSet(IN_FLIGHT, REPORTED))
        {
            return; // stopped: the engine ends the attempt, the breaker has its permission back, the budget its bytes
        }
        try
        {
            report(result, error);
        }
        finally
        {
            // after the result is made: until then the body's bytes are still held
            releaseBody();
        }
    }

    private void report(final HttpResponse<byte[]> result, final Throwable error)
    {
        final long durationNanos = System.nanoTime() - startNanos;
        final Verdict verdict;
        try
        {
            verdict = error == null ? verdict(result) : verdict(error);
        }
        catch (final RuntimeException bug)
        {
            // says nothing about the host; the attempt must still end rather than wait for its timeout. Once a
            // response arrived the server has acted on the request: sending it again (a POST, a payment) would act
            // twice, so that failure is permanent; without a response the call failed anyway and may be retried
            breaker.release();
            if (error == null)
            {
                context.fail(false, "handling the response of " + input.host() + " (HTTP " + result.statusCode() +
                    ") failed, not retried as the server answered: " + describe(bug));
            }
            else
            {
                context.fail(true, "handling the failure of the call to " + input.host() + " failed: " + describe(bug));
            }
            return;
        }
        if (verdict.hostFailed && verdict.saysNothingOfTheHost)
        {
            breaker.release();
        }
        else if (verdict.hostFailed)
        {
            breaker.recordFailure(durationNanos, verdict.cause);
        }
        else
        {
            breaker.recordSuccess(durationNanos);
        }
        if (verdict.output != null)
        {
            context.succeed(verdict.output);
        }
        else
        {
            context.fail(verdict.retryable, verdict.message);
        }
    }

    /**
     * The deadline: the response has not completed, its body included, {@code timeoutMillis} after the send (a server
     * trickling its body). Cancel the request, closing its connection; the report says it timed out.
     */
    private void deadlinePassed()
    {
        final CompletableFuture<HttpResponse<byte[]>> future = response;
        if (state.get() == IN_FLIGHT && future != null)
        {
            deadlinePassed = true;
            future.cancel(true);
        }
    }

    private void cancelDeadline()
    {
        final ScheduledFuture<?> scheduled = deadline;
        if (scheduled != null)
        {
            scheduled.cancel(false);
        }
    }

    /**
     * The response's headers arrived: make its body (on the client's thread).
     */
    private HttpResponse.BodySubscriber<byte[]> bodySubscriber(final HttpResponse.ResponseInfo info)
    {
        headersArrived = true;
        final long declaredLength = info.headers().firstValueAsLong("content-length").orElse(-1);
        final BoundedBodySubscriber subscriber = isError(info.statusCode()) ?
            BoundedBodySubscriber.truncated(ERROR_SNIPPET_BYTES, declaredLength, budget) :
            BoundedBodySubscriber.whole(maxResponseBytes, declaredLength, budget);
        final BoundedBodySubscriber previous = body;
        body = subscriber;
        if (previous != null)
        {
            previous.release(); // a response the client dropped for another (JDK 17 makes one body per call): no longer read
        }
        // a stop or a report that ended the call before the body was set may not have seen it: either it sees the body, or
        // this sees the call ended (both write, then read, volatile state), and a second release does nothing
        if (state.get() != IN_FLIGHT)
        {
            subscriber.release();
        }
        return subscriber;
    }

    private void releaseBody()
    {
        final BoundedBodySubscriber current = body;
        if (current != null)
        {
            current.release();
        }
    }

    private Verdict verdict(final HttpResponse<byte[]> result)
    {
        final int status = result.statusCode();
        if (isError(status))
        {
            // 5xx and 429 say the host may do better later; other 4xx, and statuses HTTP does not define (600 and up), do not
            final boolean retryable = (status >= 500 && status <= 599) || status == 429;
            final byte[] snippet = result.body();
            // the host's words, escaped: a body must not put raw control characters into the task's error (logs, terminals)
            final String body = io.gyre.tasks.json.JsonErrors.controlsEscaped(
                new String(snippet, 0, wholeCharacters(snippet), StandardCharsets.UTF_8).replaceAll("\\s+", " ").trim());
            final String message = "HTTP " + status + " from " + input.host() + (body.isEmpty() ? "" : ": " + body);
            return new Verdict(null, retryable, message, retryable, false, retryable ? new IOException(message) : null);
        }
        try
        {
            return new Verdict(HttpTaskOutput.encode(status, result.headers(), result.body()), false, null, false, false, null);
        }
        catch (final JsonProcessingException ex)
        {
            return new Verdict(null, false, "HTTP " + status + " from " + input.host() + ": the response cannot be written as " +
                "output: " + ex.getOriginalMessage(), false, false, null);
        }
    }

    private Verdict verdict(final Throwable error)
    {
        final Throwable cause = unwrap(error);
        final ResponseTooLargeException tooLarge = find(cause, ResponseTooLargeException.class);
        if (tooLarge != null)
        {
            return new Verdict(null, false, tooLarge.getMessage() + " (" + input.host() + ")", false, false, null);
        }
        final BufferBudget.ExhaustedException budgetExhausted = find(cause, BufferBudget.ExhaustedException.class);
        if (budgetExhausted != null)
        {
            // the engine's own limit, reached by all calls together: it says nothing of this host, whose breaker gets its
            // permission back; another attempt may find room once other bodies are done
            return new Verdict(null, true, budgetExhausted.getMessage() + ": the response of " + input.host() +
                " was not read (retried later)", true, true, cause);
        }
        final java.net.ProtocolException protocol = find(cause, java.net.ProtocolException.class);
        if (protocol != null && protocol.getMessage() != null && protocol.getMessage().startsWith("Header size too big"))
        {
            // the server answered, with more header bytes than the JDK's client reads: as for a body over the limit, the
            // request is not sent again (a POST would act twice), and the host answered
            return new Verdict(null, false, "response headers from " + input.host() + " larger than the HTTP client reads (" +
                protocol.getMessage() + "); the server answered: not sent again", false, false, null);
        }
        final ConnectException notConnected = find(cause, ConnectException.class);
        // a timeout the task set itself, shorter than http.breaker.min-timeout-ms, ran out: that says more of the task than
        // of the host, and must not let one tenant open the host's breaker for every other (an outside check did, with
        // tasks of timeoutMillis 1 against a healthy host); neither does a TLS failure (the task chose https)
        final boolean ownShortTimeout = input.timeoutGiven() && input.timeoutMillis() < breakerMinTimeoutMillis;
        boolean saysNothingOfTheHost = false;
        final String message;
        if (find(cause, HttpConnectTimeoutException.class) != null)
        {
            // the request's timeout runs from the send, so it bounds connecting too: the shorter of the two ran out
            final boolean taskTimeout = input.timeoutMillis() < connectTimeoutMillis;
            saysNothingOfTheHost = taskTimeout && ownShortTimeout;
            message = taskTimeout ?
                "could not connect to " + input.host() + " within " + input.timeoutSource() :
                "could not connect to " + input.host() + " within http." + HttpSettings.CONNECT_TIMEOUT_MS + "=" + connectTimeoutMillis;
        }
        else if (find(cause, HttpTimeoutException.class) != null || (deadlinePassed && !headersArrived))
        {
            saysNothingOfTheHost = ownShortTimeout;
            message = "no response from " + input.host() + " within " + input.timeoutSource();
        }
        else if (deadlinePassed)
        {
            saysNothingOfTheHost = ownShortTimeout;
            message = "no complete response from " + input.host() + " within " + input.timeoutSource() + " (its body was still arriving)";
        }
        else if (notConnected != null)
        {
            message = "cannot connect to " + input.host() + ": " + describe(notConnected);
        }
        else if (cause instanceof IOException)
        {
            saysNothingOfTheHost = find(cause, javax.net.ssl.SSLException.class) != null;
            message = "I/O error calling " + input.host() + ": " + io.gyre.tasks.json.JsonErrors.controlsEscaped(describe(cause));
        }
        else
        {
            message = "call to " + input.host() + " failed: " + describe(cause);
        }
        return new Verdict(null, true, message, true, saysNothingOfTheHost, cause);
    }

    /**
     * @return how many of the bytes make whole UTF-8 characters: an error body is cut at {@link #ERROR_SNIPPET_BYTES},
     *     possibly inside a character, whose first bytes would decode as U+FFFD.
     */
    static int wholeCharacters(final byte[] bytes)
    {
        int end = bytes.length;
        int back = 0;
        while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1] & 0xC0) == 0x80)
        {
            back++;
        }
        if (end - back - 1 < 0)
        {
            return end;
        }
        final int lead = bytes[end - back - 1] & 0xFF;
        final int needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return needed > back + 1 ? end - back - 1 : end;
    }

    private static boolean isError(final int status)
    {
        return status >= 400;
    }

    private static Throwable unwrap(final Throwable error)
    {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null)
        {
            t = t.getCause();
        }
        return t;
    }

    private static <T extends Throwable> T find(final Throwable error, final Class<T> type)
    {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            if (type.isInstance(t))
            {
                return type.cast(t);
            }
        }
        return null;
    }

    /**
     * @return the exception's type and the first message in its cause chain ("SSLHandshakeException: PKIX
     *     path building failed"), or the type alone: the client's own exceptions often carry no message (on
     *     JDK 17 a refused connection is a bare ConnectException).
     */
    private static String describe(final Throwable error)
    {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            if (t.getMessage() != null && !t.getMessage().isEmpty())
            {
                return error.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        return error.getClass().getSimpleName();
    }

    /**
     * What a finished call means: an output, or a failure and whether retrying could help; and whether it
     * counts against the host's breaker.
     */
    /**
     * @param hostFailed whether the call failed in a way that may count against the host's breaker.
     * @param saysNothingOfTheHost with {@code hostFailed}: it does not count (the task's own short timeout, a TLS
     *     failure), so the breaker gets its permission back instead.
     */
    private record Verdict(byte[] output, boolean retryable, String message, boolean hostFailed, boolean saysNothingOfTheHost,
        Throwable cause)
    {
    }
}
