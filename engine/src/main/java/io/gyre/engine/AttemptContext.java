package io.gyre.engine;

import io.gyre.journal.FailedRecord;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import java.nio.charset.StandardCharsets;

/**
 * The {@link TaskContext} an attempt's handler gets, and the runner that turns what the handler does
 * (returns, reports, throws) into an attempt result. Reused attempt after attempt.
 */
abstract class AttemptContext implements TaskContext
{
    private static final Logger LOG = LoggerFactory.getLogger(AttemptContext.class);

    static final int MAX_MESSAGE_BYTES = 1024;
    /** The error of a failure reported without a message (fail(..., null), TaskFailure.permanent(null)). */
    static final String NO_REASON = "failed (the handler gave no reason)";
    /** The error of an attempt that reported success with a null output. */
    static final String NULL_OUTPUT = "succeed(null): the handler gave no output (succeed(new byte[0]) for an empty one)";
    /** Ends a failure message cut to {@link #MAX_MESSAGE_BYTES}: U+2026, the horizontal ellipsis, in UTF-8. */
    private static final byte[] CUT_MARKER = {(byte)0xE2, (byte)0x80, (byte)0xA6};

    static final int PENDING = 0;
    static final int SUCCEEDED = 1;
    static final int FAILED = 2;

    protected final HandlerRegistry registry;
    protected final int maxOutputBytes;
    /** Reads the task's key back for a log line; {@link #submitDocument} and {@link #submitOffset} say where. */
    protected final SubmissionKeys keys;
    protected final UnsafeBuffer payload = new UnsafeBuffer(0, 0);
    protected Blob output;
    /** The capacity this attempt last asked {@link #outputBuffer} for, -1 before it asks: what {@link #succeed(int)} may report. */
    private int outputAsked = -1;
    protected long taskId;
    protected int attempt;
    protected int handlerId;
    protected int payloadLength;
    protected int result;
    protected int errorKind;
    protected String message;
    protected long allocatedBytes;
    protected long submittedAt;
    /** The submission's journal position: the key is there, read back only when a line about this attempt is logged. */
    protected long submitDocument;
    protected int submitOffset;
    protected long holdUntil;
    protected volatile boolean stop;
    /** The task's state once this attempt was told to stop (cancelled, timed out...); null while it was not. */
    private volatile TaskState stoppedAs;
    private final java.util.ArrayList<Runnable> stopActions = new java.util.ArrayList<>(2);
    /**
     * Whether {@link #stopActions} may hold anything: set under its lock when an action is added, so that
     * {@link #begin} takes the lock only when there is something to clear (most handlers register none, and an
     * inline attempt's begin is on the engine's busiest thread).
     */
    private volatile boolean hasStopActions;
    /**
     * The thread running the handler, while it runs, of a context whose attempt ends when the handler returns (every
     * mode but ASYNC); null otherwise. Such a context is reused for the next attempt, maybe another task's: a report
     * made on it from any other thread, or after the handler returned, would be taken for that attempt's (an outside
     * check's handler reported from a thread of its own after returning: other tasks, of other types, ended with its
     * output). So the calls that change an attempt check it ({@link #requireRunner}). Written with release and read
     * with acquire semantics (plain moves on x86: this is on the inline path of every task): the running thread sees
     * its own writes, and any other thread either the running one or null, never itself.
     */
    @SuppressWarnings("unused")
    private Thread runner;
    private static final java.lang.invoke.VarHandle RUNNER;

