package io.gyre.ingress.server;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskEvent;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.testing.LeakCheck;
import io.gyre.ingress.testing.Wire;
import io.gyre.ingress.testing.Wire.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.gyre.ingress.protocol.Protocol.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The status event frames (SUBSCRIBE, UNSUBSCRIBE, SUBSCRIBED, EVENT, EVENTS_LOST, UNSUBSCRIBED) through an
 * {@link EmbeddedChannel} in front of a real engine: their layouts byte for byte, the examples of
 * docs/PROTOCOL.md, and every malformed or invalid SUBSCRIBE (an ERROR and a close, or a REJECTED and the
 * connection serving on).
 */
@ExtendWith(LeakCheck.class)
class EventFramesTest
{
    @TempDir
    static Path dir;

    static Engine engine;

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void open()
    {
        engine = Engine.open(EngineConfig.builder(dir.resolve("journal"))
            .ringSize(64)
            .timerFiresPerTick(4)
            .handler(new TaskHandler()
            {
                @Override
                public String type()
                {
                    return "refuse";
                }

                @Override
                public void execute(final TaskContext context)
                {
                    context.fail(false, "no thanks");
                }
            })
            .build());
    }

    @AfterAll
    static void close()
    {
        engine.close();
    }

    @AfterEach
    void closeChannels()
    {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private static Outcome submit(final String key, final String type, final String tenant) throws Exception
    {
        return engine.submit(new TaskRequest().key(key).type(type).tenant(tenant).payload("{}")).get(10, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------------------------------------
    // Requests and what comes of them

    @Test
    void subscribeIsAnsweredAndItsEventsFollowUntilUnsubscribe() throws Exception
    {
        final ConnectionHarness h = handshaken(ServerConfig.builder().maxQueuedEvents(512).build());
        h.send(frame(out -> Frames.subscribe(out, 20, utf8("echo"), null, utf8("order-"))));
        final Frame subscribed = h.receive(1).get(0);
        assertThat(subscribed.opcode()).isEqualTo(SUBSCRIBED);
        assertThat(subscribed.correlation()).isEqualTo(20);
        assertThat(subscribed.u32(SUBSCRIBED_MAX_QUEUED)).isEqualTo(512);
        assertThat(subscribed.body()).hasSize(SUBSCRIBED_FIXED);

        submit("other-1", "echo", "acme");
        submit("order-1", "noop", "acme");
        final Outcome outcome = submit("order-42", "echo", "acme");
        final List<Frame> events = h.receive(3);
        assertThat(events).extracting(Frame::opcode).containsOnly(EVENT);
        assertThat(events).extracting(Frame::correlation).containsOnly(20L);
        assertThat(events).extracting(f -> f.u8(EVENT_KIND)).containsExactly(TaskEvent.Kind.SUBMITTED.code(),
            TaskEvent.Kind.STARTED.code(), TaskEvent.Kind.SUCCEEDED.code());
        assertThat(events).extracting(f -> f.u8(EVENT_FROM)).containsExactly(STATE_NONE, TaskState.PENDING.code(), TaskState.RUNNING.code());
        assertThat(events).extracting(f -> f.u8(EVENT_STATE)).containsExactly(TaskState.PENDING.code(), TaskState.RUNNING.code(),
            TaskState.SUCCEEDED.code());
        final Frame succeeded = events.get(2);
        assertThat(succeeded.u64(EVENT_TASK_ID)).isEqualTo(outcome.taskId());
        assertThat(events.get(0).u64(EVENT_EVENT_ID)).as("a task is decided by its own submission").isEqualTo(outcome.taskId());
        assertThat(succeeded.u64(EVENT_EVENT_ID)).isGreaterThan(outcome.taskId());
        assertThat(succeeded.u64(EVENT_DOCUMENT)).isNotZero();
        assertThat(succeeded.u64(EVENT_TIMESTAMP)).isGreaterThanOrEqualTo(outcome.submittedAt());
        assertThat(succeeded.u64(EVENT_DUE_AT)).isZero();
        assertThat(succeeded.u8(EVENT_REASON)).isZero();
        assertThat(succeeded.u16(EVENT_ATTEMPT)).isEqualTo(1);
        assertThat(succeeded.u16(EVENT_KEY_LENGTH)).isEqualTo(8);
        assertThat(succeeded.u8(EVENT_TYPE_LENGTH)).isEqualTo(4);
        assertThat(succeeded.u8(EVENT_TENANT_LENGTH)).isEqualTo(4);
        assertThat(succeeded.u16(EVENT_ERROR_LENGTH)).isZero();
        assertThat(succeeded.text(EVENT_FIXED, 16)).isEqualTo("order-42echoacme");
        assertThat(succeeded.body()).hasSize(EVENT_FIXED + 16);

        h.send(Wire.ping(21));
        h.send(frame(out -> Frames.ping(out, UNSUBSCRIBE, 22)));
        final List<Frame> replies = h.receive(2);
        assertThat(replies.get(0).opcode()).isEqualTo(PONG);
        final Frame unsubscribed = replies.get(1);
        assertThat(unsubscribed.opcode()).isEqualTo(UNSUBSCRIBED);
        assertThat(unsubscribed.correlation()).isEqualTo(22);
        assertThat(unsubscribed.u64(UNSUBSCRIBED_SUBSCRIPTION)).isEqualTo(20);
        assertThat(unsubscribed.u64(UNSUBSCRIBED_EVENTS)).isEqualTo(3);
        assertThat(unsubscribed.u64(UNSUBSCRIBED_LOST)).isZero();
        assertThat(unsubscribed.u8(UNSUBSCRIBED_FLAGS)).isEqualTo(UNSUBSCRIBED_FLAG_WAS_SUBSCRIBED);
        assertThat(unsubscribed.body()).hasSize(UNSUBSCRIBED_FIXED);

        // nothing of it after the reply; a second UNSUBSCRIBE says there is none; a new SUBSCRIBE is fine
        submit("order-43", "echo", "acme");
        h.send(frame(out -> Frames.ping(out, UNSUBSCRIBE, 23)));
        final Frame none = h.receive(1).get(0);
        assertThat(none.opcode()).isEqualTo(UNSUBSCRIBED);
        assertThat(none.u64(UNSUBSCRIBED_SUBSCRIPTION)).isZero();
        assertThat(none.u8(UNSUBSCRIBED_FLAGS)).isZero();
        h.send(frame(out -> Frames.subscribe(out, 24, null, utf8("acme"), null)));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(SUBSCRIBED);
        submit("late-1", "echo", "acme");
        final List<Frame> again = h.receive(3);
        assertThat(again).extracting(f -> f.text(EVENT_FIXED, 6)).containsOnly("late-1");
        assertThat(h.received).isEmpty();
    }

    @Test
    void eventsCarryTheErrorAndReason() throws Exception
    {
        final ConnectionHarness h = handshaken(ServerConfig.builder().build());
        h.send(frame(out -> Frames.subscribe(out, 30, utf8("refuse"), new byte[0], null)));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(SUBSCRIBED);
        submit("with-tenant", "refuse", "t1");
        final Outcome outcome = submit("no-tenant", "refuse", "");
        assertThat(outcome.state()).isEqualTo(TaskState.DEAD_LETTERED);
        final List<Frame> events = h.receive(3);
        assertThat(events).extracting(f -> f.u64(EVENT_TASK_ID)).containsOnly(outcome.taskId());
        final Frame dead = events.get(2);
        assertThat(dead.u8(EVENT_KIND)).isEqualTo(TaskEvent.Kind.DEAD_LETTERED.code());
        assertThat(dead.u8(EVENT_REASON)).isEqualTo(TaskEvent.REASON_PERMANENT_FAILURE);
        assertThat(dead.u8(EVENT_TENANT_LENGTH)).isZero();
        assertThat(dead.u16(EVENT_ERROR_LENGTH)).isEqualTo(9);
        assertThat(dead.text(EVENT_FIXED + 9 + 6, 9)).isEqualTo("no thanks");
        engine.purgeDeadLetters().get(10, TimeUnit.SECONDS);
        final List<Frame> purged = h.receive(1);
        assertThat(purged.get(0).u8(EVENT_KIND)).isEqualTo(TaskEvent.Kind.PURGED.code());
        assertThat(purged.get(0).u64(EVENT_TASK_ID)).isEqualTo(outcome.taskId());
    }

    // ------------------------------------------------------------------------------------------------
    // The examples of docs/PROTOCOL.md

    @Test
    void framesEncodeAsTheProtocolDocumentShows()
    {
        assertThat(hex(out -> Frames.subscribe(out, 20, utf8("echo"), null, utf8("order-"))))
            .isEqualTo("0000001b" + "18" + "0000000000000014" + "00" + "02" + "01" + "0004" + "6563686f" + "03" + "0006" + "6f726465722d");
        assertThat(hex(out -> Frames.subscribe(out, 21, null, null, null)))
            .isEqualTo("0000000b" + "18" + "0000000000000015" + "00" + "00");
        assertThat(hex(out -> Frames.subscribed(out, 20, 4096)))
            .isEqualTo("0000000d" + "2a" + "0000000000000014" + "00001000");
        final long document = 20415L << 32 | 1;
        assertThat(hex(out -> Frames.event(out, 20, 3, document, 1_763_856_000_000_200_000L, 2, 0, TaskEvent.Kind.SUCCEEDED.code(),
            TaskState.RUNNING.code(), TaskState.SUCCEEDED.code(), 0, 1, utf8("order-42"), utf8("echo"), new byte[0], null)))
            .isEqualTo("00000049" + "2b" + "0000000000000014" + "0000000000000003" + "00004fbf00000001" + "187a79afcaf40d40"
                + "0000000000000002" + "0000000000000000" + "05" + "01" + "03" + "00" + "0001" + "0008" + "04" + "00" + "0000"
                + "6f726465722d3432" + "6563686f");
        final long at = 1_763_856_000_002_000_000L;
        assertThat(hex(out -> Frames.event(out, 20, 9, 20415L << 32 | 3, at, 7, at + 100_000_000L, TaskEvent.Kind.RETRY_SCHEDULED.code(),
            TaskState.RUNNING.code(), TaskState.RETRY_WAIT.code(), TaskEvent.REASON_RETRY_AFTER_FAILURE, 1, utf8("job-7"), utf8("http"),
            utf8("acme"), "HTTP 503 from api.example.com")))
            .isEqualTo("00000067" + "2b" + "0000000000000014" + "0000000000000009" + "00004fbf00000003" + "187a79afcb0f8480"
                + "0000000000000007" + "187a79afd1056580" + "04" + "01" + "02" + "01" + "0001" + "0005" + "04" + "04" + "001d"
                + "6a6f622d37" + "68747470" + "61636d65" + HexFormat.of().formatHex(utf8("HTTP 503 from api.example.com")));
        assertThat(hex(out -> Frames.eventsLost(out, 20, 1234, false)))
            .isEqualTo("00000012" + "2c" + "0000000000000014" + "00000000000004d2" + "00");
        assertThat(hex(out -> Frames.ping(out, UNSUBSCRIBE, 22)))
            .isEqualTo("00000009" + "19" + "0000000000000016");
        assertThat(hex(out -> Frames.unsubscribed(out, 22, 20, 15_000, 1234, true)))
            .isEqualTo("00000022" + "2d" + "0000000000000016" + "0000000000000014" + "0000000000003a98" + "00000000000004d2" + "01");
    }

    // ------------------------------------------------------------------------------------------------
    // Malformed frames: an ERROR, then the connection closes

    @Test
    void subscribeFramesThatDoNotAddUpAreMalformed()
    {
        // shorter than its fixed part
        ConnectionHarness h = handshaken(ServerConfig.builder().build());
        h.send(Unpooled.buffer().writeInt(1 + 9).writeByte(SUBSCRIBE).writeBytes(new byte[9]));
        assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("SUBSCRIBE body of 9 bytes is shorter than its 10");

        // one field announced, no bytes of it
        h = handshaken(ServerConfig.builder().build());
        h.send(Unpooled.buffer().writeInt(1 + 10).writeByte(SUBSCRIBE).writeLong(1).writeByte(0).writeByte(1));
        assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("filter field 1 of 1 runs past the body of 10 bytes");

        // a value longer than what is left
        h = handshaken(ServerConfig.builder().build());
        h.send(Unpooled.buffer().writeInt(1 + 15).writeByte(SUBSCRIBE).writeLong(1).writeByte(0).writeByte(1)
            .writeByte(FILTER_TYPE).writeShort(5).writeBytes(utf8("ec")));
        assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("runs past the body of 15 bytes");

        // bytes after the fields it announced
        h = handshaken(ServerConfig.builder().build());
        h.send(Unpooled.buffer().writeInt(1 + 13).writeByte(SUBSCRIBE).writeLong(1).writeByte(0).writeByte(0).writeBytes(new byte[3]));
        assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("has 3 bytes after its field_count=0 filter fields");

        // UNSUBSCRIBE is exactly a correlation id
        for (final int length : new int[] {7, 9})
        {
            h = handshaken(ServerConfig.builder().build());
            h.send(Unpooled.buffer().writeInt(1 + length).writeByte(UNSUBSCRIBE).writeBytes(new byte[length]));
            assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("UNSUBSCRIBE body of " + length + " bytes");
        }
    }

    @Test
    void theServersFramesAreNotRequests()
    {
        for (final int opcode : new int[] {SUBSCRIBED, EVENT, EVENTS_LOST, UNSUBSCRIBED})
        {
            final ConnectionHarness h = handshaken(ServerConfig.builder().build());
            h.send(Unpooled.buffer().writeInt(9).writeByte(opcode).writeLong(1));
            assertThat(h.expectError(ErrorCode.UNKNOWN_OPCODE).message()).contains(opcodeName(opcode));
        }
    }

    @Test
    void anErrorEndsTheSubscriptionToo() throws Exception
    {
        final ConnectionHarness h = handshaken(ServerConfig.builder().build());
        h.send(frame(out -> Frames.subscribe(out, 1, null, null, null)));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(SUBSCRIBED);
        assertThat(engine.eventSubscriptions()).isEqualTo(1);
        h.send(Unpooled.buffer().writeInt(1).writeByte(0x55));
        h.expectError(ErrorCode.UNKNOWN_OPCODE);
        assertThat(engine.eventSubscriptions()).isZero();
        assertThat(h.stats.subscriptions()).isZero();
    }

    // ------------------------------------------------------------------------------------------------
    // Invalid fields: a REJECTED, and the connection serves on

    @Test
    void invalidSubscribeFieldsAreRejectedAndTheConnectionServesOn() throws Exception
    {
        final ConnectionHarness h = handshaken(ServerConfig.builder().build());
        final int maxKey = engine.config().maxKeyBytes();
        final int maxTenant = engine.config().maxTenantBytes();
        expectRejected(h, field(1, 7, utf8("x")), 1, RejectCode.INVALID_TASK, "unknown filter field 7 (known: 1 TYPE, 2 TENANT, 3 KEY_PREFIX)");
        expectRejected(h, out -> out.writeInt(1 + 10 + 7 + 7).writeByte(SUBSCRIBE).writeLong(2).writeByte(0).writeByte(2)
            .writeByte(FILTER_TYPE).writeShort(4).writeBytes(utf8("echo")).writeByte(FILTER_TYPE).writeShort(4).writeBytes(utf8("noop")),
            2, RejectCode.INVALID_TASK, "filter field 1 (TYPE) is given twice");
        expectRejected(h, out -> out.writeInt(1 + 10).writeByte(SUBSCRIBE).writeLong(3).writeByte(0x80).writeByte(0), 3,
            RejectCode.INVALID_TASK, "flags=0x80 set reserved bits");
        expectRejected(h, field(4, FILTER_TYPE, new byte[0]), 4, RejectCode.INVALID_TASK, "TYPE) is empty");
        expectRejected(h, field(5, FILTER_TYPE, utf8("nope")), 5, RejectCode.UNKNOWN_TYPE, "type=nope is not a registered task type");
        expectRejected(h, field(6, FILTER_TYPE, new byte[65]), 6, RejectCode.UNKNOWN_TYPE, "is not a registered task type");
        expectRejected(h, field(7, FILTER_TENANT, new byte[maxTenant + 1]), 7, RejectCode.INVALID_TASK,
            "tenant of " + (maxTenant + 1) + " bytes exceeds maxTenantBytes=" + maxTenant);
        expectRejected(h, field(8, FILTER_KEY_PREFIX, new byte[maxKey + 1]), 8, RejectCode.INVALID_TASK,
            "key prefix of " + (maxKey + 1) + " bytes exceeds maxKeyBytes=" + maxKey);
        expectRejected(h, field(9, FILTER_KEY_PREFIX, new byte[0]), 9, RejectCode.INVALID_TASK, "KEY_PREFIX) is empty");
        assertThat(engine.eventSubscriptions()).as("nothing was subscribed by the refused frames").isZero();

        h.send(frame(field(10, FILTER_KEY_PREFIX, utf8("k"))));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(SUBSCRIBED);
        expectRejected(h, field(11, FILTER_TYPE, utf8("echo")), 11, RejectCode.ALREADY_SUBSCRIBED,
            "this connection already has a subscription (correlation 10)");
        assertThat(h.channel.isActive()).isTrue();
        submit("k-1", "echo", "");
        assertThat(h.receive(3)).extracting(f -> f.correlation()).containsOnly(10L);
        assertThat(engine.eventSubscriptions()).isEqualTo(1);
    }

    @Test
    void theServersSubscriptionLimitHolds()
    {
        final ServerStats shared = new ServerStats();
        final ConnectionHarness off = handshaken(ServerConfig.builder().maxSubscriptions(0).build(), shared);
        expectRejected(off, field(1, FILTER_TYPE, utf8("echo")), 1, RejectCode.TOO_MANY_SUBSCRIPTIONS, "subscriptions are off");

        final ServerConfig one = ServerConfig.builder().maxSubscriptions(1).build();
        final ConnectionHarness first = handshaken(one, shared);
        final ConnectionHarness second = handshaken(one, shared);
        first.send(frame(out -> Frames.subscribe(out, 1, null, null, null)));
        assertThat(first.receive(1).get(0).opcode()).isEqualTo(SUBSCRIBED);
        expectRejected(second, field(2, FILTER_TYPE, utf8("echo")), 2, RejectCode.TOO_MANY_SUBSCRIPTIONS, "maximum of 1 status subscriptions");
        first.send(frame(out -> Frames.ping(out, UNSUBSCRIBE, 3)));
        assertThat(first.receive(1).get(0).opcode()).isEqualTo(UNSUBSCRIBED);
        second.send(frame(out -> Frames.subscribe(out, 4, null, null, null)));
        assertThat(second.receive(1).get(0).opcode()).isEqualTo(SUBSCRIBED);
        assertThat(shared.subscriptions()).isEqualTo(1);
        second.channel.close();
        assertThat(shared.subscriptions()).as("a closed connection's subscription is gone").isZero();
    }

    // ------------------------------------------------------------------------------------------------

    /** A SUBSCRIBE with one field, written by hand (so any id and length can be sent). */
    private static Consumer<ByteBuf> field(final long correlation, final int id, final byte[] value)
    {
        return out -> out.writeInt(1 + 10 + 3 + value.length).writeByte(SUBSCRIBE).writeLong(correlation).writeByte(0).writeByte(1)
            .writeByte(id).writeShort(value.length).writeBytes(value);
    }

    private void expectRejected(final ConnectionHarness h, final Consumer<ByteBuf> frame, final long correlation, final RejectCode code,
                                final String messagePart)
    {
        h.send(frame(frame));
        final Frame rejected = h.receive(1).get(0);
        assertThat(rejected.opcode()).isEqualTo(REJECTED);
        assertThat(rejected.correlation()).isEqualTo(correlation);
        assertThat(rejected.code()).as(rejected.message()).isEqualTo(code.code());
        assertThat(rejected.message()).contains(messagePart);
    }

    private static ByteBuf frame(final Consumer<ByteBuf> write)
    {
        final ByteBuf out = Unpooled.buffer();
        write.accept(out);
        return out;
    }

    private static String hex(final Consumer<ByteBuf> write)
    {
        return HexFormat.of().formatHex(Wire.bytes(frame(write)));
    }

    private static byte[] utf8(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private ConnectionHarness handshaken(final ServerConfig config)
    {
        return handshaken(config, new ServerStats());
    }

    private ConnectionHarness handshaken(final ServerConfig config, final ServerStats stats)
    {
        final ConnectionHarness h = new ConnectionHarness(engine, config, stats);
        channels.add(h.channel);
        h.send(Wire.hello(null, 0));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(WELCOME);
        return h;
    }

}
