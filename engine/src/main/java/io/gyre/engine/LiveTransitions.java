package io.gyre.engine;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sequence stage's side of status events: while anyone subscribes, the {@link Sequencer} hands each
 * lifecycle transition here as it decides it, and this writes a fixed 80-byte record of it into a
 * single-producer, single-consumer ring (Agrona's {@link OneToOneRingBuffer}, off-heap, fixed size) that the
 * {@link EventHub}'s thread reads. Writing never waits and allocates nothing: when the ring is full the
 * transition is dropped and counted ({@link #lost()}), and the hub tells every subscriber.
 * <p>
 * Why so little here: the sequence stage is the engine's hot path. Error messages are not copied: the record
 * carries where they are in the journal (the outcome's position) and the hub reads them there, off the hot
 * path. A new task's key and tenant are copied once, into its SUBMITTED record (a copy of at most a few hundred
 * bytes the sequence stage has at hand, where a read of the journal by position on the hub's thread costs a
 * Chronicle index lookup per task); the hub keeps them for the task's later transitions, and reads the journal
 * only for tasks it has not seen begin (the submission's position is in every record).
 * <p>
 * Single writer: the sequence stage's thread. Single reader: the hub's thread.
 */
final class LiveTransitions
{
    static final int MSG_TRANSITION = 1;
    /** No state (the {@code from} of a new task). */
    static final int NO_STATE = 0xFF;

    // the record, at offsets from its start
    static final int TASK_ID = 0;
    static final int CAUSE_EVENT_ID = 8;
    static final int CAUSE_DOCUMENT = 16;
    static final int TIMESTAMP = 24;
    static final int DUE_AT = 32;
    static final int SUBMIT_DOCUMENT = 40;
    static final int OUTCOME_DOCUMENT = 48;
    static final int SUBMIT_OFFSET = 56;
    static final int OUTCOME_OFFSET = 60;
    static final int ATTEMPT = 64;
    static final int TIMEOUT_MILLIS = 68;
    static final int HANDLER_ID = 72;
    static final int FROM = 76;
    static final int TO = 77;
    static final int KIND = 78;
    static final int REASON = 79;
    static final int LENGTH = 80;
    /** A new task's record goes on: key length u16, tenant length u16, key, tenant. */
    static final int KEY_LENGTH = 80;
    static final int TENANT_LENGTH = 82;
    static final int SUBMISSION = 84;

    private final RingBuffer ring;
    private final AtomicLong lost = new AtomicLong();
    private long causeEventId;
    private long causeDocument;
    // the submission being applied, if any: its key and tenant go with the new task's record
    private DirectBuffer submitKey;
    private int submitKeyLength;
    private DirectBuffer submitTenant;
    private int submitTenantLength;

    /**
     * @param capacityBytes the ring's size, a power of two (a record takes 88 bytes with its header).
     */
    LiveTransitions(final int capacityBytes)
    {
        final AtomicBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(capacityBytes + RingBufferDescriptor.TRAILER_LENGTH));
        this.ring = new OneToOneRingBuffer(buffer);
    }

    RingBuffer ring()
    {
        return ring;
    }

    /** @return transitions dropped because the ring was full (read from any thread). */
    long lost()
    {
        return lost.get();
    }

    /**
     * The journal record the next transitions are decided by (called by the sequence stage before it applies
     * each journaled record).
     */
    void cause(final long eventId, final long documentIndex)
    {
        causeEventId = eventId;
        causeDocument = documentIndex;
    }

    /**
     * The submission about to be applied (its key and tenant, valid until {@link #submissionDone()}): a task it
     * creates carries them.
     */
    void submission(final DirectBuffer key, final int keyLength, final DirectBuffer tenant, final int tenantLength)
    {
        submitKey = key;
        submitKeyLength = keyLength;
        submitTenant = tenant;
        submitTenantLength = tenantLength;
    }

    void submissionDone()
    {
        submitKey = null;
        submitTenant = null;
    }

    /**
     * A task moves from {@code from} (null: it was just accepted) to {@code to}; called before the record's
     * state changes, with the task's other fields as the move leaves them (for a retry, its attempt and
     * backoff settings; for an outcome, its position and reason).
     */
    void onTransition(final TaskRecord r, final TaskState from, final TaskState to, final long now)
    {
        final boolean carry = from == null && submitKey != null;
        final int index = ring.tryClaim(MSG_TRANSITION, carry ? SUBMISSION + submitKeyLength + submitTenantLength : LENGTH);
        if (index < 0)
        {
            lost.lazySet(lost.get() + 1);
            return;
        }
        final AtomicBuffer b = ring.buffer();
        final TaskEvent.Kind kind = kindOf(from, to);
        long dueAt = 0;
        int reason = 0;
        switch (kind)
        {
            case RETRY_SCHEDULED -> dueAt = now + Sequencer.backoffNanos(r);
            case REDRIVEN -> dueAt = now;
            case REQUEUED -> reason = from == TaskState.RUNNING ? TaskEvent.REASON_REQUEUED_INTERRUPTED : TaskEvent.REASON_REQUEUED_WAITING;
            case CANCELLED, DEAD_LETTERED -> reason = r.outcomeReason;
            default ->
            {
            }
        }
        b.putLong(index + TASK_ID, r.taskId);
        b.putLong(index + CAUSE_EVENT_ID, causeEventId);
        b.putLong(index + CAUSE_DOCUMENT, causeDocument);
        b.putLong(index + TIMESTAMP, now);
        b.putLong(index + DUE_AT, dueAt);
        b.putLong(index + SUBMIT_DOCUMENT, r.submitDocument);
        b.putLong(index + OUTCOME_DOCUMENT, r.outcomeDocument);
        b.putInt(index + SUBMIT_OFFSET, r.submitOffset);
        b.putInt(index + OUTCOME_OFFSET, r.outcomeOffset);
        b.putInt(index + ATTEMPT, from == null ? Math.max(1, r.attempt) : r.attempt);
        b.putInt(index + TIMEOUT_MILLIS, r.timeoutMillis);
        b.putInt(index + HANDLER_ID, r.handlerId);
        b.putByte(index + FROM, (byte)(from == null ? NO_STATE : from.code()));
        b.putByte(index + TO, (byte)to.code());
        b.putByte(index + KIND, (byte)kind.code());
        b.putByte(index + REASON, (byte)reason);
        if (carry)
        {
            b.putShort(index + KEY_LENGTH, (short)submitKeyLength);
            b.putShort(index + TENANT_LENGTH, (short)submitTenantLength);
            b.putBytes(index + SUBMISSION, submitKey, 0, submitKeyLength);
            b.putBytes(index + SUBMISSION + submitKeyLength, submitTenant, 0, submitTenantLength);
        }
        ring.commit(index);
    }

    /**
     * A dead letter leaves the list by a purge (its task stays DEAD_LETTERED).
     */
    void onPurged(
        final long taskId, final long submitDocument, final int submitOffset, final int attempts, final int reason, final long now)
    {
        final int index = ring.tryClaim(MSG_TRANSITION, LENGTH);
        if (index < 0)
        {
            lost.lazySet(lost.get() + 1);
            return;
        }
        final AtomicBuffer b = ring.buffer();
        b.putLong(index + TASK_ID, taskId);
        b.putLong(index + CAUSE_EVENT_ID, causeEventId);
        b.putLong(index + CAUSE_DOCUMENT, causeDocument);
        b.putLong(index + TIMESTAMP, now);
        b.putLong(index + DUE_AT, 0);
        b.putLong(index + SUBMIT_DOCUMENT, submitDocument);
        b.putLong(index + OUTCOME_DOCUMENT, -1);
        b.putInt(index + SUBMIT_OFFSET, submitOffset);
        b.putInt(index + OUTCOME_OFFSET, 0);
        b.putInt(index + ATTEMPT, attempts);
        b.putInt(index + TIMEOUT_MILLIS, 0);
        b.putInt(index + HANDLER_ID, HandlerRegistry.UNKNOWN);
        b.putByte(index + FROM, (byte)TaskState.DEAD_LETTERED.code());
        b.putByte(index + TO, (byte)TaskState.DEAD_LETTERED.code());
        b.putByte(index + KIND, (byte)TaskEvent.Kind.PURGED.code());
        b.putByte(index + REASON, (byte)reason);
        ring.commit(index);
    }

    /**
     * @return the kind of a move: by its target state, and for RETRY_WAIT and PENDING by where it came from.
     */
    static TaskEvent.Kind kindOf(final TaskState from, final TaskState to)
    {
        if (from == null)
        {
            return TaskEvent.Kind.SUBMITTED;
        }
        return switch (to)
        {
            case PENDING -> TaskEvent.Kind.REQUEUED;
            case RUNNING -> TaskEvent.Kind.STARTED;
            case RETRY_WAIT -> from == TaskState.DEAD_LETTERED ? TaskEvent.Kind.REDRIVEN : TaskEvent.Kind.RETRY_SCHEDULED;
            case SUCCEEDED -> TaskEvent.Kind.SUCCEEDED;
            case FAILED -> TaskEvent.Kind.FAILED;
            case CANCELLED -> TaskEvent.Kind.CANCELLED;
            case TIMED_OUT -> TaskEvent.Kind.TIMED_OUT;
            case DEAD_LETTERED -> TaskEvent.Kind.DEAD_LETTERED;
        };
    }
}