    static
    {
        try
        {
            RUNNER = java.lang.invoke.MethodHandles.lookup().findVarHandle(AttemptContext.class, "runner", Thread.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    AttemptContext(final HandlerRegistry registry, final int maxOutputBytes, final SubmissionKeys keys)
    {
        this.registry = registry;
        this.maxOutputBytes = maxOutputBytes;
        this.keys = keys;
    }

    /**
     * @param submitDocument the task's submission's journal position (document, then offset): kept, not read,
     *     so a line logged about this attempt can name the task's key.
     */
    final void begin(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long submitDocument,
        final int submitOffset, final Blob output)
    {
        this.submittedAt = submittedAt;
        this.submitDocument = submitDocument;
        this.submitOffset = submitOffset;
        this.holdUntil = 0;
        this.taskId = taskId;
        this.attempt = attempt;
        this.handlerId = handlerId;
        this.output = output;
        this.result = PENDING;
        this.errorKind = 0;
        this.message = null;
        this.allocatedBytes = 0;
        this.outputAsked = -1;
        this.payloadLength = 0;
        this.stop = false;
        this.stoppedAs = null;
        if (hasStopActions)
        {
            synchronized (stopActions)
            {
                stopActions.clear();
                hasStopActions = false;
            }
        }
        output.reserve(0);
    }

    /**
     * Run the handler and settle the result: a handler that returns without reporting succeeded with no
     * output; one that throws failed (retryable unless a {@link TaskFailure} says otherwise).
     */
    final void runHandler()
    {
        if (!completesOnReturn())
        {
            runHandlerOnce();
            return;
        }
        RUNNER.setRelease(this, Thread.currentThread());
        try
        {
            runHandlerOnce();
        }
        finally
        {
            RUNNER.setRelease(this, (Thread)null);
        }
    }

    private void runHandlerOnce()
    {
        if (handlerId == HandlerRegistry.UNKNOWN)
        {
            fail(false, "no handler is registered for this task's type");
            return;
        }
        final TaskHandler handler = registry.handler(handlerId);
        try
        {
            handler.validate(this);
        }
        catch (final Throwable t)
        {
            // the handler's message is the error (validate is told to name the field and say what is wrong), whatever
            // it threw; the class only when there is no message. A bug in validate keeps its stack trace in the DEBUG line.
            failed(FailedRecord.KIND_PERMANENT, "invalid input: " + (t.getMessage() != null ? t.getMessage() : t.getClass().getName()),
                t instanceof TaskFailure ? null : t, true);
            return;
        }
        try
        {
            handler.execute(this);
            if (result == PENDING && completesOnReturn())
            {
                output.length(0);
                result = SUCCEEDED;
            }
        }
        catch (final TaskFailure failure)
        {
            // the handler's own verdict, a business outcome: the journal, the outcome and the metrics say it
            final String reason = failure.getMessage();
            failWith(failure.retryable() ? FailedRecord.KIND_RETRYABLE : FailedRecord.KIND_PERMANENT,
                reason == null || reason.isEmpty() ? NO_REASON : reason);
        }
        catch (final Throwable t)
        {
            // not a TaskFailure: a bug in the handler, or in what it calls, worth its stack trace; DEBUG when it was
            // told to stop, since a stopped handler throwing (an interrupt) is how stopping often looks. This is the
            // attempt's one line: the failure is not logged again
            fields(stopRequested() ? LOG.atDebug() : LOG.atWarn()).setCause(t)
                .log("the handler threw {}; the attempt failed (a handler fails on purpose with TaskFailure)", t.getClass().getName());
            failed(stopRequested() ? FailedRecord.KIND_CANCELLED : FailedRecord.KIND_RETRYABLE,
                t.getClass().getName() + (t.getMessage() != null ? ": " + t.getMessage() : ""), null, false);
        }
    }

    /**
     * Write this attempt's result into a COMPLETION event (the caller publishes it), copying the output and
     * charging its size to the in-flight byte budget.
     */
    final void fillCompletion(final RingEvent e, final ByteBudget budget, final long startedAt, final long finishedAt)
    {
        e.kind = RingEvent.COMPLETION;
        e.taskId = taskId;
        e.attempt = attempt;
        e.replyTo = null;
        e.succeeded = result == SUCCEEDED;
        e.errorKind = errorKind;
        e.startedAt = startedAt;
        e.held = e.succeeded && holdUntil > finishedAt;
        e.finishedAt = e.held ? holdUntil : finishedAt;
        e.budgetBytes = e.output.copyFrom(output.array(), 0, output.length());
        budget.force(e.budgetBytes);
    }

    /**
     * Publish this attempt's result into the ring from a thread that is not a stage of it: waits (idling)
     * for the admission gate, gives up when the engine closes the door results come in through.
     *
     * @return false when the door was closed first (the attempt then runs again after the next start).
     */
    final boolean publishFromOutside(
        final com.lmax.disruptor.RingBuffer<RingEvent> ring,
        final AdmissionGate gate,
        final ByteBudget budget,
        final org.agrona.concurrent.IdleStrategy idle,
        final Intake results,
        final long startedAt,
        final long finishedAt)
    {
        if (!results.enter())
        {
            return false;
        }
        try
        {
            while (!gate.tryAcquireInternal())
            {
                if (!results.isOpen())
                {
                    return false;
                }
                idle.idle();
            }
            idle.reset();
            final long sequence = ring.next();
            try
            {
                fillCompletion(ring.get(sequence), budget, startedAt, finishedAt);
            }
            finally
            {
                ring.publish(sequence);
            }
            return true;
        }
        finally
        {
            results.exit();
        }
    }

    /**
     * @return whether returning from {@code execute} without a report means success with no output (every
     *     mode but ASYNC, whose attempts report later).
     */
    boolean completesOnReturn()
    {
        return true;
    }

    /**
     * @return the attempt whose handler runs in this context now, as "task N (type T, attempt A)", or null when none
     *     does (any thread: a diagnostic, which may be a moment old).
     */
    final String runningNow()
    {
        return RUNNER.getAcquire(this) == null ? null :
            "task " + taskId + " (type " + registry.typeOf(handlerId) + ", attempt " + attempt + ")";
    }

    /**
     * @throws IllegalStateException when this context's attempt ends as its handler returns and the caller is not the
     *     thread running the handler now: the attempt this context was given for is over (see {@link #runner}).
     */
    private void requireRunner(final String call)
    {
        if (completesOnReturn() && Thread.currentThread() != (Thread)RUNNER.getAcquire(this))
        {
            throw new IllegalStateException(call + "() on a TaskContext whose attempt is over, or from another thread: an attempt "
                + "that is not ASYNC reports on the thread running execute, before it returns (its context then serves other attempts)");
        }
    }

    /**
     * Ask the attempt to stop: set the flag the handler can poll, then run the actions it registered.
     *
     * @param stateAfter the task's state in the journal now that its attempt is stopped (CANCELLED, RETRY_WAIT,
     *     TIMED_OUT, DEAD_LETTERED; RUNNING when the engine stops at its deadline), for the lines logged about
     *     the attempt from here on; null when not known.
     */
    void requestStop(final TaskState stateAfter)
    {
        stoppedAs = stateAfter;
        stop = true;
        final Runnable[] actions;
        synchronized (stopActions)
        {
            actions = stopActions.toArray(new Runnable[0]);
            stopActions.clear();
            hasStopActions = false;
        }
        if (actions.length > 0)
        {
            // not on this thread, which is a stage's for a cancel or a timeout: an action that blocks would hold up every
            // task (an outside check's plugin blocked in one for seconds at each timeout)
            // this attempt's fields as they are now: by the time the actions run, a reused context may serve another
            final long id = taskId;
            final int number = attempt;
            final String type = registry.typeOf(handlerId);
            final long document = submitDocument;
            final int offset = submitOffset;
            StopActions.run(() ->
            {
                for (final Runnable action : actions)
                {
                    try
                    {
                        action.run();
                    }
                    catch (final RuntimeException ex)
                    {
                        TaskLog.attempt(LOG.atWarn(), keys, document, offset, id, type, number, stateAfter).setCause(ex)
                            .log("a stop action the handler registered threw; the others still run");
                    }
                }
            });
        }
    }

    /**
     * @return the line with this attempt's fields (task id, key, type, attempt, state): see {@link TaskLog}.
     */
    final LoggingEventBuilder fields(final LoggingEventBuilder line)
    {
        if (!TaskLog.enabled(line))
        {
            return line;
        }
        return TaskLog.attempt(line, keys, submitDocument, submitOffset, taskId, registry.typeOf(handlerId), attempt,
            stop ? stoppedAs : TaskState.RUNNING);
    }

    @Override
    public boolean stopRequested()
    {
        return stop;
    }

    @Override
    public void onStop(final Runnable action)
    {
        java.util.Objects.requireNonNull(action, "action");
        requireRunner("onStop");
        synchronized (stopActions)
        {
            if (!stop)
            {
                stopActions.add(action);
                hasStopActions = true;
                return;
            }
        }
        action.run();
    }

    /**
     * Leave the failure message, as UTF-8 at most {@link #MAX_MESSAGE_BYTES}, in the output blob: a longer one is cut at
     * a character boundary and ends with {@code …} (U+2026), so that a reader can tell it was cut.
     */
    final void encodeMessage()
    {
        if (result != FAILED)
        {
            return;
        }
        final byte[] bytes = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_MESSAGE_BYTES)
        {
            allocatedBytes += output.copyFrom(bytes, 0, bytes.length);
            return;
        }
        // cut so that the marker fits, never inside a character: back up over continuation bytes (10xxxxxx)
        // to the start of the one cut
        int length = MAX_MESSAGE_BYTES - CUT_MARKER.length;
        while (length > 0 && (bytes[length] & 0xC0) == 0x80)
        {
            length--;
        }
        System.arraycopy(CUT_MARKER, 0, bytes, length, CUT_MARKER.length);
        allocatedBytes += output.copyFrom(bytes, 0, length + CUT_MARKER.length);
    }

    @Override
    public long taskId()
    {
        return taskId;
    }

    @Override
    public int attempt()
    {
        return attempt;
    }

    final long holdUntil()
    {
        return holdUntil;
    }

    @Override
    public long submittedAt()
    {
        return submittedAt;
    }

    @Override
    public void holdUntil(final long epochNanos)
    {
        requireRunner("holdUntil");
        holdUntil = epochNanos;
    }

    @Override
    public DirectBuffer payload()
    {
        return payload;
    }

    @Override
    public int payloadLength()
    {
        return payloadLength;
    }

    @Override
    public String taskType()
    {
        return handlerId == HandlerRegistry.UNKNOWN ? "" : registry.handler(handlerId).type();
    }

    @Override
    public int maxOutputBytes()
    {
        return maxOutputBytes;
    }

    @Override
    public MutableDirectBuffer outputBuffer(final int capacity) throws TaskFailure
    {
        requireRunner("outputBuffer");
        if (capacity < 0 || capacity > maxOutputBytes)
        {
            throw TaskFailure.permanent(capacity < 0 ? "outputBuffer(" + capacity + "): a capacity cannot be negative" :
                "outputBuffer(" + capacity + ") asks for more than maxOutputBytes=" + maxOutputBytes + " bytes of output");
        }
        allocatedBytes += output.reserve(capacity);
        // the buffer is reused (the ring event's, or the pool thread's): what an earlier attempt, maybe another tenant's
        // task, wrote there must not become this one's output when it reports more than it wrote
        output.clear(capacity);
        outputAsked = capacity;
        return output.buffer();
    }

    @Override
    public void succeed(final int length)
    {
        requireRunner("succeed");
        if (result != PENDING)
        {
            return;
        }
        if (length < 0 || length > Math.max(outputAsked, 0) || length > maxOutputBytes)
        {
            failWith(FailedRecord.KIND_PERMANENT, length < 0 ? "succeed(" + length + "): an output length cannot be negative" :
                length > maxOutputBytes ? "output of " + length + " bytes exceeds maxOutputBytes=" + maxOutputBytes :
                outputAsked < 0 ? "succeed(" + length + ") reports bytes of outputBuffer, which the attempt never asked for" :
                "output of " + length + " bytes exceeds the " + outputAsked + " bytes asked of outputBuffer");
            return;
        }
        output.length(length);
        result = SUCCEEDED;
    }

    @Override
    public void succeed(final DirectBuffer source, final int offset, final int length)
    {
        requireRunner("succeed");
        if (result != PENDING)
        {
            return;
        }
        if (source == null)
        {
            // a report all the same, so an ASYNC attempt ends now rather than at its timeout
            failWith(FailedRecord.KIND_PERMANENT, NULL_OUTPUT);
            return;
        }
        if (length > maxOutputBytes)
        {
            failWith(FailedRecord.KIND_PERMANENT, "output of " + length + " bytes exceeds maxOutputBytes=" + maxOutputBytes);
            return;
        }
        allocatedBytes += output.copyFrom(source, offset, length);
        result = SUCCEEDED;
    }

    @Override
    public void succeed(final byte[] source)
    {
        requireRunner("succeed");
        if (result != PENDING)
        {
            return;
        }
        if (source == null)
        {
            failWith(FailedRecord.KIND_PERMANENT, NULL_OUTPUT);
            return;
        }
        if (source.length > maxOutputBytes)
        {
            failWith(FailedRecord.KIND_PERMANENT, "output of " + source.length + " bytes exceeds maxOutputBytes=" + maxOutputBytes);
            return;
        }
        allocatedBytes += output.copyFrom(source, 0, source.length);
        result = SUCCEEDED;
    }

    @Override
    public void fail(final boolean retryable, final String reason)
    {
        requireRunner("fail");
        failWith(retryable ? FailedRecord.KIND_RETRYABLE : FailedRecord.KIND_PERMANENT,
            reason == null || reason.isEmpty() ? NO_REASON : reason);
    }

    /**
     * Fail the attempt, unless it already has a result, and log it: see {@link #failed}.
     */
    final void failWith(final int kind, final String reason)
    {
        failed(kind, reason, null, true);
    }

    /**
     * Fail the attempt, unless it already has a result (the first result counts), and log that it failed. Every way an
     * attempt fails comes here, whatever its mode (inline, on a pool, async) and whatever failed it (a thrown
     * {@link TaskFailure}, a failure reported through {@link #fail}, an input {@code validate} refused, an output over
     * the limit, a type with no handler), so each failed attempt gets one DEBUG line: {@code the handler failed the
     * attempt: <its error>}, with the task's fields. Not for an attempt the engine stopped (cancelled, timed out:
     * {@link FailedRecord#KIND_CANCELLED}), whose stop is the line; nor when the caller logged the failure already
     * (a handler that threw something other than TaskFailure: its WARN with the stack trace is the line).
     *
     * @param cause what to log the line with (a bug in {@code validate}: its stack trace), or null.
     * @param log   false when the caller logged this failure already.
     */
    void failed(final int kind, final String reason, final Throwable cause, final boolean log)
    {
        if (settle(kind, reason) && log && kind != FailedRecord.KIND_CANCELLED)
        {
            final LoggingEventBuilder line = fields(LOG.atDebug());
            (cause != null ? line.setCause(cause) : line).log("the handler failed the attempt: {}", reason);
        }
    }

    /**
     * @return whether this settled the attempt as failed: false when it had a result already.
     */
    boolean settle(final int kind, final String reason)
    {
        if (result != PENDING)
        {
            return false;
        }
        result = FAILED;
        errorKind = kind;
        message = reason;
        return true;
    }
}
