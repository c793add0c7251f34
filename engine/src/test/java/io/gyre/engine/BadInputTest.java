package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every malformed submission is refused with an exception naming the field and value; nothing of it is
 * journaled, and the engine goes on serving everyone else.
 */
class BadInputTest
{
    @TempDir
    Path dir;

    static Stream<Arguments> malformed()
    {
        return Stream.of(
            bad("type", "type is required", r -> r.type(null)),
            bad("type", "type=nope is not a registered task type (registered: echo, noop)", r -> r.type("nope")),
            bad("key", "key is required: an idempotency key of 1 to 32 bytes", r -> r.key(new byte[0], 0, 0)),
            bad("key", "key of 33 bytes exceeds maxKeyBytes=32", r -> r.key("k".repeat(33))),
            bad("payload", "payload of 1025 bytes exceeds maxPayloadBytes=1024", r -> r.payload(new byte[1025])),
            bad("tenant", "tenant of 65 bytes exceeds maxTenantBytes=64", r -> r.tenant("t".repeat(65))),
            bad("priority", "priority is required", r -> r.priority(null)),
            bad("timeoutMillis", "timeoutMillis=-1 must not be negative", r -> r.timeoutMillis(-1)),
            bad("maxAttempts", "maxAttempts=1001 must be in [0, 1000] (0: the default)", r -> r.maxAttempts(1001)),
            bad("maxAttempts", "maxAttempts=-2 must be in [0, 1000] (0: the default)", r -> r.maxAttempts(-2)),
            bad("backoffInitialMillis", "backoffInitialMillis=0 must be at least 1", r -> r.backoff(0, 10, 2f, 0f)),
            bad("backoffMaxMillis", "backoffMaxMillis=5 must be at least backoffInitialMillis=10", r -> r.backoff(10, 5, 2f, 0f)),
            bad("backoffMultiplier", "backoffMultiplier=0.5 must be in [1, 100]", r -> r.backoff(10, 50, 0.5f, 0f)),
            bad("backoffJitter", "backoffJitter=1.5 must be in [0, 1]", r -> r.backoff(10, 50, 2f, 1.5f)));
    }

    private static Arguments bad(final String field, final String message, final Consumer<TaskRequest> spoil)
    {
        return Arguments.of(field, message, spoil);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("malformed")
    void shouldRefuseAMalformedSubmissionAndJournalNothing(final String field, final String message, final Consumer<TaskRequest> spoil)
        throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).maxKeyBytes(32).maxPayloadBytes(1024).build()))
        {
            final TaskRequest request = new TaskRequest().key("k").type("echo").payload("p");
            spoil.accept(request);
            final Recorder recorder = new Recorder();
            assertThatThrownBy(() -> engine.submit(request, recorder))
                .isInstanceOf(InvalidTaskException.class)
                .hasMessage(message)
                .satisfies(ex -> assertThat(((InvalidTaskException)ex).field()).isEqualTo(field));
            assertThatThrownBy(() -> engine.trySubmit(request, recorder)).isInstanceOf(InvalidTaskException.class);
            assertThat(recorder.events).isEmpty();

            // everyone else is still served, and the key is still free
            final Outcome fine = engine.submit(new TaskRequest().key("k").type("echo").payload("fine")).get(10, TimeUnit.SECONDS);
            assertThat(fine.outputAsString()).isEqualTo("fine");
            assertThat(fine.duplicate()).isFalse();
        }
        assertThat(TaskHistory.of(dir).report().recordsByType()).containsEntry(RecordType.SUBMITTED, 1L);
    }

    @Test
    void aReusedRequestRunsTheTypeItNowNamesAndAnUnknownOneIsRefused() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
        {
            // the request remembers the handler its type string resolved to: changing the type must change the handler
            final TaskRequest request = new TaskRequest();
            final String echo = "echo";
            assertThat(engine.submit(request.clear().key("a").type(echo).payload("x")).get(10, TimeUnit.SECONDS).outputAsString()).isEqualTo("x");
            assertThat(engine.submit(request.clear().key("b").type("noop").payload("x")).get(10, TimeUnit.SECONDS).outputAsString()).isEmpty();
            assertThatThrownBy(() -> engine.submit(request.clear().key("c").type("nope"), outcome -> { }))
                .isInstanceOf(InvalidTaskException.class).hasMessageContaining("type=nope");
            assertThat(engine.submit(request.clear().key("d").type(new String(echo.toCharArray())).payload("y")).get(10, TimeUnit.SECONDS)
                .outputAsString()).isEqualTo("y");
            assertThat(engine.submit(request.clear().key("e").type(echo).payload("z")).get(10, TimeUnit.SECONDS).outputAsString()).isEqualTo("z");
        }
        // and in another engine, whose registry may number its handlers otherwise, the same request is resolved again
        try (Engine other = Engine.open(EngineConfig.builder(dir.resolve("other")).handler(new TestHandlers.Flaky("flaky", 0, true, ExecutionMode.INLINE)).build()))
        {
            final TaskRequest request = new TaskRequest().key("f").type("echo").payload("w");
            assertThat(other.submit(request).get(10, TimeUnit.SECONDS).outputAsString()).isEqualTo("w");
            assertThat(other.submit(request.clear().key("g").type("flaky")).get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCEEDED);
        }
    }

    @Test
    void shouldRefuseMalformedKeysForStatusAndCancel()
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).maxKeyBytes(32).build()))
        {
            assertThatThrownBy(() -> engine.status("")).isInstanceOf(InvalidTaskException.class).hasMessage("key must be 1 to 32 bytes (was 0)");
            assertThatThrownBy(() -> engine.cancel((String)null)).isInstanceOf(InvalidTaskException.class).hasMessage("key is required (it is null)");
            assertThatThrownBy(() -> engine.status((String)null)).isInstanceOf(InvalidTaskException.class).hasMessage("key is required (it is null)");
            assertThatThrownBy(() -> engine.submit(new TaskRequest().key("k").type("e\ud800"))).isInstanceOf(InvalidTaskException.class)
                .hasMessageStartingWith("type=e\\ud800 is not a registered task type");
            assertThatThrownBy(() -> engine.cancel("x".repeat(33))).isInstanceOf(InvalidTaskException.class)
                .hasMessage("key must be 1 to 32 bytes (was 33)");
            // a key UTF-8 cannot encode is not asked for as "?", another task's key
            final String unencodable = "key has an unpaired surrogate (U+DFFF) at index 0, which UTF-8 cannot encode";
            assertThatThrownBy(() -> engine.status("\uDFFF")).isInstanceOf(InvalidTaskException.class).hasMessage(unencodable);
            assertThatThrownBy(() -> engine.cancel("\uDFFF")).isInstanceOf(InvalidTaskException.class).hasMessage(unencodable);
            assertThatThrownBy(() -> engine.redrive("\uDFFF")).isInstanceOf(InvalidTaskException.class).hasMessage(unencodable);
            assertThatThrownBy(() -> engine.purgeDeadLetter("\uDFFF")).isInstanceOf(InvalidTaskException.class).hasMessage(unencodable);
        }
    }

    @Test
    void shouldRefuseRequestsOnceClosed()
    {
        final Engine engine = Engine.open(EngineConfig.builder(dir).build());
        engine.close();
        assertThatThrownBy(() -> engine.submit(new TaskRequest().key("k").type("noop"), outcome -> { }))
            .isInstanceOf(EngineClosedException.class).hasMessageContaining("closing");
        assertThatThrownBy(() -> engine.status("k")).isInstanceOf(EngineClosedException.class);
        engine.close();
    }
}
