package io.gyre.engine;

import org.slf4j.spi.LoggingEventBuilder;
import org.slf4j.spi.NOPLoggingEventBuilder;

/**
 * The fields of a task-level log line, as SLF4J key-value pairs: the JSON log format makes them top-level fields
 * ({@code "taskId":42,"key":"order-42","type":"echo","attempt":1,"state":"RUNNING"}), the text format appends them
 * ({@code taskId="42" key="order-42" type="echo" attempt="1" state="RUNNING"}). Usage:
 * {@code TaskLog.task(LOG.atWarn(), taskId, key, type, attempt, state).log("...")}.
 * <p>
 * Levels: nothing is logged per task at INFO or above on the normal path. A task that succeeds or fails is a
 * business outcome (the journal, the outcome and the metrics say it): DEBUG at most. WARN and ERROR are for what
 * someone must fix: a handler that threw (a bug; one that fails on purpose throws {@link TaskFailure}), a stop action
 * that threw, a listener that threw, a submission the journal cannot give back.
 * <p>
 * When the line's level is off, {@code LOG.atWarn()} and the like return a no-op builder and these methods return at
 * once: no boxing, no key read back from the journal.
 */
final class TaskLog
{
    static final String TASK_ID = "taskId";
    static final String KEY = "key";
    static final String TYPE = "type";
    static final String ATTEMPT = "attempt";
    static final String STATE = "state";

    private TaskLog()
    {
    }

    /**
     * @return whether the line will be logged (its level is on): check it before working out a field.
     */
    static boolean enabled(final LoggingEventBuilder line)
    {
        return !(line instanceof NOPLoggingEventBuilder);
    }

    /**
     * @param line    {@code LOG.atWarn()} and the like.
     * @param taskId  the task's id, or 0 when it has none yet or cannot be known.
     * @param key     the task's idempotency key, or null when it cannot be known (the caller says why).
     * @param type    the task type's name, or null when it cannot be known.
     * @param attempt the attempt (from 1), or 0 when the line is about no attempt in particular.
     * @param state   the task's state as the journal has it when the line is logged (RUNNING for an attempt a
     *                handler holds), or null when it cannot be known.
     * @return the line, for {@code .log(...)}.
     */
    static LoggingEventBuilder task(final LoggingEventBuilder line, final long taskId, final String key, final String type,
        final int attempt, final TaskState state)
    {
        if (!enabled(line))
        {
            return line;
        }
        if (taskId > 0)
        {
            line.addKeyValue(TASK_ID, taskId);
        }
        if (key != null)
        {
            line.addKeyValue(KEY, key);
        }
        if (type != null)
        {
            line.addKeyValue(TYPE, type);
        }
        if (attempt > 0)
        {
            line.addKeyValue(ATTEMPT, attempt);
        }
        return state != null ? line.addKeyValue(STATE, state.name()) : line;
    }

    /**
     * @return the key a request by key carries (a submission, a cancel, a status, a redrive), or null for any other
     *     event. Allocates: call it only for a line that is logged.
     */
    static String keyOf(final RingEvent e)
    {
        return switch (e.kind)
        {
            case RingEvent.SUBMIT, RingEvent.SUBMIT_UNINSTALLED, RingEvent.CANCEL, RingEvent.STATUS, RingEvent.REDRIVE ->
                new String(e.key.array(), 0, e.key.length(), java.nio.charset.StandardCharsets.UTF_8);
            default -> null;
        };
    }

    /**
     * A line about an attempt: the key is read back from the submission's journal position only when the line is
     * logged.
     *
     * @param submitDocument the task's submission's journal document ({@link TaskRecord#submitDocument}).
     * @param submitOffset   its offset in that document.
     * @param state          RUNNING while the attempt runs (the task is RUNNING in the journal until the attempt's
     *                       result is journaled); after it was told to stop, the state that stop left the task in.
     */
    static LoggingEventBuilder attempt(final LoggingEventBuilder line, final SubmissionKeys keys, final long submitDocument,
        final int submitOffset, final long taskId, final String type, final int attempt, final TaskState state)
    {
        if (!enabled(line))
        {
            return line;
        }
        return task(line, taskId, keys.keyAt(submitDocument, submitOffset), type, attempt, state);
    }
}
