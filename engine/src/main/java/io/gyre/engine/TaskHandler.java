package io.gyre.engine;

/**
 * A task type: its name, where it runs, its defaults, and how it executes. Register handlers on
 * {@link EngineConfig.Builder#handler(TaskHandler)}.
 * <p>
 * {@link #execute(TaskContext)} is called on the execute stage's thread for {@link ExecutionMode#INLINE}
 * handlers and on a pool thread for {@link ExecutionMode#BLOCKING} ones. Returning without calling
 * {@link TaskContext#succeed} or {@link TaskContext#fail} succeeds with an empty output; throwing fails the
 * attempt as retryable, unless the exception is a {@link TaskFailure} that says otherwise.
 */
public interface TaskHandler
{
    /**
     * @return the task type name clients submit (1 to 64 bytes of UTF-8, no whitespace).
     */
    String type();

    /**
     * @return where {@link #execute} runs.
     */
    default ExecutionMode executionMode()
    {
        return ExecutionMode.INLINE;
    }

    /**
     * @return the timeout of an attempt when the submission gives none, in milliseconds; 0 for the engine's default.
     */
    default int defaultTimeoutMillis()
    {
        return 0;
    }

    /**
     * @return how many attempts a task gets when the submission does not say; 0 for the engine's default.
     */
    default int defaultMaxAttempts()
    {
        return 0;
    }

    /**
     * Run one attempt.
     *
     * @param context the attempt's input and the way to report its result; valid until the attempt ends.
     * @throws Exception to fail the attempt (see {@link TaskFailure}).
     */
    void execute(TaskContext context) throws Exception;
}
