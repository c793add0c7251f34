package io.gyre.engine;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import io.gyre.journal.CancelRequestedRecord;
import io.gyre.journal.EngineStartedRecord;
import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.FailedRecord;
import io.gyre.journal.JournalOutageRecord;
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

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stage 1: stamp each event with the time and append it to the journal, one Chronicle document per batch,
 * committed at the end of the batch. Later stages see a batch only after it is committed, so nothing is
 * acknowledged, executed or answered before its event is in the journal (invariant 1).
 * <p>
 * The only writer of the journal, and the keeper of its availability. When a write fails (disk full, an
 * I/O error), the events of the open document are marked not journaled, their event ids reused, and the
 * journal is <em>down</em>: from then on events are not written at all (a write is tried only as a probe,
 * at most once per back-off interval, 10 ms doubling to 1 s), and each event not journaled is dealt with by
 * its kind:
 * <ul>
 * <li>submissions and cancels: the sequence stage refuses them (JOURNAL_UNAVAILABLE, with the error);</li>
 * <li>results of attempts and derived records: <em>kept</em> here, to be journaled when the journal is back
 *     (an attempt that ran is not run again: its side effects happened, and its result is in hand);</li>
 * <li>ticks: dropped (the timers they would fire stay due, and fire on the first tick after);</li>
 * <li>an engine start: refused (the engine does not open).</li>
 * </ul>
 * The first probe that writes journals a {@link RecordType#JOURNAL_OUTAGE} record, every kept derived record
 * and up to {@code resumeChunk} kept results, in one document before the event that probed; the rest of the
 * kept results go the same way before the events that follow, a chunk each (so one event never brings more
 * follow-ups than a tick does). The event carries what was journaled for it ({@link RingEvent#resumed}), and
 * the sequence stage applies those before the event itself: the order a replay applies them in.
 */
final class JournalStage implements EventHandler<RingEvent>
{
    private static final Logger LOG = LoggerFactory.getLogger(JournalStage.class);
    private static final int MAX_ENGINE_STARTED_FRAME = 1024;
    static final long FIRST_PROBE_NANOS = 10_000_000L;
    static final long MAX_PROBE_NANOS = 1_000_000_000L;

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
    private final JournalOutageRecord.Encoder outageRecord = new JournalOutageRecord.Encoder();
    private RingBuffer<RingEvent> ring;
    private long lastTimestamp;
    private long documentFirstSequence = -1;
    private long documentStartNanos;
    private EngineMetrics metrics;
    private long failures;
    private long lastDurableResult = -1;

    // ---- availability: written on this stage's thread; health and wakeAt are read by others
    private final String directory;
    private final int resumeChunk;
    private final long stopAfterNanos;
    private final AtomicReference<EngineHealth> health;
    private final Runnable onOutageLimit;
    private final ArrayDeque<Kept> keptDerived = new ArrayDeque<>();
    private final ArrayDeque<Kept> keptResults = new ArrayDeque<>();
    private boolean down;
    private boolean stopRequested;
    private long downSinceNanos;
    private long downSinceTimestamp;
    private String cause;
    private long nextProbeAt;
    private long probeBackoff;
    private long refused;
    private long rejournaled;
    private long outages;
    private volatile long wakeAt = Long.MAX_VALUE;

    /**
     * @param resumeChunk kept results journaled before one event, at most, after an outage.
     * @param stopAfterNanos how long the journal may stay down before {@code onOutageLimit} runs; 0: forever.
     * @param health where this stage reports the journal's availability.
     * @param onOutageLimit run once (on this thread: it must not block) when the outage lasts past the limit.
     */
    JournalStage(
        final JournalWriter writer,
        final EpochNanoClock clock,
        final HandlerRegistry registry,
        final long lastTimestamp,
        final String engineVersion,
        final String directory,
        final int resumeChunk,
        final long stopAfterNanos,
        final AtomicReference<EngineHealth> health,
        final Runnable onOutageLimit)
    {
        this.writer = writer;
        this.clock = clock;
        this.registry = registry;
        this.lastTimestamp = lastTimestamp;
        this.engineVersion = engineVersion;
        this.directory = directory;
        this.resumeChunk = resumeChunk;
        this.stopAfterNanos = stopAfterNanos;
        this.health = health;
        this.onOutageLimit = onOutageLimit;
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

    private final java.util.concurrent.atomic.AtomicLong through = new java.util.concurrent.atomic.AtomicLong(-1);

    @Override
    public void onEvent(final RingEvent event, final long sequence, final boolean endOfBatch)
    {
        event.journaled = false;
        event.resumed = null;
        event.journalError = null;
        if (event.kind != RingEvent.STATUS && event.kind != RingEvent.SNAPSHOT &&
            event.kind != RingEvent.DEAD_LETTER_QUERY && event.kind != RingEvent.SUBMIT_UNINSTALLED)
        {
            final boolean writable = down ? probe(event, sequence) : keptResults.isEmpty() || journalKept(event, sequence, false);
            if (writable)
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
            else
            {
                notJournaled(event);
            }
        }
        else if (event.kind == RingEvent.STATUS || event.kind == RingEvent.SUBMIT_UNINSTALLED)
        {
            // not journaled, but judged at the time a record appended now would have: an outcome past its
            // retention window is not found, as a submission of its key at this moment would not find it
            event.timestamp = nextTimestamp();
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
            through.lazySet(sequence);
        }
    }

    /**
     * @return the ring sequence this stage has passed, its batch flushed to the journal (or kept, in an outage);
     *     -1 before the first batch. Any thread.
     */
    long through()
    {
        return through.get();
    }

    /**
     * The timestamp of the next record: the clock's when no document is open, else the open document's first
     * record's (records appended together are committed together, and a clock read costs about as much as
     * encoding a record); never less than the last one.
     */
    private long nextTimestamp()
    {
        if (writer.recordsInOpenDocument() > 0)
        {
            return lastTimestamp;
        }
        final long now = clock.nanoTime();
        final long timestamp = now > lastTimestamp ? now : lastTimestamp;
        lastTimestamp = timestamp;
        return timestamp;
    }

    private void append(final RingEvent e, final long sequence)
    {
        final long timestamp = nextTimestamp();
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
        if (down)
        {
            return false;
        }
        try
        {
            final int frame = e.succeeded ? SucceededRecord.OUTPUT_OFFSET + 4 + e.output.length() : FailedRecord.MESSAGE_OFFSET + 2 + e.output.length();
            if (!writer.fits(frame))
            {
                // the document is full: commit it now, so a failure later leaves its results journaled
                writer.flush();
                lastDurableResult = sequence - 1;
            }
            final long timestamp = nextTimestamp();
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
        if (down)
        {
            return false;
        }
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

    /**
     * Start a batch of inline results: none of it is durable yet.
     */
    void beginResults()
    {
        lastDurableResult = -1;
    }

    /**
     * @return the last ring sequence whose inline result is journaled although the results' commit failed
     *     (its document was committed early, being full); -1 when none.
     */
    long lastDurableResult()
    {
        return lastDurableResult;
    }

    /**
     * Keep the result of an inline attempt whose journal write failed (or was not tried: the journal is
     * down), to journal it when the journal is back.
     */
    void keepInlineResult(final RingEvent e)
    {
        keptResults.add(Kept.result(e.succeeded ? RecordType.SUCCEEDED : RecordType.FAILED, e.eventId, e.resultAttempt, e.errorKind,
            e.held, e.startedAt, e.finishedAt, e.output.toArray()));
        wakeAt = down ? nextProbeAt : 0;
    }

    private void abandonResults(final RuntimeException ex)
    {
        failures++;
        documentFirstSequence = -1;
        rollbackQuietly();
        goDown(ex);
    }

    private void rollbackQuietly()
    {
        try
        {
            writer.abandon();
            writer.rollback();
        }
        catch (final RuntimeException rollbackFailure)
        {
            LOG.debug("journal rollback failed", rollbackFailure);
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
     * The open document cannot be written: discard it, and deal with its events (and the one that failed to
     * join it) as not journaled; the journal is down.
     */
    private void failOpenDocument(final long sequence, final RuntimeException ex)
    {
        failures++;
        rollbackQuietly();
        goDown(ex);
        final long from = documentFirstSequence >= 0 ? documentFirstSequence : sequence;
        for (long s = from; s <= sequence; s++)
        {
            final RingEvent e = ring.get(s);
            e.journaled = false;
            if (e.kind != RingEvent.STATUS && e.kind != RingEvent.SUBMIT_UNINSTALLED)
            {
                notJournaled(e);
            }
        }
        documentFirstSequence = -1;
    }

    /**
     * An event the journal did not take: keep what must not be lost, count what is refused.
     */
    private void notJournaled(final RingEvent e)
    {
        e.journalError = cause;
        switch (e.kind)
        {
            case RingEvent.COMPLETION -> keptResults.add(Kept.result(e.succeeded ? RecordType.SUCCEEDED : RecordType.FAILED, e.taskId,
                e.attempt, e.errorKind, e.held, e.startedAt, e.finishedAt, e.output.toArray()));
            case RingEvent.DERIVED -> keptDerived.add(Kept.derived(e.derivedType, e.taskId, e.attempt, e.derivedReason, e.derivedTime));
            case RingEvent.SUBMIT, RingEvent.CANCEL -> refused++;
            default ->
            {
                // a tick: its timers stay due and fire on the first tick after; an engine start: refused
            }
        }
    }

    /**
     * The journal is down: try it, at most once per back-off interval.
     *
     * @return true when it is writable again (the outage record and kept records are journaled).
     */
    private boolean probe(final RingEvent e, final long sequence)
    {
        final long now = System.nanoTime();
        if (now < nextProbeAt)
        {
            return false;
        }
        if (journalKept(e, sequence, true))
        {
            return true;
        }
        if (down)
        {
            probeBackoff = Math.min(MAX_PROBE_NANOS, probeBackoff * 2);
            nextProbeAt = now + probeBackoff;
            wakeAt = nextProbeAt;
            if (stopAfterNanos > 0 && !stopRequested && now - downSinceNanos >= stopAfterNanos)
            {
                stopRequested = true;
                LOG.error("journal {} has been unwritable for {} ms ({}); stopping the engine as configured (stopAfterJournalOutage)",
                    directory, (now - downSinceNanos) / 1_000_000, cause);
                health.set(new EngineHealth(EngineHealth.State.STOPPED, "stopping: the journal has been unwritable for " +
                    (now - downSinceNanos) / 1_000_000 + " ms, longer than stopAfterJournalOutage allows: " + cause, System.currentTimeMillis()));
                onOutageLimit.run();
            }
        }
        return false;
    }

    /**
     * Journal, in a document of their own, the kept derived records (with the outage record, after an
     * outage) and up to {@code resumeChunk} kept results, and hand what was journaled to {@code e}.
     *
     * @return true when all of that was journaled (the journal is up).
     */
    private boolean journalKept(final RingEvent e, final long sequence, final boolean afterOutage)
    {
        if (writer.hasOpenDocument())
        {
            // commit the batch so far first: a failure below then loses only kept records, which stay kept
            try
            {
                writer.flush();
            }
            catch (final RuntimeException ex)
            {
                failOpenDocument(sequence - 1, ex);
                return false;
            }
            documentFirstSequence = -1;
        }
        final int derivedCount = afterOutage ? keptDerived.size() : 0;
        final int resultCount = Math.min(resumeChunk, keptResults.size());
        final Kept[] chunk = new Kept[derivedCount + resultCount];
        int n = 0;
        for (final Kept k : keptDerived)
        {
            if (n == derivedCount)
            {
                break;
            }
            chunk[n++] = k;
        }
        for (final Kept k : keptResults)
        {
            if (n == chunk.length)
            {
                break;
            }
            chunk[n++] = k;
        }
        int durable = 0;
        RuntimeException failure = null;
        try
        {
            if (afterOutage)
            {
                final int offset = writer.claim(JournalOutageRecord.MAX_FRAME_LENGTH);
                outageRecord.wrap(writer.buffer(), offset)
                    .startedAt(downSinceTimestamp)
                    .refused(refused)
                    .rejournaled(keptDerived.size() + keptResults.size())
                    .cause(cause);
                writer.commit(RecordType.JOURNAL_OUTAGE, 0, nextTimestamp(), outageRecord.frameLength());
            }
            for (int i = 0; i < chunk.length; i++)
            {
                writeKept(chunk[i]);
                if (writer.recordsInOpenDocument() == 1)
                {
                    durable = i;
                }
            }
            writer.flush();
            durable = chunk.length;
        }
        catch (final RuntimeException ex)
        {
            failure = ex;
            failures++;
            rollbackQuietly();
        }
        for (int i = 0; i < durable; i++)
        {
            (chunk[i].isResult() ? keptResults : keptDerived).poll();
        }
        rejournaled += durable;
        if (durable > 0)
        {
            e.resumed = durable == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, durable);
        }
        if (failure != null)
        {
            if (down)
            {
                cause = failure.getMessage();
            }
            else
            {
                goDown(failure);
            }
            return false;
        }
        if (down)
        {
            up();
        }
        wakeAt = keptResults.isEmpty() ? Long.MAX_VALUE : 0;
        return true;
    }

    private void writeKept(final Kept k)
    {
        final long timestamp = nextTimestamp();
        if (k.isResult())
        {
            if (k.type == RecordType.SUCCEEDED)
            {
                final int offset = writer.claim(SucceededRecord.OUTPUT_OFFSET + 4 + k.output.length);
                succeeded.wrap(writer.buffer(), offset)
                    .taskId(k.taskId)
                    .attempt(k.attempt)
                    .flags(k.held ? SucceededRecord.FLAG_HELD : 0)
                    .startedAt(k.startedAt)
                    .finishedAt(k.finishedAt)
                    .output(k.output, 0, k.output.length);
                k.eventId = writer.commit(RecordType.SUCCEEDED, 0, timestamp, succeeded.frameLength());
            }
            else
            {
                final int offset = writer.claim(FailedRecord.MESSAGE_OFFSET + 2 + k.output.length);
                failed.wrap(writer.buffer(), offset)
                    .taskId(k.taskId)
                    .attempt(k.attempt)
                    .errorKind(k.errorKind)
                    .startedAt(k.startedAt)
                    .finishedAt(k.finishedAt)
                    .message(k.output, 0, k.output.length);
                k.eventId = writer.commit(RecordType.FAILED, 0, timestamp, failed.frameLength());
            }
        }
        else
        {
            final int offset = writer.claim(TransitionRecord.FRAME_LENGTH);
            transition.wrap(writer.buffer(), offset)
                .taskId(k.taskId)
                .attempt(k.attempt)
                .reason(k.reason)
                .time(k.time);
            k.eventId = writer.commit(k.type, RecordDescriptor.FLAG_DERIVED, timestamp, TransitionRecord.FRAME_LENGTH);
        }
        k.timestamp = timestamp;
        k.document = writer.documentIndex();
        k.offset = writer.lastRecordOffset();
    }

    private void goDown(final RuntimeException ex)
    {
        cause = ex.getMessage();
        if (down)
        {
            return;
        }
        down = true;
        outages++;
        downSinceNanos = System.nanoTime();
        downSinceTimestamp = clock.nanoTime();
        refused = 0;
        rejournaled = 0;
        probeBackoff = FIRST_PROBE_NANOS;
        nextProbeAt = downSinceNanos + probeBackoff;
        wakeAt = nextProbeAt;
        final String reason = writer.faulted() != null ? cause : "the journal cannot be written: " + cause;
        final EngineHealth before = health.getAndUpdate(h -> h.state() == EngineHealth.State.STOPPED ? h :
            new EngineHealth(EngineHealth.State.JOURNAL_UNAVAILABLE, reason, System.currentTimeMillis()));
        if (before.state() == EngineHealth.State.STOPPED)
        {
            // not an outage: a stop gave up waiting for this stage (held by a handler on its thread) and closed the journal
            LOG.warn("journal {} was closed by a stop that did not wait for this stage any longer (a handler held its thread?): " +
                "what the stage still held is not journaled, and none of it was acknowledged ({})", directory, cause);
            return;
        }
        LOG.error("journal {} cannot be written; refusing submissions and keeping results until it can (probing it every {} ms at most)",
            directory, MAX_PROBE_NANOS / 1_000_000, ex);
    }

    private void up()
    {
        down = false;
        stopRequested = false;
        final long downMillis = (System.nanoTime() - downSinceNanos) / 1_000_000;
        health.getAndUpdate(h -> h.state() == EngineHealth.State.STOPPED ? h : EngineHealth.ready(System.currentTimeMillis()));
        LOG.info("journal {} is writable again after {} ms; {} submissions and cancels were refused meanwhile, {} kept records " +
            "journaled now{}", directory, downMillis, refused, rejournaled,
            keptResults.isEmpty() ? "" : " and " + keptResults.size() + " more to follow");
    }

    /**
     * @return when the ticker should next send a tick for this stage's sake (a probe while the journal is
     *     down, kept results to journal after it): {@link System#nanoTime()} time, {@link Long#MAX_VALUE}
     *     when nothing, 0 when now. Read from any thread.
     */
    long wakeAt()
    {
        return wakeAt;
    }

    /**
     * @return whether the journal is down (this stage's thread, or the sequence stage's after this one).
     */
    boolean down()
    {
        return down;
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

    long outages()
    {
        return outages;
    }

    /**
     * A record the journal could not take during an outage, kept to be journaled when it can: the result
     * of an attempt (SUCCEEDED or FAILED, its output or message copied) or a derived record. Once journaled,
     * it carries where, and the sequence stage applies it from there.
     */
    static final class Kept
    {
        final RecordType type;
        final long taskId;
        final int attempt;
        final int errorKind;
        final boolean held;
        final long startedAt;
        final long finishedAt;
        final byte[] output;
        final int reason;
        final long time;
        long eventId;
        long timestamp;
        long document;
        int offset;

        private Kept(
            final RecordType type, final long taskId, final int attempt, final int errorKind, final boolean held, final long startedAt,
            final long finishedAt, final byte[] output, final int reason, final long time)
        {
            this.type = type;
            this.taskId = taskId;
            this.attempt = attempt;
            this.errorKind = errorKind;
            this.held = held;
            this.startedAt = startedAt;
            this.finishedAt = finishedAt;
            this.output = output;
            this.reason = reason;
            this.time = time;
        }

        static Kept result(
            final RecordType type, final long taskId, final int attempt, final int errorKind, final boolean held, final long startedAt,
            final long finishedAt, final byte[] output)
        {
            return new Kept(type, taskId, attempt, errorKind, held, startedAt, finishedAt, output, 0, 0);
        }

        static Kept derived(final RecordType type, final long taskId, final int attempt, final int reason, final long time)
        {
            return new Kept(type, taskId, attempt, 0, false, 0, 0, null, reason, time);
        }

        boolean isResult()
        {
            return type == RecordType.SUCCEEDED || type == RecordType.FAILED;
        }
    }
}
