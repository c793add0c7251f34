package io.gyre.engine;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import io.gyre.journal.CancelRequestedRecord;
import io.gyre.journal.EngineStartedRecord;
import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.FailedRecord;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.PurgeRequestedRecord;
import io.gyre.journal.RecordDescriptor;
import io.gyre.journal.RecordType;
import io.gyre.journal.RedriveRequestedRecord;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.SucceededRecord;
import io.gyre.journal.TransitionRecord;
import org.agrona.concurrent.EpochNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 1: stamp each event with the time and append it to the journal, one Chronicle document per batch,
 * committed at the end of the batch. Later stages see a batch only after it is committed, so nothing is
 * acknowledged, executed or answered before its event is in the journal (invariant 1).
 * <p>
 * The only writer of the journal. When a write fails, the events of the open document are marked not
 * journaled and their event ids reused; the sequence stage then refuses them rather than act on them.
 */
final class JournalStage implements EventHandler<RingEvent>
{
    private static final Logger LOG = LoggerFactory.getLogger(JournalStage.class);
    private static final int MAX_ENGINE_STARTED_FRAME = 1024;

    private final JournalWriter writer;
    private final EpochNanoClock clock;
    private final HandlerRegistry registry;
    private final String engineVersion;
    private final SubmittedRecord.Encoder submitted = new SubmittedRecord.Encoder();
    private final SucceededRecord.Encoder succeeded = new SucceededRecord.Encoder();
    private final FailedRecord.Encoder failed = new FailedRecord.Encoder();
    private final CancelRequestedRecord.Encoder cancel = new CancelRequestedRecord.Encoder();
    private final RedriveRequestedRecord.Encoder redrive = new RedriveRequestedRecord.Encoder();
    private final PurgeRequestedRecord.Encoder purge = new PurgeRequestedRecord.Encoder();
    private final EngineStartedRecord.Encoder engineStarted = new EngineStartedRecord.Encoder();
    private final TransitionRecord.Encoder transition = new TransitionRecord.Encoder();
    private final EngineStopRecord.Encoder engineStop = new EngineStopRecord.Encoder();
    private RingBuffer<RingEvent> ring;
    private long lastTimestamp;
    private long documentFirstSequence = -1;
    private long documentStartNanos;
    private EngineMetrics metrics;
    private long failures;

    JournalStage(final JournalWriter writer, final EpochNanoClock clock, final HandlerRegistry registry, final long lastTimestamp, final String engineVersion)
    {
        this.writer = writer;
        this.clock = clock;
        this.registry = registry;
        this.lastTimestamp = lastTimestamp;
        this.engineVersion = engineVersion;
    }

    void ring(final RingBuffer<RingEvent> ring)
    {
        this.ring = ring;
    }

    /**
     * Time each batch document's append and commit from now on (null: not).
     */
    void metrics(final EngineMetrics value)
    {
        metrics = value;
    }

    @Override
    public void onStart()
    {
        writer.transferOwnership();
    }

    @Override
    public void onEvent(final RingEvent event, final long sequence, final boolean endOfBatch)
    {
        event.journaled = false;
        if (event.kind != RingEvent.STATUS && event.kind != RingEvent.SNAPSHOT &&
            event.kind != RingEvent.DEAD_LETTER_QUERY)
        {
            try
            {
                append(event, sequence);
            }
            catch (final RuntimeException ex)
            {
                failOpenDocument(sequence, ex);
            }
        }
        if (endOfBatch)
        {
            try
            {
                final boolean timed = metrics != null && documentFirstSequence >= 0;
                writer.flush();
                if (timed)
                {
                    metrics.recordJournalAppend(System.nanoTime() - documentStartNanos);
                }
            }
            catch (final RuntimeException ex)
            {
                failOpenDocument(sequence, ex);
            }
            documentFirstSequence = -1;
        }
    }

