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
 * It publishes into the ring it consumes, and so it never waits for room there: the room it would wait for may be
 * held by the events ahead of it, which only it can pass. (It did wait once: an outside check wedged a server for
 * good with attempts that failed as they started, each failure's event starting the next waiting attempt, so that
 * the events ahead of this stage grew with each one it handled until they filled the ring.) A follow-up that finds
 * no free slot, once this stage has released every event it finished, is <em>owed</em>: kept in order and published
 * ahead of any later follow-up as room comes, which it does as this stage passes the events ahead of it (the ticker
 * sends a tick while anything is owed, for a layout whose publish stage frees the room after this stage has passed
 * everything). Derived records may be journaled after later inputs (docs/JOURNAL.md): an owed one changes nothing
 * but its position. An owed inline attempt runs when its slot is free, its payload read back from the journal.
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
    private final java.util.function.Predicate<AsyncAttempts.AsyncAttempt> publishAsync = this::publishAsync;
    /** The last event this stage (and the publish stage, when on this thread) has finished with. */
    private long done = -1;
    /** Follow-ups that found no free slot, oldest first. */
    private final java.util.ArrayDeque<Owed> owed = new java.util.ArrayDeque<>();
    /** {@link #owed}'s size plus the ASYNC results waiting to be published, for other threads. */
    private volatile int owing;
    private int owingSeen;
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

    /** @return the context inline attempts run in on this stage (for a stall's diagnostic). */
    AttemptContext inlineContext()
    {
        return inline;
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
        done = sequence - 1;
        payOwed();
        final Effects fx = e.effects;
        for (int i = 0; i < fx.derivedCount; i++)
        {
            final long next = tryClaim();
            if (next < 0)
            {
                owed.add(Owed.derived(fx.derivedType(i), fx.derivedTaskId(i), fx.derivedAttempt(i), fx.derivedReason(i),
                    fx.derivedTime(i)));
                continue;
            }
            publishDerived(next, fx.derivedType(i), fx.derivedTaskId(i), fx.derivedAttempt(i), fx.derivedReason(i), fx.derivedTime(i));
        }
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
                dispatch(e, fx, i);
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
        updateOwing();
    }

    /**
     * After the publish stage, on the same thread, has finished {@code sequence} too: publish what is owed, and the results
     * ASYNC handlers reported on this thread since. With the publish stage on this thread, an outcome listener or a
     * future's callback it runs may report an attempt (an ASYNC handler waiting for another task's outcome), and nothing
     * else would publish it before the next event came (an idle engine would let the attempt time out).
     *
     * @param sequence the event both stages have finished.
     */
    void publishReportedAfter(final long sequence)
    {
        if (owing == 0 && !asyncs.hasReady())
        {
            return;
        }
        done = sequence;
        payOwed();
        if (asyncs.hasReady())
        {
            asyncs.drainReady(publishAsync);
        }
        updateOwing();
    }

    /**
     * @return follow-ups this stage owes the ring (found no room yet), ASYNC results waiting to be published included. Any
     *     thread.
     */
    int owing()
    {
        return owing;
    }

    private void updateOwing()
    {
        final int now = owed.size() + asyncs.readyCount();
        if (now != owingSeen)
        {
            owingSeen = now;
            owing = now;
        }
    }

    /**
     * Publish what is owed, oldest first, as long as slots are free.
     */
    private void payOwed()
    {
        Owed o;
        while ((o = owed.peek()) != null)
        {
            final long next = claimSlot();
            if (next < 0)
            {
                return;
            }
            owed.poll();
            if (o.derivedType != null)
            {
                publishDerived(next, o.derivedType, o.taskId, o.attempt, o.reason, o.time);
            }
            else
            {
                final Blob payload = loader.load(submissions, o.document, o.offset) ? loader.payload : null;
                if (payload == null)
                {
                    unreadable(o.taskId, o.handlerId, o.attempt, o.document, o.offset);
                }
                runInline(next, o.taskId, o.attempt, o.handlerId, o.submittedAt, o.document, o.offset, payload);
            }
        }
    }

    private void publishDerived(final long next, final RecordType type, final long taskId, final int attempt, final int reason,
        final long time)
    {
        final RingEvent d = ring.get(next);
        d.kind = RingEvent.DERIVED;
        d.derivedType = type;
        d.taskId = taskId;
        d.attempt = attempt;
        d.derivedReason = reason;
        d.derivedTime = time;
        d.replyTo = null;
        ring.publish(next);
    }

    private void dispatch(final RingEvent e, final Effects fx, final int i)
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
            unreadable(taskId, fx.dispatchHandler(i), attempt, submitDocument, submitOffset);
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
        final long next = tryClaim();
        if (next < 0)
        {
            owed.add(Owed.inline(taskId, attempt, handlerId, fx.dispatchSubmittedAt(i), submitDocument, submitOffset));
            return;
        }
        runInline(next, taskId, attempt, handlerId, fx.dispatchSubmittedAt(i), submitDocument, submitOffset, payload);
    }

    private void unreadable(final long taskId, final int handlerId, final int attempt, final long document, final int offset)
    {
        // the key is in the very record that cannot be read: this line goes without it (hence the position)
        TaskLog.task(LOG.atError(), taskId, null, registry.typeOf(handlerId), attempt, TaskState.RUNNING)
            .log("the task's submission cannot be read back from the journal at {}/{}; failing the attempt", document, offset);
    }

    /**
     * Run an inline attempt into the claimed slot {@code next}, and publish its result there.
     *
     * @param payload null: the submission could not be read back, and the attempt fails.
     */
    private void runInline(final long next, final long taskId, final int attempt, final int handlerId, final long submittedAt,
        final long submitDocument, final int submitOffset, final Blob payload)
    {
        final RingEvent result = ring.get(next);
        try
        {
            result.kind = RingEvent.COMPLETION;
            result.taskId = taskId;
            result.attempt = attempt;
            result.replyTo = null;
            result.held = false;
            result.startedAt = clock.nanoTime();
            inline.begin(taskId, attempt, payload == null ? HandlerRegistry.UNKNOWN : handlerId, submittedAt, submitDocument,
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

    /**
     * @return false when no slot is free, or something owed goes first: the result stays queued, for later (and is not
     *     counted in the gate until published: it is asked for again).
     */
    private boolean publishAsync(final AsyncAttempts.AsyncAttempt work)
    {
        final long next = owed.isEmpty() ? claimSlot() : -1;
        if (next < 0)
        {
            return false;
        }
        gate.force(1);
        try
        {
            work.fill(ring.get(next));
        }
        finally
        {
            ring.publish(next);
        }
        return true;
    }

    /**
     * @return a slot for a new follow-up event, or -1 when none is free or something owed goes first: the caller then owes
     *     it. Either way the follow-up is counted in the {@link AdmissionGate}, as an event ahead of this stage: what this
     *     stage owes holds outside producers back as what it published does.
     */
    private long tryClaim()
    {
        gate.force(1);
        return owed.isEmpty() ? claimSlot() : -1;
    }

    /**
     * Take a slot for a follow-up event (already counted in the gate) without waiting. When none is free, first release
     * every event this stage (and the publish stage, when on this thread) has finished, which may free one.
     *
     * @return the slot, or -1 when none is free.
     */
    private long claimSlot()
    {
        try
        {
            return ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            if (done > sequenceCallback.get())
            {
                sequenceCallback.set(done);
            }
            try
            {
                return ring.tryNext();
            }
            catch (final InsufficientCapacityException stillFull)
            {
                return -1;
            }
        }
    }

    /**
     * A follow-up owed to the ring: a derived record ({@code derivedType} set), or an inline attempt to run.
     */
    private static final class Owed
    {
        RecordType derivedType;
        long taskId;
        int attempt;
        int reason;
        long time;
        int handlerId;
        long submittedAt;
        long document;
        int offset;

        static Owed derived(final RecordType type, final long taskId, final int attempt, final int reason, final long time)
        {
            final Owed o = new Owed();
            o.derivedType = type;
            o.taskId = taskId;
            o.attempt = attempt;
            o.reason = reason;
            o.time = time;
            return o;
        }

        static Owed inline(final long taskId, final int attempt, final int handlerId, final long submittedAt, final long document,
            final int offset)
        {
            final Owed o = new Owed();
            o.taskId = taskId;
            o.attempt = attempt;
            o.handlerId = handlerId;
            o.submittedAt = submittedAt;
            o.document = document;
            o.offset = offset;
            return o;
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
