package io.gyre.ingress.server;

import io.gyre.engine.DeadLetterReason;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Outcome;
import io.gyre.engine.Priority;
import io.gyre.engine.RedriveOutcome;
import io.gyre.engine.TaskContext;
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
 * The dead-letter frames (DLQ_LIST, DLQ_SHOW, DLQ_REDRIVE, DLQ_PURGE and their replies) through an
 * {@link EmbeddedChannel} in front of a real engine: their layouts byte for byte, the examples of
 * docs/PROTOCOL.md, and every malformed or invalid variant (an ERROR and a close, or a REJECTED and the
 * connection serving on).
 */
@ExtendWith(LeakCheck.class)
class DeadLetterFramesTest
{
    @TempDir
    static Path dir;

    static Engine engine;
    static volatile boolean failing = true;

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
                    if (failing)
                    {
                        context.fail(false, "no thanks");
                        return;
                    }
                    context.succeed(context.payload(), 0, context.payloadLength());
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
        failing = true;
        engine.purgeDeadLetters().join();
    }

    private static Outcome deadLetter(final String key, final String payload) throws Exception
    {
        final Outcome outcome = engine.submit(new TaskRequest().key(key).type("refuse").payload(payload).tenant("acme")
            .priority(Priority.LOW).timeoutMillis(5000).maxAttempts(2)).get(10, TimeUnit.SECONDS);
        assertThat(outcome.state()).isEqualTo(TaskState.DEAD_LETTERED);
        return outcome;
    }

    // ------------------------------------------------------------------------------------------------
    // Requests and their replies

    @Test
    void listIsAnsweredWithAPageOfEntries() throws Exception
    {
        final Outcome first = deadLetter("dl-1", "{}");
        final Outcome second = deadLetter("dl-22", "x");
        final ConnectionHarness h = handshaken();

        h.send(frame(out -> Frames.dlqList(out, 7, 0, 1)));
        final Frame page = h.receive(1).get(0);
        assertThat(page.opcode()).isEqualTo(DLQ_LIST_REPLY);
        assertThat(page.correlation()).isEqualTo(7);
        assertThat(page.u16(DLQ_PAGE_COUNT)).isEqualTo(1);
        assertThat(page.u32(DLQ_PAGE_TOTAL)).isEqualTo(2);
        assertThat(page.u8(DLQ_PAGE_FLAGS)).isEqualTo(DLQ_PAGE_FLAG_MORE);
        final long cursor = page.u64(DLQ_PAGE_NEXT_CURSOR);
        final int entry = DLQ_PAGE_FIXED;
        assertThat(page.u64(entry + DLQ_ENTRY_CURSOR)).isEqualTo(cursor);
        assertThat(page.u64(entry + DLQ_ENTRY_TASK_ID)).isEqualTo(first.taskId());
        assertThat(page.u8(entry + DLQ_ENTRY_REASON)).isEqualTo(DeadLetterReason.PERMANENT_FAILURE.code());
        assertThat(page.u16(entry + DLQ_ENTRY_ATTEMPTS)).isEqualTo(1);
        assertThat(page.u64(entry + DLQ_ENTRY_SUBMITTED_AT)).isEqualTo(first.submittedAt());
        assertThat(page.u64(entry + DLQ_ENTRY_DEAD_LETTERED_AT)).isEqualTo(first.finishedAt());
        assertThat(page.u16(entry + DLQ_ENTRY_KEY_LENGTH)).isEqualTo(4);
        assertThat(page.u8(entry + DLQ_ENTRY_TYPE_LENGTH)).isEqualTo(6);
        assertThat(page.u16(entry + DLQ_ENTRY_ERROR_LENGTH)).isEqualTo(9);
        assertThat(page.text(entry + DLQ_ENTRY_FIXED, 4 + 6 + 9)).isEqualTo("dl-1refuseno thanks");
        assertThat(page.body()).hasSize(DLQ_PAGE_FIXED + DLQ_ENTRY_FIXED + 4 + 6 + 9);

        h.send(frame(out -> Frames.dlqList(out, 8, cursor, 1000)));
        final Frame rest = h.receive(1).get(0);
        assertThat(rest.u16(DLQ_PAGE_COUNT)).isEqualTo(1);
        assertThat(rest.u8(DLQ_PAGE_FLAGS)).isZero();
        assertThat(rest.u64(DLQ_PAGE_FIXED + DLQ_ENTRY_TASK_ID)).isEqualTo(second.taskId());
        assertThat(rest.text(DLQ_PAGE_FIXED + DLQ_ENTRY_FIXED, 5)).isEqualTo("dl-22");

        h.send(frame(out -> Frames.dlqList(out, 9, rest.u64(DLQ_PAGE_NEXT_CURSOR), 10)));
        final Frame empty = h.receive(1).get(0);
        assertThat(empty.body()).hasSize(DLQ_PAGE_FIXED);
        assertThat(empty.u16(DLQ_PAGE_COUNT)).isZero();
        assertThat(empty.u64(DLQ_PAGE_NEXT_CURSOR)).isEqualTo(rest.u64(DLQ_PAGE_NEXT_CURSOR));
    }

    @Test
    void showIsAnsweredWithTheEntryAndItsRequest() throws Exception
    {
        final Outcome dead = deadLetter("dl-show", "{\"a\":1}");
        final ConnectionHarness h = handshaken();

        h.send(Wire.keyed(DLQ_SHOW, 3, "dl-show"));
        final Frame show = h.receive(1).get(0);
        assertThat(show.opcode()).isEqualTo(DLQ_SHOW_REPLY);
        assertThat(show.correlation()).isEqualTo(3);
        assertThat(show.u8(DLQ_SHOW_FOUND)).isEqualTo(1);
        assertThat(show.u8(DLQ_SHOW_REASON)).isEqualTo(DeadLetterReason.PERMANENT_FAILURE.code());
        assertThat(show.u8(DLQ_SHOW_PRIORITY)).isEqualTo(Priority.LOW.code());
        assertThat(show.u8(DLQ_SHOW_TYPE_LENGTH)).isEqualTo(6);
        assertThat(show.u64(DLQ_SHOW_CURSOR)).isPositive();
        assertThat(show.u64(DLQ_SHOW_TASK_ID)).isEqualTo(dead.taskId());
        assertThat(show.u16(DLQ_SHOW_ATTEMPTS)).isEqualTo(1);
        assertThat(show.u16(DLQ_SHOW_MAX_ATTEMPTS)).isEqualTo(2);
        assertThat(show.u32(DLQ_SHOW_TIMEOUT)).isEqualTo(5000);
        assertThat(show.u64(DLQ_SHOW_SUBMITTED_AT)).isEqualTo(dead.submittedAt());
        assertThat(show.u64(DLQ_SHOW_DEAD_LETTERED_AT)).isEqualTo(dead.finishedAt());
        assertThat(show.u16(DLQ_SHOW_KEY_LENGTH)).isEqualTo(7);
        assertThat(show.u16(DLQ_SHOW_TENANT_LENGTH)).isEqualTo(4);
        assertThat(show.u16(DLQ_SHOW_ERROR_LENGTH)).isEqualTo(9);
        assertThat(show.u32(DLQ_SHOW_PAYLOAD_LENGTH)).isEqualTo(7);
        assertThat(show.text(DLQ_SHOW_FIXED, 7 + 6 + 4 + 9 + 7)).isEqualTo("dl-showrefuseacmeno thanks{\"a\":1}");
        assertThat(show.body()).hasSize(DLQ_SHOW_FIXED + 33);

        h.send(Wire.keyed(DLQ_SHOW, 4, "dl-none"));
        final Frame none = h.receive(1).get(0);
        assertThat(none.opcode()).isEqualTo(DLQ_SHOW_REPLY);
        assertThat(none.body()).hasSize(DLQ_SHOW_FIXED);
        assertThat(none.correlation()).isEqualTo(4);
        assertThat(java.util.Arrays.copyOfRange(none.body(), 8, DLQ_SHOW_FIXED)).as("all zero").containsOnly(0);
    }

    @Test
    void redriveIsAnsweredWithWhatItDid() throws Exception
    {
        final Outcome dead = deadLetter("dl-redrive", "again");
        final ConnectionHarness h = handshaken();
        failing = false;

        h.send(Wire.keyed(DLQ_REDRIVE, 5, "dl-redrive"));
        final Frame redriven = h.receive(1).get(0);
        assertThat(redriven.opcode()).isEqualTo(DLQ_REDRIVE_REPLY);
        assertThat(redriven.correlation()).isEqualTo(5);
        assertThat(redriven.u8(DLQ_REDRIVE_OUTCOME)).isEqualTo(RedriveOutcome.REDRIVEN.code());
        assertThat(redriven.u8(DLQ_REDRIVE_STATE)).isEqualTo(TaskState.RETRY_WAIT.code());
        assertThat(redriven.u16(DLQ_REDRIVE_ATTEMPTS)).isEqualTo(1);
        assertThat(redriven.u64(DLQ_REDRIVE_TASK_ID)).isEqualTo(dead.taskId());
        assertThat(redriven.u16(DLQ_REDRIVE_MAX_ATTEMPTS)).isEqualTo(3);
        final int length = redriven.u16(DLQ_REDRIVE_MESSAGE_LENGTH);
        assertThat(redriven.body()).hasSize(DLQ_REDRIVE_FIXED + length);
        assertThat(redriven.text(DLQ_REDRIVE_FIXED, length)).isEqualTo("task " + dead.taskId() + " of key dl-redrive redriven: attempts 2 to 3 may run");

        h.send(Wire.keyed(DLQ_REDRIVE, 6, "dl-nobody"));
        final Frame unknown = h.receive(1).get(0);
        assertThat(unknown.u8(DLQ_REDRIVE_OUTCOME)).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED.code());
        assertThat(unknown.u8(DLQ_REDRIVE_STATE)).isEqualTo(STATE_NONE);
        assertThat(unknown.u64(DLQ_REDRIVE_TASK_ID)).isZero();
        assertThat(unknown.text(DLQ_REDRIVE_FIXED, unknown.u16(DLQ_REDRIVE_MESSAGE_LENGTH))).contains("is not dead-lettered");
    }

    @Test
    void purgeIsAnsweredWithWhatItRemoved() throws Exception
    {
        deadLetter("dl-p1", "");
        deadLetter("dl-p2", "");
        deadLetter("dl-p3", "");
        final ConnectionHarness h = handshaken();

        h.send(frame(out -> Frames.dlqPurge(out, 10, 0, "dl-p2".getBytes(StandardCharsets.UTF_8))));
        final Frame one = h.receive(1).get(0);
        assertThat(one.opcode()).isEqualTo(DLQ_PURGE_REPLY);
        assertThat(one.body()).hasSize(DLQ_PURGED_FIXED);
        assertThat(one.correlation()).isEqualTo(10);
        assertThat(one.u32(DLQ_PURGED_COUNT)).isEqualTo(1);
        assertThat(one.u32(DLQ_PURGED_REMAINING)).isEqualTo(2);

        h.send(frame(out -> Frames.dlqPurge(out, 11, 0, "dl-p2".getBytes(StandardCharsets.UTF_8))));
        assertThat(h.receive(1).get(0).u32(DLQ_PURGED_COUNT)).isZero();

        h.send(frame(out -> Frames.dlqPurge(out, 12, DLQ_PURGE_FLAG_ALL, new byte[0])));
        final Frame all = h.receive(1).get(0);
        assertThat(all.u32(DLQ_PURGED_COUNT)).isEqualTo(2);
        assertThat(all.u32(DLQ_PURGED_REMAINING)).isZero();
    }

    // ------------------------------------------------------------------------------------------------
    // The examples of docs/PROTOCOL.md

    @Test
    void requestFramesEncodeAsTheProtocolDocumentShows()
    {
        assertThat(hex(out -> Frames.dlqList(out, 9, 0, 100)))
            .isEqualTo("00000013" + "14" + "0000000000000009" + "0000000000000000" + "0064");
        assertThat(hex(out -> Frames.keyed(out, DLQ_SHOW, 10, utf8("order-42"))))
            .isEqualTo("00000013" + "15" + "000000000000000a" + "0008" + "6f726465722d3432");
        assertThat(hex(out -> Frames.keyed(out, DLQ_REDRIVE, 11, utf8("order-42"))))
            .isEqualTo("00000013" + "16" + "000000000000000b" + "0008" + "6f726465722d3432");
        assertThat(hex(out -> Frames.dlqPurge(out, 12, 0, utf8("order-42"))))
            .isEqualTo("00000014" + "17" + "000000000000000c" + "00" + "0008" + "6f726465722d3432");
        assertThat(hex(out -> Frames.dlqPurge(out, 13, DLQ_PURGE_FLAG_ALL, new byte[0])))
            .isEqualTo("0000000c" + "17" + "000000000000000d" + "01" + "0000");
    }

    @Test
    void replyFramesEncodeAsTheProtocolDocumentShows()
    {
        final long submitted = 1_763_856_000_000_000_000L;
        final long dead = submitted + 2_000_000L;
        assertThat(hex(out ->
        {
            final int start = Frames.dlqPage(out, 9, 3, 1, false, 1);
            Frames.dlqEntry(out, 3, 2, 1, 1, submitted, dead, utf8("order-42"), utf8("echo"), "bad input");
            Frames.finish(out, start);
        })).isEqualTo("00000055" + "26" + "0000000000000009" + "0000000000000003" + "00000001" + "00" + "0001"
            + "0000000000000003" + "0000000000000002" + "01" + "0001" + "187a79afcaf10000" + "187a79afcb0f8480" + "0008" + "04" + "0009"
            + "6f726465722d3432" + "6563686f" + "62616420696e707574");
        assertThat(hex(out -> Frames.dlqShow(out, 10, true, 1, 1, 3, 2, 1, 3, 30_000, submitted, dead, utf8("order-42"), utf8("echo"),
            new byte[0], "bad input", utf8("{\"x\":1}"))))
            .isEqualTo("0000005b" + "27" + "000000000000000a" + "01" + "01" + "01" + "04" + "0000000000000003" + "0000000000000002"
                + "0001" + "0003" + "00007530" + "187a79afcaf10000" + "187a79afcb0f8480" + "0008" + "0000" + "0009" + "00000007"
                + "6f726465722d3432" + "6563686f" + "62616420696e707574" + "7b2278223a317d");
        assertThat(hex(out -> Frames.dlqRedrive(out, 11, 0, TaskState.RETRY_WAIT.code(), 1, 2, 4,
            "task 2 of key order-42 redriven: attempts 2 to 4 may run")))
            .isEqualTo("00000051" + "28" + "000000000000000b" + "00" + "02" + "0001" + "0000000000000002" + "0004" + "0038"
                + HexFormat.of().formatHex(utf8("task 2 of key order-42 redriven: attempts 2 to 4 may run")));
        assertThat(hex(out -> Frames.dlqPurged(out, 12, 1, 4)))
            .isEqualTo("00000011" + "29" + "000000000000000c" + "00000001" + "00000004");
    }

    // ------------------------------------------------------------------------------------------------
    // Malformed frames: an ERROR, then the connection closes

    @Test
    void dlqFramesThatDoNotAddUpAreMalformed()
    {
        // DLQ_LIST is exactly 18 bytes of body
        for (final int length : new int[] {17, 19, 0})
        {
            final ConnectionHarness h = handshaken();
            h.send(Unpooled.buffer().writeInt(1 + length).writeByte(DLQ_LIST).writeBytes(new byte[length]));
            assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("DLQ_LIST body of " + length + " bytes");
        }
        // DLQ_SHOW, DLQ_REDRIVE and DLQ_PURGE shorter than their fixed part
        for (final int opcode : new int[] {DLQ_SHOW, DLQ_REDRIVE, DLQ_PURGE})
        {
            final ConnectionHarness h = handshaken();
            h.send(Unpooled.buffer().writeInt(1 + 9).writeByte(opcode).writeBytes(new byte[9]));
            assertThat(h.expectError(ErrorCode.MALFORMED_FRAME).message()).contains(opcodeName(opcode)).contains("shorter");
        }
        // key lengths that do not match the body
        for (final int delta : new int[] {+1, -1})
        {
            final ConnectionHarness show = handshaken();
            show.send(Unpooled.buffer().writeInt(1 + KEYED_FIXED + 3).writeByte(DLQ_REDRIVE).writeLong(1).writeShort(3 + delta)
                .writeBytes(new byte[3]));
            assertThat(show.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("DLQ_REDRIVE body of 13 bytes");

            final ConnectionHarness purge = handshaken();
            purge.send(Unpooled.buffer().writeInt(1 + DLQ_PURGE_FIXED + 3).writeByte(DLQ_PURGE).writeLong(1).writeByte(0)
                .writeShort(3 + delta).writeBytes(new byte[3]));
            assertThat(purge.expectError(ErrorCode.MALFORMED_FRAME).message()).contains("DLQ_PURGE body of 14 bytes");
        }
    }

    @Test
    void theClientsRepliesAreNotRequests()
    {
        for (final int opcode : new int[] {DLQ_LIST_REPLY, DLQ_SHOW_REPLY, DLQ_REDRIVE_REPLY, DLQ_PURGE_REPLY})
        {
            final ConnectionHarness h = handshaken();
            h.send(Unpooled.buffer().writeInt(9).writeByte(opcode).writeLong(1));
            assertThat(h.expectError(ErrorCode.UNKNOWN_OPCODE).message()).contains(opcodeName(opcode));
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Invalid fields: a REJECTED, and the connection serves on

    @Test
    void invalidFieldsAreRejectedAndTheConnectionServesOn() throws Exception
    {
        final ConnectionHarness h = handshaken();
        final byte[] none = new byte[0];
        final byte[] tooLong = new byte[engine.config().maxKeyBytes() + 1];
        expectRejected(h, out -> Frames.dlqList(out, 1, 0, 0), 1, "limit=0 must be in [1, 1000]");
        expectRejected(h, out -> Frames.dlqList(out, 2, 0, 1001), 2, "limit=1001 must be in [1, 1000]");
        expectRejected(h, out -> Frames.dlqList(out, 3, -1, 10), 3, "after=18446744073709551615 exceeds");
        expectRejected(h, out -> Frames.keyed(out, DLQ_SHOW, 4, none), 4, "key must be 1 to");
        expectRejected(h, out -> Frames.keyed(out, DLQ_REDRIVE, 5, none), 5, "key must be 1 to");
        expectRejected(h, out -> Frames.keyed(out, DLQ_REDRIVE, 6, tooLong), 6, "key must be 1 to 256 bytes (was 257)");
        expectRejected(h, out -> Frames.dlqPurge(out, 7, 0, none), 7, "key must be 1 to");
        expectRejected(h, out -> Frames.dlqPurge(out, 8, 0x02, utf8("k")), 8, "flags=0x02 set reserved bits");
        expectRejected(h, out -> Frames.dlqPurge(out, 9, DLQ_PURGE_FLAG_ALL, utf8("k")), 9, "takes no key");

        assertThat(h.channel.isActive()).isTrue();
        deadLetter("dl-still", "");
        h.send(Wire.keyed(DLQ_SHOW, 10, "dl-still"));
        final Frame show = h.receive(1).get(0);
        assertThat(show.opcode()).isEqualTo(DLQ_SHOW_REPLY);
        assertThat(show.u8(DLQ_SHOW_FOUND)).isEqualTo(1);
        assertThat(engine.deadLetterCount()).as("nothing was purged by the refused frames").isEqualTo(1);
    }

    // ------------------------------------------------------------------------------------------------

    private void expectRejected(final ConnectionHarness h, final Consumer<ByteBuf> frame, final long correlation, final String messagePart)
    {
        h.send(frame(frame));
        final Frame rejected = h.receive(1).get(0);
        assertThat(rejected.opcode()).isEqualTo(REJECTED);
        assertThat(rejected.correlation()).isEqualTo(correlation);
        assertThat(rejected.code()).as(rejected.message()).isEqualTo(RejectCode.INVALID_TASK.code());
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

    private ConnectionHarness handshaken()
    {
        final ConnectionHarness h = new ConnectionHarness(engine, ServerConfig.builder().build(), new ServerStats());
        channels.add(h.channel);
        h.send(Wire.hello(null, 0));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(WELCOME);
        return h;
    }

}
