package io.gyre.tasks.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@link TaskContext} that plays the engine's part for one ASYNC attempt, as the engine's contract says:
 * the payload is valid only while {@code execute} runs (afterwards its bytes are overwritten and
 * {@link #payload()} throws, as the engine's does), the result may be reported once from any thread, stop
 * actions run on the thread that stops. It records every report, so a test can tell a second report, or one
 * after the stop, from none.
 */
final class RecordingContext implements TaskContext
{
    private static final AtomicLong TASK_IDS = new AtomicLong();

    private final long taskId = TASK_IDS.incrementAndGet();
    private final UnsafeBuffer payload;
    private final int payloadLength;
    private final ExpandableArrayBuffer output = new ExpandableArrayBuffer(64);
    private final CountDownLatch reported = new CountDownLatch(1);
    private final AtomicInteger reports = new AtomicInteger();
    private final AtomicInteger reportsAfterStop = new AtomicInteger();
    private final List<Runnable> stopActions = new ArrayList<>();
    private volatile boolean stop;
    private volatile boolean payloadLent = true;
    private volatile Result result;
    private volatile String reportingThread;

    private RecordingContext(final String payload)
    {
        this(payload.getBytes(StandardCharsets.UTF_8));
    }

    private RecordingContext(final byte[] bytes)
    {
        this.payload = new UnsafeBuffer(bytes);
        this.payloadLength = bytes.length;
    }

    /**
     * What the engine does with an attempt: validate (a throw fails permanently, "invalid input: ..."),
     * execute (a throw fails, retryable unless a permanent {@link TaskFailure}), then the payload is no
     * longer the handler's to read.
     *
     * @return the attempt's context, to await its result.
     */
    static RecordingContext run(final TaskHandler handler, final String payload)
    {
        final RecordingContext context = new RecordingContext(payload);
        context.runOn(handler);
        return context;
    }

    /** As {@link #run(TaskHandler, String)}, with the payload's bytes as they are (not necessarily UTF-8). */
    static RecordingContext run(final TaskHandler handler, final byte[] payload)
    {
        final RecordingContext context = new RecordingContext(payload);
        context.runOn(handler);
        return context;
    }

    /**
     * @return a context that has not run yet.
     */
    static RecordingContext of(final String payload)
    {
        return new RecordingContext(payload);
    }

    void runOn(final TaskHandler handler)
    {
        try
        {
            handler.validate(this);
        }
        catch (final Exception ex)
        {
            fail(false, "invalid input: " + ex.getMessage());
            return;
        }
        try
        {
            handler.execute(this);
        }
        catch (final TaskFailure failure)
        {
            fail(failure.retryable(), failure.getMessage());
        }
        catch (final Exception ex)
        {
            fail(true, ex.toString());
        }
        finally
        {
            payload.setMemory(0, payloadLength, (byte)'#');
            payloadLent = false;
        }
    }

    /**
     * @return the attempt's result, waiting up to 10 seconds for it.
     */
    Result await()
    {
        return await(Duration.ofSeconds(10));
    }

    Result await(final Duration timeout)
    {
        try
        {
            assertThat(reported.await(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("a result within " + timeout).isTrue();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
        return result;
    }

    /**
     * Stop the attempt, as the engine does on cancel or timeout.
     */
    void stop()
    {
        final List<Runnable> actions;
        synchronized (stopActions)
        {
            stop = true;
            actions = new ArrayList<>(stopActions);
            stopActions.clear();
        }
        actions.forEach(Runnable::run);
    }

    /**
     * @return the name of the thread the first report came from, or null before it.
     */
    String reportingThread()
    {
        return reportingThread;
    }

    int reports()
    {
        return reports.get();
    }

    int reportsAfterStop()
    {
        return reportsAfterStop.get();
    }

    @Override
    public long taskId()
    {
        return taskId;
    }

    @Override
    public int attempt()
    {
        return 1;
    }

    @Override
    public DirectBuffer payload()
    {
        if (!payloadLent)
        {
            throw new IllegalStateException("the payload of an ASYNC attempt is valid only during execute()");
        }
        return payload;
    }

    @Override
    public long submittedAt()
    {
        return 0;
    }

    @Override
    public void holdUntil(final long epochNanos)
    {
        throw new UnsupportedOperationException("the http type never holds an outcome");
    }

    @Override
    public int payloadLength()
    {
        return payloadLength;
    }

    @Override
    public String taskType()
    {
        return HttpHandler.TYPE;
    }

    @Override
    public boolean stopRequested()
    {
        return stop;
    }

    @Override
    public void onStop(final Runnable action)
    {
        synchronized (stopActions)
        {
            if (!stop)
            {
                stopActions.add(action);
                return;
            }
        }
        action.run();
    }

    @Override
    public MutableDirectBuffer outputBuffer(final int capacity)
    {
        output.checkLimit(capacity);
        return output;
    }

    @Override
    public void succeed(final int length)
    {
        final byte[] bytes = new byte[length];
        output.getBytes(0, bytes);
        report(new Result(true, false, null, bytes));
    }

    @Override
    public void succeed(final DirectBuffer source, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        source.getBytes(offset, bytes);
        report(new Result(true, false, null, bytes));
    }

    @Override
    public void succeed(final byte[] source)
    {
        report(new Result(true, false, null, source.clone()));
    }

    @Override
    public void fail(final boolean retryable, final String message)
    {
        report(new Result(false, retryable, message, null));
    }

    private void report(final Result value)
    {
        if (stop)
        {
            reportsAfterStop.incrementAndGet();
        }
        if (reports.incrementAndGet() == 1)
        {
            reportingThread = Thread.currentThread().getName();
            result = value;
            reported.countDown();
        }
    }

    /**
     * One attempt's result.
     *
     * @param succeeded whether it succeeded.
     * @param retryable for a failure, whether it may be retried.
     * @param message for a failure, why.
     * @param output for a success, the output.
     */
    record Result(boolean succeeded, boolean retryable, String message, byte[] output)
    {
        JsonNode json()
        {
            assertThat(succeeded).as("succeeded, but: %s", message).isTrue();
            try
            {
                return HttpJson.MAPPER.readTree(output);
            }
            catch (final IOException ex)
            {
                throw new AssertionError("output is not JSON: " + outputAsString(), ex);
            }
        }

        String outputAsString()
        {
            return new String(output, StandardCharsets.UTF_8);
        }

        @Override
        public String toString()
        {
            return succeeded ? "succeeded " + outputAsString() : (retryable ? "retryable: " : "permanent: ") + message;
        }
    }
}
