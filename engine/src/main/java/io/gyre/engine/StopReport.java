package io.gyre.engine;

import io.gyre.journal.EngineStopRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * What an engine left when it stopped, as its ENGINE_STOP record says: the tasks still waiting (pending,
 * for a retry, holding an outcome until its release time) and the attempts still running at the deadline,
 * which were told to stop and run again after the next start. Nothing is lost either way: everything left
 * is in the journal.
 *
 * @param beganAt when the stop began (epoch nanoseconds): the engine stopped taking requests and starting
 *     attempts.
 * @param deadline until when running attempts could finish (epoch nanoseconds).
 * @param finishedInTime every attempt running at the stop finished before the deadline (none was interrupted).
 * @param recorded the stop record was journaled; when false the counts are -1 and the next start treats
 *     this stop as a crash (as safe, but it cannot say what was left).
 * @param pending tasks waiting to start.
 * @param running attempts still running at the deadline (interrupted), listed or not.
 * @param retryWaiting tasks waiting for a retry's due time.
 * @param held tasks whose outcome is journaled and held until its release time.
 * @param interrupted the running attempts the record lists, by task id (at most
 *     {@link EngineStopRecord#MAX_LISTED}; the rest are requeued by the next start all the same).
 * @param unrecordedBecause why the stop record was not journaled, for people; null when it was.
 */
public record StopReport(
    long beganAt,
    long deadline,
    boolean finishedInTime,
    boolean recorded,
    int pending,
    int running,
    int retryWaiting,
    int held,
    List<Attempt> interrupted,
    String unrecordedBecause)
{
    private static final int ATTEMPTS_DESCRIBED = 10;

    public StopReport
    {
        interrupted = List.copyOf(interrupted);
    }

    /**
     * An attempt of a task.
     */
    public record Attempt(long taskId, int attempt)
    {
        @Override
        public String toString()
        {
            return "task " + taskId + " attempt " + attempt;
        }
    }

    /**
     * @return a stop whose record could not be written: what it left is unknown here (but in the journal).
     */
    static StopReport unrecorded(final long beganAt, final long deadline, final boolean finishedInTime, final String because)
    {
        return new StopReport(beganAt, deadline, finishedInTime, false, -1, -1, -1, -1, List.of(), because);
    }

    /**
     * @param record a STOPPED record.
     */
    static StopReport of(final EngineStopRecord.Decoder record)
    {
        final List<Attempt> listed = new ArrayList<>(record.listedCount());
        for (int i = 0; i < record.listedCount(); i++)
        {
            listed.add(new Attempt(record.listedTaskId(i), record.listedAttempt(i)));
        }
        return new StopReport(record.beganAt(), record.deadline(), record.finishedInTime(), true, record.pending(), record.running(),
            record.retryWaiting(), record.held(), listed, null);
    }

    /**
     * @return true when the stop was recorded and left no task at all.
     */
    public boolean nothingLeft()
    {
        return recorded && pending == 0 && running == 0 && retryWaiting == 0 && held == 0;
    }

    /**
     * @return what was left, in a sentence for a log or a terminal.
     */
    public String describe()
    {
        if (!recorded)
        {
            return "no stop record: " + unrecordedBecause + ", so the next start treats this stop as a crash " +
                "(nothing is lost: what was left is in the journal)";
        }
        if (nothingLeft())
        {
            return "nothing left";
        }
        final StringBuilder text = new StringBuilder("left ");
        text.append(running).append(" running");
        if (running > 0)
        {
            text.append(" (interrupted at the deadline: ");
            for (int i = 0; i < Math.min(ATTEMPTS_DESCRIBED, interrupted.size()); i++)
            {
                text.append(i > 0 ? ", " : "").append(interrupted.get(i));
            }
            if (running > ATTEMPTS_DESCRIBED)
            {
                text.append(", and ").append(running - ATTEMPTS_DESCRIBED).append(" more");
            }
            text.append(')');
        }
        text.append(", ").append(pending).append(" pending, ").append(retryWaiting).append(" waiting to retry, ")
            .append(held).append(" holding an outcome; they carry on after the next start");
        return text.toString();
    }
}
