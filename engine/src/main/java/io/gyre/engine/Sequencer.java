package io.gyre.engine;

import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.FailedRecord;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.SucceededRecord;
import io.gyre.journal.TransitionRecord;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * The engine's state machine: deduplication, every task's lifecycle, timers, retries, pool slots and the
 * dead-letter list. It
 * reads time and randomness only from the events it is given, so feeding it a journal's records rebuilds
 * exactly the state the live engine had (invariant 4): the sequence stage and replay call the same methods.
 * <p>
 * Single-threaded: the sequence stage's thread (or the thread replaying a journal before the ring starts).
 * Every decision is written to an {@link Effects} for the stages after it; nothing here executes, journals
 * or replies.
 */
final class Sequencer
{
    static final int RESULT_ACCEPTED = 1;
    static final int RESULT_JOINED = 2;
    static final int RESULT_DUPLICATE = 3;
    static final int RESULT_REJECTED = 4;

    /** Reason codes of derived records (see docs/JOURNAL.md). */
    static final int REASON_RETRY_AFTER_FAILURE = 1;
    static final int REASON_RETRY_AFTER_TIMEOUT = 2;
    static final int REASON_RETRY_AFTER_REDRIVE = 3;
    static final int REASON_TIMED_OUT_FINAL = 1;
    static final int REASON_TIMED_OUT_WILL_RETRY = 2;
    static final int REASON_CANCELLED_WAITING = 1;
    static final int REASON_CANCELLED_RUNNING = 2;
    static final int REASON_DEAD_LETTER_PERMANENT = 1;
    static final int REASON_DEAD_LETTER_EXHAUSTED = 2;
    static final int REASON_DEAD_LETTER_TIMED_OUT = 3;

    /** Free task records kept for reuse whatever the live tasks number: enough for a ring's worth of tasks in flight. */
    private static final int FREE_RECORDS_KEPT = 4096;
    private static final int PRIORITIES = 3;
    /** Timers of finished tasks are dropped once there are more timers than this, or than twice those kept the last time. */
    private static final int TIMERS_COMPACT_MIN = 4096;
    private static final int GROUPS = 4;
    private static final int GROUP_INLINE = 0;
    private static final int GROUP_BLOCKING = 1;
    private static final int GROUP_ASYNC = 2;
    private static final int GROUP_CPU = 3;
    private static final long NANOS_PER_MILLI = 1_000_000L;
    /** Ticks at most that forget expired outcomes per retention window, on an otherwise idle engine. */
    private static final long RETENTION_TICKS_PER_WINDOW = 16;

    private final HandlerRegistry registry;
    private final KeyMatcher keyMatcher;
    private final SubmissionReader submission;
    private Settings settings;
    /** {@link Settings#admissionLimit} by priority code, for the current settings. */
    private final int[] admissionLimits = new int[PRIORITIES];
    /**
     * No retained outcome leaves the retention window before this time: a lower bound of the oldest one's
     * expiry, so that advancing the clock compares one long instead of reading the oldest entry. The oldest
     * entry's finish time only grows, so the bound stays true as entries go; a new entry lowers it if it must.
     * Derived: reset when the settings or the whole state are replaced.
     */
    private long retentionCheckAt = Long.MIN_VALUE;

    /** Live tasks by id, and by key hash: small and hot. */
    private final TasksById byId = new TasksById(TasksById.DEFAULT_SLOTS);
    private final TasksByKey byKey = new TasksByKey(TasksByKey.INITIAL_BUCKETS);
    /** Finished tasks, remembered for deduplication. */
    private final RetainedOutcomes retained;
    private final TenantIndex tenants = new TenantIndex(TenantIndex.LIMIT);
    /** Dead-lettered tasks, kept until redriven or purged. */
    private final DeadLetters deadLetters = new DeadLetters();
    private long deadLetterOverflows;
    /** Pool and async slots held, by {@link #slotKey attempt}: attempt | group << 32 | type index << 40. */
    private final Long2LongHashMap inPool = new Long2LongHashMap(64, 0.65f, -1);
    /** Timers in one heap, and those due moved to a queue per priority: journals before {@link Settings#timersByPriority}. */
    private final TimerHeap timers = new TimerHeap();
    private final DueTimers[] due = {new DueTimers(), new DueTimers(), new DueTimers()};
    /** Timers by the priority of their task, each heap earliest first: {@link Settings#timersByPriority}. */
    private final TimerHeap[] timersByPriority = {new TimerHeap(), new TimerHeap(), new TimerHeap()};
    /** The timers (over {@link #timersByPriority}) at which those that can no longer act are next dropped. */
    private int timersCompactAt = TIMERS_COMPACT_MIN;
    private final WaiterPool waiters = new WaiterPool();
    private final TaskRecord[] pendingHead = new TaskRecord[PRIORITIES];
    private final TaskRecord[] pendingTail = new TaskRecord[PRIORITIES];
    /**
     * While a stop or a start requeues interrupted attempts: the last one requeued, by priority (see {@link #requeueFirst});
     * cleared after each run of requeues, so null between records.
     */
    private final TaskRecord[] requeuedLast = new TaskRecord[PRIORITIES];
    private final DerivedExpectations expected = new DerivedExpectations();

    private TransitionObserver observer;
    /** Status events: every transition, for the event hub, while anyone subscribes; null otherwise and in replay. */
    private LiveTransitions live;
    /** Null during replay: only live decisions are counted. */
    private EngineMetrics metrics;
    private Effects derivedSink;
    private Effects joinersSink;
    /** Where the outcome of a result being applied is read from: its event, or (a kept one) the journal. */
    private int resultSource = Effects.SOURCE_THIS_EVENT;
    /** Records of finished tasks, for reuse (no allocation per task in a steady state); {@link #retire} bounds them. */
    private TaskRecord free;
    private int freeCount;
    private int liveCount;
    private int pendingCount;
    private int pendingInlineCount;
    /** Handed-off attempts running, by {@link #group(int) mode group}. */
    private final int[] groupInUse = new int[GROUPS];
    /** Tasks in the pending queues by execution group (derived: counted as they are queued, restored likewise). */
    private final int[] pendingByGroup = new int[GROUPS];
    /**
     * The types the journal names that this engine has no handler for (a plugin removed), by name: each gets a
     * {@link #typeSlot} of its own after the registry's, so its journaled concurrency limit applies as it did.
     */
    private final UnhandledTypes unhandled;
    /** Handed-off attempts running, pending tasks, and the limit, by {@link #typeSlot type slot}. */
    private final int[] typeInUse;
    private final int[] pendingByType;
    private final int[] typeLimit;
    private long now;

    private long derivedVerified;
    private long derivedMismatches;
    private String firstMismatch;
    private long lateResults;

    /** Between an ENGINE_STOP record and the next ENGINE_STARTED: no attempt starts. */
    private boolean stopping;
    private long stopBeganAt;
    private long stopDeadline;
    /**
     * While stopping: tasks holding an outcome whose time comes by the stop's deadline. A graceful stop waits
     * for them as for attempts still running (they finish within it); derived from the state, never decides.
     */
    private int heldDueInStop;
    private volatile int heldDueInStopPublished;
    /** Attempts moved back to PENDING since the last ENGINE_STARTED (by a stop record, or by the start itself). */
    private long interrupted;
    private int engineStarts;
    private boolean stoppedCleanly;

    Sequencer(final Settings settings, final HandlerRegistry registry, final JournalReader lookup)
    {
        this.settings = settings;
        this.registry = registry;
        this.keyMatcher = new KeyMatcher(lookup);
        this.submission = new SubmissionReader(lookup, registry, tenants);
        this.retained = new RetainedOutcomes(settings.maxRetainedOutcomes());
        // a slot per type the registry can hold, one per type it has no handler for, and the last for types past those
        this.unhandled = new UnhandledTypes(registry.capacity());
        this.typeInUse = new int[unhandled.slots()];
        this.pendingByType = new int[unhandled.slots()];
        this.typeLimit = new int[unhandled.slots()];
        resolveTypeLimits();
    }

    /**
     * Derive what the settings decide per submission or per type: the admission limit of each priority, and
     * each known type's concurrency limit. Called whenever the settings change.
     */
    private void resolveTypeLimits()
    {
        for (int priority = 0; priority < PRIORITIES; priority++)
        {
            admissionLimits[priority] = settings.admissionLimit(priority);
        }
        for (final String limited : new java.util.TreeSet<>(settings.typeLimits().keySet()))
        {
            // a replay's registry names the limited types here, before a record of theirs (no-op otherwise)
            registry.idOf(limited);
        }
        for (int id = 0; id < registry.size(); id++)
        {
            typeLimit[id] = settings.typeLimit(registry.typeOf(id));
        }
        for (int i = 0; i < unhandled.count(); i++)
        {
            typeLimit[unhandled.slot(i)] = settings.typeLimit(unhandled.type(i));
        }
        typeLimit[unhandled.overflow()] = 0;
    }

    /**
     * @return the slot group of an execution mode (journaled code): inline, blocking pool, async, CPU pool. A
     *     code this build does not know counts as blocking.
     */
    private static int group(final int mode)
    {
        if (mode == ExecutionMode.INLINE.code())
        {
            return GROUP_INLINE;
        }
        if (mode == ExecutionMode.ASYNC.code())
        {
            return GROUP_ASYNC;
        }
        if (mode == ExecutionMode.CPU.code())
        {
            return GROUP_CPU;
        }
        return GROUP_BLOCKING;
    }

    private int groupLimit(final int group)
    {
        return switch (group)
        {
            case GROUP_BLOCKING -> settings.blockingSlots();
            case GROUP_ASYNC -> settings.asyncSlots();
            case GROUP_CPU -> settings.cpuSlots();
            default -> Integer.MAX_VALUE;
        };
    }

    /**
     * A task type's index in the per-type arrays (its concurrency limit and counters), by the name the journal
     * gives it, whether or not this engine has a handler for it: the handler's id, or for a type without one (a
     * plugin removed since its tasks were journaled) a slot named after the registry's, whose limit is the one the
     * journaled settings give that name. So replay decides the same with or without the handler (invariant 4).
     * Types past {@link HandlerRegistry#REPLAY_TYPES} unhandled ones share the last slot, which has no limit.
     *
     * @param handlerId the registry's id of the type named by the bytes, or {@link HandlerRegistry#UNKNOWN}.
     */
    private int typeSlot(final int handlerId, final DirectBuffer name, final int offset, final int length)
    {
        if (handlerId >= 0)
        {
            return handlerId;
        }
        final int found = unhandled.find(name, offset, length);
        return found >= 0 ? found : nameUnhandled(name.getStringWithoutLengthUtf8(offset, length));
    }

    /** As {@link #typeSlot(int, DirectBuffer, int, int)}, by the type's name as a string (a snapshot's). */
    private int typeSlot(final int handlerId, final String name)
    {
        if (handlerId >= 0)
        {
            return handlerId;
        }
        final int found = unhandled.find(name);
        return found >= 0 ? found : nameUnhandled(name);
    }

    private int nameUnhandled(final String name)
    {
        final int slot = unhandled.add(name);
        if (slot != unhandled.overflow())
        {
            typeLimit[slot] = settings.typeLimit(name);
        }
        return slot;
    }

    /** @return the slot of a task whose type this engine knows only by its handler id (a live submission's). */
    private int typeSlot(final int handlerId)
    {
        return handlerId >= 0 ? handlerId : unhandled.overflow();
    }

    private boolean hasSlot(final int mode, final int typeSlot)
    {
        if (stopping)
        {
            return false;
        }
        final int g = group(mode);
        if (g == GROUP_INLINE)
        {
            return true;
        }
        final int t = typeSlot;
        return groupInUse[g] < groupLimit(g) && (typeLimit[t] == 0 || typeInUse[t] < typeLimit[t]);
    }

    /**
     * @return a submission's tenant as this engine's id for it (see {@link TenantIndex}).
     */
    int tenantOf(final DirectBuffer tenant, final int offset, final int length)
    {
        return tenants.idOf(tenant, offset, length);
    }

    /**
     * @return the tenants by id, as metric labels (any thread).
     */
    java.util.List<String> tenantNames()
    {
        return tenants.names();
    }

    // ------------------------------------------------------------------------------------------------
    // Inputs

    /**
     * A submission, journaled at (document, offset) as event {@code eventId}; {@code hash} is
     * {@link KeyHasher#hash} of its key (the caller's: it may have it already).
     *
     * @return one of the RESULT_ codes.
     */
    int submitted(
        final long eventId,
        final long timestamp,
        final long document,
        final int offset,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final long hash,
        final int tenant,
        final int handlerId,
        final int mode,
        final int priority,
        final int timeoutMillis,
        final int maxAttempts,
        final int backoffInitialMillis,
        final int backoffMaxMillis,
        final float backoffMultiplier,
        final float backoffJitter,
        final int taskFlags,
        final boolean payloadInEvent,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        return submitted(eventId, timestamp, document, offset, key, keyOffset, keyLength, hash, tenant, handlerId, typeSlot(handlerId),
            mode, priority, timeoutMillis, maxAttempts, backoffInitialMillis, backoffMaxMillis, backoffMultiplier, backoffJitter, taskFlags,
            payloadInEvent, target, correlation, fx);
    }

