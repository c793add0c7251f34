package io.gyre.engine;

import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.RecordType;
import org.agrona.concurrent.UnsafeBuffer;
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
 * A setter given what no submission could carry says so, naming the field, instead of a raw NullPointerException or
 * IndexOutOfBoundsException, or (a String that is not text) a key that silently became another.
 */
class TaskRequestTest
{
    @TempDir
    Path dir;

    static Stream<Arguments> unusable()
    {
        final byte[] four = new byte[4];
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4]);
        return Stream.of(
            bad("key", "key has an unpaired surrogate (U+D800) at index 0, which UTF-8 cannot encode", r -> r.key("\uD800")),
            bad("key", "key has an unpaired surrogate (U+DFFF) at index 0, which UTF-8 cannot encode", r -> r.key("\uDFFF")),
            bad("key", "key has an unpaired surrogate (U+D83D) at index 2, which UTF-8 cannot encode", r -> r.key("ab\uD83Dc")),
            bad("key", "key has an unpaired surrogate (U+DE00) at index 4, which UTF-8 cannot encode", r -> r.key("ab\uD83D\uDE00\uDE00")),
            bad("tenant", "tenant has an unpaired surrogate (U+DC00) at index 1, which UTF-8 cannot encode", r -> r.tenant("t\uDC00")),
            bad("payload", "payload has an unpaired surrogate (U+D800) at index 1, which UTF-8 cannot encode", r -> r.payload("{\uD800}")),
            bad("key", "key must not be null", r -> r.key((String)null)),
            bad("key", "key must not be null", r -> r.key((byte[])null, 0, 0)),
            bad("key", "key must not be null", r -> r.key((UnsafeBuffer)null, 0, 0)),
            bad("payload", "payload must not be null", r -> r.payload((String)null)),
            bad("payload", "payload must not be null", r -> r.payload((byte[])null)),
            bad("payload", "payload must not be null", r -> r.payload((byte[])null, 0, 1)),
            bad("payload", "payload must not be null", r -> r.payload((UnsafeBuffer)null, 0, 1)),
            bad("tenant", "tenant must not be null", r -> r.tenant((String)null)),
            bad("tenant", "tenant must not be null", r -> r.tenant((byte[])null, 0, 1)),
            bad("tenant", "tenant must not be null", r -> r.tenant((UnsafeBuffer)null, 0, 1)),
            bad("key", "key slice offset=2 length=3 is outside its 4 bytes", r -> r.key(four, 2, 3)),
            bad("key", "key slice offset=-1 length=1 is outside its 4 bytes", r -> r.key(four, -1, 1)),
            bad("key", "key slice offset=0 length=-1 is outside its 4 bytes", r -> r.key(buffer, 0, -1)),
            bad("payload", "payload slice offset=5 length=0 is outside its 4 bytes", r -> r.payload(four, 5, 0)),
            bad("payload", "payload slice offset=1 length=2147483647 is outside its 4 bytes", r -> r.payload(buffer, 1, Integer.MAX_VALUE)),
            bad("tenant", "tenant slice offset=0 length=5 is outside its 4 bytes", r -> r.tenant(four, 0, 5)),
            bad("tenant", "tenant slice offset=4 length=1 is outside its 4 bytes", r -> r.tenant(buffer, 4, 1)));
    }

    private static Arguments bad(final String field, final String message, final Consumer<TaskRequest> set)
    {
        return Arguments.of(field, message, set);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("unusable")
    void shouldRefuseAtTheSetterNamingTheField(final String field, final String message, final Consumer<TaskRequest> set)
    {
        final TaskRequest request = new TaskRequest().key("k").type("echo").payload("p");
        assertThatThrownBy(() -> set.accept(request))
            .isInstanceOf(InvalidTaskException.class)
            .hasMessage(message)
            .satisfies(ex -> assertThat(((InvalidTaskException)ex).field()).isEqualTo(field));
    }

    @Test
    void shouldTakeTextWithPairedSurrogatesAndWholeSlices()
    {
        final TaskRequest request = new TaskRequest().key("\uD83D\uDE00").tenant("t\uD83D\uDE00").payload("\uD83D\uDE00");
        assertThat(request.key().capacity()).isEqualTo(4);
        assertThat(request.tenant().capacity()).isEqualTo(5);
        final byte[] four = new byte[4];
        assertThat(request.key(four, 0, 4).key().capacity()).isEqualTo(4);
        assertThat(request.key(four, 4, 0).key().capacity()).isZero();
        assertThat(request.payload(new UnsafeBuffer(four), 1, 3).payload().capacity()).isEqualTo(3);
        assertThat(request.tenant(four, 2, 2).tenant().capacity()).isEqualTo(2);
    }

    @Test
    void shouldRefuseAFilterThatUtf8CannotEncode()
    {
        assertThatThrownBy(() -> EventFilter.all().withTenant("t\uD800")).isInstanceOf(InvalidTaskException.class)
            .hasMessage("tenant has an unpaired surrogate (U+D800) at index 1, which UTF-8 cannot encode");
        assertThatThrownBy(() -> EventFilter.all().withKeyPrefix("\uDFFF")).isInstanceOf(InvalidTaskException.class)
            .hasMessage("keyPrefix has an unpaired surrogate (U+DFFF) at index 0, which UTF-8 cannot encode");
        assertThat(EventFilter.all().withKeyPrefix("?").keyPrefix()).containsExactly('?');
    }

    /**
     * The outside check's case: {@code key("\uD800")} was journaled as {@code ?}, and {@code key("?")} and
     * {@code key("\uDFFF")} then came back duplicates of it.
     */
    @Test
    void shouldNotLetTwoStringKeysBeOne() throws Exception
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build()))
        {
            assertThatThrownBy(() -> new TaskRequest().key("\uD800"))
                .isInstanceOf(InvalidTaskException.class).hasMessageStartingWith("key has an unpaired surrogate (U+D800)");
            final Outcome question = engine.submit(new TaskRequest().key("?").type("echo").payload("second"))
                .get(10, TimeUnit.SECONDS);
            assertThat(question.duplicate()).isFalse();
            assertThat(question.outputAsString()).isEqualTo("second");
            assertThatThrownBy(() -> new TaskRequest().key("\uDFFF")).isInstanceOf(InvalidTaskException.class);
        }
        assertThat(TaskHistory.of(dir).report().recordsByType()).containsEntry(RecordType.SUBMITTED, 1L);
    }
}
