package io.gyre.engine;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stage 2: apply each journaled event to the {@link Sequencer} (deduplication, lifecycle, timers, retries)
 * and leave its decisions on the event for the execute and publish stages. An event the journal could not
 * record is refused here, never acted on.
 */
final class SequenceStage implements EventHandler<RingEvent>
{
    private final Sequencer sequencer;
    private final AtomicBoolean tickInFlight;
    private volatile long nextWakeAt = Long.MAX_VALUE;
    private volatile int liveTasks;
    /** In a SNAPSHOT event's correlation: snapshot only when something was journaled since the last one. */
    static final long SNAPSHOT_IF_CHANGED = 1;

    private final Snapshotter snapshotter;
    private volatile int deadLetters;
    private volatile long deadLetterOverflows;
    private long unjournaledResults;
    /** The status event feed while anyone subscribes, else null (set from any thread, by the {@link EventHub}). */
    private volatile LiveTransitions transitions;
    /** The feed the sequencer was last given (this stage's thread). */
    private LiveTransitions attached;

    /**
     * @param snapshotter takes snapshots between batches; null when snapshots are off.
     */
    SequenceStage(final Sequencer sequencer, final AtomicBoolean tickInFlight, final Snapshotter snapshotter)
    {
        this.sequencer = sequencer;
        this.tickInFlight = tickInFlight;
        this.snapshotter = snapshotter;
    }

    @Override
    public void onStart()
    {
        sequencer.takeOwnership();
    }

