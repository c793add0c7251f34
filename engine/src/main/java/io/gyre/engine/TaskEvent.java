package io.gyre.engine;

import java.nio.charset.StandardCharsets;

/**
 * One lifecycle transition of one task, as a status subscriber sees it ({@link Engine#subscribe}). Immutable.
 * <p>
 * Every transition is decided by the state machine from a record already in the journal: that record is
 * {@link #eventId()} (in document {@link #documentIndex()}), so an event is never something a crash could
 * take back. Transitions the journal also records as a derived record (a pool attempt started, a retry
 * scheduled, a timeout, a cancel, a dead letter) may reach a subscriber a moment before that derived record
 * is appended: the record is a pure function of the journal before it, and an engine restarted after a crash
 * derives and journals it again, identically (invariant 4).
 *
 * @param eventId the event id of the journal record that decided the transition (a submission, a result, a
 *     tick, a cancel, redrive or purge request, an engine start). One record may decide several transitions;
 *     the events of a subscription come in non-decreasing {@code eventId} order.
 * @param documentIndex the journal document holding that record ({@code gyre replay --from} takes it).
 * @param timestamp that record's time, epoch nanoseconds.
 * @param taskId the task (the event id of its submission).
 * @param kind what happened.
 * @param from the state before; null for {@link Kind#SUBMITTED}.
 * @param state the state after.
 * @param reason why, by kind (the {@code REASON_} constants); 0 when the kind has no reasons.
 * @param attempt the task's attempt number at the time (1 while the first is pending).
 * @param dueAt for {@link Kind#RETRY_SCHEDULED} and {@link Kind#REDRIVEN}: when the next attempt is due (epoch
 *     nanoseconds); 0 otherwise.
 * @param key the task's idempotency key; empty when its submission is no longer in the journal.
 * @param type the task type.
 * @param tenant the task's tenant (may be empty).
 * @param error the error, for a failed attempt (the handler's message) or a timeout; null otherwise.
 */
public record TaskEvent(
    long eventId,
    long documentIndex,
    long timestamp,
    long taskId,
    Kind kind,
    TaskState from,
    TaskState state,
    int reason,
    int attempt,
    long dueAt,
    byte[] key,
    String type,
    byte[] tenant,
    String error)
{
    /** {@link Kind#RETRY_SCHEDULED}: the attempt failed (retryably). */
    public static final int REASON_RETRY_AFTER_FAILURE = 1;
    /** {@link Kind#RETRY_SCHEDULED}: the attempt ran past its timeout. */
    public static final int REASON_RETRY_AFTER_TIMEOUT = 2;
    /** {@link Kind#REQUEUED}: the attempt was running when its engine stopped or crashed; it runs again, same number. */
    public static final int REASON_REQUEUED_INTERRUPTED = 1;
    /** {@link Kind#REQUEUED}: a retry fell due with no pool slot free (or while the engine stops); it waits for one. */
    public static final int REASON_REQUEUED_WAITING = 2;
    /** {@link Kind#CANCELLED}: it was waiting (pending, or between retries). */
    public static final int REASON_CANCELLED_WAITING = 1;
    /** {@link Kind#CANCELLED}: it was running; its attempt is asked to stop. */
    public static final int REASON_CANCELLED_RUNNING = 2;
    /** {@link Kind#FAILED} and {@link Kind#DEAD_LETTERED}: the handler failed it permanently. */
    public static final int REASON_PERMANENT_FAILURE = 1;
    /** {@link Kind#FAILED} and {@link Kind#DEAD_LETTERED}: its last attempt failed and none was left. */
    public static final int REASON_ATTEMPTS_EXHAUSTED = 2;
    /** {@link Kind#DEAD_LETTERED}: its last attempt timed out. */
    public static final int REASON_TIMED_OUT = 3;

    /**
     * What a transition is. Codes are the wire's (docs/PROTOCOL.md, EVENT).
     */
    public enum Kind
    {
        /** A new task was accepted: none → PENDING. */
        SUBMITTED(1),
        /** An attempt started: PENDING or RETRY_WAIT → RUNNING. */
        STARTED(2),
        /** Back to waiting: RUNNING → PENDING (interrupted by a stop or crash), or RETRY_WAIT → PENDING (no slot). */
        REQUEUED(3),
        /** An attempt failed or timed out and another is scheduled: RUNNING → RETRY_WAIT, at {@link #dueAt()}. */
        RETRY_SCHEDULED(4),
        /** RUNNING → SUCCEEDED. */
        SUCCEEDED(5),
        /** RUNNING → FAILED (dead-lettering off for the task, or the dead-letter list full). */
        FAILED(6),
        /** PENDING, RETRY_WAIT or RUNNING → CANCELLED. */
        CANCELLED(7),
        /** RUNNING → TIMED_OUT: the last attempt ran past its timeout (dead-lettering off, or the list full). */
        TIMED_OUT(8),
        /** RUNNING → DEAD_LETTERED: the task entered the dead-letter list. */
        DEAD_LETTERED(9),
        /** DEAD_LETTERED → RETRY_WAIT: redriven, due at once. */
        REDRIVEN(10),
        /** The task's dead letter was purged from the list (its state stays DEAD_LETTERED). */
        PURGED(11);

        private static final Kind[] VALUES = values();

        private final int code;

        Kind(final int code)
        {
            this.code = code;
        }

        public int code()
        {
            return code;
        }

        /**
         * @return the kind of this code, or null for a code this version does not know.
         */
        public static Kind fromCode(final int code)
        {
            return code >= 1 && code <= VALUES.length ? VALUES[code - 1] : null;
        }
    }

    /**
     * @return the reason's name for this kind ({@code AFTER_FAILURE}, {@code INTERRUPTED}, {@code PERMANENT_FAILURE},
     *     ...), or null when the event has none.
     */
    public String reasonName()
    {
        return switch (kind)
        {
            case RETRY_SCHEDULED -> reason == REASON_RETRY_AFTER_FAILURE ? "AFTER_FAILURE" : reason == REASON_RETRY_AFTER_TIMEOUT ?
                "AFTER_TIMEOUT" : null;
            case REQUEUED -> reason == REASON_REQUEUED_INTERRUPTED ? "INTERRUPTED" : reason == REASON_REQUEUED_WAITING ?
                "WAITING_FOR_SLOT" : null;
            case CANCELLED -> reason == REASON_CANCELLED_WAITING ? "WAS_WAITING" : reason == REASON_CANCELLED_RUNNING ? "WAS_RUNNING" : null;
            case FAILED, DEAD_LETTERED, PURGED -> switch (reason)
            {
                case REASON_PERMANENT_FAILURE -> "PERMANENT_FAILURE";
                case REASON_ATTEMPTS_EXHAUSTED -> "ATTEMPTS_EXHAUSTED";
                case REASON_TIMED_OUT -> "TIMED_OUT";
                default -> null;
            };
            default -> null;
        };
    }

    /**
     * @return the key as UTF-8 text.
     */
    public String keyAsString()
    {
        return new String(key, StandardCharsets.UTF_8);
    }

    /**
     * @return the tenant as UTF-8 text.
     */
    public String tenantAsString()
    {
        return new String(tenant, StandardCharsets.UTF_8);
    }

    @Override
    public String toString()
    {
        return "TaskEvent[" + eventId + " task " + taskId + " (" + keyAsString() + ", " + type + ", tenant " + tenantAsString() + ") " +
            kind + " " + from + "->" + state + " attempt " + attempt + (reason != 0 ? " reason " + reason : "") +
            (dueAt != 0 ? " due " + dueAt : "") + (error != null ? " error " + error : "") + "]";
    }
}