    /**
     * As above, with the slot of the submission's type in the per-type arrays ({@link #typeSlot}).
     */
    private int submitted(
        final long eventId,
        final long timestamp,
        final long document,
        final int offset,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final long hash,
        final int tenant,
        final int handlerId,
        final int typeSlot,
        final int mode,
        final int priority,
        final int timeoutMillis,
        final int maxAttempts,
        final int backoffInitialMillis,
        final int backoffMaxMillis,
        final float backoffMultiplier,
        final float backoffJitter,
        final int taskFlags,
        final boolean payloadInEvent,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        advance(timestamp);
        final TaskRecord existing = findLive(hash, key, keyOffset, keyLength);
        if (existing == null)
        {
            final int slot = findRetained(hash, key, keyOffset, keyLength);
            if (slot >= 0)
            {
                retainedReply(fx, Effects.REPLY_OUTCOME, slot, target, correlation, true);
                if (metrics != null)
                {
                    metrics.count(handlerId, tenant, EngineMetrics.Count.DUPLICATE);
                }
                return RESULT_DUPLICATE;
            }
        }
        else
        {
            if (existing.waiterCount >= settings.maxWaitersPerTask())
            {
                rejectReply(fx, target, correlation, existing.taskId, RejectReason.TOO_MANY_WAITERS);
                if (metrics != null)
                {
                    metrics.count(handlerId, tenant, EngineMetrics.Count.REJECTED_TOO_MANY_WAITERS);
                }
                return RESULT_REJECTED;
            }
            addWaiter(existing, target, correlation);
            fx.reply(Effects.REPLY_ACCEPTED, target, correlation, existing.taskId);
            if (metrics != null)
            {
                metrics.count(handlerId, tenant, EngineMetrics.Count.JOINED);
            }
            return RESULT_JOINED;
        }
        if (liveCount >= settings.maxLiveTasks())
        {
            derive(fx, RecordType.REJECTED, eventId, 0, RejectReason.CAPACITY.code(), 0);
            rejectReply(fx, target, correlation, eventId, RejectReason.CAPACITY);
            if (metrics != null)
            {
                metrics.count(handlerId, tenant, EngineMetrics.Count.REJECTED_CAPACITY);
            }
            return RESULT_REJECTED;
        }
        final int clampedPriority = Math.min(Math.max(priority, 0), PRIORITIES - 1);
        if (liveCount >= admissionLimits[clampedPriority])
        {
            derive(fx, RecordType.REJECTED, eventId, 0, RejectReason.BUSY.code(), 0);
            rejectReply(fx, target, correlation, eventId, RejectReason.BUSY);
            if (metrics != null)
            {
                metrics.count(handlerId, tenant, EngineMetrics.Count.REJECTED_BUSY);
            }
            return RESULT_REJECTED;
        }

        final TaskRecord r = allocate();
        r.taskId = eventId;
        r.keyHash = hash;
        r.state = TaskState.PENDING;
        r.handlerId = handlerId;
        r.typeSlot = typeSlot;
        r.mode = (byte)mode;
        r.priority = (byte)Math.min(Math.max(priority, 0), PRIORITIES - 1);
        r.timeoutMillis = timeoutMillis;
        r.maxAttempts = Math.max(1, maxAttempts);
        r.backoffInitialMillis = backoffInitialMillis;
        r.backoffMaxMillis = backoffMaxMillis;
        r.backoffMultiplier = backoffMultiplier;
        r.backoffJitter = backoffJitter;
        r.taskFlags = taskFlags;
        r.tenant = tenant;
        r.submittedAt = timestamp;
        r.queuedAt = timestamp;
        r.submitDocument = document;
        r.submitOffset = offset;
        if (observer != null)
        {
            observer.onTransition(eventId, null, TaskState.PENDING, 0, now);
        }
        if (live != null)
        {
            live.onTransition(r, null, TaskState.PENDING, now);
        }
        byKey.add(r);
        byId.put(eventId, r);
        liveCount++;
        addWaiter(r, target, correlation);
        fx.reply(Effects.REPLY_ACCEPTED, target, correlation, eventId);

        r.attempt = 1;
        if (metrics != null)
        {
            metrics.count(handlerId, tenant, EngineMetrics.Count.ACCEPTED);
        }
        startOrQueue(r, fx, payloadInEvent);
        return RESULT_ACCEPTED;
    }

    /**
     * The result of an attempt, journaled at (document, offset).
     */
    void completed(
        final long timestamp,
        final long document,
        final int offset,
        final long taskId,
        final int attempt,
        final boolean succeeded,
        final int errorKind,
        final boolean held,
        final long startedAt,
        final long finishedAt,
        final Effects fx)
    {
        advance(timestamp);
        final TaskRecord r = byId.get(taskId);
        if (r == null || r.state != TaskState.RUNNING || r.attempt != attempt)
        {
            // the result of an attempt that was cancelled, timed out or superseded: recorded, changes nothing
            lateResults++;
            releaseSlot(taskId, attempt, fx);
            return;
        }
        r.startedAt = startedAt;
        if (attempt == r.attemptBase + 1 && startedAt > 0)
        {
            // the queue ends when the first attempt's handler really started (journaled with its result), not when
            // it was dispatched: an inline attempt may wait for its batch, a pooled one for a thread
            r.firstStartedAt = startedAt;
            if (metrics != null)
            {
                // the same span the task's accounting counts (queueNanos), so the summary and the total agree
                metrics.record(r.handlerId, EngineMetrics.Latency.QUEUE_WAIT, Math.max(0, startedAt - r.queuedAt));
            }
        }
        r.executionNanos += Math.max(0, (held ? now : finishedAt) - startedAt);
        if (metrics != null)
        {
            metrics.record(r.handlerId, EngineMetrics.Latency.EXECUTION, (held ? now : finishedAt) - startedAt);
            if (!succeeded)
            {
                metrics.count(r.handlerId, r.tenant, errorKind == FailedRecord.KIND_PERMANENT ?
                    EngineMetrics.Count.ATTEMPT_FAILED_PERMANENT : EngineMetrics.Count.ATTEMPT_FAILED_RETRYABLE);
            }
        }
        if (succeeded && held && finishedAt > now)
        {
            // the outcome is journaled; the task stays RUNNING until its release time
            r.outcomeDocument = document;
            r.outcomeOffset = offset;
            r.heldUntil = finishedAt;
            addTimer(finishedAt, r, attempt, TimerHeap.RELEASE);
            if (stopping && finishedAt <= stopDeadline)
            {
                setHeldDueInStop(heldDueInStop + 1);
            }
        }
        else if (succeeded)
        {
            r.outcomeDocument = document;
            r.outcomeOffset = offset;
            finish(r, TaskState.SUCCEEDED, fx, resultSource, finishedAt);
        }
        else
        {
            r.outcomeDocument = document;
            r.outcomeOffset = offset;
            final boolean retryable = errorKind != FailedRecord.KIND_PERMANENT;
            final int reason = retryable ? REASON_DEAD_LETTER_EXHAUSTED : REASON_DEAD_LETTER_PERMANENT;
            if (retryable && attempt < r.maxAttempts)
            {
                scheduleRetry(r, fx, REASON_RETRY_AFTER_FAILURE);
            }
            else if (enterDeadLetters(r, SubmittedRecord.FLAG_DEAD_LETTER, reason, document, offset, finishedAt == 0 ? now : finishedAt))
            {
                derive(fx, RecordType.DEAD_LETTERED, taskId, attempt, reason, 0);
                r.outcomeReason = (byte)reason;
                finish(r, TaskState.DEAD_LETTERED, fx, resultSource, finishedAt);
            }
            else
            {
                finish(r, TaskState.FAILED, fx, resultSource, finishedAt);
            }
        }
        releaseSlot(taskId, attempt, fx);
    }

    /**
     * The result of an attempt that was kept during a journal outage and journaled at (document, offset)
     * after it: as {@link #completed}, its outcome read back from the journal.
     */
    void completedKept(
        final long timestamp,
        final long document,
        final int offset,
        final long taskId,
        final int attempt,
        final boolean succeeded,
        final int errorKind,
        final boolean held,
        final long startedAt,
        final long finishedAt,
        final Effects fx)
    {
        resultSource = Effects.SOURCE_JOURNAL;
        try
        {
            completed(timestamp, document, offset, taskId, attempt, succeeded, errorKind, held, startedAt, finishedAt, fx);
        }
        finally
        {
            resultSource = Effects.SOURCE_THIS_EVENT;
        }
    }

    /**
     * A journaled request to cancel the task with this key.
     */
    void cancelRequested(
        final long timestamp,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        advance(timestamp);
        final long hash = KeyHasher.hash(key, keyOffset, keyLength);
        final TaskRecord r = findLive(hash, key, keyOffset, keyLength);
        if (r == null)
        {
            retainedStatus(fx, findRetained(hash, key, keyOffset, keyLength), target, correlation);
            return;
        }
        if (r.state == TaskState.RUNNING)
        {
            fx.stop(r.taskId, r.attempt);
            r.outcomeReason = (byte)REASON_CANCELLED_RUNNING;
            if (r.heldUntil == 0)
            {
                // a held outcome's attempt ended, and was counted, when its result came: the wait is not execution
                r.executionNanos += Math.max(0, now - r.startedAt);
            }
        }
        else
        {
            removePending(r);
            r.outcomeReason = (byte)REASON_CANCELLED_WAITING;
        }
        r.outcomeDocument = -1;
        derive(fx, RecordType.CANCELLED, r.taskId, r.attempt, r.outcomeReason, 0);
        // the status after the move: answer before the record is retired
        if (target != null)
        {
            final int i = fx.reply(Effects.REPLY_STATUS, target, correlation, r.taskId);
            fillTask(fx, i, r);
            fx.replyState(i, TaskState.CANCELLED);
            fx.replyFinishedAt(i, now);
        }
        finish(r, TaskState.CANCELLED, fx, Effects.SOURCE_NONE, now);
        if (settings.timersByPriority())
        {
            // cancels are what leave timers behind in bulk (a client cancelling its long waits), and an idle engine
            // may not tick for hours
            compactTimers();
        }
    }

    /**
     * @return the last attempt a dead-lettered task was allowed, as STATUS and DLQ_SHOW report it: its remembered
     *     outcome's (which counts the budget of an earlier redrive), else its submission's read back from the
     *     journal; never less than the attempts it made (those when the submission cannot be read).
     */
    private int deadLetteredMaxAttempts(final int letter, final int retainedSlot, final int attempts)
    {
        if (retainedSlot >= 0)
        {
            return retained.maxAttempts(retainedSlot);
        }
        if (submission.read(deadLetters.submitDocument(letter), deadLetters.submitOffset(letter)))
        {
            return Math.max(attempts, Math.max(1, submission.maxAttempts));
        }
        return attempts;
    }

    /**
     * A journaled request to run the dead-lettered task of this key again: it becomes live under the same key
     * and task id, in RETRY_WAIT due now (so it runs at the next tick, its attempts numbered on from the last
     * one), with a fresh budget of its submission's max attempts; its dead letter is removed, and its
     * remembered outcome forgotten (the new outcome replaces it). Anything else changes nothing and is
     * answered with why (see {@link RedriveOutcome}).
     */
    void redriveRequested(
        final long timestamp,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        advance(timestamp);
        final long hash = KeyHasher.hash(key, keyOffset, keyLength);
        final TaskRecord live = findLive(hash, key, keyOffset, keyLength);
        final int retainedSlot = findRetained(hash, key, keyOffset, keyLength);
        keyMatcher.probe(key, keyOffset, keyLength);
        final int letter = deadLetters.find(hash, keyMatcher);
        if (letter < 0 || live != null || (retainedSlot >= 0 && retained.taskId(retainedSlot) != deadLetters.taskId(letter)))
        {
            final int code = letter < 0 ? RedriveOutcome.NOT_DEAD_LETTERED.code() : RedriveOutcome.SUPERSEDED.code();
            if (live != null)
            {
                redriveReply(fx, target, correlation, code, live.taskId, live.state, live.attempt, live.maxAttempts);
            }
            else if (retainedSlot >= 0)
            {
                redriveReply(fx, target, correlation, code, retained.taskId(retainedSlot), retained.state(retainedSlot),
                    retained.attempts(retainedSlot), retained.maxAttempts(retainedSlot));
            }
            else
            {
                redriveReply(fx, target, correlation, code, 0, null, 0, 0);
            }
            return;
        }
        final long taskId = deadLetters.taskId(letter);
        final int attempts = deadLetters.attempts(letter);
        if (liveCount >= settings.maxLiveTasks())
        {
            redriveReply(fx, target, correlation, RedriveOutcome.CAPACITY.code(), taskId, TaskState.DEAD_LETTERED, attempts,
                deadLetteredMaxAttempts(letter, retainedSlot, attempts));
            return;
        }
        if (!submission.read(deadLetters.submitDocument(letter), deadLetters.submitOffset(letter)))
        {
            redriveReply(fx, target, correlation, RedriveOutcome.SUBMISSION_MISSING.code(), taskId, TaskState.DEAD_LETTERED, attempts,
                attempts);
            return;
        }
        final int budget = Math.max(1, submission.maxAttempts);
        if ((long)attempts + budget > Engine.MAX_ATTEMPTS_PER_TASK)
        {
            redriveReply(fx, target, correlation, RedriveOutcome.ATTEMPTS_LIMIT.code(), taskId, TaskState.DEAD_LETTERED, attempts,
                attempts + budget);
            return;
        }

        final TaskRecord r = allocate();
        r.taskId = taskId;
        r.keyHash = hash;
        r.state = TaskState.DEAD_LETTERED;
        r.handlerId = submission.handlerId;
        r.typeSlot = typeSlot(submission.handlerId, submission.type, 0, submission.typeLength);
        r.mode = (byte)submission.mode;
        r.priority = (byte)Math.min(Math.max(submission.priority, 0), PRIORITIES - 1);
        r.timeoutMillis = submission.timeoutMillis;
        r.attempt = attempts;
        r.attemptBase = attempts;
        r.maxAttempts = attempts + budget;
        r.backoffInitialMillis = submission.backoffInitialMillis;
        r.backoffMaxMillis = submission.backoffMaxMillis;
        r.backoffMultiplier = submission.backoffMultiplier;
        r.backoffJitter = submission.backoffJitter;
        r.taskFlags = submission.taskFlags;
        r.submittedAt = deadLetters.submittedAt(letter);
        // a redriven task's accounting is its new run's: queued from the redrive, its attempts from then on
        r.queuedAt = now;
        r.tenant = submission.tenant;
        r.submitDocument = deadLetters.submitDocument(letter);
        r.submitOffset = deadLetters.submitOffset(letter);
        deadLetters.remove(letter);
        if (retainedSlot >= 0)
        {
            retained.forget(retainedSlot);
        }
        byKey.add(r);
        byId.put(taskId, r);
        liveCount++;
        transition(r, TaskState.RETRY_WAIT);
        addTimer(now, r, attempts, TimerHeap.RETRY);
        derive(fx, RecordType.RETRY_SCHEDULED, taskId, attempts, REASON_RETRY_AFTER_REDRIVE, now);
        redriveReply(fx, target, correlation, RedriveOutcome.REDRIVEN.code(), taskId, r.state, r.attempt, r.maxAttempts);
    }