    @Override
    public void onEvent(final RingEvent e, final long sequence, final boolean endOfBatch)
    {
        final Effects fx = e.effects;
        // one volatile read per event: a subscription taken before an event was published sees its transitions
        final LiveTransitions live = transitions;
        if (live != attached)
        {
            attached = live;
            sequencer.live(live);
        }
        if (e.resumed != null)
        {
            applyKept(e.resumed, fx);
        }
        if (live != null)
        {
            live.cause(e.eventId, e.documentIndex);
        }
        if (snapshotter != null && e.journaled)
        {
            snapshotter.applied(e.eventId, e.documentIndex, e.recordOffset, e.timestamp);
        }
        switch (e.kind)
        {
            case RingEvent.SUBMIT ->
            {
                if (e.journaled)
                {
                    if (live != null)
                    {
                        live.submission(e.key.buffer(), e.key.length(), e.tenant.buffer(), e.tenant.length());
                    }
                    final int tenant = sequencer.tenantOf(e.tenant.buffer(), 0, e.tenant.length());
                    sequencer.submitted(e.eventId, e.timestamp, e.documentIndex, e.recordOffset,
                        e.key.buffer(), 0, e.key.length(), e.keyHash, tenant, e.handlerId, e.mode, e.priority, e.timeoutMillis, e.maxAttempts,
                        e.backoffInitialMillis, e.backoffMaxMillis, e.backoffMultiplier, e.backoffJitter, e.taskFlags,
                        true, e.replyTo, e.correlation, fx);
                    if (live != null)
                    {
                        live.submissionDone();
                    }
                }
                else
                {
                    sequencer.refusedUnjournaled(e.handlerId, e.tenant.buffer(), 0, e.tenant.length());
                    refuse(e, fx);
                }
            }
            case RingEvent.COMPLETION ->
            {
                if (e.journaled)
                {
                    sequencer.completed(e.timestamp, e.documentIndex, e.recordOffset, e.taskId, e.attempt, e.succeeded,
                        e.errorKind, e.held, e.startedAt, e.finishedAt, fx);
                }
                else
                {
                    // kept by the journal stage; applied when it is journaled after the outage
                    unjournaledResults++;
                }
            }
            case RingEvent.CANCEL ->
            {
                if (e.journaled)
                {
                    sequencer.cancelRequested(e.timestamp, e.key.buffer(), 0, e.key.length(), e.replyTo, e.correlation, fx);
                }
                else
                {
                    refuse(e, fx);
                }
            }
            case RingEvent.STATUS -> sequencer.status(e.timestamp, e.key.buffer(), 0, e.key.length(), e.replyTo, e.correlation, fx);
            case RingEvent.SUBMIT_UNINSTALLED -> sequencer.submittedUninstalled(e.timestamp, e.key.buffer(), 0, e.key.length(), e.keyHash,
                e.tenant.buffer(), e.tenant.length(), e.replyTo, e.correlation, fx);
            case RingEvent.SNAPSHOT -> snapshot(e);
            case RingEvent.DEAD_LETTER_QUERY ->
            {
                final Requests.DeadLetterQuery<?> query = (Requests.DeadLetterQuery<?>)e.replyTo;
                if (e.key.length() == 0)
                {
                    sequencer.listDeadLetters(query.after, query.limit, query, fx);
                }
                else
                {
                    sequencer.showDeadLetter(e.key.buffer(), 0, e.key.length(), query, fx);
                }
            }
            case RingEvent.REDRIVE ->
            {
                if (e.journaled)
                {
                    sequencer.redriveRequested(e.timestamp, e.key.buffer(), 0, e.key.length(), e.replyTo, e.correlation, fx);
                }
                else
                {
                    refuse(e, fx);
                }
            }
            case RingEvent.PURGE ->
            {
                if (e.journaled)
                {
                    sequencer.purgeRequested(e.timestamp, e.key.length() == 0, e.key.buffer(), 0, e.key.length(), e.replyTo,
                        e.correlation, fx);
                }
                else
                {
                    refuse(e, fx);
                }
            }
            case RingEvent.TICK ->
            {
                tickInFlight.set(false);
                if (e.journaled)
                {
                    sequencer.tick(e.timestamp, fx);
                }
            }
            case RingEvent.ENGINE_STARTED ->
            {
                if (e.journaled)
                {
                    sequencer.engineStarted(e.timestamp, e.settings, e.replyTo, fx);
                }
                else
                {
                    refuse(e, fx);
                }
            }
            case RingEvent.ENGINE_STOP ->
            {
                if (e.journaled)
                {
                    sequencer.engineStopping(e.timestamp, e.timestamp + e.stopTimeoutNanos);
                }
            }
            case RingEvent.DERIVED ->
            {
                if (e.journaled)
                {
                    sequencer.derived(e.timestamp, e.derivedType, e.taskId, e.attempt, e.derivedReason, e.derivedTime);
                }
                // else: kept by the journal stage, still expected; checked when journaled after the outage
            }
            default -> throw new IllegalStateException("unexpected " + e);
        }
        if (endOfBatch)
        {
            batchEnd();
        }
    }

    @SuppressWarnings("unchecked")
    private void snapshot(final RingEvent e)
    {
        final java.util.concurrent.CompletableFuture<SnapshotInfo> reply = (java.util.concurrent.CompletableFuture<SnapshotInfo>)e.replyTo;
        e.replyTo = null;
        if (snapshotter == null)
        {
            reply.completeExceptionally(new IllegalStateException("snapshots are off (EngineConfig.snapshots(false))"));
            return;
        }
        snapshotter.snapshotNow(sequencer, reply, e.correlation == SNAPSHOT_IF_CHANGED);
    }

    private void batchEnd()
    {
        if (snapshotter != null)
        {
            snapshotter.maybeSnapshot(sequencer);
        }
        nextWakeAt = sequencer.nextWakeAt();
        liveTasks = sequencer.liveCount();
        deadLetters = sequencer.deadLetterCount();
        deadLetterOverflows = sequencer.deadLetterOverflows();
        sequencer.publishGauges();
    }

