package io.gyre.journal;

/**
 * Every kind of record the journal holds, with its wire code and the version this build writes.
 * <p>
 * Input records are facts that reached the engine from outside its state machine (a submission, an
 * attempt's result, a cancel, redrive or purge request, the passage of time); replaying them through the sequence stage
 * rebuilds its state. Derived records are transitions the sequence stage decided; they are journaled
 * so that every transition is visible in the journal, and replay re-derives and checks them.
 * {@link #JOURNAL_RECOVERED} is written by the journal itself when it finds a torn tail, {@link #JOURNAL_OUTAGE}
 * by the engine when the journal can be written again after it could not. Codes are
 * never reused; the gaps are kept for types being added elsewhere.
 */
public enum RecordType
{
    /** A task was submitted (input). Body: {@link SubmittedRecord}. */
    SUBMITTED(1, 1, false),
    /** An attempt succeeded; the task's outcome (input). Body: {@link SucceededRecord}. */
    SUCCEEDED(2, 1, false),
    /** An attempt failed (input). Body: {@link FailedRecord}. */
    FAILED(3, 1, false),
    /** A client asked for a task to be cancelled (input). Body: {@link CancelRequestedRecord}. */
    CANCEL_REQUESTED(4, 1, false),
    /** Time passed with nothing else happening; due timers fire (input). No body. */
    TICK(5, 1, false),
    /** An engine started on this journal, with the settings its decisions depend on (input). Body: {@link EngineStartedRecord}. */
    ENGINE_STARTED(6, 1, false),
    /** An attempt was dispatched to a pool (derived). Body: {@link TransitionRecord}. */
    STARTED(7, 1, true),
    /** A failed attempt will be retried at a due time (derived). Body: {@link TransitionRecord}. */
    RETRY_SCHEDULED(8, 1, true),
    /** An attempt ran past its timeout (derived). Body: {@link TransitionRecord}. */
    TIMED_OUT(9, 1, true),
    /** A task was cancelled (derived). Body: {@link TransitionRecord}. */
    CANCELLED(10, 1, true),
    /** A task exhausted its attempts or failed permanently and was dead-lettered (derived). Body: {@link TransitionRecord}. */
    DEAD_LETTERED(11, 1, true),
    /** A journaled submission was refused by the sequence stage, e.g. at capacity (derived). Body: {@link TransitionRecord}. */
    REJECTED(12, 1, true),
    /** The journal found and discarded a torn tail when it was opened for writing. Body: {@link JournalRecoveredRecord}. */
    JOURNAL_RECOVERED(13, 1, false),
    /** An operator asked for a dead-lettered task to run again (input). Body: {@link RedriveRequestedRecord}. */
    REDRIVE_REQUESTED(14, 1, false),
    /** An operator asked for dead letters to be removed from the list (input). Body: {@link PurgeRequestedRecord}. */
    PURGE_REQUESTED(15, 1, false),
    /**
     * An engine stopping on purpose (input): first when it stops taking work, last with what it left, which
     * replay marks interrupted. Body: {@link EngineStopRecord}.
     */
    ENGINE_STOP(16, 1, false),
    /**
     * The journal could not be written for a while and now can; the records kept during the outage follow.
     * Body: {@link JournalOutageRecord}.
     */
    JOURNAL_OUTAGE(18, 1, false);

    private static final RecordType[] BY_CODE;

    static
    {
        int max = 0;
        for (final RecordType type : values())
        {
            max = Math.max(max, type.code);
        }
        BY_CODE = new RecordType[max + 1];
        for (final RecordType type : values())
        {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;
    private final int version;
    private final boolean derived;

    RecordType(final int code, final int version, final boolean derived)
    {
        this.code = code;
        this.version = version;
        this.derived = derived;
    }

    /**
     * @return the code stored in the record header's type field.
     */
    public int code()
    {
        return code;
    }

    /**
     * @return the body layout version this build writes (and the newest it reads).
     */
    public int version()
    {
        return version;
    }

    /**
     * @return true when the sequence stage derives records of this type rather than receiving them.
     */
    public boolean derived()
    {
        return derived;
    }

    /**
     * @param code a header type code.
     * @return the type, or null when the code is not one this build knows.
     */
    public static RecordType fromCode(final int code)
    {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
