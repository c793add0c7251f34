package io.gyre.engine;

import org.agrona.DirectBuffer;

/**
 * A task type: its name, where it runs, its defaults, and how it executes. Register handlers on
 * {@link EngineConfig.Builder#handler(TaskHandler)}, or let the engine find them with {@link java.util.ServiceLoader}
 * (a {@code META-INF/services/io.gyre.engine.TaskHandler} file naming the class, which needs a public
 * no-argument constructor) on the class path or in a jar in the plugins directory
 * ({@link EngineConfig.Builder#pluginsDirectory}).
 * <p>
 * {@link #execute(TaskContext)} is called on the execute stage's thread for {@link ExecutionMode#INLINE} and
 * {@link ExecutionMode#ASYNC} handlers and on a pool thread for {@link ExecutionMode#BLOCKING} and
 * {@link ExecutionMode#CPU} ones. Except for ASYNC handlers, returning without calling
 * {@link TaskContext#succeed} or {@link TaskContext#fail} succeeds with an empty output. Throwing fails the
 * attempt as retryable, unless the exception is a {@link TaskFailure} that says otherwise.
 * <p>
 * One handler instance serves every attempt of its type, concurrently for the pooled and asynchronous
 * modes: keep per-attempt state in locals or in what the context carries.
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
     * Where one task's attempts run, for a type whose cost depends on its payload: a type that is microseconds of
     * CPU for a small payload and milliseconds for a large one runs the large ones off the engine's ring. Called
     * once per submission, on the submitting thread (keep it a cheap, pure function of the length), by
     * {@link #executionMode(DirectBuffer, int, int)} unless a type overrides that to look at the bytes; the mode is
     * journaled with the submission, so every attempt, a retry and a replay run where the first did. INLINE,
     * BLOCKING and CPU may be mixed; when the type's {@link #executionMode()} or the answer is ASYNC, the type's
     * mode is used.
     *
     * @param payloadLength the submission's payload, in bytes.
     * @return where this task's attempts run; by default {@link #executionMode()}.
     */
    default ExecutionMode executionMode(final int payloadLength)
    {
        return executionMode();
    }

    /**
     * Where one task's attempts run, for a type whose cost depends on what its payload says, not only on its size: a
     * type that is microseconds of CPU unless its payload asks for more (copies a document into itself, say) runs
     * those tasks off the engine's ring, however small. Called once per submission, on the submitting thread, in
     * place of {@link #executionMode(int)} (which it calls by default): keep it a cheap, pure function of the bytes
     * (a scan of them at most; the submitting thread is a client's, or the TCP server's I/O thread), and do not keep
     * the buffer, which is valid during the call only. The mode is journaled with the submission, so every attempt,
     * a retry and a replay run where the first did, whatever a later version of the handler would say. INLINE,
     * BLOCKING and CPU may be mixed; when the type's {@link #executionMode()} or the answer is ASYNC, the type's mode
     * is used. When it throws, the submission is refused as invalid ({@link InvalidTaskException} naming the
     * {@code payload} field and what was thrown; over TCP a REJECTED {@code INVALID_TASK}), nothing journaled, and the
     * connection and every other task go on.
     *
     * @param payload the submission's payload, as {@link TaskContext#payload()} gives it to the attempt.
     * @param offset where the payload starts in {@code payload}.
     * @param length the payload's length, in bytes.
     * @return where this task's attempts run; by default {@link #executionMode(int) executionMode(length)}.
     */
    default ExecutionMode executionMode(final DirectBuffer payload, final int offset, final int length)
    {
        return executionMode(length);
    }

    /**
     * @return the timeout of an attempt when the submission gives none, in milliseconds; 0 for the engine's default.
     *     Read once, when the engine starts (as are {@link #defaultMaxAttempts()} and {@link #defaultBackoff()}).
     */
    default int defaultTimeoutMillis()
    {
        return 0;
    }

    /**
     * @return how many attempts a task gets when the submission does not say, at most 1000; 0 for the engine's default.
     */
    default int defaultMaxAttempts()
    {
        return 0;
    }

    /**
     * @return the wait between attempts when the submission gives none; null for the engine's default
     *     ({@link EngineConfig.Builder#defaultBackoff}). Called for each submission of this type: return a constant.
     */
    default Backoff defaultBackoff()
    {
        return null;
    }

    /**
     * @return the most attempts of this type that may run at once (handed-off modes only; an INLINE type
     *     runs one at a time anyway); 0 for no limit beyond the pool's. Tasks beyond it wait PENDING.
     */
    default int maxConcurrency()
    {
        return 0;
    }

    /**
     * Receive this type's settings, once, before the engine starts: the engine configuration's
     * {@link EngineConfig.Builder#handlerSetting handler settings} whose name starts with this type's name
     * and a dot, with that prefix removed (for type {@code http}, {@code http.allowed-hosts} arrives as
     * {@code allowed-hosts}).
     *
     * By default a type takes no settings and refuses any, so a typo in one does not go unnoticed; a type with
     * settings overrides this, and refuses the names it does not know.
     *
     * @throws IllegalArgumentException naming the setting and value when one is malformed or unknown: the
     *     engine does not start.
     */
    default void configure(final java.util.Map<String, String> settings)
    {
        if (!settings.isEmpty())
        {
            final String name = new java.util.TreeSet<>(settings.keySet()).first();
            throw new IllegalArgumentException(type() + "." + name + "=" + settings.get(name) + " is not a setting of " + type() +
                " (it has none)");
        }
    }

    /**
     * Check an attempt's input before it executes (on the thread that would execute it). Throwing fails the
     * attempt permanently, whatever the exception says about retrying: the same input would fail again. Say
     * which field is wrong and why: the error is {@code invalid input: <message>}, whatever the exception's class
     * (its name only when it has no message).
     *
     * @throws Exception when the input is invalid.
     */
    default void validate(final TaskContext context) throws Exception
    {
    }

    /**
     * Acquire what attempts need (clients, threads): called when an engine using this handler opens, before
     * any attempt runs. An exception stops the engine from opening, with its message. Paired with
     * {@link #close()}; a handler may be started again after it was closed (an engine reopened with the same
     * configuration).
     */
    default void start()
    {
    }

    /**
     * Release what {@link #start()} acquired; called once when the engine has closed (or failed to open).
     */
    default void close()
    {
    }

    /**
     * Run one attempt.
     *
     * @param context the attempt's input and the way to report its result; valid until the attempt ends.
     * @throws Exception to fail the attempt (see {@link TaskFailure}).
     */
    void execute(TaskContext context) throws Exception;

    /**
     * Report gauges of this task type's own state to the engine's monitoring (e.g. the state of circuit breakers
     * in front of the services it calls). Called from the monitoring endpoint's thread whenever it is scraped,
     * concurrently with attempts: read state that is safe to read from any thread. Default: none.
     */
    default void gauges(final GaugeSink sink)
    {
    }
}
