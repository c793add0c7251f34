package io.gyre.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Completes dead-letter queries off the ring. The sequence stage copies each listed entry's fields onto the
 * query (cheap); the answer then reads every entry's submission and last failure back from the journal, two
 * random reads an entry, a thousand entries a page. Done on the publish stage's thread, those reads held up
 * every other client's results behind one client's pipelined DLQ_LISTs (an outside check: 1,024 pages of
 * 1,000 entries took another client's echo from 8 ms to 2.4 s), so that thread only hands the query here.
 * <p>
 * One thread of its own answers the queries in the order handed in; at most {@link #MAX_WAITING} wait, and a
 * query handed in beyond that is refused at once (its future fails with {@link DeadLetterQueriesBusyException}),
 * so that the memory they hold stays bounded. {@link #offer}: the publish stage's thread; {@link #close}: the
 * closing thread, once the stages have stopped.
 */
final class DeadLetterAnswerer implements Runnable
{
    /**
     * Queries waiting for an answer at most. A page holds up to a thousand entries' fields (their keys too) from the
     * moment the sequence stage lists it: 64 of them bound that memory to tens of MB, and are plenty for the
     * operators and tools that read the list.
     */
    static final int MAX_WAITING = 64;
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterAnswerer.class);
    private static final long POLL_MILLIS = 100;
    /** Queued by {@link #close} to wake the thread; never answered. */
    private static final Requests.DeadLetterQuery<?> STOP = new Requests.DeadLetterShow("");

    private final ArrayBlockingQueue<Requests.DeadLetterQuery<?>> waiting = new ArrayBlockingQueue<>(MAX_WAITING);
    private final Consumer<Requests.DeadLetterQuery<?>> answer;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param answer completes a query (on this answerer's thread only).
     */
    DeadLetterAnswerer(final Consumer<Requests.DeadLetterQuery<?>> answer)
    {
        this.answer = answer;
        this.thread = new Thread(this, "gyre-dead-letters");
        this.thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /**
     * Hand a query over to be answered; never waits. The publish stage's thread.
     */
    void offer(final Requests.DeadLetterQuery<?> query)
    {
        if (!running)
        {
            query.completeExceptionally(new EngineClosedException("the engine is closing"));
        }
        else if (!waiting.offer(query))
        {
            query.completeExceptionally(new DeadLetterQueriesBusyException(MAX_WAITING + " dead-letter queries are waiting to be answered; retry later"));
        }
    }

    @Override
    public void run()
    {
        while (running || !waiting.isEmpty())
        {
            try
            {
                final Requests.DeadLetterQuery<?> query = waiting.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (query != null && query != STOP)
                {
                    answer(query);
                }
            }
            catch (final InterruptedException ex)
            {
                // not interrupted by close() (a journal read interrupted can close the file it maps): end
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void answer(final Requests.DeadLetterQuery<?> query)
    {
        try
        {
            answer.accept(query);
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("a dead-letter query failed", ex);
            query.completeExceptionally(ex);
        }
    }

    /**
     * Answer the queries waiting, then stop (the readers they use close after this returns). The closing
     * thread, once nothing hands queries in any more.
     */
    void close()
    {
        running = false;
        // wakes the thread now rather than at its next poll (when the queue is full it is busy: it will see the flag)
        waiting.offer(STOP);
        try
        {
            thread.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        Requests.DeadLetterQuery<?> left;
        while ((left = waiting.poll()) != null)
        {
            if (left != STOP)
            {
                left.completeExceptionally(new EngineClosedException("the engine closed before answering"));
            }
        }
    }

    /** Too many dead-letter queries wait to be answered: nothing was read; retry later. */
    static final class DeadLetterQueriesBusyException extends IllegalStateException
    {
        private static final long serialVersionUID = 1L;

        DeadLetterQueriesBusyException(final String message)
        {
            super(message);
        }
    }
}
