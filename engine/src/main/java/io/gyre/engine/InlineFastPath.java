package io.gyre.engine;

import com.lmax.disruptor.RingBuffer;
import org.agrona.concurrent.EpochNanoClock;

/**
 * Runs the inline attempt of a fresh submission on the journal's thread, right after its batch is committed
 * and sequenced, and journals its result in a second document of the same batch: the task's outcome then
 * leaves with the submission's own event, in one pass through the ring instead of two (the result does not
 * go round as an event of its own). Only where the journal and the sequence stage share a thread
 * ({@link FusedStage}).
 * <p>
 * The contracts are those of the two-pass path: the result is journaled before it is applied, and applied
 * before anyone is answered (the event reaches the publish stage after this); results are applied in the
 * order they were journaled, after the batch of submissions they belong to, which is the order a replay
 * applies them in. A result the journal cannot take (it is down) is kept by the journal stage and applied when
 * it is journaled after the outage. Attempts that are not a submission's first inline attempt with its payload at hand
 * (retries, attempts after a restart, handed-off modes) take the two-pass path.
 */
final class InlineFastPath
{
    private final JournalStage journal;
    private final SequenceStage sequence;
    private final HandlerRegistry registry;
    private final EpochNanoClock clock;
    private final ByteBudget budget;
    private final ExecuteStage.InlineContext inline;
    /**
     * The clock's last reading in this batch, the end of the attempt before; -1 before the batch's first. The next
     * attempt starts then: between the two there is only this loop's bookkeeping, so one clock read per attempt
     * serves as the end of one and the start of the next.
     */
    private long lastReading = -1;

    InlineFastPath(
        final JournalStage journal,
        final SequenceStage sequence,
        final HandlerRegistry registry,
        final int maxOutputBytes,
        final EpochNanoClock clock,
        final ByteBudget budget,
        final SubmissionKeys keys)
    {
        this.journal = journal;
        this.sequence = sequence;
        this.registry = registry;
        this.clock = clock;
        this.budget = budget;
        this.inline = new ExecuteStage.InlineContext(registry, maxOutputBytes, keys);
    }

    /** @return the context this path's inline attempts run in (for a stall's diagnostic). */
    AttemptContext context()
    {
        return inline;
    }

    /**
     * Run, journal and apply the inline attempts the sequenced batch {@code first..last} dispatched.
     */
    void run(final RingBuffer<RingEvent> ring, final long first, final long last)
    {
        int results = 0;
        lastReading = -1;
        for (long s = first; s <= last; s++)
        {
            final RingEvent e = ring.get(s);
            e.hasResult = false;
            if (e.kind == RingEvent.SUBMIT && e.journaled && execute(e))
            {
                results++;
            }
        }
        if (results == 0)
        {
            return;
        }
        journal.beginResults();
        boolean journaled = true;
        for (long s = first; s <= last && journaled; s++)
        {
            final RingEvent e = ring.get(s);
            if (e.hasResult)
            {
                journaled = journal.appendResult(e, s);
            }
        }
        journaled = journaled && journal.commitResults();
        final long durable = journaled ? last : journal.lastDurableResult();
        for (long s = first; s <= last; s++)
        {
            final RingEvent e = ring.get(s);
            e.resultJournaled = e.hasResult && s <= durable;
            if (e.hasResult && !e.resultJournaled)
            {
                // the journal is down: the attempt ran, so its result is kept and journaled when it is back
                journal.keepInlineResult(e);
            }
        }
        sequence.inlineResults(ring, first, last);
    }

    private boolean execute(final RingEvent e)
    {
        final Effects fx = e.effects;
        for (int i = 0; i < fx.dispatchCount; i++)
        {
            final int handlerId = fx.dispatchHandler(i);
            if (fx.dispatchTaskId(i) != e.eventId || !fx.dispatchPayloadInEvent(i) || fx.dispatchConsumed(i) ||
                fx.dispatchMode(i) != ExecutionMode.INLINE.code() || handlerId == HandlerRegistry.UNKNOWN ||
                registry.mode(handlerId) != ExecutionMode.INLINE)
            {
                continue;
            }
            fx.consumeDispatch(i);
            e.resultAttempt = fx.dispatchAttempt(i);
            e.held = false;
            e.startedAt = lastReading >= 0 ? lastReading : clock.nanoTime();
            inline.begin(e.eventId, e.resultAttempt, handlerId, fx.dispatchSubmittedAt(i), fx.dispatchSubmitDocument(i),
                fx.dispatchSubmitOffset(i), e.output);
            inline.payload(e.payload.buffer(), e.payload.length());
            inline.runHandler();
            inline.encodeMessage();
            e.succeeded = inline.result == AttemptContext.SUCCEEDED;
            e.errorKind = inline.errorKind;
            e.budgetBytes += inline.allocatedBytes;
            budget.force(inline.allocatedBytes);
            e.finishedAt = clock.nanoTime();
            lastReading = e.finishedAt;
            e.held = e.succeeded && inline.holdUntil() > e.finishedAt;
            if (e.held)
            {
                e.finishedAt = inline.holdUntil();
            }
            e.hasResult = true;
            return true;
        }
        return false;
    }
}
