package io.gyre.engine;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import io.gyre.journal.SubmittedRecord;
import org.agrona.concurrent.EpochNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 3: carry out the sequence stage's decisions. Inline attempts run here, on this thread, and their
 * results are published back into the ring as new events (so they are journaled before anyone sees them);
 * blocking attempts are handed to the pool; derived records are published to be journaled; running
 * attempts that were cancelled or timed out are asked to stop.
 * <p>
 * It publishes into the ring it consumes. That is safe because the {@link AdmissionGate} keeps the events
 * ahead of this stage well under the ring's size, and because before waiting for a free slot this stage
 * releases the events it has finished, so the publish stage can always make room.
 */
final class ExecuteStage implements EventHandler<RingEvent>
{
    private static final Logger LOG = LoggerFactory.getLogger(ExecuteStage.class);

    private final AdmissionGate gate;
    private final ByteBudget budget;
    private final BlockingPool pool;
    private final BlockingPool cpuPool;
    private final AsyncAttempts asyncs;
    private final HandlerRegistry registry;
    private final java.util.function.Consumer<AsyncAttempts.AsyncAttempt> publishAsync = this::publishAsync;
    private long currentSequence;
    private final EpochNanoClock clock;
    private final InlineContext inline;
    private final JournalReader submissions;
    private final SubmissionLoader loader = new SubmissionLoader();
    private RingBuffer<RingEvent> ring;
    private Sequence sequenceCallback;
    private long passed;

    ExecuteStage(
        final HandlerRegistry registry,
        final int maxOutputBytes,
        final AdmissionGate gate,
        final ByteBudget budget,
        final BlockingPool pool,
        final BlockingPool cpuPool,
        final AsyncAttempts asyncs,
        final EpochNanoClock clock,
        final JournalReader submissions,
        final SubmissionKeys keys)
    {
        this.gate = gate;
        this.budget = budget;
        this.pool = pool;
        this.cpuPool = cpuPool;
        this.asyncs = asyncs;
        this.registry = registry;
        this.clock = clock;
        this.submissions = submissions;
        this.inline = new InlineContext(registry, maxOutputBytes, keys);
    }

    void ring(final RingBuffer<RingEvent> ring)
    {
        this.ring = ring;
    }

    @Override
    public void setSequenceCallback(final Sequence sequenceCallback)
    {
        this.sequenceCallback = sequenceCallback;
    }

    @Override
    public void onEvent(final RingEvent e, final long sequence, final boolean endOfBatch)
    {
        final Effects fx = e.effects;
        for (int i = 0; i < fx.derivedCount; i++)
        {
            final long next = claim(sequence);
            final RingEvent d = ring.get(next);
            d.kind = RingEvent.DERIVED;
            d.derivedType = fx.derivedType(i);
            d.taskId = fx.derivedTaskId(i);
            d.attempt = fx.derivedAttempt(i);
            d.derivedReason = fx.derivedReason(i);
            d.derivedTime = fx.derivedTime(i);
            d.replyTo = null;
            ring.publish(next);
        }
        currentSequence = sequence;
        for (int i = 0; i < fx.stopCount; i++)
        {
            final long taskId = fx.stopTaskId(i);
            final TaskState after = stateAfterStop(fx, taskId);
            pool.stop(taskId, fx.stopAttempt(i), after);
            cpuPool.stop(taskId, fx.stopAttempt(i), after);
            asyncs.stop(taskId, fx.stopAttempt(i), after);
        }
        for (int i = 0; i < fx.dispatchCount; i++)
        {
            if (!fx.dispatchConsumed(i))
            {
                dispatch(e, fx, i, sequence);
            }
        }
        if (asyncs.hasReady())
        {
            asyncs.drainReady(publishAsync);
        }
        passed++;
        if (endOfBatch)
        {
            gate.release(passed);
            passed = 0;
        }
    }

    /**
     * Publish the results ASYNC handlers reported on this thread after this stage had passed {@code sequence}: with the
     * publish stage on the same thread, an outcome listener or a future's callback it runs may report an attempt (an
     * ASYNC handler waiting for another task's outcome), and nothing else would publish it before the next event came
     * (an idle engine would let the attempt time out).
     *
     * @param sequence the event both stages have finished.
     */
    void publishReportedAfter(final long sequence)
    {
        if (asyncs.hasReady())
        {
            currentSequence = sequence + 1;
            asyncs.drainReady(publishAsync);
        }
    }

