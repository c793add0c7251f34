package io.gyre.tasks.json;

import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Runs a handler on a payload and returns what it reported, for tests. Payloads and expected documents are
 * written with single quotes for readability ({@link #json}).
 */
final class Handlers
{
    private Handlers()
    {
    }

    /**
     * @return the text with every {@code '} turned into {@code "}.
     */
    static String json(final String singleQuoted)
    {
        return singleQuoted.replace('\'', '"');
    }

    /**
     * Execute the handler on the payload (single-quoted), expecting success.
     *
     * @return its output.
     */
    static String output(final TaskHandler handler, final String payload) throws Exception
    {
        final RecordingContext context = RecordingContext.of(json(payload));
        handler.execute(context);
        assertThat(context.failure()).as("failure").isNull();
        assertThat(context.output()).as("output").isNotNull();
        return context.output();
    }

    /**
     * Execute the handler on the payload (single-quoted), expecting it to throw a permanent failure.
     *
     * @return the failure's message.
     */
    static String failure(final TaskHandler handler, final String payload)
    {
        final RecordingContext context = RecordingContext.of(json(payload));
        final TaskFailure failure = catchThrowableOfType(TaskFailure.class, () -> handler.execute(context));
        assertThat(failure).as("failure of " + payload).isNotNull();
        assertThat(failure.retryable()).as("retryable").isFalse();
        assertThat(context.output()).as("output").isNull();
        return failure.getMessage();
    }
}