    private void redriveReply(
        final Effects fx,
        final Object target,
        final long correlation,
        final int code,
        final long taskId,
        final TaskState state,
        final int attempts,
        final int maxAttempts)
    {
        if (target == null)
        {
            return;
        }
        final int i = fx.reply(Effects.REPLY_REDRIVE, target, correlation, taskId);
        if (state != null)
        {
            fx.replyTask(i, state, attempts, maxAttempts, -1, 0, code, 0, 0, 0, 0);
        }
        fx.replyReason(i, code);
    }

    /**
     * A journaled request to remove dead letters: every one, or the key's. Their tasks' outcomes stay
     * remembered for deduplication as before (DEAD_LETTERED, until the dedupe window forgets them).
     */
    void purgeRequested(
        final long timestamp,
        final boolean all,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        advance(timestamp);
        int purged = 0;
        if (all)
        {
            if (live != null)
            {
                deadLetters.forEach((sequence, taskId, keyHash, submitDocument, submitOffset, failureDocument, failureOffset, reason,
                    attempts, submittedAt, deadLetteredAt) -> live.onPurged(taskId, submitDocument, submitOffset, attempts, reason, now));
            }
            purged = deadLetters.clear();
        }
        else
        {
            keyMatcher.probe(key, keyOffset, keyLength);
            final int letter = deadLetters.find(KeyHasher.hash(key, keyOffset, keyLength), keyMatcher);
            if (letter >= 0)
            {
                if (live != null)
                {
                    live.onPurged(deadLetters.taskId(letter), deadLetters.submitDocument(letter), deadLetters.submitOffset(letter),
                        deadLetters.attempts(letter), deadLetters.reason(letter), now);
                }
                deadLetters.remove(letter);
                purged = 1;
            }
        }
        if (target != null)
        {
            final int i = fx.reply(Effects.REPLY_PURGED, target, correlation, 0);
            fx.replyPurged(i, purged, deadLetters.size());
        }
    }

    /**
     * A question about the dead-letter list (not journaled; changes nothing): the entries after
     * {@code cursor}, at most {@code limit}, oldest first, written to {@code rows}.
     */
    void listDeadLetters(final long cursor, final int limit, final DeadLetterRows rows, final Effects fx)
    {
        int slot = deadLetters.firstAfter(cursor);
        long last = cursor;
        for (int n = 0; n < limit && slot >= 0; n++)
        {
            row(rows, slot);
            last = deadLetters.sequence(slot);
            slot = deadLetters.next(slot);
        }
        rows.end(last, slot >= 0, deadLetters.size());
        fx.reply(Effects.REPLY_DEAD_LETTERS, rows, 0, 0);
    }

    /**
     * A question about the dead letter of a key (not journaled; changes nothing): its entry, if any, is
     * written to {@code rows}.
     */
    void showDeadLetter(final DirectBuffer key, final int keyOffset, final int keyLength, final DeadLetterRows rows, final Effects fx)
    {
        keyMatcher.probe(key, keyOffset, keyLength);
        final int slot = deadLetters.find(KeyHasher.hash(key, keyOffset, keyLength), keyMatcher);
        if (slot >= 0)
        {
            row(rows, slot);
        }
        rows.end(slot >= 0 ? deadLetters.sequence(slot) : 0, false, deadLetters.size());
        fx.reply(Effects.REPLY_DEAD_LETTERS, rows, 0, 0);
    }

    private void row(final DeadLetterRows rows, final int slot)
    {
        rows.visit(deadLetters.sequence(slot), deadLetters.taskId(slot), deadLetters.keyHash(slot), deadLetters.submitDocument(slot),
            deadLetters.submitOffset(slot), deadLetters.failureDocument(slot), deadLetters.failureOffset(slot), deadLetters.reason(slot),
            deadLetters.attempts(slot), deadLetters.submittedAt(slot), deadLetters.deadLetteredAt(slot));
    }

    /**
     * Time passed: fire due timers, then start waiting work, {@link Settings#timerFiresPerTick()} at most.
     */
    void tick(final long timestamp, final Effects fx)
    {
        advance(timestamp);
        dispatchPending(fx, settings.timersByPriority() ? fireByPriority(fx) : fireMoved(fx));
    }

    private void addTimer(final long dueAt, final TaskRecord r, final int attempt, final int kind)
    {
        if (settings.timersByPriority())
        {
            timersByPriority[r.priority].add(dueAt, r.taskId, attempt, kind);
        }
        else
        {
            timers.add(dueAt, r.taskId, attempt, kind);
        }
    }

    /**
     * Fires due timers, high priority first, {@link Settings#timerFiresPerTick()} at most, looking at eight times as
     * many at most (timers that no longer apply are dropped as they come due, and a million of them due at once must
     * not stall one event).
     *
     * @return what is left of the budget, for waiting work.
     */
    private int fireByPriority(final Effects fx)
    {
        compactTimers();
        int budget = settings.timerFiresPerTick();
        int looks = budget * 8;
        for (int p = 0; p < PRIORITIES && budget > 0; p++)
        {
            final TimerHeap heap = timersByPriority[p];
            while (budget > 0 && looks > 0 && heap.peekDue() <= now)
            {
                final long taskId = heap.peekTaskId();
                final int attempt = heap.peekAttempt();
                final int kind = heap.peekKind();
                heap.poll();
                looks--;
                if (fire(taskId, attempt, kind, fx))
                {
                    budget--;
                }
            }
        }
        return budget;
    }

    /**
     * Timers are not removed when their task finishes (a heap removes its earliest cheaply, any other dearly): a
     * cancelled ten-year {@code wait} would hold its entry for ten years. Once the timers pass twice those kept the
     * last time (and {@link #TIMERS_COMPACT_MIN}), those of tasks no longer live, or of attempts since passed, are
     * dropped: a scan, paid for by the timers that grew the heap. With {@link Settings#timersDroppedByLive}, also once
     * they pass four times the live tasks (and {@link #TIMERS_COMPACT_MIN}): a live task has at most three timers that
     * still apply, so at least a quarter go, and a million long waits all cancelled do not keep theirs (the first rule
     * alone never fires again when nothing adds timers). Looked at on each tick and each cancel; decided from the state
     * alone, as replay decides it.
     */
    private void compactTimers()
    {
        int total = 0;
        for (final TimerHeap heap : timersByPriority)
        {
            total += heap.size();
        }
        if (total < timersCompactAt && (!settings.timersDroppedByLive() || total < TIMERS_COMPACT_MIN + 4L * liveCount))
        {
            return;
        }
        int kept = 0;
        for (final TimerHeap heap : timersByPriority)
        {
            heap.removeIf(this::timerDead);
            kept += heap.size();
        }
        timersCompactAt = (int)Math.min(Integer.MAX_VALUE, Math.max(TIMERS_COMPACT_MIN, 2L * kept));
    }

    /** @return whether a timer can never act again: its task is no longer live, or has passed its attempt. */
    private boolean timerDead(final long taskId, final int attempt)
    {
        final TaskRecord r = byId.get(taskId);
        return r == null || r.attempt > attempt;
    }

    /**
     * Journals before {@link Settings#timersByPriority}: the earliest due timers move to a queue per priority (a
     * bounded number per tick, so a million timers due at once do not stall one event), then fire high priority
     * first, within the budget.
     *
     * @return what is left of the budget, for waiting work.
     */
    private int fireMoved(final Effects fx)
    {
        int moving = settings.timerFiresPerTick() * 8;
        while (moving > 0 && timers.size() > 0 && timers.peekDue() <= now)
        {
            final TaskRecord owner = byId.get(timers.peekTaskId());
            due[owner == null ? PRIORITIES - 1 : owner.priority].add(timers.peekTaskId(), timers.peekAttempt(), timers.peekKind());
            timers.poll();
            moving--;
        }
        int budget = settings.timerFiresPerTick();
        for (int p = 0; p < PRIORITIES && budget > 0; p++)
        {
            final DueTimers queue = due[p];
            while (budget > 0 && !queue.isEmpty())
            {
                final long taskId = queue.peekTaskId();
                final int attempt = queue.peekAttempt();
                final int kind = queue.peekKind();
                queue.poll();
                if (fire(taskId, attempt, kind, fx))
                {
                    budget--;
                }
            }
        }
        return budget;
    }

    /**
     * Settings changed (an engine started): keep the timers where the new settings fire them from. An engine of
     * this version starting on a journal an older one wrote moves the older one's timers, in the order they would
     * have fired, into the heap of their task's priority (those of tasks no longer live are dropped: they would
     * fire nothing).
     */
    private void rehomeTimers()
    {
        if (settings.timersByPriority())
        {
            for (int p = 0; p < PRIORITIES; p++)
            {
                final DueTimers queue = due[p];
                while (!queue.isEmpty())
                {
                    final TaskRecord owner = byId.get(queue.peekTaskId());
                    if (owner != null)
                    {
                        timersByPriority[owner.priority].add(now, queue.peekTaskId(), queue.peekAttempt(), queue.peekKind());
                    }
                    queue.poll();
                }
            }
            while (timers.size() > 0)
            {
                final TaskRecord owner = byId.get(timers.peekTaskId());
                if (owner != null)
                {
                    timersByPriority[owner.priority].add(timers.peekDue(), timers.peekTaskId(), timers.peekAttempt(), timers.peekKind());
                }
                timers.poll();
            }
        }
        else
        {
            // an older engine on a journal a newer one wrote: the timers go back to the one heap, earliest first
            for (final TimerHeap heap : timersByPriority)
            {
                while (heap.size() > 0)
                {
                    timers.add(heap.peekDue(), heap.peekTaskId(), heap.peekAttempt(), heap.peekKind());
                    heap.poll();
                }
            }
            timersCompactAt = TIMERS_COMPACT_MIN;
        }
    }

    /**
     * @return whether the timer still applied (a stale one, for an attempt that moved on, is ignored).
     */
    private boolean fire(final long taskId, final int attempt, final int kind, final Effects fx)
    {
        final TaskRecord r = byId.get(taskId);
        if (r == null || r.attempt != attempt)
        {
            return false;
        }
        if (kind == TimerHeap.RETRY && r.state == TaskState.RETRY_WAIT)
        {
            r.attempt = attempt + 1;
            startOrQueue(r, fx, false);
            return true;
        }
        if (kind == TimerHeap.RELEASE && r.state == TaskState.RUNNING && r.heldUntil > 0)
        {
            finish(r, TaskState.SUCCEEDED, fx, Effects.SOURCE_JOURNAL, r.heldUntil);
            return true;
        }
        // a deadline applies to the run that set it: an attempt requeued after a restart runs again under the same
        // number, and the deadline of its interrupted run must not cut the new run short
        if (kind == TimerHeap.DEADLINE && r.state == TaskState.RUNNING && r.heldUntil == 0 &&
            now - r.startedAt >= r.timeoutMillis * NANOS_PER_MILLI)
        {
            timedOut(r, fx);
            return true;
        }
        return false;
    }