    private void dispatch(final RingEvent e, final Effects fx, final int i, final long sequence)
    {
        final long taskId = fx.dispatchTaskId(i);
        final int attempt = fx.dispatchAttempt(i);
        final long submitDocument = fx.dispatchSubmitDocument(i);
        final int submitOffset = fx.dispatchSubmitOffset(i);
        final Blob payload;
        if (fx.dispatchPayloadInEvent(i))
        {
            payload = e.payload;
        }
        else if (loader.load(submissions, submitDocument, submitOffset))
        {
            payload = loader.payload;
        }
        else
        {
            // the key is in the very record that cannot be read: this line goes without it (hence the position)
            TaskLog.task(LOG.atError(), taskId, null, registry.typeOf(fx.dispatchHandler(i)), attempt, TaskState.RUNNING)
                .log("the task's submission cannot be read back from the journal at {}/{}; failing the attempt",
                    submitDocument, submitOffset);
            payload = null;
        }
        final int handlerId = fx.dispatchHandler(i);
        if (payload != null)
        {
            // an ASYNC handler runs as one whatever mode its submission was journaled with (a plugin may have changed)
            if (handlerId != HandlerRegistry.UNKNOWN && registry.mode(handlerId) == ExecutionMode.ASYNC)
            {
                asyncs.start(taskId, attempt, handlerId, fx.dispatchSubmittedAt(i), submitDocument, submitOffset, payload.buffer(),
                    payload.length());
                return;
            }
            final int mode = fx.dispatchMode(i);
            if (mode == ExecutionMode.CPU.code())
            {
                cpuPool.submit(taskId, attempt, handlerId, fx.dispatchPriority(i), fx.dispatchSubmittedAt(i), submitDocument, submitOffset,
                    payload.buffer(), payload.length());
                return;
            }
            if (mode != ExecutionMode.INLINE.code())
            {
                pool.submit(taskId, attempt, handlerId, fx.dispatchPriority(i), fx.dispatchSubmittedAt(i), submitDocument, submitOffset,
                    payload.buffer(), payload.length());
                return;
            }
        }
        final long next = claim(sequence);
        final RingEvent result = ring.get(next);
        try
        {
            result.kind = RingEvent.COMPLETION;
            result.taskId = taskId;
            result.attempt = attempt;
            result.replyTo = null;
            result.held = false;
            result.startedAt = clock.nanoTime();
            inline.begin(taskId, attempt, payload == null ? HandlerRegistry.UNKNOWN : handlerId, fx.dispatchSubmittedAt(i), submitDocument,
                submitOffset, result.output);
            if (payload != null)
            {
                inline.payload(payload.buffer(), payload.length());
            }
            inline.runHandler();
            inline.encodeMessage();
            result.succeeded = inline.result == AttemptContext.SUCCEEDED;
            result.errorKind = inline.errorKind;
            result.budgetBytes = inline.allocatedBytes;
            budget.force(inline.allocatedBytes);
        }
        finally
        {
            result.finishedAt = clock.nanoTime();
            result.held = result.succeeded && inline.holdUntil() > result.finishedAt;
            if (result.held)
            {
                result.finishedAt = inline.holdUntil();
            }
            ring.publish(next);
        }
    }

    /**
     * @return the state the sequence stage left a task in when it stopped the task's attempt, from the records it
     *     derived with the stop (a cancel, a timeout and what follows it), for the lines logged about the stopped
     *     attempt; null when none says. A few comparisons per stop, and stops are rare: cancels and timeouts.
     */
    static TaskState stateAfterStop(final Effects fx, final long taskId)
    {
        TaskState state = null;
        for (int i = 0; i < fx.derivedCount; i++)
        {
            if (fx.derivedTaskId(i) != taskId)
            {
                continue;
            }
            switch (fx.derivedType(i))
            {
                case CANCELLED -> state = TaskState.CANCELLED;
                case TIMED_OUT -> state = TaskState.TIMED_OUT;
                case RETRY_SCHEDULED -> state = TaskState.RETRY_WAIT;
                case DEAD_LETTERED -> state = TaskState.DEAD_LETTERED;
                case STARTED -> state = TaskState.RUNNING;
                default ->
                {
                }
            }
        }
        return state;
    }

    private void publishAsync(final AsyncAttempts.AsyncAttempt work)
    {
        final long next = claim(currentSequence);
        try
        {
            work.fill(ring.get(next));
        }
        finally
        {
            ring.publish(next);
        }
    }

    /**
     * Take a slot for a follow-up event. When none is free, first let the publish stage past everything
     * this stage has finished, then wait.
     */
    private long claim(final long sequence)
    {
        gate.force(1);
        try
        {
            return ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            sequenceCallback.set(sequence - 1);
            return ring.next();
        }
    }

    /**
     * Reads a submission's payload back from the journal, for attempts not started by the submission's own
     * event (retries, attempts queued for a pool slot, attempts re-run after a restart).
     */
    private static final class SubmissionLoader implements RecordHandler
    {
        final Blob payload = new Blob(Blob.INLINE_CAPACITY);
        private boolean found;

        boolean load(final JournalReader reader, final long document, final int offset)
        {
            found = false;
            payload.reserve(0);
            return reader.readRecordAt(document, offset, this) && found;
        }

        @Override
        public void onRecord(final RecordView record)
        {
            if (record.type() == RecordType.SUBMITTED)
            {
                final SubmittedRecord.Decoder d = record.submitted();
                payload.copyFrom(d.buffer(), d.payloadOffset(), d.payloadLength());
                found = true;
            }
        }
    }

    /**
     * The context of an inline attempt: its output goes straight into the result event's blob.
     */
    static final class InlineContext extends AttemptContext
    {
        InlineContext(final HandlerRegistry registry, final int maxOutputBytes, final SubmissionKeys keys)
        {
            super(registry, maxOutputBytes, keys);
        }

        void payload(final org.agrona.DirectBuffer buffer, final int length)
        {
            payload.wrap(buffer, 0, Math.max(length, 0));
            payloadLength = length;
        }
    }
}