    private void append(final RingEvent e, final long sequence)
    {
        final long now = clock.nanoTime();
        final long timestamp = now > lastTimestamp ? now : lastTimestamp;
        lastTimestamp = timestamp;
        final RecordType type;
        int flags = 0;
        final int frameLength;
        switch (e.kind)
        {
            case RingEvent.SUBMIT ->
            {
                final byte[] typeName = registry.name(e.handlerId);
                final int offset = claim(sequence, SubmittedRecord.KEY_OFFSET + 10 + e.key.length() + typeName.length +
                    e.tenant.length() + e.payload.length());
                submitted.wrap(writer.buffer(), offset)
                    .timeoutMillis(e.timeoutMillis)
                    .maxAttempts(e.maxAttempts)
                    .backoff(e.backoffInitialMillis, e.backoffMaxMillis, e.backoffMultiplier, e.backoffJitter)
                    .priority(e.priority)
                    .executionMode(e.mode)
                    .taskFlags(e.taskFlags)
                    .key(e.key.array(), 0, e.key.length())
                    .taskType(typeName, 0, typeName.length)
                    .tenant(e.tenant.array(), 0, e.tenant.length())
                    .payload(e.payload.array(), 0, e.payload.length());
                type = RecordType.SUBMITTED;
                frameLength = submitted.frameLength();
            }
            case RingEvent.COMPLETION ->
            {
                type = encodeResult(e.taskId, e.attempt, e, sequence);
                frameLength = type == RecordType.SUCCEEDED ? succeeded.frameLength() : failed.frameLength();
            }
            case RingEvent.CANCEL ->
            {
                final int offset = claim(sequence, CancelRequestedRecord.KEY_OFFSET + 2 + e.key.length());
                cancel.wrap(writer.buffer(), offset).key(e.key.array(), 0, e.key.length());
                type = RecordType.CANCEL_REQUESTED;
                frameLength = cancel.frameLength();
            }
            case RingEvent.REDRIVE ->
            {
                final int offset = claim(sequence, RedriveRequestedRecord.KEY_OFFSET + 2 + e.key.length());
                redrive.wrap(writer.buffer(), offset).key(e.key.array(), 0, e.key.length());
                type = RecordType.REDRIVE_REQUESTED;
                frameLength = redrive.frameLength();
            }
            case RingEvent.PURGE ->
            {
                final int offset = claim(sequence, PurgeRequestedRecord.KEY_OFFSET + 2 + e.key.length());
                purge.wrap(writer.buffer(), offset);
                if (e.key.length() > 0)
                {
                    purge.key(e.key.array(), 0, e.key.length());
                }
                type = RecordType.PURGE_REQUESTED;
                frameLength = purge.frameLength();
            }
            case RingEvent.TICK ->
            {
                claim(sequence, RecordDescriptor.HEADER_LENGTH);
                type = RecordType.TICK;
                frameLength = RecordDescriptor.HEADER_LENGTH;
            }
            case RingEvent.ENGINE_STARTED ->
            {
                final int offset = claim(sequence, MAX_ENGINE_STARTED_FRAME);
                engineStarted.wrap(writer.buffer(), offset).pid((int)ProcessHandle.current().pid()).engineVersion(engineVersion);
                e.settings.writeTo(engineStarted);
                type = RecordType.ENGINE_STARTED;
                frameLength = engineStarted.frameLength();
            }
            case RingEvent.ENGINE_STOP ->
            {
                final int offset = claim(sequence, EngineStopRecord.frameLength(0));
                engineStop.wrap(writer.buffer(), offset)
                    .phase(EngineStopRecord.PHASE_STOPPING)
                    .beganAt(timestamp)
                    .deadline(timestamp + e.stopTimeoutNanos);
                type = RecordType.ENGINE_STOP;
                frameLength = engineStop.frameLength();
            }
            case RingEvent.DERIVED ->
            {
                final int offset = claim(sequence, TransitionRecord.FRAME_LENGTH);
                transition.wrap(writer.buffer(), offset)
                    .taskId(e.taskId)
                    .attempt(e.attempt)
                    .reason(e.derivedReason)
                    .time(e.derivedTime);
                type = e.derivedType;
                flags = RecordDescriptor.FLAG_DERIVED;
                frameLength = TransitionRecord.FRAME_LENGTH;
            }
            default -> throw new IllegalStateException("cannot journal " + e);
        }
        e.eventId = writer.commit(type, flags, timestamp, frameLength);
        e.timestamp = timestamp;
        e.documentIndex = writer.documentIndex();
        e.recordOffset = writer.lastRecordOffset();
        e.journaled = true;
    }

    /**
     * Encode an attempt's result (the event's succeeded, errorKind, held, times and output) as a SUCCEEDED or
     * FAILED record in the open document.
     */
    private RecordType encodeResult(final long taskId, final int attempt, final RingEvent e, final long sequence)
    {
        if (e.succeeded)
        {
            final int offset = claim(sequence, SucceededRecord.OUTPUT_OFFSET + 4 + e.output.length());
            succeeded.wrap(writer.buffer(), offset)
                .taskId(taskId)
                .attempt(attempt)
                .flags(e.held ? SucceededRecord.FLAG_HELD : 0)
                .startedAt(e.startedAt)
                .finishedAt(e.finishedAt)
                .output(e.output.array(), 0, e.output.length());
            return RecordType.SUCCEEDED;
        }
        final int offset = claim(sequence, FailedRecord.MESSAGE_OFFSET + 2 + e.output.length());
        failed.wrap(writer.buffer(), offset)
            .taskId(taskId)
            .attempt(attempt)
            .errorKind(e.errorKind)
            .startedAt(e.startedAt)
            .finishedAt(e.finishedAt)
            .message(e.output.array(), 0, e.output.length());
        return RecordType.FAILED;
    }