    /**
     * Apply the results of the inline attempts run on this thread for the batch {@code first..last}, in ring
     * order (the order they were journaled in), after the batch itself. Records derived from them go with the
     * batch's last event, after everything derived from the batch, so they are journaled in the order they
     * were derived.
     */
    void inlineResults(final RingBuffer<RingEvent> ring, final long first, final long last)
    {
        sequencer.deriveInto(ring.get(last).effects);
        sequencer.joinersInto(ring.get(last).effects);
        try
        {
            for (long s = first; s <= last; s++)
            {
                final RingEvent e = ring.get(s);
                if (!e.hasResult)
                {
                    continue;
                }
                if (e.resultJournaled)
                {
                    if (snapshotter != null)
                    {
                        snapshotter.applied(e.resultEventId, e.resultDocument, e.resultOffset, e.resultTimestamp);
                    }
                    if (attached != null)
                    {
                        attached.cause(e.resultEventId, e.resultDocument);
                    }
                    sequencer.completed(e.resultTimestamp, e.resultDocument, e.resultOffset, e.eventId, e.resultAttempt, e.succeeded,
                        e.errorKind, e.held, e.startedAt, e.finishedAt, e.effects);
                }
                else
                {
                    // kept by the journal stage; applied when it is journaled after the outage
                    unjournaledResults++;
                }
            }
        }
        finally
        {
            sequencer.deriveInto(null);
            sequencer.joinersInto(null);
        }
        batchEnd();
    }

    /**
     * Called with a whole journaled batch before its events are applied one by one (when the journal and
     * this stage share a thread): loads the table memory the batch will touch, so its cache misses overlap
     * instead of stalling each event in turn. Reads only; the events are applied exactly as without it.
     */
    void prefetch(final RingBuffer<RingEvent> ring, final long first, final long last)
    {
        for (long s = first; s <= last; s++)
        {
            final RingEvent e = ring.get(s);
            if (e.journaled && e.kind == RingEvent.SUBMIT)
            {
                sequencer.prefetchKey(e.keyHash);
            }
        }
    }

    /**
     * Records kept during a journal outage, journaled just before this event: apply them first, in the
     * order they were journaled (as replay does).
     */
    private void applyKept(final JournalStage.Kept[] kept, final Effects fx)
    {
        for (final JournalStage.Kept k : kept)
        {
            if (snapshotter != null)
            {
                snapshotter.applied(k.eventId, k.document, k.offset, k.timestamp);
            }
            if (attached != null)
            {
                attached.cause(k.eventId, k.document);
            }
            if (k.isResult())
            {
                sequencer.completedKept(k.timestamp, k.document, k.offset, k.taskId, k.attempt, k.type == io.gyre.journal.RecordType.SUCCEEDED,
                    k.errorKind, k.held, k.startedAt, k.finishedAt, fx);
            }
            else
            {
                sequencer.derived(k.timestamp, k.type, k.taskId, k.attempt, k.reason, k.time);
            }
        }
    }

    private static void refuse(final RingEvent e, final Effects fx)
    {
        if (e.replyTo != null)
        {
            final int i = fx.reply(Effects.REPLY_REJECTED, e.replyTo, e.correlation, 0);
            fx.replyReason(i, RejectReason.JOURNAL_UNAVAILABLE.code());
        }
    }

    /**
     * Feed status events from the next event on (null: stop). Any thread.
     */
    void transitions(final LiveTransitions value)
    {
        transitions = value;
    }

    /** @return when the ticker should next send a tick (read from any thread). */
    long nextWakeAt()
    {
        return nextWakeAt;
    }

    int liveTasks()
    {
        return liveTasks;
    }

    /** @return entries in the dead-letter list at the end of the last batch (read from any thread). */
    int deadLetters()
    {
        return deadLetters;
    }

    /** @return tasks that found the dead-letter list full, as of the last batch (read from any thread). */
    long deadLetterOverflows()
    {
        return deadLetterOverflows;
    }

    long unjournaledResults()
    {
        return unjournaledResults;
    }
}
