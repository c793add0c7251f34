package io.gyre.engine;

import com.lmax.disruptor.EventFactory;
import io.gyre.journal.RecordType;

/**
 * One preallocated, mutable slot of the ring. Fields are grouped by the one stage that writes them; later
 * stages only read them. The publish stage, last, calls {@link #clear()} to drop references.
 */
final class RingEvent
{
    static final EventFactory<RingEvent> FACTORY = RingEvent::new;

    /** A task submission (journaled as SUBMITTED). */
    static final int SUBMIT = 1;
    /** The result of an attempt (journaled as SUCCEEDED or FAILED). */
    static final int COMPLETION = 2;
    /** A request to cancel a task by key (journaled as CANCEL_REQUESTED). */
    static final int CANCEL = 3;
    /** A question about a task by key (not journaled; changes nothing). */
    static final int STATUS = 4;
    /** Time has passed: fire due timers (journaled as TICK). */
    static final int TICK = 5;
    /** The engine started: settings in force, recovery of interrupted attempts (journaled). */
    static final int ENGINE_STARTED = 6;
    /** A transition the sequence stage derived, to journal (journaled as its record type). */
    static final int DERIVED = 7;
    /** Snapshot the sequencer's state now (not journaled; changes nothing). */
    static final int SNAPSHOT = 12;
    /** The engine began to stop: no attempt starts from here (journaled as ENGINE_STOP, phase STOPPING). */
    static final int ENGINE_STOP = 11;
    /**
     * A question about the dead-letter list (not journaled; changes nothing): the entry of {@link #key}, or,
     * with an empty key, a page of entries (cursor and limit on the {@link Requests.DeadLetterQuery}).
     */
    static final int DEAD_LETTER_QUERY = 8;
    /** A request to redrive the dead-lettered task of {@link #key} (journaled as REDRIVE_REQUESTED). */
    static final int REDRIVE = 9;
    /** A request to purge the dead letter of {@link #key}, or every one when it is empty (journaled as PURGE_REQUESTED). */
    static final int PURGE = 10;
    /**
     * A submission of a type the journal holds tasks of but no handler is installed for (not journaled; changes
     * nothing): it joins the task of {@link #key} or gets its recorded outcome, else it is refused UNKNOWN_TYPE.
     */
    static final int SUBMIT_UNINSTALLED = 13;

    // ---- written by the producer (API thread, pool thread, ticker, or the execute stage for follow-ups)
    int kind;
    final Blob key = new Blob(64);
    /**
     * For a {@link #SUBMIT}: {@link KeyHasher#hash} of {@link #key}, computed by the thread that publishes the event,
     * so that the journal-and-sequence thread (the engine's busiest) does not hash each key, twice at that.
     */
    long keyHash;
    final Blob tenant = new Blob(64);
    final Blob payload = new Blob(Blob.INLINE_CAPACITY);
    int handlerId;
    int mode;
    int priority;
    int timeoutMillis;
    int maxAttempts;
    int backoffInitialMillis;
    int backoffMaxMillis;
    float backoffMultiplier;
    float backoffJitter;
    int taskFlags;
    Object replyTo;
    long correlation;
    long taskId;
    int attempt;
    boolean succeeded;
    /** COMPLETION: the outcome is held until {@link #finishedAt}. */
    boolean held;
    int errorKind;
    long startedAt;
    long finishedAt;
    /** Output of a successful attempt, or the UTF-8 message of a failed one. */
    final Blob output = new Blob(Blob.INLINE_CAPACITY);
    RecordType derivedType;
    int derivedReason;
    long derivedTime;
    Settings settings;
    /** ENGINE_STOP: how long running attempts may take to finish, from the record's time (nanoseconds). */
    long stopTimeoutNanos;
    /** Bytes this event holds against the in-flight byte budget, given back when it is cleared. */
    long budgetBytes;

    // ---- written by the journal stage
    boolean journaled;
    long eventId;
    long timestamp;
    long documentIndex;
    int recordOffset;
    /** Records kept during a journal outage and journaled just before this event: applied before it. */
    JournalStage.Kept[] resumed;
    /** Why the journal did not take this event (null when it did). */
    String journalError;

    // ---- written by the sequence stage
    final Effects effects = new Effects();

    // ---- a SUBMIT whose inline attempt ran on the journal's thread (FusedStage): the attempt's result is
    // in succeeded, errorKind, held, startedAt, finishedAt and output, journaled at these
    boolean hasResult;
    boolean resultJournaled;
    int resultAttempt;
    long resultTimestamp;
    long resultEventId;
    long resultDocument;
    int resultOffset;

    /**
     * Drop references and large arrays once every stage is done with the event.
     */
    void clear()
    {
        replyTo = null;
        settings = null;
        derivedType = null;
        payload.release();
        output.release();
        effects.reset();
        budgetBytes = 0;
        journaled = false;
        resumed = null;
        journalError = null;
        hasResult = false;
        resultJournaled = false;
    }

    static String kindName(final int kind)
    {
        switch (kind)
        {
            case SUBMIT:
                return "SUBMIT";
            case COMPLETION:
                return "COMPLETION";
            case CANCEL:
                return "CANCEL";
            case STATUS:
                return "STATUS";
            case TICK:
                return "TICK";
            case ENGINE_STARTED:
                return "ENGINE_STARTED";
            case DERIVED:
                return "DERIVED";
            case SNAPSHOT:
                return "SNAPSHOT";
            case ENGINE_STOP:
                return "ENGINE_STOP";
            case DEAD_LETTER_QUERY:
                return "DEAD_LETTER_QUERY";
            case REDRIVE:
                return "REDRIVE";
            case PURGE:
                return "PURGE";
            case SUBMIT_UNINSTALLED:
                return "SUBMIT_UNINSTALLED";
            default:
                return "UNKNOWN(" + kind + ")";
        }
    }

    @Override
    public String toString()
    {
        return "RingEvent[" + kindName(kind) + ", taskId=" + taskId + ", attempt=" + attempt + ", eventId=" + eventId +
            ", journaled=" + journaled + "]";
    }
}
