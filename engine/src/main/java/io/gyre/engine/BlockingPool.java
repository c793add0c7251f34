package io.gyre.engine;

import com.lmax.disruptor.RingBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded pool {@link ExecutionMode#BLOCKING} (or {@link ExecutionMode#CPU}) attempts run on. The sequence stage never hands it more
 * attempts than it has threads (slots are counted from journaled events), so its queue never overflows.
 * Each attempt's result is published into the ring as a COMPLETION event, journaled like any other.
 */
final class BlockingPool
{
    private static final Logger LOG = LoggerFactory.getLogger(BlockingPool.class);

    private final ThreadPoolExecutor executor;
    private final ManyToManyConcurrentArrayQueue<PooledAttempt> idle;
    private final ConcurrentHashMap<Long, PooledAttempt> running = new ConcurrentHashMap<>();
    private final HandOff handOff;
    private final AtomicInteger active = new AtomicInteger();
    private RingBuffer<RingEvent> ring;

    BlockingPool(
        final String name,
        final int threads,
        final HandOff handOff)
    {
        this.handOff = handOff;
        this.idle = new ManyToManyConcurrentArrayQueue<>(Math.max(2, threads * 2));
        final AtomicInteger counter = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(threads * 2),
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
    void submit(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long submitDocument,
        final int submitOffset, final DirectBuffer payload, final int length)
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
        }
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
        private volatile Thread thread;
        private long startedAt;

        PooledAttempt()
        {
            super(handOff.registry(), handOff.maxOutputBytes(), handOff.keys());
        }

        void prepare(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long submitDocument,
            final int submitOffset, final DirectBuffer source, final int length)
        {
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
                runHandler();
                encodeMessage();
                thread = null;
                Thread.interrupted();
                publishResult(handOff.clock().nanoTime());
            }
            finally
            {
                thread = null;
                Thread.interrupted();
                running.remove(taskId, this);
                active.decrementAndGet();
                input.release();
                produced.release();
                idle.offer(this);
            }
        }

        private void publishResult(final long finishedAt)
        {
            publishFromOutside(ring, handOff.gate(), handOff.budget(), waiting, handOff.results(), startedAt, finishedAt);
        }
    }
}