    private long earliestTimer()
    {
        long earliest = timers.peekDue();
        for (final TimerHeap heap : timersByPriority)
        {
            earliest = Math.min(earliest, heap.peekDue());
        }
        return earliest;
    }

    private boolean timersDue()
    {
        for (final DueTimers queue : due)
        {
            if (!queue.isEmpty())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * An engine started on this journal with these settings: attempts that were running when the previous
     * one stopped (a crash, or beyond what its stop record lists) are queued to run again (same attempt
     * number), as the previous engine's stop record already queued those it listed, and waiting work is
     * started. The reply counts every attempt queued again since the previous start.
     */
    void engineStarted(final long timestamp, final Settings newSettings, final Object target, final Effects fx)
    {
        advance(timestamp);
        settings = newSettings;
        rehomeTimers();
        retentionCheckAt = Long.MIN_VALUE;
        // a smaller limit than the previous engine's holds from this start, as a shorter window does at the next record
        retained.trimTo(settings.maxRetainedOutcomes(), settings.forgottenOutcomesCount());
        resolveTypeLimits();
        stopping = false;
        setHeldDueInStop(0);
        engineStarts++;
        stoppedCleanly = false;
        inPool.clear();
        Arrays.fill(groupInUse, 0);
        Arrays.fill(typeInUse, 0);
        final long[] running = runningAttempts(Integer.MAX_VALUE, null);
        for (final long taskId : running)
        {
            interrupt(byId.get(taskId));
        }
        Arrays.fill(requeuedLast, null);
        dispatchPending(fx, settings.timerFiresPerTick());
        if (target != null)
        {
            // the live tasks as replay left them: nothing has finished since (tasks only started)
            fx.reply(Effects.REPLY_STARTED, target, interrupted, liveCount);
        }
        interrupted = 0;
    }

    /**
     * The engine began to stop: from here no attempt starts (waiting work stays PENDING, retries that fall
     * due become PENDING); running attempts may finish, timers still fire.
     */
    void engineStopping(final long timestamp, final long deadline)
    {
        advance(timestamp);
        stopping = true;
        stopBeganAt = timestamp;
        stopDeadline = deadline;
        int due = 0;
        for (final TaskRecord r : byId)
        {
            if (r.state == TaskState.RUNNING && r.heldUntil != 0 && r.heldUntil <= deadline)
            {
                due++;
            }
        }
        setHeldDueInStop(due);
    }

    private void setHeldDueInStop(final int count)
    {
        heldDueInStop = count;
        heldDueInStopPublished = count;
    }

    /**
     * @return while the engine stops, how many tasks hold an outcome whose time comes by the stop's deadline
     *     (not yet released or cancelled); 0 otherwise. Any thread.
     */
    int heldDueInStop()
    {
        return heldDueInStopPublished;
    }

    /**
     * The engine stopped, leaving what its record says (replay only: the live engine writes the record after
     * its stages stopped). The attempts it lists were interrupted: they go back to PENDING, to run again
     * after the next start. A record that does not match this state machine's own view is a mismatch.
     */
    void engineStopped(final long timestamp, final EngineStopRecord.Decoder record)
    {
        advance(timestamp);
        stopping = true;
        stoppedCleanly = true;
        final StopLeft own = stopLeft(EngineStopRecord.MAX_LISTED);
        if (own.pending() != record.pending() || own.running() != record.running() || own.retryWaiting() != record.retryWaiting() ||
            own.held() != record.held())
        {
            mismatch("stop record leaves " + record.pending() + " pending, " + record.running() + " running, " + record.retryWaiting() +
                " waiting to retry, " + record.held() + " held where the state machine has " + own.pending() + ", " + own.running() +
                ", " + own.retryWaiting() + ", " + own.held());
        }
        for (int i = 0; i < record.listedCount(); i++)
        {
            final long taskId = record.listedTaskId(i);
            final int attempt = record.listedAttempt(i);
            final TaskRecord r = byId.get(taskId);
            if (r != null && r.state == TaskState.RUNNING && r.heldUntil == 0 && r.attempt == attempt)
            {
                interrupt(r);
            }
            else
            {
                mismatch("stop record lists task " + taskId + " attempt " + attempt + " as running; it is " +
                    (r == null ? "not live" : r.state + " at attempt " + r.attempt));
            }
        }
        Arrays.fill(requeuedLast, null);
    }

    /**
     * An attempt that was running when its engine stopped goes back to PENDING, under the same number, and
     * gives back its slot. A result of it journaled later is a late result: it changes nothing.
     */
    private void interrupt(final TaskRecord r)
    {
        final long slot = inPool.isEmpty() ? -1 : inPool.get(slotKey(r.taskId, r.attempt));
        if (slot != -1 && (int)slot == r.attempt)
        {
            inPool.remove(slotKey(r.taskId, r.attempt));
            groupInUse[(int)(slot >>> 32) & 0xFF]--;
            typeInUse[(int)(slot >>> 40)]--;
        }
        transition(r, TaskState.PENDING);
        if (settings.requeueFirst())
        {
            requeueFirst(r);
        }
        else
        {
            enqueuePending(r);
        }
        interrupted++;
    }

    /**
     * Queue an interrupted attempt's task ahead of the tasks of its priority that never ran, and in task order among those
     * at the head of the queue that did (attempts interrupted before it, retries waiting for a slot): what a stop or a
     * crash interrupted runs again first, as it was dispatched first. Decided from the queue alone (the walk), so a
     * state loaded from a snapshot decides the same; {@link #requeuedLast} only spares re-walking within one stop's
     * or start's run of requeues, given in task order.
     */
    private void requeueFirst(final TaskRecord r)
    {
        final int p = r.priority;
        TaskRecord after = requeuedLast[p];
        TaskRecord next = after == null ? pendingHead[p] : after.pendingNext;
        while (next != null && next.firstStartedAt != 0 && next.taskId < r.taskId)
        {
            after = next;
            next = next.pendingNext;
        }
        r.pendingPrev = after;
        r.pendingNext = next;
        if (after == null)
        {
            pendingHead[p] = r;
        }
        else
        {
            after.pendingNext = r;
        }
        if (next == null)
        {
            pendingTail[p] = r;
        }
        else
        {
            next.pendingPrev = r;
        }
        countQueued(r);
        requeuedLast[p] = r;
    }

    /**
     * @param max the most to return.
     * @param total when not null, receives the count of all running attempts at [0].
     * @return the task ids of the attempts running (not holding an outcome), in id order, at most {@code max}.
     */
    private long[] runningAttempts(final int max, final int[] total)
    {
        long[] running = new long[16];
        int count = 0;
        for (final TaskRecord r : byId)
        {
            if (r.state == TaskState.RUNNING && r.heldUntil == 0)
            {
                if (count == running.length)
                {
                    running = Arrays.copyOf(running, count * 2);
                }
                running[count++] = r.taskId;
            }
        }
        Arrays.sort(running, 0, count);
        if (total != null)
        {
            total[0] = count;
        }
        return Arrays.copyOf(running, Math.min(count, max));
    }

    /**
     * What is left at a stop: live tasks by what they wait for, and the attempts still running (at most
     * {@code maxListed}, by task id). Called after the stages stopped, or during replay.
     */
    StopLeft stopLeft(final int maxListed)
    {
        int pending = 0;
        int retryWaiting = 0;
        int held = 0;
        for (final TaskRecord r : byId)
        {
            if (r.state == TaskState.PENDING)
            {
                pending++;
            }
            else if (r.state == TaskState.RETRY_WAIT)
            {
                retryWaiting++;
            }
            else if (r.state == TaskState.RUNNING && r.heldUntil != 0)
            {
                held++;
            }
        }
        final int[] total = new int[1];
        final long[] taskIds = runningAttempts(maxListed, total);
        final int[] attempts = new int[taskIds.length];
        for (int i = 0; i < taskIds.length; i++)
        {
            attempts[i] = byId.get(taskIds[i]).attempt;
        }
        return new StopLeft(pending, total[0], retryWaiting, held, taskIds, attempts);
    }

    /**
     * Hand each submission still waiting for a live task's outcome to {@code sink}, once, and forget it: the
     * engine stopped before the task finished (the task stays live, and carries on after the next start).
     * Called by the stopping thread after the stages stopped.
     */
    void takeWaiters(final WaiterSink sink)
    {
        for (final TaskRecord r : byId)
        {
            int w = r.waiterHead;
            while (w >= 0)
            {
                sink.waiting(waiters.target(w), waiters.correlation(w), r);
                w = waiters.next(w);
            }
            waiters.freeList(r.waiterHead);
            r.waiterHead = -1;
            r.waiterCount = 0;
        }
    }

    /** Takes the waiters of live tasks at a stop ({@link #takeWaiters}). */
    interface WaiterSink
    {
        /**
         * @param task valid only during this call.
         */
        void waiting(Object target, long correlation, TaskRecord task);
    }

    /**
     * What a stop leaves.
     *
     * @param running attempts still running, listed or not.
     * @param taskIds the running attempts listed, by task id.
     * @param attempts their attempt numbers.
     */
    record StopLeft(int pending, int running, int retryWaiting, int held, long[] taskIds, int[] attempts)
    {
    }

    /**
     * A derived record came back through the journal: check it is the next one derived.
     */
    void derived(final long timestamp, final RecordType type, final long taskId, final int attempt, final int reason, final long time)
    {
        advance(timestamp);
        if (expected.isEmpty())
        {
            mismatch("unexpected " + type + " for task " + taskId + " attempt " + attempt);
            return;
        }
        if (expected.matchesHead(type, taskId, attempt, reason, time))
        {
            derivedVerified++;
        }
        else
        {
            mismatch(type + " for task " + taskId + " attempt " + attempt + " reason " + reason + " time " + time +
                " where " + expected.describeHead() + " was derived");
        }
        expected.pop();
    }

    /**
     * A question about a key, asked at this time: answers without changing anything (status events are not
     * journaled, so the time only judges). A retained outcome past the retention window by then is not found,
     * as a submission of the key at that time would forget it first and run anew, although no journaled
     * record has forgotten it yet (an idle engine journals none).
     */
    void status(
        final long timestamp,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        final long hash = KeyHasher.hash(key, keyOffset, keyLength);
        final TaskRecord r = findLive(hash, key, keyOffset, keyLength);
        if (r != null)
        {
            statusReply(fx, r, target, correlation);
        }
        else
        {
            final int slot = findRetained(hash, key, keyOffset, keyLength);
            final long at = Math.max(now, timestamp);
            final boolean expired = slot >= 0 && at - retained.finishedAt(slot) >= settings.outcomeRetentionNanos();
            retainedStatus(fx, expired ? -1 : slot, target, correlation);
        }
    }

    /**
     * A submission of a type the journal holds tasks of but this engine has no handler for (its plugin removed),
     * asked at this time: answered as a submission of its key is (it joins the key's task in flight, or gets the
     * key's recorded outcome), or, with nothing to answer with, refused UNKNOWN_TYPE, since no new task of the type
     * can run here. Not journaled, so it changes nothing a replay rebuilds: a retained outcome past the retention
     * window is not found (as {@link #status}), and a join only adds a waiter, which no state holds.
     */
    void submittedUninstalled(
        final long timestamp,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final long hash,
        final DirectBuffer tenant,
        final int tenantLength,
        final Object target,
        final long correlation,
        final Effects fx)
    {
        // looked up, never added (as refusedUnjournaled): nothing of this submission is journaled
        final int tenantId = metrics == null ? 0 : tenants.find(tenant, 0, tenantLength);
        final TaskRecord r = findLive(hash, key, keyOffset, keyLength);
        if (r != null)
        {
            if (r.waiterCount >= settings.maxWaitersPerTask())
            {
                rejectReply(fx, target, correlation, r.taskId, RejectReason.TOO_MANY_WAITERS);
                return;
            }
            addWaiter(r, target, correlation);
            fx.reply(Effects.REPLY_ACCEPTED, target, correlation, r.taskId);
            if (metrics != null)
            {
                metrics.count(HandlerRegistry.UNKNOWN, tenantId, EngineMetrics.Count.JOINED);
            }
            return;
        }
        final int slot = findRetained(hash, key, keyOffset, keyLength);
        final long at = Math.max(now, timestamp);
        if (slot >= 0 && at - retained.finishedAt(slot) < settings.outcomeRetentionNanos())
        {
            retainedReply(fx, Effects.REPLY_OUTCOME, slot, target, correlation, true);
            if (metrics != null)
            {
                metrics.count(HandlerRegistry.UNKNOWN, tenantId, EngineMetrics.Count.DUPLICATE);
            }
            return;
        }
        rejectReply(fx, target, correlation, 0, RejectReason.UNKNOWN_TYPE);
    }

    /**
     * @return the names of the task types the journal (or the snapshot it started from) holds tasks of that this
     *     engine has no handler for, in the order the state machine met them.
     */
    java.util.List<String> uninstalledTypes()
    {
        final java.util.List<String> names = new java.util.ArrayList<>(unhandled.count());
        for (int i = 0; i < unhandled.count(); i++)
        {
            names.add(unhandled.type(i));
        }
        return names;
    }

    /**
     * Replay one journaled record (no replies, nothing executed: the effects are for the caller to drop).
     */
    void apply(final RecordView record, final Effects fx)
    {
        final long ts = record.timestamp();
        switch (record.type())
        {
            case SUBMITTED ->
            {
                final SubmittedRecord.Decoder d = record.submitted();
                applySubmitted(record, KeyHasher.hash(d.buffer(), d.keyOffset(), d.keyLength()), fx);
            }
            case SUCCEEDED -> completed(ts, record.documentIndex(), record.offsetInDocument(), record.succeeded().taskId(),
                record.succeeded().attempt(), true, 0, (record.succeeded().flags() & SucceededRecord.FLAG_HELD) != 0,
                record.succeeded().startedAt(), record.succeeded().finishedAt(), fx);
            case FAILED -> completed(ts, record.documentIndex(), record.offsetInDocument(), record.failed().taskId(),
                record.failed().attempt(), false, record.failed().errorKind(), false, record.failed().startedAt(),
                record.failed().finishedAt(), fx);
            case CANCEL_REQUESTED -> cancelRequested(ts, record.cancelRequested().buffer(), record.cancelRequested().keyOffset(),
                record.cancelRequested().keyLength(), null, 0, fx);
            case REDRIVE_REQUESTED -> redriveRequested(ts, record.redriveRequested().buffer(), record.redriveRequested().keyOffset(),
                record.redriveRequested().keyLength(), null, 0, fx);
            case PURGE_REQUESTED -> purgeRequested(ts, record.purgeRequested().all(), record.purgeRequested().buffer(),
                record.purgeRequested().keyOffset(), record.purgeRequested().keyLength(), null, 0, fx);
            case TICK -> tick(ts, fx);
            case ENGINE_STARTED -> engineStarted(ts, Settings.readFrom(record.engineStarted(), settings), null, fx);
            case JOURNAL_RECOVERED, JOURNAL_OUTAGE ->
            {
                // the journal's own record, and the end of an outage (the kept records after it are applied
                // as their own types): nothing for the engine's state
            }
            case ENGINE_STOP ->
            {
                final EngineStopRecord.Decoder d = record.engineStop();
                if (d.phase() == EngineStopRecord.PHASE_STOPPING)
                {
                    engineStopping(ts, d.deadline());
                }
                else
                {
                    engineStopped(ts, d);
                }
            }
            default ->
            {
                final TransitionRecord.Decoder t = record.transition();
                derived(ts, record.type(), t.taskId(), t.attempt(), t.reason(), t.time());
            }
        }
    }

    /**
     * Replay a journaled SUBMITTED record whose key's {@link KeyHasher#hash} the caller has: as {@link #apply}.
     */
    void applySubmitted(final RecordView record, final long keyHash, final Effects fx)
    {
        final SubmittedRecord.Decoder d = record.submitted();
        final int handlerId = registry.idOf(d.buffer(), d.taskTypeOffset(), d.taskTypeLength());
        submitted(record.eventId(), record.timestamp(), record.documentIndex(), record.offsetInDocument(),
            d.buffer(), d.keyOffset(), d.keyLength(), keyHash, tenants.idOf(d.buffer(), d.tenantOffset(), d.tenantLength()),
            handlerId, typeSlot(handlerId, d.buffer(), d.taskTypeOffset(), d.taskTypeLength()),
            d.executionMode(), d.priority(), d.timeoutMillis(), d.maxAttempts(), d.backoffInitialMillis(),
            d.backoffMaxMillis(), d.backoffMultiplier(), d.backoffJitter(), d.taskFlags(), false, null, 0, fx);
    }

    // ------------------------------------------------------------------------------------------------
    // Decisions

    private void startOrQueue(final TaskRecord r, final Effects fx, final boolean payloadInEvent)
    {
        if (!hasSlot(r.mode, r.typeSlot))
        {
            if (r.state != TaskState.PENDING)
            {
                transition(r, TaskState.PENDING);
            }
            enqueuePending(r);
            return;
        }
        run(r, fx, payloadInEvent);
    }

    private void run(final TaskRecord r, final Effects fx, final boolean payloadInEvent)
    {
        transition(r, TaskState.RUNNING);
        r.startedAt = now;
        if (r.firstStartedAt == 0)
        {
            r.firstStartedAt = now;
        }
        if (metrics != null)
        {
            metrics.count(r.handlerId, r.tenant, EngineMetrics.Count.ATTEMPT_STARTED);
        }
        final int g = group(r.mode);
        if (g != GROUP_INLINE)
        {
            final int t = r.typeSlot;
            groupInUse[g]++;
            typeInUse[t]++;
            inPool.put(slotKey(r.taskId, r.attempt), (r.attempt & 0xFFFF_FFFFL) | (long)g << 32 | (long)t << 40);
            derive(fx, RecordType.STARTED, r.taskId, r.attempt, 0, 0);
            if (r.timeoutMillis > 0)
            {
                addTimer(now + r.timeoutMillis * NANOS_PER_MILLI, r, r.attempt, TimerHeap.DEADLINE);
            }
        }
        fx.dispatch(r.taskId, r.attempt, r.handlerId, r.mode, r.priority, payloadInEvent, r.submitDocument, r.submitOffset, r.submittedAt);
    }

    private void timedOut(final TaskRecord r, final Effects fx)
    {
        r.executionNanos += Math.max(0, now - r.startedAt);
        if (metrics != null)
        {
            metrics.count(r.handlerId, r.tenant, EngineMetrics.Count.ATTEMPT_TIMED_OUT);
        }
        fx.stop(r.taskId, r.attempt);
        if (r.attempt < r.maxAttempts)
        {
            derive(fx, RecordType.TIMED_OUT, r.taskId, r.attempt, REASON_TIMED_OUT_WILL_RETRY, 0);
            scheduleRetry(r, fx, REASON_RETRY_AFTER_TIMEOUT);
            return;
        }
        derive(fx, RecordType.TIMED_OUT, r.taskId, r.attempt, REASON_TIMED_OUT_FINAL, 0);
        r.outcomeDocument = -1;
        if (enterDeadLetters(r, SubmittedRecord.FLAG_DEAD_LETTER_TIMEOUT, REASON_DEAD_LETTER_TIMED_OUT, -1, 0, now))
        {
            derive(fx, RecordType.DEAD_LETTERED, r.taskId, r.attempt, REASON_DEAD_LETTER_TIMED_OUT, 0);
            r.outcomeReason = (byte)REASON_DEAD_LETTER_TIMED_OUT;
            finish(r, TaskState.DEAD_LETTERED, fx, Effects.SOURCE_NONE, now);
            return;
        }
        r.outcomeReason = (byte)REASON_TIMED_OUT_FINAL;
        finish(r, TaskState.TIMED_OUT, fx, Effects.SOURCE_NONE, now);
    }

    /**
     * A task ends for good: put it on the dead-letter list when its submission carries {@code flag} and the
     * list has room, replacing the letter of an earlier task of the same key (a key has one letter at most).
     *
     * @return whether it is on the list now (the caller ends it DEAD_LETTERED); false: it ends as if
     *     dead-lettering were off (FAILED, TIMED_OUT).
     */
    private boolean enterDeadLetters(
        final TaskRecord r, final int flag, final int reason, final long failureDocument, final int failureOffset, final long at)
    {
        if ((r.taskFlags & flag) == 0)
        {
            return false;
        }
        int superseded = -1;
        if (deadLetters.mayContain(r.keyHash) && submission.read(r.submitDocument, r.submitOffset))
        {
            keyMatcher.probe(submission.key, 0, submission.keyLength);
            superseded = deadLetters.find(r.keyHash, keyMatcher);
        }
        if (superseded < 0 && deadLetters.size() >= settings.maxDeadLetters())
        {
            deadLetterOverflows++;
            return false;
        }
        if (superseded >= 0)
        {
            deadLetters.remove(superseded);
        }
        deadLetters.add(r.taskId, r.keyHash, r.submitDocument, r.submitOffset, failureDocument, failureOffset, reason, r.attempt,
            r.submittedAt, at);
        return true;
    }

    private void scheduleRetry(final TaskRecord r, final Effects fx, final int reason)
    {
        if (metrics != null)
        {
            metrics.count(r.handlerId, r.tenant, EngineMetrics.Count.RETRY_SCHEDULED);
        }
        transition(r, TaskState.RETRY_WAIT);
        final long due = now + backoffNanos(r);
        addTimer(due, r, r.attempt, TimerHeap.RETRY);
        derive(fx, RecordType.RETRY_SCHEDULED, r.taskId, r.attempt, reason, due);
    }

    /**
     * Delay before the attempt after {@code r.attempt}: exponential (counted from the last redrive), capped,
     * spread by jitter drawn from the task id and attempt (the same on every replay).
     */
    static long backoffNanos(final TaskRecord r)
    {
        double delay = r.backoffInitialMillis * Math.pow(r.backoffMultiplier, r.attempt - r.attemptBase - 1);
        delay = Math.min(delay, r.backoffMaxMillis);
        final double unit = (mix(r.taskId * 31 + r.attempt) >>> 11) * 0x1.0p-53;
        delay = delay * (1.0 + r.backoffJitter * (2.0 * unit - 1.0));
        return Math.max(0L, (long)(delay * NANOS_PER_MILLI));
    }

    private static long mix(final long seed)
    {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * @return the key of an attempt's pool slot: a timed-out attempt may still hold its slot when the task's
     *     next attempt takes another, so slots are held per attempt, not per task.
     */
    private static long slotKey(final long taskId, final int attempt)
    {
        return taskId << 12 | (attempt & 0xFFF);
    }

    private void releaseSlot(final long taskId, final int attempt, final Effects fx)
    {
        final long slot = inPool.isEmpty() ? -1 : inPool.get(slotKey(taskId, attempt));
        if (slot != -1 && (int)slot == attempt)
        {
            inPool.remove(slotKey(taskId, attempt));
            groupInUse[(int)(slot >>> 32) & 0xFF]--;
            typeInUse[(int)(slot >>> 40)]--;
            dispatchPending(fx, 1);
        }
    }

    private void dispatchPending(final Effects fx, final int budget)
    {
        int left = budget;
        for (int p = 0; p < PRIORITIES && left > 0; p++)
        {
            TaskRecord r = pendingHead[p];
            while (r != null && left > 0)
            {
                final TaskRecord next = r.pendingNext;
                if (hasSlot(r.mode, r.typeSlot))
                {
                    removePending(r);
                    run(r, fx, false);
                    left--;
                }
                r = next;
            }
        }
    }

    private void finish(final TaskRecord r, final TaskState state, final Effects fx, final int source, final long finishedAt)
    {
        transition(r, state);
        r.finishedAt = finishedAt == 0 ? now : finishedAt;
        liveCount--;
        if (stopping && r.heldUntil != 0 && r.heldUntil <= stopDeadline)
        {
            setHeldDueInStop(heldDueInStop - 1);
        }
        if (metrics != null)
        {
            metrics.finished(r.handlerId, r.tenant, switch (state)
            {
                case SUCCEEDED -> EngineMetrics.Count.SUCCEEDED;
                case TIMED_OUT -> EngineMetrics.Count.TIMED_OUT;
                case CANCELLED -> EngineMetrics.Count.CANCELLED;
                case DEAD_LETTERED -> EngineMetrics.Count.DEAD_LETTERED;
                default -> EngineMetrics.Count.FAILED;
            }, r.queueNanos(), r.executionNanos);
            metrics.record(r.handlerId, EngineMetrics.Latency.END_TO_END, now - r.submittedAt);
        }
        final boolean joined = joinersSink != null && r.waiterCount > 1;
        final Effects replies = joined ? joinersSink : fx;
        final int replySource = joined && source == Effects.SOURCE_THIS_EVENT ? Effects.SOURCE_JOURNAL : source;
        int w = r.waiterHead;
        while (w >= 0)
        {
            outcomeReply(replies, r, waiters.target(w), waiters.correlation(w), false, replySource);
            w = waiters.next(w);
        }
        waiters.freeList(r.waiterHead);
        r.waiterHead = -1;
        r.waiterCount = 0;
        retire(r);
    }

    private void transition(final TaskRecord r, final TaskState to)
    {
        TaskTransitions.check(r.taskId, r.state, to);
        if (observer != null)
        {
            observer.onTransition(r.taskId, r.state, to, r.attempt, now);
        }
        if (live != null)
        {
            live.onTransition(r, r.state, to, now);
        }
        r.state = to;
    }

    /**
     * Send the records derived from now on to this event's effects instead of the current event's (null:
     * back to the current event's), so they are journaled in the order they were derived.
     */
    void deriveInto(final Effects sink)
    {
        derivedSink = sink;
    }

    /**
     * From now on, answer a finishing task that others joined on this event's effects instead of the current
     * event's (null: back to the current event's). For the results of a batch's inline attempts, applied after
     * the whole batch: a submission joining a task created earlier in the batch has its ACCEPTED on its own,
     * later, event, and its RESULT must not be delivered before it. Those answers read the outcome back from
     * the journal (it is not on that event); a task nobody joined is answered on its own event as before.
     */
    void joinersInto(final Effects sink)
    {
        joinersSink = sink;
    }

    private void derive(final Effects fx, final RecordType type, final long taskId, final int attempt, final int reason, final long time)
    {
        (derivedSink != null ? derivedSink : fx).derived(type, taskId, attempt, reason, time);
        expected.push(type, taskId, attempt, reason, time);
    }

    private void advance(final long timestamp)
    {
        if (timestamp > now)
        {
            now = timestamp;
        }
        if (now >= retentionCheckAt)
        {
            forgetExpired();
        }
    }

    /**
     * Forget the retained outcomes older than the retention window, and note when the next one will be.
     */
    private void forgetExpired()
    {
        final long retention = settings.outcomeRetentionNanos();
        while (retained.size() > 0 && now - retained.oldestFinishedAt() >= retention)
        {
            retained.evictOldest();
        }
        retentionCheckAt = retained.size() == 0 ? Long.MAX_VALUE : expiry(retained.oldestFinishedAt(), retention);
    }

    /**
     * @return when an outcome that finished at this time leaves the retention window ({@link Long#MAX_VALUE}
     *     when that is beyond the clock's range).
     */
    private static long expiry(final long finishedAt, final long retention)
    {
        final long at = finishedAt + retention;
        return ((finishedAt ^ at) & (retention ^ at)) < 0 ? Long.MAX_VALUE : at;
    }

    // ------------------------------------------------------------------------------------------------
    // Replies

    private void outcomeReply(
        final Effects fx, final TaskRecord r, final Object target, final long correlation, final boolean duplicate, final int source)
    {
        if (target == null)
        {
            return;
        }
        final int i = fx.reply(Effects.REPLY_OUTCOME, target, correlation, r.taskId);
        fillTask(fx, i, r);
        fx.replyDuplicate(i, duplicate);
        fx.replySource(i, r.outcomeDocument < 0 ? Effects.SOURCE_NONE : source);
    }

    private void statusReply(final Effects fx, final TaskRecord r, final Object target, final long correlation)
    {
        if (target == null)
        {
            return;
        }
        final int i = fx.reply(Effects.REPLY_STATUS, target, correlation, r.taskId);
        fillTask(fx, i, r);
    }

    /**
     * Answer from a finished task's retained entry: its status, or (to a resubmission) its outcome.
     */
    private void retainedReply(final Effects fx, final int kind, final int slot, final Object target, final long correlation, final boolean duplicate)
    {
        if (target == null)
        {
            return;
        }
        final int i = fx.reply(kind, target, correlation, retained.taskId(slot));
        fx.replyTask(i, retained.state(slot), retained.attempts(slot), retained.maxAttempts(slot), retained.outcomeDocument(slot),
            retained.outcomeOffset(slot), retained.reason(slot), retained.timeoutMillis(slot), retained.submittedAt(slot),
            retained.startedAt(slot), retained.finishedAt(slot));
        fx.replyAccounting(i, retained.queueNanos(slot), retained.executionNanos(slot));
        fx.replyDuplicate(i, duplicate);
        fx.replySource(i, retained.outcomeDocument(slot) < 0 ? Effects.SOURCE_NONE : Effects.SOURCE_JOURNAL);
    }

    private void retainedStatus(final Effects fx, final int slot, final Object target, final long correlation)
    {
        if (slot >= 0)
        {
            retainedReply(fx, Effects.REPLY_STATUS, slot, target, correlation, false);
        }
        else if (target != null)
        {
            fx.reply(Effects.REPLY_STATUS, target, correlation, 0);
        }
    }

    private static void fillTask(final Effects fx, final int i, final TaskRecord r)
    {
        fx.replyTask(i, r.state, r.attempt, r.maxAttempts, r.outcomeDocument, r.outcomeOffset, r.outcomeReason, r.timeoutMillis,
            r.submittedAt, r.startedAt, r.finishedAt);
        fx.replyAccounting(i, r.queueNanos(), r.executionNanos);
    }

    private static void rejectReply(final Effects fx, final Object target, final long correlation, final long taskId, final RejectReason reason)
    {
        if (target != null)
        {
            final int i = fx.reply(Effects.REPLY_REJECTED, target, correlation, taskId);
            fx.replyReason(i, reason.code());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Tables

    /**
     * Before a batch is applied: load the retained-outcome index slot this key's lookup starts at, so the
     * misses of a batch's lookups overlap. Reads only; changes no state and no decision.
     */
    void prefetchKey(final long keyHash)
    {
        if (retained.size() > 0)
        {
            retained.prefetch(keyHash);
        }
    }

    /**
     * As {@link #prefetchKey}, for the first {@code count} key hashes: one tight loop, so that many of its
     * cache misses are in flight at once. Reads only.
     */
    void prefetchHashes(final long[] hashes, final int count)
    {
        if (retained.size() > 0)
        {
            retained.prefetch(hashes, count);
        }
    }

    private TaskRecord findLive(final long hash, final DirectBuffer key, final int keyOffset, final int keyLength)
    {
        for (TaskRecord r = byKey.chain(hash); r != null; r = r.nextByKey)
        {
            if (r.keyHash == hash && keyMatcher.matches(r.submitDocument, r.submitOffset, key, keyOffset, keyLength))
            {
                return r;
            }
        }
        return null;
    }

    private int findRetained(final long hash, final DirectBuffer key, final int keyOffset, final int keyLength)
    {
        if (retained.size() == 0)
        {
            return -1;
        }
        keyMatcher.probe(key, keyOffset, keyLength);
        return retained.find(hash, keyMatcher);
    }

    private void addWaiter(final TaskRecord r, final Object target, final long correlation)
    {
        if (target != null)
        {
            r.waiterHead = waiters.push(r.waiterHead, target, correlation);
            r.waiterCount++;
        }
    }

    private TaskRecord allocate()
    {
        final TaskRecord r = free;
        if (r == null)
        {
            final TaskRecord fresh = new TaskRecord();
            fresh.reset();
            return fresh;
        }
        free = r.nextFree;
        r.nextFree = null;
        freeCount--;
        return r;
    }

    /**
     * A task finished: remember its outcome compactly, and let its live record go.
     */
    private void retire(final TaskRecord r)
    {
        if (settings.maxRetainedOutcomes() > 0)
        {
            retained.add(r);
            retentionCheckAt = Math.min(retentionCheckAt, expiry(r.finishedAt, settings.outcomeRetentionNanos()));
        }
        retained.trimTo(settings.maxRetainedOutcomes(), settings.forgottenOutcomesCount());
        byId.remove(r.taskId);
        byKey.remove(r);
        r.reset();
        // kept for reuse while the free records number fewer than the live ones (or FREE_RECORDS_KEPT): a burst of
        // live tasks (a million pending waits) leaves as many records behind, which would otherwise stay for good;
        // past the bound this one goes to the collector and one more with it, so the list shrinks as the burst ends
        if (freeCount < Math.max(FREE_RECORDS_KEPT, liveCount))
        {
            r.nextFree = free;
            free = r;
            freeCount++;
        }
        else
        {
            final TaskRecord dropped = free;
            free = dropped.nextFree;
            dropped.nextFree = null;
            freeCount--;
        }
    }

    private void enqueuePending(final TaskRecord r)
    {
        final int p = r.priority;
        r.pendingPrev = pendingTail[p];
        r.pendingNext = null;
        if (pendingTail[p] != null)
        {
            pendingTail[p].pendingNext = r;
        }
        else
        {
            pendingHead[p] = r;
        }
        pendingTail[p] = r;
        countQueued(r);
    }

    private void countQueued(final TaskRecord r)
    {
        r.inPendingQueue = true;
        pendingCount++;
        pendingByGroup[group(r.mode)]++;
        if (group(r.mode) == GROUP_INLINE)
        {
            pendingInlineCount++;
        }
        else
        {
            pendingByType[r.typeSlot]++;
        }
    }

    private void removePending(final TaskRecord r)
    {
        if (!r.inPendingQueue)
        {
            return;
        }
        final int p = r.priority;
        if (r.pendingPrev != null)
        {
            r.pendingPrev.pendingNext = r.pendingNext;
        }
        else
        {
            pendingHead[p] = r.pendingNext;
        }
        if (r.pendingNext != null)
        {
            r.pendingNext.pendingPrev = r.pendingPrev;
        }
        else
        {
            pendingTail[p] = r.pendingPrev;
        }
        r.pendingPrev = null;
        r.pendingNext = null;
        r.inPendingQueue = false;
        pendingCount--;
        pendingByGroup[group(r.mode)]--;
        if (group(r.mode) == GROUP_INLINE)
        {
            pendingInlineCount--;
        }
        else
        {
            pendingByType[r.typeSlot]--;
        }
    }

    private void mismatch(final String description)
    {
        derivedMismatches++;
        if (firstMismatch == null)
        {
            firstMismatch = description;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // What others may ask (from the sequence stage's thread, or after replay)

    /**
     * @return when the sequence stage next needs a tick: the earliest timer, now when waiting work could
     *     start, a little after the oldest retained outcome leaves the retention window (so an idle engine
     *     forgets it by a journaled tick, as replay will), {@link Long#MAX_VALUE} when nothing is due.
     */
    long nextWakeAt()
    {
        final boolean startable = !stopping && (pendingInlineCount > 0 || (pendingCount > pendingInlineCount && handedOffStartable()));
        return startable || timersDue() ? now : Math.min(earliestTimer(), forgetAt());
    }

    /**
     * @return when a tick should forget the outcomes that left the retention window: the oldest's expiry plus
     *     a sixteenth of the window (at least a millisecond), so that outcomes finishing close together are
     *     forgotten by one tick, and a busy engine (whose every record forgets them) is never woken for it.
     *     Until then a status question judges expiry by its own time.
     */
    private long forgetAt()
    {
        if (retentionCheckAt == Long.MAX_VALUE)
        {
            return Long.MAX_VALUE;
        }
        if (retentionCheckAt == Long.MIN_VALUE)
        {
            return now;
        }
        final long slack = Math.max(NANOS_PER_MILLI, settings.outcomeRetentionNanos() / RETENTION_TICKS_PER_WINDOW);
        return retentionCheckAt > Long.MAX_VALUE - slack ? Long.MAX_VALUE : retentionCheckAt + slack;
    }

    int liveCount()
    {
        return liveCount;
    }

    int retainedCount()
    {
        return retained.live();
    }

    /** @return entries in the dead-letter list. */
    int deadLetterCount()
    {
        return deadLetters.size();
    }

    /** @return tasks that would have been dead-lettered but found the list full (they ended FAILED or TIMED_OUT). */
    long deadLetterOverflows()
    {
        return deadLetterOverflows;
    }

    /** @return the dead-letter list itself (for snapshots and tests; the sequence stage's thread only). */
    DeadLetters deadLetters()
    {
        return deadLetters;
    }

    /**
     * @return whether a pending handed-off task could start now (by its type's current mode: a close enough
     *     guess for when to wake up; slots freed by results start pending work directly).
     */
    private boolean handedOffStartable()
    {
        for (int t = 0; t < pendingByType.length; t++)
        {
            if (pendingByType[t] > 0 && (typeLimit[t] == 0 || typeInUse[t] < typeLimit[t]))
            {
                final int g = t < registry.size() ? group(registry.mode(t).code()) : GROUP_BLOCKING;
                if (g == GROUP_INLINE || groupInUse[g] < groupLimit(g))
                {
                    return true;
                }
            }
        }
        return false;
    }

    int pendingCount()
    {
        return pendingCount;
    }

    /**
     * Report queue depths, slots in use, timers and retained outcomes to the metrics, and make the batch's latencies
     * visible to readers (end of a batch: a few ordered stores and one critical section).
     */
    void publishGauges()
    {
        final EngineMetrics m = metrics;
        if (m == null)
        {
            return;
        }
        m.gauge(EngineMetrics.Gauge.WAITING_INLINE, pendingByGroup[GROUP_INLINE]);
        m.gauge(EngineMetrics.Gauge.WAITING_BLOCKING, pendingByGroup[GROUP_BLOCKING]);
        m.gauge(EngineMetrics.Gauge.WAITING_ASYNC, pendingByGroup[GROUP_ASYNC]);
        m.gauge(EngineMetrics.Gauge.WAITING_CPU, pendingByGroup[GROUP_CPU]);
        m.gauge(EngineMetrics.Gauge.RUNNING_BLOCKING, groupInUse[GROUP_BLOCKING]);
        m.gauge(EngineMetrics.Gauge.RUNNING_ASYNC, groupInUse[GROUP_ASYNC]);
        m.gauge(EngineMetrics.Gauge.RUNNING_CPU, groupInUse[GROUP_CPU]);
        m.gauge(EngineMetrics.Gauge.TIMERS, timerEntries());
        m.gauge(EngineMetrics.Gauge.RETAINED_OUTCOMES, retained.live());
        m.endBatch();
    }

    /**
     * @return the timers that still apply: those of tasks that have since finished or moved to another attempt
     *     (a timer is never removed early, and is dropped when it comes due) are not counted. A scan: for reports.
     */
    int timerCount()
    {
        int count = 0;
        for (int i = 0; i < timers.size(); i++)
        {
            count += applies(timers.taskIdAt(i), timers.attemptAt(i), timers.kindAt(i)) ? 1 : 0;
        }
        for (final TimerHeap heap : timersByPriority)
        {
            for (int i = 0; i < heap.size(); i++)
            {
                count += applies(heap.taskIdAt(i), heap.attemptAt(i), heap.kindAt(i)) ? 1 : 0;
            }
        }
        for (final DueTimers queue : due)
        {
            for (int k = 0; k < queue.size(); k++)
            {
                count += applies(queue.taskIdAt(k), queue.attemptAt(k), queue.kindAt(k)) ? 1 : 0;
            }
        }
        return count;
    }

    /**
     * @return the timers held, those that no longer apply included (they are dropped as they come due, or in bulk
     *     once they pile up): what the timers take in memory.
     */
    int timerEntries()
    {
        int entries = timers.size();
        for (final DueTimers queue : due)
        {
            entries += queue.size();
        }
        for (final TimerHeap heap : timersByPriority)
        {
            entries += heap.size();
        }
        return entries;
    }

    /**
     * @return what the tables sized by the live tasks have room for now, in entries: the timer heaps' arrays, the key
     *     index's buckets, the id index's overflow map, the free records and the waiters' pool (for tests: memory given back
     *     after a burst).
     */
    long tableCapacity()
    {
        long capacity = timers.capacity() + byKey.buckets() + byId.overflowCapacity() + freeCount + waiters.capacity();
        for (final TimerHeap heap : timersByPriority)
        {
            capacity += heap.capacity();
        }
        return capacity;
    }

    /** @return whether the timer would act when it fires: as {@link #fire}, without its time checks. */
    private boolean applies(final long taskId, final int attempt, final int kind)
    {
        final TaskRecord r = byId.get(taskId);
        if (r == null || r.attempt != attempt)
        {
            return false;
        }
        return switch (kind)
        {
            case TimerHeap.RETRY -> r.state == TaskState.RETRY_WAIT;
            case TimerHeap.RELEASE -> r.state == TaskState.RUNNING && r.heldUntil > 0;
            default -> r.state == TaskState.RUNNING && r.heldUntil == 0;
        };
    }

    long now()
    {
        return now;
    }

    Settings settings()
    {
        return settings;
    }

    long derivedVerified()
    {
        return derivedVerified;
    }

    long derivedMismatches()
    {
        return derivedMismatches;
    }

    String firstMismatch()
    {
        return firstMismatch;
    }

    long lateResults()
    {
        return lateResults;
    }

    /** @return when the journaled stop began (epoch nanoseconds), 0 when none since the last start. */
    long stopBeganAt()
    {
        return stopping ? stopBeganAt : 0;
    }

    /** @return the deadline of the journaled stop, 0 when none since the last start. */
    long stopDeadline()
    {
        return stopping ? stopDeadline : 0;
    }

    /**
     * @return how the last engine run in the replayed journal ended: {@link RecoveryReport.PreviousStop#NONE}
     *     when no engine ran on it, CLEAN when its stop record came last, else CRASH.
     */
    RecoveryReport.PreviousStop previousStop()
    {
        return engineStarts == 0 ? RecoveryReport.PreviousStop.NONE :
            stoppedCleanly ? RecoveryReport.PreviousStop.CLEAN : RecoveryReport.PreviousStop.CRASH;
    }

    /**
     * Called by the thread taking the sequencer over after replay (the sequence stage's).
     */
    void takeOwnership()
    {
        keyMatcher.reader.transferOwnership();
    }

    /**
     * @return derived records decided but not yet seen back in the journal (after a replay: those a crash
     *     kept from being journaled).
     */
    DerivedExpectations expected()
    {
        return expected;
    }

    /**
     * @return how many known tasks are in each state.
     */
    Map<TaskState, Long> countByState()
    {
        final Map<TaskState, Long> counts = new EnumMap<>(TaskState.class);
        for (final TaskRecord r : byId)
        {
            counts.merge(r.state, 1L, Long::sum);
        }
        retained.forEach((taskId, state, attempts, submittedAt, finishedAt) -> counts.merge(state, 1L, Long::sum));
        return counts;
    }

    /**
     * Visit every known task: live ones in id order, then finished ones.
     */
    void forEachTask(final TaskVisitor visitor)
    {
        final long[] ids = new long[byId.size()];
        int n = 0;
        for (final TaskRecord r : byId)
        {
            ids[n++] = r.taskId;
        }
        Arrays.sort(ids, 0, n);
        for (int i = 0; i < n; i++)
        {
            final TaskRecord r = byId.get(ids[i]);
            visitor.visit(r.taskId, r.state, r.attempt, r.submittedAt, r.finishedAt);
        }
        retained.forEach(visitor);
    }

    /**
     * A submission of this type was refused because the journal could not record it (counted only).
     */
    void refusedUnjournaled(final int handlerId, final DirectBuffer tenant, final int tenantOffset, final int tenantLength)
    {
        if (metrics != null)
        {
            // looked up, never added: the journal has no record of this tenant, so its replay could not give it the same id
            metrics.count(handlerId, tenants.find(tenant, tenantOffset, tenantLength), EngineMetrics.Count.REJECTED_JOURNAL_UNAVAILABLE);
        }
    }

    /**
     * Count and time live decisions from now on (attached after replay, so replayed history is not counted).
     */
    void metrics(final EngineMetrics value)
    {
        metrics = value;
    }

    /**
     * Watch every lifecycle move (for inspection tools and tests; null on the engine's hot path).
     */
    void observer(final TransitionObserver value)
    {
        observer = value;
    }

    /**
     * Hand every transition to the status event feed from now on (null: to nobody). The sequence stage's thread.
     */
    void live(final LiveTransitions value)
    {
        live = value;
    }

    // ------------------------------------------------------------------------------------------------
    // Snapshots

    /** Version of the state layout {@link #writeState} writes (see docs/JOURNAL.md, snapshots). */
    static final int STATE_VERSION = 6;
    /** The layout before {@link #STATE_VERSION}: the same without the timers by priority, which it had none of. */
    private static final int STATE_VERSION_BEFORE_TIMERS_BY_PRIORITY = 5;

    /**
     * Write the whole state as replaying the journal up to the last applied record would build it: tasks,
     * queues, slots, timers, derivations awaiting their record, retained outcomes. Waiters are left out (they
     * are this process's listeners, which a restart has none of).
     *
     * @param canonical tasks and slots in task id order, so that equal states write equal bytes (for tests;
     *     the sequence stage writes them in table order, which restores the same state faster).
     * @return the earliest journal document the state refers to, or {@link Long#MAX_VALUE} when none.
     */
    long writeState(final StateWriter out, final boolean canonical)
    {
        out.putInt(STATE_VERSION).putLong(now);
        settings.writeTo(out);
        out.putByte(stopping ? 1 : 0).putLong(stopBeganAt).putLong(stopDeadline).putLong(interrupted).putInt(engineStarts)
            .putByte(stoppedCleanly ? 1 : 0);
        // the type names the state refers to: the registry's, then those it has no handler for (see typeRef)
        out.putInt(registry.size() + unhandled.count());
        for (int id = 0; id < registry.size(); id++)
        {
            out.putString(registry.typeOf(id));
        }
        for (int i = 0; i < unhandled.count(); i++)
        {
            out.putString(unhandled.type(i));
        }
        out.putInt(tenants.namedCount());
        for (int i = 0; i < tenants.namedCount(); i++)
        {
            out.putBytes(tenants.named(i));
        }
        long oldest = Long.MAX_VALUE;
        out.putInt(byId.size());
        if (canonical)
        {
            final long[] ids = byId.sortedIds();
            for (final long id : ids)
            {
                final TaskRecord r = byId.get(id);
                oldest = Math.min(oldest, writeTask(out, r, typeRef(r.typeSlot)));
            }
        }
        else
        {
            for (final TaskRecord r : byId)
            {
                oldest = Math.min(oldest, writeTask(out, r, typeRef(r.typeSlot)));
            }
        }
        for (int p = 0; p < PRIORITIES; p++)
        {
            final int at = out.reserveInt();
            int n = 0;
            for (TaskRecord r = pendingHead[p]; r != null; r = r.pendingNext)
            {
                out.putLong(r.taskId);
                n++;
            }
            out.putIntAt(at, n);
        }
        out.putInt(inPool.size());
        final long[] slotKeys = sortedKeys(inPool.keySet().iterator(), inPool.size());
        for (final long key : slotKeys)
        {
            final long slot = inPool.get(key);
            final int t = (int)(slot >>> 40);
            out.putLong(key >>> 12).putInt((int)slot).putInt((int)(slot >>> 32) & 0xFF).putInt(typeRef(t));
        }
        timers.writeTo(out);
        for (final DueTimers queue : due)
        {
            queue.writeTo(out);
        }
        for (final TimerHeap heap : timersByPriority)
        {
            heap.writeTo(out);
        }
        out.putInt(timersCompactAt);
        expected.writeTo(out);
        out.putLong(deadLetters.nextSequence()).putLong(deadLetterOverflows).putInt(deadLetters.size());
        final long[] lettersOldest = {Long.MAX_VALUE};
        deadLetters.forEach((sequence, taskId, keyHash, submitDocument, submitOffset, failureDocument, failureOffset, reason, attempts,
                             submittedAt, deadLetteredAt) ->
        {
            out.putLong(sequence).putLong(taskId).putLong(keyHash).putLong(submitDocument).putInt(submitOffset)
                .putLong(failureDocument).putInt(failureOffset).putInt(reason).putInt(attempts).putLong(submittedAt)
                .putLong(deadLetteredAt);
            if (submitDocument >= 0 && submitDocument < lettersOldest[0])
            {
                lettersOldest[0] = submitDocument;
            }
            if (failureDocument >= 0 && failureDocument < lettersOldest[0])
            {
                lettersOldest[0] = failureDocument;
            }
        });
        oldest = Math.min(oldest, lettersOldest[0]);
        return Math.min(oldest, retained.writeTo(out));
    }

    /**
     * @return a type slot as a snapshot names it: its index in the list of type names {@link #writeState} writes
     *     (the registry's, then the unhandled ones), or {@link HandlerRegistry#UNKNOWN} for the shared last slot.
     */
    private int typeRef(final int typeSlot)
    {
        if (typeSlot < registry.size())
        {
            return typeSlot;
        }
        final int unhandledIndex = unhandled.indexOf(typeSlot);
        return unhandledIndex >= 0 ? registry.size() + unhandledIndex : HandlerRegistry.UNKNOWN;
    }

    /**
     * @param typeRef the task's type as {@link #typeRef} names it (its handler id, but for types without a handler).
     */
    private static long writeTask(final StateWriter out, final TaskRecord r, final int typeRef)
    {
        out.putLong(r.taskId).putLong(r.keyHash).putByte(r.state.code()).putInt(r.attempt).putInt(r.maxAttempts)
            .putInt(typeRef).putInt(r.mode).putInt(r.priority).putInt(r.taskFlags).putInt(r.timeoutMillis)
            .putInt(r.backoffInitialMillis).putInt(r.backoffMaxMillis).putFloat(r.backoffMultiplier).putFloat(r.backoffJitter)
            .putLong(r.submittedAt).putLong(r.startedAt).putLong(r.finishedAt)
            .putLong(r.submitDocument).putInt(r.submitOffset).putLong(r.outcomeDocument).putInt(r.outcomeOffset)
            .putInt(r.outcomeReason).putLong(r.heldUntil).putInt(r.attemptBase)
            .putInt(r.tenant).putLong(r.queuedAt).putLong(r.firstStartedAt).putLong(r.executionNanos);
        long oldest = Long.MAX_VALUE;
        if (r.submitDocument >= 0)
        {
            oldest = r.submitDocument;
        }
        if (r.outcomeDocument >= 0 && r.outcomeDocument < oldest)
        {
            oldest = r.outcomeDocument;
        }
        return oldest;
    }

    /**
     * A code a task record keeps in a byte, read back from a snapshot: refused if out of range rather than wrapped.
     */
    private static byte smallCode(final int value, final String what)
    {
        if (value < 0 || value > Byte.MAX_VALUE)
        {
            throw new IllegalStateException("snapshot state has a task " + what + " of " + value);
        }
        return (byte)value;
    }

    private static long[] sortedKeys(final java.util.Iterator<Long> keys, final int size)
    {
        final long[] ids = new long[size];
        int n = 0;
        while (keys.hasNext())
        {
            ids[n++] = keys.next();
        }
        Arrays.sort(ids, 0, n);
        return ids;
    }

    /**
     * Rebuild the state {@link #writeState} wrote, into this sequencer, which must be new. Handler ids are
     * matched by type name to this engine's handlers (a type no longer registered has no handler, as on replay),
     * and each type keeps its own slot, so its concurrency limit holds as on replay ({@link #typeSlot}).
     *
     * @throws IllegalStateException when the state is damaged or of another layout; this sequencer is then
     *     unusable.
     */
    void restoreState(final StateReader in)
    {
        if (!byId.isEmpty() || retained.size() > 0 || timers.size() > 0 || earliestTimer() != Long.MAX_VALUE)
        {
            throw new IllegalStateException("state can only be restored into a new sequencer");
        }
        final int version = in.getInt();
        if (version != STATE_VERSION && version != STATE_VERSION_BEFORE_TIMERS_BY_PRIORITY)
        {
            // an engine of this build must start from the snapshots the one before it wrote: retention may have
            // deleted the journal before them
            throw new IllegalStateException("snapshot state layout " + version + ", this build reads "
                + STATE_VERSION_BEFORE_TIMERS_BY_PRIORITY + " and " + STATE_VERSION);
        }
        now = in.getLong();
        settings = Settings.readFrom(in, settings);
        retentionCheckAt = Long.MIN_VALUE;
        resolveTypeLimits();
        stopping = in.getByte() != 0;
        stopBeganAt = in.getLong();
        stopDeadline = in.getLong();
        interrupted = in.getLong();
        engineStarts = in.getInt();
        stoppedCleanly = in.getByte() != 0;
        final int names = in.count(4);
        final int[] handlerIds = new int[names];
        final int[] typeSlots = new int[names];
        for (int i = 0; i < names; i++)
        {
            final String name = in.getString();
            handlerIds[i] = registry.idOf(name);
            typeSlots[i] = typeSlot(handlerIds[i], name);
        }
        final int tenantCount = in.count(4);
        final java.util.List<byte[]> named = new java.util.ArrayList<>(tenantCount);
        for (int i = 0; i < tenantCount; i++)
        {
            named.add(in.getBytes());
        }
        tenants.restore(named);
        final int tasks = in.count(128);
        for (int i = 0; i < tasks; i++)
        {
            final TaskRecord r = allocate();
            r.taskId = in.getLong();
            r.keyHash = in.getLong();
            r.state = TaskState.fromCode(in.getByte());
            r.attempt = in.getInt();
            r.maxAttempts = in.getInt();
            final int typeRef = in.getInt();
            r.handlerId = handlerId(handlerIds, typeRef);
            r.typeSlot = typeRef == HandlerRegistry.UNKNOWN ? unhandled.overflow() : typeSlots[typeRef];
            r.mode = smallCode(in.getInt(), "mode");
            r.priority = smallCode(in.getInt(), "priority");
            r.taskFlags = in.getInt();
            r.timeoutMillis = in.getInt();
            r.backoffInitialMillis = in.getInt();
            r.backoffMaxMillis = in.getInt();
            r.backoffMultiplier = in.getFloat();
            r.backoffJitter = in.getFloat();
            r.submittedAt = in.getLong();
            r.startedAt = in.getLong();
            r.finishedAt = in.getLong();
            r.submitDocument = in.getLong();
            r.submitOffset = in.getInt();
            r.outcomeDocument = in.getLong();
            r.outcomeOffset = in.getInt();
            r.outcomeReason = smallCode(in.getInt(), "outcome reason");
            r.heldUntil = in.getLong();
            r.attemptBase = in.getInt();
            r.tenant = in.getInt();
            r.queuedAt = in.getLong();
            r.firstStartedAt = in.getLong();
            r.executionNanos = in.getLong();
            if (r.tenant < 0 || r.tenant >= tenantCount + 2)
            {
                throw new IllegalStateException("snapshot state has live task " + r.taskId + " of tenant " + r.tenant + ", of "
                    + (tenantCount + 2));
            }
            if (r.state == null || r.state.terminal() || r.priority < 0 || r.priority >= PRIORITIES || byId.containsKey(r.taskId))
            {
                throw new IllegalStateException("snapshot state has a bad live task " + r.taskId + " (" + r.state + ")");
            }
            byKey.add(r);
            byId.put(r.taskId, r);
            liveCount++;
        }
        for (int p = 0; p < PRIORITIES; p++)
        {
            final int n = in.count(8);
            for (int i = 0; i < n; i++)
            {
                final long taskId = in.getLong();
                final TaskRecord r = byId.get(taskId);
                if (r == null || r.inPendingQueue || r.priority != p)
                {
                    throw new IllegalStateException("snapshot state queues task " + taskId + " that is not live, or twice");
                }
                enqueuePending(r);
            }
        }
        final int slots = in.count(20);
        for (int i = 0; i < slots; i++)
        {
            final long taskId = in.getLong();
            final int attempt = in.getInt();
            final int g = in.getInt();
            final int typeRef = in.getInt();
            handlerId(handlerIds, typeRef);                 // checks the reference
            final int t = typeRef == HandlerRegistry.UNKNOWN ? unhandled.overflow() : typeSlots[typeRef];
            if (g <= GROUP_INLINE || g >= GROUPS)
            {
                throw new IllegalStateException("snapshot state has a slot of group " + g);
            }
            inPool.put(slotKey(taskId, attempt), (attempt & 0xFFFF_FFFFL) | (long)g << 32 | (long)t << 40);
            groupInUse[g]++;
            typeInUse[t]++;
        }
        timers.readFrom(in);
        for (final DueTimers queue : due)
        {
            queue.readFrom(in);
        }
        if (version > STATE_VERSION_BEFORE_TIMERS_BY_PRIORITY)
        {
            for (final TimerHeap heap : timersByPriority)
            {
                heap.readFrom(in);
            }
            timersCompactAt = in.getInt();
        }
        expected.readFrom(in);
        final long nextLetter = in.getLong();
        deadLetterOverflows = in.getLong();
        final int letters = in.count(72);
        for (int i = 0; i < letters; i++)
        {
            try
            {
                deadLetters.restore(in.getLong(), in.getLong(), in.getLong(), in.getLong(), in.getInt(), in.getLong(), in.getInt(),
                    in.getInt(), in.getInt(), in.getLong(), in.getLong());
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalStateException("snapshot state has a bad dead letter: " + ex.getMessage(), ex);
            }
        }
        try
        {
            deadLetters.restoreNextSequence(nextLetter);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalStateException("snapshot state has a bad dead-letter sequence: " + ex.getMessage(), ex);
        }
        retained.readFrom(in);
    }

    private static int handlerId(final int[] handlerIds, final int snapshotId)
    {
        if (snapshotId == HandlerRegistry.UNKNOWN)
        {
            return HandlerRegistry.UNKNOWN;
        }
        if (snapshotId < 0 || snapshotId >= handlerIds.length)
        {
            throw new IllegalStateException("snapshot state names handler " + snapshotId + " of " + handlerIds.length);
        }
        return handlerIds[snapshotId];
    }

    @FunctionalInterface
    interface TaskVisitor
    {
        void visit(long taskId, TaskState state, int attempts, long submittedAt, long finishedAt);
    }

    /**
     * Where a dead-letter query's entries go (the query itself, answered by the publish stage once the
     * sequence stage has written them).
     */
    interface DeadLetterRows extends DeadLetters.Visitor
    {
        /**
         * @param nextCursor the cursor of the last entry written (or the one asked with, when none was).
         * @param more whether the list holds entries after the last one written.
         * @param total entries in the list.
         */
        void end(long nextCursor, boolean more, int total);
    }

    /**
     * The task types a journal (or a snapshot) names that the registry has no handler for, each with a slot of its
     * own in the per-type arrays, after the registry's {@code base} slots: at most {@link HandlerRegistry#REPLAY_TYPES};
     * more share the last slot ({@link #overflow}). Named in the order the state machine meets them, which the
     * journal decides. The sequence stage's thread (or the replaying one) only.
     */
    private static final class UnhandledTypes
    {
        private final int base;
        private final byte[][] names = new byte[HandlerRegistry.REPLAY_TYPES][];
        private final String[] types = new String[HandlerRegistry.REPLAY_TYPES];
        private int count;
        /** The index {@link #find(DirectBuffer, int, int)} found last: a run of one type costs one comparison. */
        private int last;

        UnhandledTypes(final int base)
        {
            this.base = base;
        }

        /** @return how many per-type slots there are: the registry's, these, and the shared last one. */
        int slots()
        {
            return base + names.length + 1;
        }

        /** @return the slot types past the named ones share (no limit of its own). */
        int overflow()
        {
            return base + names.length;
        }

        int count()
        {
            return count;
        }

        /** @return the slot of the i-th type named. */
        int slot(final int index)
        {
            return base + index;
        }

        /** @return the name of the i-th type named. */
        String type(final int index)
        {
            return types[index];
        }

        /** @return the index among the named types of a slot, or -1 when it is not one of theirs. */
        int indexOf(final int slot)
        {
            final int index = slot - base;
            return index >= 0 && index < count ? index : -1;
        }

        /** @return the slot of the type named by these bytes, or -1 when it has none yet. */
        int find(final DirectBuffer buffer, final int offset, final int length)
        {
            if (last < count && matches(names[last], buffer, offset, length))
            {
                return base + last;
            }
            for (int i = 0; i < count; i++)
            {
                if (matches(names[i], buffer, offset, length))
                {
                    last = i;
                    return base + i;
                }
            }
            return -1;
        }

        /** @return the slot of the type of this name, or -1 when it has none yet. */
        int find(final String type)
        {
            for (int i = 0; i < count; i++)
            {
                if (types[i].equals(type))
                {
                    return base + i;
                }
            }
            return -1;
        }

        /** @return the slot given to a type not named yet, or {@link #overflow} when every slot is taken. */
        int add(final String type)
        {
            if (count == names.length)
            {
                return overflow();
            }
            types[count] = type;
            names[count] = type.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return base + count++;
        }

        private static boolean matches(final byte[] name, final DirectBuffer buffer, final int offset, final int length)
        {
            if (name.length != length)
            {
                return false;
            }
            for (int j = 0; j < length; j++)
            {
                if (name[j] != buffer.getByte(offset + j))
                {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Reads a submission back from the journal: its key (copied) and the request's settings, for a redrive.
     */
    private static final class SubmissionReader implements RecordHandler
    {
        private final JournalReader reader;
        private final HandlerRegistry registry;
        private final TenantIndex tenants;
        final ExpandableArrayBuffer key = new ExpandableArrayBuffer(64);
        int keyLength;
        /** The type's name (copied), for its {@link #typeSlot}. */
        final ExpandableArrayBuffer type = new ExpandableArrayBuffer(64);
        int typeLength;
        int handlerId;
        int tenant;
        int mode;
        int priority;
        int timeoutMillis;
        int maxAttempts;
        int backoffInitialMillis;
        int backoffMaxMillis;
        float backoffMultiplier;
        float backoffJitter;
        int taskFlags;
        private boolean found;

        SubmissionReader(final JournalReader reader, final HandlerRegistry registry, final TenantIndex tenants)
        {
            this.reader = reader;
            this.registry = registry;
            this.tenants = tenants;
        }

        /**
         * @return whether the SUBMITTED record at this position was read (its fields are then set).
         */
        boolean read(final long document, final int offset)
        {
            found = false;
            return reader != null && reader.readRecordAt(document, offset, this) && found;
        }

        @Override
        public void onRecord(final RecordView record)
        {
            if (record.type() != RecordType.SUBMITTED)
            {
                return;
            }
            final SubmittedRecord.Decoder d = record.submitted();
            keyLength = d.keyLength();
            key.putBytes(0, d.buffer(), d.keyOffset(), keyLength);
            handlerId = registry.idOf(d.buffer(), d.taskTypeOffset(), d.taskTypeLength());
            typeLength = d.taskTypeLength();
            type.putBytes(0, d.buffer(), d.taskTypeOffset(), typeLength);
            tenant = tenants.idOf(d.buffer(), d.tenantOffset(), d.tenantLength());
            mode = d.executionMode();
            priority = d.priority();
            timeoutMillis = d.timeoutMillis();
            maxAttempts = d.maxAttempts();
            backoffInitialMillis = d.backoffInitialMillis();
            backoffMaxMillis = d.backoffMaxMillis();
            backoffMultiplier = d.backoffMultiplier();
            backoffJitter = d.backoffJitter();
            taskFlags = d.taskFlags();
            found = true;
        }
    }

    /**
     * Reads a submission's key back from the journal to compare it with another key of the same hash.
     */
    private static final class KeyMatcher implements RecordHandler, RetainedOutcomes.KeyCheck
    {
        private final JournalReader reader;
        private DirectBuffer probe;
        private int probeOffset;
        private int probeLength;
        private boolean matched;

        KeyMatcher(final JournalReader reader)
        {
            this.reader = reader;
        }

        void probe(final DirectBuffer key, final int keyOffset, final int keyLength)
        {
            probe = key;
            probeOffset = keyOffset;
            probeLength = keyLength;
        }

        boolean matches(final long document, final int offset, final DirectBuffer key, final int keyOffset, final int keyLength)
        {
            probe(key, keyOffset, keyLength);
            return matches(document, offset);
        }

        @Override
        public boolean matches(final long document, final int offset)
        {
            matched = false;
            if (reader == null || !reader.readRecordAt(document, offset, this))
            {
                // the submission cannot be read back: equal 64-bit hashes are the best evidence there is
                return true;
            }
            return matched;
        }

        @Override
        public void onRecord(final RecordView record)
        {
            if (record.type() != RecordType.SUBMITTED)
            {
                return;
            }
            final SubmittedRecord.Decoder d = record.submitted();
            if (d.keyLength() != probeLength)
            {
                return;
            }
            final DirectBuffer stored = d.buffer();
            final int base = d.keyOffset();
            for (int i = 0; i < probeLength; i++)
            {
                if (stored.getByte(base + i) != probe.getByte(probeOffset + i))
                {
                    return;
                }
            }
            matched = true;
        }
    }
}
