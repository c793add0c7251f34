package io.gyre.engine;

/**
 * Whether an engine takes work now, and if not why: an immutable value, replaced (never changed) when the
 * engine's state changes, so {@link Engine#health()} is a volatile read from any thread.
 *
 * @param state what the engine is doing.
 * @param reason why it is not ready (the journal's error, or why it stopped); empty when ready.
 * @param sinceEpochMillis when it entered this state (milliseconds since 1970-01-01T00:00Z).
 */
public record EngineHealth(State state, String reason, long sinceEpochMillis)
{
    /**
     * The states an engine reports.
     */
    public enum State
    {
        /** Journaling and acknowledging work. */
        READY,
        /**
         * The journal cannot be written (disk full, an I/O error): submissions and cancels are refused with
         * {@link RejectReason#JOURNAL_UNAVAILABLE}, nothing is acknowledged; the engine probes the journal and
         * is READY again by itself once a write succeeds (unless configured to stop after a while).
         */
        JOURNAL_UNAVAILABLE,
        /** Closed, or stopped by itself after a journal outage longer than it was configured to wait. */
        STOPPED
    }

    public EngineHealth
    {
        java.util.Objects.requireNonNull(state, "state");
        reason = reason == null ? "" : reason;
    }

    /**
     * @return true when the engine takes work now.
     */
    public boolean ready()
    {
        return state == State.READY;
    }

    static EngineHealth ready(final long sinceEpochMillis)
    {
        return new EngineHealth(State.READY, "", sinceEpochMillis);
    }

    @Override
    public String toString()
    {
        return state == State.READY ? "READY" : state + ": " + reason;
    }
}
