package io.gyre.engine;

import com.lmax.disruptor.RingBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link ExecutionMode#ASYNC} attempts: started on the execute stage, reported later from any thread, their
 * results published into the ring as COMPLETION events and journaled like any other. No thread waits for an
 * attempt in flight; what one costs is its context (an object and its output blob) until it reports. The
 * sequence stage bounds how many are in flight ({@link EngineConfig#maxAsyncInFlight()} and each type's
 * {@link TaskHandler#maxConcurrency()}).
 * <p>
 * A result reported on the execute stage's own thread (the handler reported before {@code execute}
 * returned, or from a stop action) cannot wait for ring space there, since that thread is the one that frees
 * it: it is queued and the execute stage publishes it through its own claim path ({@link #drainReady}).
 * Results reported on other threads are published directly, waiting for the admission gate.
 * <p>
 * Contexts are not reused: a handler may hold one after its attempt ended (a late callback), and a reused
 * context would let that callback report into another attempt.
 */
final class AsyncAttempts
{
    private static final Logger LOG = LoggerFactory.getLogger(AsyncAttempts.class);
    private static final String STOPPED =
        "stopped by the engine (cancelled or timed out) and the handler did not report after its stop actions";

    /** How a reporting thread waits for room in the ring: one per thread (reporters are few: a client's pool). */
    private static final ThreadLocal<IdleStrategy> WAITING = ThreadLocal.withInitial(BackoffIdleStrategy::new);

    private final ConcurrentHashMap<Long, AsyncAttempt> running = new ConcurrentHashMap<>();
    private final ArrayDeque<AsyncAttempt> ready = new ArrayDeque<>();
    private final AtomicInteger active = new AtomicInteger();
    private final HandOff handOff;
    private RingBuffer<RingEvent> ring;
    private volatile Thread executeThread;

    AsyncAttempts(
        final HandOff handOff)
    {
        this.handOff = handOff;
    }

    void ring(final RingBuffer<RingEvent> ring)
    {
        this.ring = ring;
    }

    /**
     * Start an attempt: called on the execute stage's thread, which this remembers as its own. The payload is
     * lent to the handler for the duration of {@code execute} only.
     *
     * @param submitDocument the task's submission's journal position (document, then offset), for a log line's key.
     */
    void start(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long submitDocument,
        final int submitOffset, final DirectBuffer payload, final int length)
    {
        if (!handOff.results().isOpen())
        {
            // past the stop's deadline: the attempt stays RUNNING in the journal, is listed by the stop record, and runs after the next start
            TaskLog.attempt(LOG.atDebug(), handOff.keys(), submitDocument, submitOffset, taskId, handOff.registry().typeOf(handlerId),
                attempt, TaskState.RUNNING).log("engine stopping: attempt not started; it runs after the next start");
            return;
        }
        executeThread = Thread.currentThread();
        final AsyncAttempt work = new AsyncAttempt();
        work.prepare(taskId, attempt, handlerId, submittedAt, submitDocument, submitOffset, payload, length);
        running.put(taskId, work);
        active.incrementAndGet();
        work.startedAt = handOff.clock().nanoTime();
        work.runHandler();
        work.lentPayloadReturned();
        work.release();
    }

    /**
     * Ask a running attempt to stop (called on the execute stage's thread). Its stop actions run; if the
     * handler has still not reported, the attempt ends as cancelled.
     *
     * @param stateAfter the state the stop left its task in, for log lines (see {@link AttemptContext#requestStop}).
     */
    void stop(final long taskId, final int attempt, final TaskState stateAfter)
    {
        final AsyncAttempt work = running.get(taskId);
        if (work != null && work.attempt == attempt)
        {
            work.requestStop(stateAfter);
            work.failWith(io.gyre.journal.FailedRecord.KIND_CANCELLED, STOPPED);
        }
    }

    /**
     * Publish the results reported on the execute stage's thread, through its claim path, in the order they came, until
     * one finds no room: it and those after it wait for the next call.
     *
     * @param publisher claims a slot, fills it with the attempt's result, publishes it; false when no slot was free.
     */
    void drainReady(final java.util.function.Predicate<AsyncAttempt> publisher)
    {
        AsyncAttempt work;
        while ((work = ready.peek()) != null)
        {
            boolean taken = true;
            try
            {
                taken = !handOff.results().isOpen() || publisher.test(work);
            }
            finally
            {
                if (taken)
                {
                    ready.poll();
                    work.release();
                }
            }
            if (!taken)
            {
                return;
            }
        }
    }

    boolean hasReady()
    {
        return !ready.isEmpty();
    }

    /**
     * @return results reported on the execute stage's thread and not yet published (that thread only).
     */
    int readyCount()
    {
        return ready.size();
    }

    int active()
    {
        return active.get();
    }

    /**
     * The engine stops at its deadline: ask every attempt in flight to stop (their stop actions run on this
     * thread). Their results are no longer taken: they run again after the next start, as the stop record
     * says they were running.
     */
    void stopAll()
    {
        for (final AsyncAttempt work : running.values())
        {
            // the task stays RUNNING in the journal: the attempt runs again after the next start
            work.requestStop(TaskState.RUNNING);
        }
    }

    /**
     * One asynchronous attempt.
     */
    final class AsyncAttempt extends AttemptContext
    {
        private final Blob produced = new Blob(Blob.INLINE_CAPACITY);
        /** Held by execute() until it returns, and by the result until it is published. */
        private final AtomicInteger refs = new AtomicInteger(2);
        private final java.util.concurrent.atomic.AtomicBoolean reported = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile boolean payloadLent = true;
        long startedAt;
        long finishedAt;

        AsyncAttempt()
        {
            super(handOff.registry(), handOff.maxOutputBytes(), handOff.keys());
        }

        void prepare(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long submitDocument,
            final int submitOffset, final DirectBuffer source, final int length)
        {
            begin(taskId, attempt, handlerId, submittedAt, submitDocument, submitOffset, produced);
            payload.wrap(source, 0, Math.max(length, 0));
            payloadLength = length;
        }

        void lentPayloadReturned()
        {
            payloadLent = false;
            payload.wrap(0, 0);
            payloadLength = 0;
        }

        @Override
        public org.agrona.DirectBuffer payload()
        {
            if (!payloadLent)
            {
                throw new IllegalStateException("the payload of an ASYNC attempt is valid only during execute(): copy it there");
            }
            return payload;
        }

        @Override
        boolean completesOnReturn()
        {
            return false;
        }

        @Override
        public void succeed(final int length)
        {
            synchronized (this)
            {
                super.succeed(length);
            }
            reported();
        }

        @Override
        public void succeed(final DirectBuffer source, final int offset, final int length)
        {
            synchronized (this)
            {
                super.succeed(source, offset, length);
            }
            reported();
        }

        @Override
        public void succeed(final byte[] source)
        {
            synchronized (this)
            {
                super.succeed(source);
            }
            reported();
        }

        @Override
        public synchronized org.agrona.MutableDirectBuffer outputBuffer(final int capacity) throws TaskFailure
        {
            return super.outputBuffer(capacity);
        }

        @Override
        synchronized boolean settle(final int kind, final String reason)
        {
            return super.settle(kind, reason);
        }

        @Override
        void failed(final int kind, final String reason, final Throwable cause, final boolean log)
        {
            super.failed(kind, reason, cause, log); // settles under this lock, logs outside it
            reported();
        }

        private void reported()
        {
            final boolean settled;
            synchronized (this)
            {
                settled = result != PENDING;
            }
            if (!settled || !reported.compareAndSet(false, true))
            {
                return;
            }
            synchronized (this)
            {
                encodeMessage();
            }
            finishedAt = handOff.clock().nanoTime();
            if (Thread.currentThread() == executeThread)
            {
                ready.add(this);
                return;
            }
            try
            {
                if (!publishFromOutside(ring, handOff.gate(), handOff.budget(), WAITING.get(), handOff.results(), startedAt, finishedAt))
                {
                    // the journal may be closed by now: the key is then left out
                    fields(LOG.atDebug()).log("the attempt reported after the engine stopped; it runs again after a restart");
                }
            }
            finally
            {
                release();
            }
        }

        /**
         * Fill a COMPLETION event with this attempt's result (on the execute stage's thread).
         */
        void fill(final RingEvent e)
        {
            fillCompletion(e, handOff.budget(), startedAt, finishedAt);
        }

        void release()
        {
            if (refs.decrementAndGet() == 0)
            {
                running.remove(taskId, this);
                active.decrementAndGet();
                produced.release();
            }
        }
    }
}
