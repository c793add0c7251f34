package io.gyre.engine;

import com.lmax.disruptor.RingBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.gyre.journal.FailedRecord;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded pool {@link ExecutionMode#BLOCKING} (or {@link ExecutionMode#CPU}) attempts run on. The sequence stage never hands it more
 * attempts than its threads and its queue hold (slots are counted from journaled events, and the settings that size them are
 * journaled), so its queue never overflows. Attempts waiting in the queue start by priority, then in the order they were
 * handed over. The queue is what keeps the threads busy while a result travels through the ring to free its slot and the
 * next attempt comes back: without it, a thread waits out that round trip (tens of microseconds) after every attempt.
 * Each attempt's result is published into the ring as a COMPLETION event, journaled like any other.
 * <p>
 * An attempt told to stop (timed out, cancelled) whose handler has not returned {@code abandonAfter} later is
 * abandoned: the pool journals a late result for it (a FAILED record, {@code abandoned ...}), which gives its slot back
 * in the sequence stage's count exactly as its own late result would have, in replay too, and starts a thread in its
 * place, so that a handler that ignores being stopped does not hold a pool other task types share. Its thread runs
 * on; whatever the handler returns is dropped, and the pool shrinks back when it does. At most as many threads as the
 * pool has are abandoned at once: past that, a stuck attempt keeps its slot until its handler returns (a warning
 * says so), so the threads stay bounded.
 */
final class BlockingPool
{
    private static final Logger LOG = LoggerFactory.getLogger(BlockingPool.class);

    private final ThreadPoolExecutor executor;
    private final ManyToManyConcurrentArrayQueue<PooledAttempt> idle;
    private final ConcurrentHashMap<Long, PooledAttempt> running = new ConcurrentHashMap<>();
    private final HandOff handOff;
    private final AtomicInteger active = new AtomicInteger();
    private final String name;
    private final int threads;
    private final long abandonAfterNanos;
    /** Threads still running an attempt the pool gave up on: the pool has this many more. */
    private final AtomicInteger abandoned = new AtomicInteger();
    /** Watches attempts told to stop; its one thread starts with the first of them. */
    private final ScheduledThreadPoolExecutor watchdog;
    private final IdleStrategy watchdogIdle = new BackoffIdleStrategy();
    private RingBuffer<RingEvent> ring;
    /** The error of the late result of an attempt told to stop before a thread took it from the queue. */
    static final String NOT_STARTED = "not started: told to stop while it waited for a pool thread";
    /** Hand-offs so far, on the execute stage's thread: the order of attempts of one priority in the queue. */
    private long handedOver;

    /** Higher priority first (a lower code), then the earlier hand-off. */
    private static final Comparator<Runnable> QUEUE_ORDER = (a, b) ->
    {
        final PooledAttempt x = (PooledAttempt)a;
        final PooledAttempt y = (PooledAttempt)b;
        return x.priority != y.priority ? Integer.compare(x.priority, y.priority) : Long.compare(x.order, y.order);
    };

    /**
     * @param queue attempts handed over beyond the threads, waiting for one: the sequence stage counts
     *     {@code threads + queue} slots for the pool (see {@link Settings#of}).
     */
    BlockingPool(
        final String name,
        final int threads,
        final int queue,
        final long abandonAfterNanos,
        final HandOff handOff)
    {
        this.handOff = handOff;
        this.name = name;
        this.threads = threads;
        this.abandonAfterNanos = abandonAfterNanos;
        this.watchdog = new ScheduledThreadPoolExecutor(1, r ->
        {
            final Thread t = new Thread(r, "gyre-" + name + "-watchdog");
            t.setDaemon(true);
            return t;
        });
        watchdog.setRemoveOnCancelPolicy(true);
        this.idle = new ManyToManyConcurrentArrayQueue<>(Math.max(2, (threads + queue) * 2));
        final AtomicInteger counter = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
            new PriorityBlockingQueue<>(Math.max(1, queue), QUEUE_ORDER),
            r ->
            {
                final Thread t = new Thread(r, "gyre-" + name + "-" + counter.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
    }

    void ring(final RingBuffer<RingEvent> ring)
    {
        this.ring = ring;
    }

    /**
     * Start an attempt (called on the execute stage's thread); the payload is copied.
     *
     * @param submitDocument the task's submission's journal position (document, then offset), for a log line's key.
     */
    void submit(final long taskId, final int attempt, final int handlerId, final int priority, final long submittedAt,
        final long submitDocument, final int submitOffset, final DirectBuffer payload, final int length)
    {
        if (!handOff.results().isOpen())
        {
            // past the stop's deadline: the attempt stays RUNNING in the journal, is listed by the stop record, and runs after the next start
            TaskLog.attempt(LOG.atDebug(), handOff.keys(), submitDocument, submitOffset, taskId, handOff.registry().typeOf(handlerId),
                attempt, TaskState.RUNNING).log("engine stopping: attempt not started; it runs after the next start");
            return;
        }
        PooledAttempt work = idle.poll();
        if (work == null)
        {
            work = new PooledAttempt();
        }
        work.prepare(taskId, attempt, handlerId, submittedAt, submitDocument, submitOffset, payload, length);
        work.priority = priority;
        work.order = handedOver++;
        running.put(taskId, work);
        active.incrementAndGet();
        try
        {
            executor.execute(work);
        }
        catch (final RuntimeException ex)
        {
            // only when shutting down: the attempt stays RUNNING in the journal and runs after a restart
            running.remove(taskId, work);
            active.decrementAndGet();
            work.fields(LOG.atWarn()).log("pool refused the attempt: {}", ex.toString());
        }
    }

    /**
     * Ask a running attempt to stop (it was cancelled or timed out).
     *
     * @param stateAfter the state the stop left its task in, for log lines (see {@link AttemptContext#requestStop}).
     */
    void stop(final long taskId, final int attempt, final TaskState stateAfter)
    {
        final PooledAttempt work = running.get(taskId);
        if (work != null && work.attempt == attempt)
        {
            work.requestStop(stateAfter);
            if (stateAfter != TaskState.RUNNING && executor.remove(work))
            {
                // it was still waiting in the queue: no handler will run it, and its slot comes back now, by a late result
                // published off this thread (the execute stage's, which must not wait for room in the ring)
                running.remove(taskId, work);
                active.decrementAndGet();
                work.recycle();
                final long at = handOff.clock().nanoTime();
                try
                {
                    watchdog.execute(() -> publishAbandoned(taskId, attempt, at, NOT_STARTED));
                }
                catch (final java.util.concurrent.RejectedExecutionException ex)
                {
                    // stopping: the attempt stays RUNNING in the journal and runs after the next start
                }
            }
            else if (stateAfter != TaskState.RUNNING)
            {
                // the attempt ended in the journal: its handler has abandonAfter to return
                final long run = work.currentRun();
                try
                {
                    watchdog.schedule(() -> abandon(work, run, stateAfter), abandonAfterNanos, TimeUnit.NANOSECONDS);
                }
                catch (final java.util.concurrent.RejectedExecutionException ex)
                {
                    // stopping: nothing is abandoned any more
                }
            }
        }
    }

    /**
     * On the watchdog's thread, {@code abandonAfter} after the attempt was told to stop: give up on it if its handler
     * has not returned (and this is still the same run of the reused attempt object).
     */
    private void abandon(final PooledAttempt work, final long run, final TaskState stateAfter)
    {
        if (work.thread == null && work.running(run))
        {
            // no thread has it yet (it was taken out of the queue just as it was told to stop): once one does, it returns at
            // once without running the handler, so there is no stuck thread to replace
            return;
        }
        int now;
        do
        {
            now = abandoned.get();
            if (now >= threads)
            {
                if (work.running(run))
                {
                    TaskLog.attempt(LOG.atWarn(), handOff.keys(), work.submitDocument, work.submitOffset, work.taskId,
                        handOff.registry().typeOf(work.handlerId), work.attempt, stateAfter)
                        .log("the handler has not returned {} ms after being told to stop, and the {} pool already runs {} " +
                            "threads in place of stuck ones: the attempt keeps its slot until its handler returns", abandonAfterNanos / 1_000_000,
                            name, now);
                }
                return;
            }
        }
        while (!abandoned.compareAndSet(now, now + 1));
        if (!work.abandon(run))
        {
            // it returned meanwhile
            abandoned.decrementAndGet();
            return;
        }
        resize();
        running.remove(work.taskId, work);
        active.decrementAndGet();
        final String why = "abandoned: the handler had not returned " + abandonAfterNanos / 1_000_000 + " ms after being told to stop; " +
            "its thread runs on and its result will be dropped";
        TaskLog.attempt(LOG.atWarn(), handOff.keys(), work.submitDocument, work.submitOffset, work.taskId,
            handOff.registry().typeOf(work.handlerId), work.attempt, stateAfter)
            .log("{}: the {} pool gives its slot back and starts a thread in its place ({} abandoned now)", why, name, abandoned.get());
        publishAbandoned(work.taskId, work.attempt, work.startedAt, why);
    }

    /** Threads: the pool's own, and one for each abandoned one still running. Serialized: the sizes must agree. */
    private synchronized void resize()
    {
        final int size = threads + abandoned.get();
        if (size > executor.getMaximumPoolSize())
        {
            executor.setMaximumPoolSize(size);
            executor.setCorePoolSize(size);
        }
        else
        {
            executor.setCorePoolSize(size);
            executor.setMaximumPoolSize(size);
        }
    }

    /**
     * Journal the abandoned attempt's late result: FAILED, cancelled, with the reason. Not from the attempt's buffers,
     * which its thread may still be writing.
     */
    private void publishAbandoned(final long taskId, final int attempt, final long startedAt, final String why)
    {
        final Intake results = handOff.results();
        if (ring == null || !results.enter())
        {
            return;
        }
        try
        {
            while (!handOff.gate().tryAcquireInternal())
            {
                if (!results.isOpen())
                {
                    return;
                }
                watchdogIdle.idle();
            }
            watchdogIdle.reset();
            final long sequence = ring.next();
            try
            {
                final RingEvent e = ring.get(sequence);
                final byte[] message = why.getBytes(StandardCharsets.UTF_8);
                e.kind = RingEvent.COMPLETION;
                e.taskId = taskId;
                e.attempt = attempt;
                e.replyTo = null;
                e.succeeded = false;
                e.errorKind = FailedRecord.KIND_CANCELLED;
                e.held = false;
                e.startedAt = startedAt;
                e.finishedAt = handOff.clock().nanoTime();
                e.budgetBytes = e.output.copyFrom(message, 0, message.length);
                handOff.budget().force(e.budgetBytes);
            }
            finally
            {
                ring.publish(sequence);
            }
        }
        finally
        {
            results.exit();
        }
    }

    /** @return threads running attempts the pool gave up on. */
    int abandoned()
    {
        return abandoned.get();
    }

    /** @return attempts handed over and waiting in the queue for a thread. */
    int queued()
    {
        return executor.getQueue().size();
    }

    int active()
    {
        return active.get();
    }

    /**
     * The engine stops at its deadline: ask every attempt still running to stop (its flag, its stop actions,
     * an interrupt of its thread) and start no more. Their results are no longer taken: they run again after
     * the next start.
     */
    void stopAll()
    {
        for (final PooledAttempt work : running.values())
        {
            // the task stays RUNNING in the journal: the attempt runs again after the next start
            work.requestStop(TaskState.RUNNING);
        }
        watchdog.shutdownNow();
        executor.shutdownNow();
    }

    boolean awaitTermination(final long millis) throws InterruptedException
    {
        return executor.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * One attempt on a pool thread. Reused.
     */
    final class PooledAttempt extends AttemptContext implements Runnable
    {
        private final Blob input = new Blob(Blob.INLINE_CAPACITY);
        private final Blob produced = new Blob(Blob.INLINE_CAPACITY);
        private final IdleStrategy waiting = new BackoffIdleStrategy();
        /**
         * This object's run (it is reused) times 4, plus where the run is: {@link #RUNNING}, {@link #RETURNED} or
         * {@link #ABANDONED}, changed by compare-and-set so that the handler's return and the watchdog settle a run once.
         */
        private final AtomicLong runState = new AtomicLong();
        private volatile Thread thread;
        private volatile long startedAt;
        /** Its task's priority code, and its hand-off's number: its place in the queue. */
        int priority;
        long order;

        PooledAttempt()
        {
            super(handOff.registry(), handOff.maxOutputBytes(), handOff.keys());
        }

        private static final long RUNNING = 0;
        private static final long RETURNED = 1;
        private static final long ABANDONED = 2;

        long currentRun()
        {
            return runState.get() & ~3L;
        }

        boolean running(final long run)
        {
            return runState.get() == (run | RUNNING);
        }

        /** @return true when this run was still going: from now on its result is dropped. */
        boolean abandon(final long run)
        {
            return runState.compareAndSet(run | RUNNING, run | ABANDONED);
        }

        void prepare(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long submitDocument,
            final int submitOffset, final DirectBuffer source, final int length)
        {
            runState.set(currentRun() + 4 | RUNNING);
            begin(taskId, attempt, handlerId, submittedAt, submitDocument, submitOffset, produced);
            input.copyFrom(source, 0, length);
            payload.wrap(input.buffer(), 0, length);
            payloadLength = length;
        }

        @Override
        void requestStop(final TaskState stateAfter)
        {
            super.requestStop(stateAfter);
            final Thread t = thread;
            if (t != null)
            {
                t.interrupt();
            }
        }

        @Override
        public void run()
        {
            thread = Thread.currentThread();
            try
            {
                startedAt = handOff.clock().nanoTime();
                if (stopRequested())
                {
                    // cancelled or timed out while it waited in the queue: the task has moved on in the journal, so
                    // the handler is not run; this result, journaled as a late one, frees the attempt's slot
                    failed(FailedRecord.KIND_CANCELLED, NOT_STARTED, null, false);
                }
                else
                {
                    runHandler();
                }
                encodeMessage();
                thread = null;
                Thread.interrupted();
                final long run = currentRun();
                if (runState.compareAndSet(run | RUNNING, run | RETURNED))
                {
                    publishResult(handOff.clock().nanoTime());
                }
            }
            finally
            {
                thread = null;
                Thread.interrupted();
                final long run = currentRun();
                if (runState.compareAndSet(run | RUNNING, run | RETURNED) || runState.get() == (run | RETURNED))
                {
                    running.remove(taskId, this);
                    active.decrementAndGet();
                }
                else
                {
                    // abandoned: its slot and count were given back then; the pool shrinks back by this thread
                    abandoned.decrementAndGet();
                    resize();
                    TaskLog.attempt(LOG.atInfo(), handOff.keys(), submitDocument, submitOffset, taskId,
                        handOff.registry().typeOf(handlerId), attempt, null).log("an abandoned attempt's handler returned at last; its result is dropped");
                }
                recycle();
            }
        }

        /** Back to the idle attempts, its buffers released: once its run is over, or it was taken out of the queue. */
        void recycle()
        {
            input.release();
            produced.release();
            idle.offer(this);
        }

        private void publishResult(final long finishedAt)
        {
            publishFromOutside(ring, handOff.gate(), handOff.budget(), waiting, handOff.results(), startedAt, finishedAt);
        }
    }
}