    /**
     * Append the result of the inline attempt a journaled SUBMIT event carries (run on this thread after its
     * batch was committed) to a new document; {@link #commitResults} commits it. The event's own journal
     * fields are left alone: the result's position goes to its result fields.
     *
     * @return false when the journal refused it (the results of this document are then not journaled).
     */
    boolean appendResult(final RingEvent e, final long sequence)
    {
        try
        {
            final long now = clock.nanoTime();
            final long timestamp = now > lastTimestamp ? now : lastTimestamp;
            lastTimestamp = timestamp;
            final RecordType type = encodeResult(e.eventId, e.resultAttempt, e, sequence);
            e.resultEventId = writer.commit(type, 0, timestamp, type == RecordType.SUCCEEDED ? succeeded.frameLength() : failed.frameLength());
            e.resultTimestamp = timestamp;
            e.resultDocument = writer.documentIndex();
            e.resultOffset = writer.lastRecordOffset();
            return true;
        }
        catch (final RuntimeException ex)
        {
            abandonResults(ex);
            return false;
        }
    }

    /**
     * Commit the document of results {@link #appendResult} built.
     *
     * @return false when the commit failed: none of its results is journaled.
     */
    boolean commitResults()
    {
        try
        {
            writer.flush();
            documentFirstSequence = -1;
            return true;
        }
        catch (final RuntimeException ex)
        {
            abandonResults(ex);
            return false;
        }
    }

    private void abandonResults(final RuntimeException ex)
    {
        failures++;
        documentFirstSequence = -1;
        LOG.error("journal write of inline results failed; those attempts run again after a restart", ex);
        try
        {
            writer.abandon();
            writer.rollback();
        }
        catch (final RuntimeException rollbackFailure)
        {
            LOG.error("journal rollback failed", rollbackFailure);
        }
    }

    private int claim(final long sequence, final int maxFrameLength)
    {
        final int offset = writer.claim(maxFrameLength);
        if (writer.recordsInOpenDocument() == 0)
        {
            documentFirstSequence = sequence;
            if (metrics != null)
            {
                documentStartNanos = System.nanoTime();
            }
        }
        return offset;
    }

    /**
     * The open document cannot be written: discard it and mark its events not journaled.
     */
    private void failOpenDocument(final long sequence, final RuntimeException ex)
    {
        failures++;
        LOG.error("journal write failed; events {}..{} are not journaled and will be refused", documentFirstSequence, sequence, ex);
        try
        {
            writer.abandon();
            writer.rollback();
        }
        catch (final RuntimeException rollbackFailure)
        {
            LOG.error("journal rollback failed", rollbackFailure);
        }
        if (documentFirstSequence >= 0)
        {
            for (long s = documentFirstSequence; s <= sequence; s++)
            {
                ring.get(s).journaled = false;
            }
        }
        documentFirstSequence = -1;
    }

    /**
     * Append the engine's last record, ENGINE_STOP STOPPED, and commit it. Called by the thread closing the
     * engine once every stage thread has ended (so it takes the writer over safely); nothing is written after.
     *
     * @return false when the journal refused it (logged: the next start then treats the stop as a crash).
     */
    boolean appendStopped(final long beganAt, final long deadline, final boolean finishedInTime, final Sequencer.StopLeft left)
    {
        try
        {
            writer.transferOwnership();
            final long now = clock.nanoTime();
            final long timestamp = now > lastTimestamp ? now : lastTimestamp;
            lastTimestamp = timestamp;
            final int offset = writer.claim(EngineStopRecord.frameLength(left.taskIds().length));
            engineStop.wrap(writer.buffer(), offset)
                .phase(EngineStopRecord.PHASE_STOPPED)
                .flags(finishedInTime ? EngineStopRecord.FLAG_FINISHED_IN_TIME : 0)
                .beganAt(beganAt)
                .deadline(deadline)
                .left(left.pending(), left.running(), left.retryWaiting(), left.held());
            for (int i = 0; i < left.taskIds().length; i++)
            {
                engineStop.listed(left.taskIds()[i], left.attempts()[i]);
            }
            writer.commit(RecordType.ENGINE_STOP, 0, timestamp, engineStop.frameLength());
            writer.flush();
            return true;
        }
        catch (final RuntimeException ex)
        {
            failures++;
            LOG.error("journal write of the engine's stop record failed; the next start treats this stop as a crash", ex);
            try
            {
                writer.abandon();
                writer.rollback();
            }
            catch (final RuntimeException rollbackFailure)
            {
                LOG.error("journal rollback failed", rollbackFailure);
            }
            return false;
        }
    }

    long failures()
    {
        return failures;
    }
}
