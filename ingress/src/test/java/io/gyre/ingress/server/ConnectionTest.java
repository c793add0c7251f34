package io.gyre.ingress.server;

import io.gyre.engine.Backoff;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskState;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
import io.gyre.ingress.protocol.Frames;
import io.gyre.ingress.protocol.Protocol;
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

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.gyre.ingress.protocol.Protocol.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's side of every frame, and every malformed input, through an {@link EmbeddedChannel} in
 * front of a real engine: what is answered, what closes the connection, what is left untouched.
 */
@ExtendWith(LeakCheck.class)
class ConnectionTest
{
    @TempDir
    static Path dir;

    static Engine engine;
    static volatile CountDownLatch stall = new CountDownLatch(0);
    static final AtomicInteger KEYS = new AtomicInteger();

    private final List<ConnectionHarness> harnesses = new ArrayList<>();

    @BeforeAll
    static void open()
    {
        engine = Engine.open(EngineConfig.builder(dir.resolve("journal"))
            .ringSize(64)
            .timerFiresPerTick(4)
            .maxPayloadBytes(4096)
            .handler(new TaskHandler()
            {
                @Override
                public String type()
                {
                    return "stall";
                }

                @Override
                public void execute(final TaskContext context) throws Exception
                {
                    // inline: holds the execute stage, so the ring fills up behind it
                    stall.await(20, TimeUnit.SECONDS);
                }
            })
            .handler(new TaskHandler()
            {
                @Override
                public String type()
                {
                    return "hold";
                }

                @Override
                public ExecutionMode executionMode()
                {
                    return ExecutionMode.BLOCKING;
                }

                @Override
                public void execute(final TaskContext context) throws Exception
                {
                    stall.await(20, TimeUnit.SECONDS);
                }
            })
            .build());
    }

    @AfterAll
    static void close()
    {
        stall.countDown();
        engine.close();
    }

    @AfterEach
    void closeChannels()
    {
        stall.countDown();
        for (final ConnectionHarness h : harnesses)
        {
            h.channel.finishAndReleaseAll();
        }
    }

    static String key()
    {
        return "k-" + KEYS.incrementAndGet() + "-" + System.nanoTime();
    }

    // ------------------------------------------------------------------------------------------------
    // Handshake

    @Test
    void helloIsAnsweredWithTheServersLimits()
    {
        final ConnectionHarness h = harness(ServerConfig.builder().maxInFlight(77).idleTimeout(java.time.Duration.ofSeconds(9)).build());
        h.send(Wire.hello(null, 0));
        final Frame welcome = h.receive(1).get(0);
        assertThat(welcome.opcode()).isEqualTo(WELCOME);
        assertThat(welcome.body()).hasSize(WELCOME_FIXED);
        assertThat(welcome.u16(WELCOME_VERSION)).isEqualTo(VERSION);
        assertThat(welcome.u16(WELCOME_FLAGS)).isZero();
        assertThat(welcome.u32(WELCOME_MAX_FRAME)).isEqualTo(GyreServer.maxFrame(engine.config(), h.config));
        assertThat(welcome.u32(WELCOME_MAX_IN_FLIGHT)).isEqualTo(77);
        assertThat(welcome.u32(WELCOME_IDLE_TIMEOUT)).isEqualTo(9000);
        assertThat(welcome.u16(WELCOME_MAX_KEY)).isEqualTo(engine.config().maxKeyBytes());
        assertThat(welcome.u16(WELCOME_MAX_TYPE)).isEqualTo(EngineConfig.MAX_TYPE_BYTES);
        assertThat(welcome.u16(WELCOME_MAX_TENANT)).isEqualTo(engine.config().maxTenantBytes());
        assertThat(welcome.u32(WELCOME_MAX_PAYLOAD)).isEqualTo(4096);
        assertThat(welcome.u32(WELCOME_MAX_OUTPUT)).isEqualTo(engine.config().maxOutputBytes());
        assertThat(h.channel.isActive()).isTrue();
    }

    @Test
    void welcomeNeverOffersMoreTenantBytesThanASubmitCanCarry()
    {
        try (Engine wide = Engine.open(EngineConfig.builder(dir.resolve("wide-tenants")).ringSize(64).timerFiresPerTick(4).maxTenantBytes(1000).build()))
        {
            final ConnectionHarness h = new ConnectionHarness(wide, ServerConfig.builder().build(), new ServerStats());
            harnesses.add(h);
            h.send(Wire.hello(null, 0));
            final Frame welcome = h.receive(1).get(0);
            assertThat(welcome.u16(WELCOME_MAX_TENANT)).as("SUBMIT's tenant_len is a u8").isEqualTo(255);
            assertThat(welcome.u32(WELCOME_MAX_FRAME)).isEqualTo(1L + SUBMIT_FIXED + RETRY_POLICY_BYTES + wide.config().maxKeyBytes() +
                EngineConfig.MAX_TYPE_BYTES + 255 + wide.config().maxPayloadBytes());
            h.channel.finishAndReleaseAll();
        }
    }

    @Test
    void badMagicIsAnErrorAndCloses()
    {
        final ConnectionHarness h = harness();
        final ByteBuf hello = Wire.hello(null, 0);
        hello.setInt(HEADER_BYTES + HELLO_MAGIC, 0x47455420);
        h.send(hello);
        h.expectError(ErrorCode.BAD_MAGIC);
    }

    @Test
    void wrongVersionIsAnErrorAndCloses()
    {
        final ConnectionHarness h = harness();
        final ByteBuf out = Unpooled.buffer();
        Frames.hello(out, 2, 0, new byte[0]);
        h.send(out);
        assertThat(h.expectError(ErrorCode.UNSUPPORTED_VERSION).message()).contains("version 2");
    }

    @Test
    void aFrameBeforeHelloIsAnErrorAndCloses()
    {
        final ConnectionHarness h = harness();
        h.send(Wire.ping(1));
        h.expectError(ErrorCode.HANDSHAKE_REQUIRED);
    }

    @Test
    void aSecondHelloIsAnErrorAndCloses()
    {
        final ConnectionHarness h = handshaken();
        h.send(Wire.hello(null, 0));
        h.expectError(ErrorCode.UNEXPECTED_FRAME);
    }

    @Test
    void reservedHelloFlagsAreMalformed()
    {
        final ConnectionHarness h = harness();
        h.send(Wire.hello(null, 0x8000));
        h.expectError(ErrorCode.MALFORMED_FRAME);
    }

    @Test
    void aMissingOrWrongTokenGetsAnErrorAndNothingElse() throws Exception
    {
        final ServerConfig config = ServerConfig.builder().authToken("s3cret").build();
        for (final String token : Arrays.asList(null, "s3cre", "s3cret!", "S3CRET"))
        {
            final ConnectionHarness h = harness(config);
            final String key = key();
            // a submission pipelined right behind the HELLO must not run
            h.send(Unpooled.wrappedBuffer(Wire.hello(token, 0), Wire.submit(1, key, "echo", "x")));
            h.expectError(ErrorCode.AUTH_FAILED);
            assertThat(engine.status(key).get(5, TimeUnit.SECONDS).found()).as("token %s", token).isFalse();
        }
        final ConnectionHarness ok = harness(config);
        ok.send(Wire.hello("s3cret", 0));
        assertThat(ok.receive(1).get(0).opcode()).isEqualTo(WELCOME);
    }

    // ------------------------------------------------------------------------------------------------
    // Requests

    @Test
    void submitIsAcceptedThenAnsweredWithItsResult()
    {
        final ConnectionHarness h = handshaken();
        final String key = key();
        h.send(Wire.submit(42, key, "echo", "{\"x\":1}"));
        final List<Frame> frames = h.receive(2);
        assertThat(frames).extracting(Frame::opcode).containsExactly(ACCEPTED, RESULT);
        final Frame accepted = frames.get(0);
        assertThat(accepted.body()).hasSize(ACCEPTED_FIXED);
        assertThat(accepted.correlation()).isEqualTo(42);
        final long taskId = accepted.u64(8);
        final Frame result = frames.get(1);
        assertThat(result.correlation()).isEqualTo(42);
        assertThat(result.u64(RESULT_TASK_ID)).isEqualTo(taskId);
        assertThat(result.u8(RESULT_STATE)).isEqualTo(TaskState.SUCCEEDED.code());
        assertThat(result.u8(RESULT_FLAGS)).isZero();
        assertThat(result.u16(RESULT_ATTEMPTS)).isEqualTo(1);
        assertThat(result.u64(RESULT_SUBMITTED_AT)).isPositive();
        assertThat(result.u64(RESULT_STARTED_AT)).isGreaterThanOrEqualTo(result.u64(RESULT_SUBMITTED_AT));
        assertThat(result.u64(RESULT_FINISHED_AT)).isGreaterThanOrEqualTo(result.u64(RESULT_STARTED_AT));
        assertThat(new String(result.resultBody(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
        assertThat(result.body()).hasSize(RESULT_FIXED + 7);

        // the same key again: its recorded outcome, flagged duplicate, no ACCEPTED
        h.send(Wire.submit(43, key, "echo", "other"));
        final Frame again = h.receive(1).get(0);
        assertThat(again.opcode()).isEqualTo(RESULT);
        assertThat(again.correlation()).isEqualTo(43);
        assertThat(again.u64(RESULT_TASK_ID)).isEqualTo(taskId);
        assertThat(again.u8(RESULT_FLAGS)).isEqualTo(RESULT_FLAG_DUPLICATE);
        assertThat(new String(again.resultBody(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
    }

    @Test
    void submitFieldsReachTheEngine() throws Exception
    {
        final ConnectionHarness h = handshaken();
        final String key = key();
        final ByteBuf out = Unpooled.buffer();
        final byte[] payload = "p".getBytes(StandardCharsets.UTF_8);
        Frames.submit(out, 5, 0, SUBMIT_FLAG_NO_DEAD_LETTER, 1234, 7, key.getBytes(StandardCharsets.UTF_8),
            "echo".getBytes(StandardCharsets.UTF_8), "tenant-a".getBytes(StandardCharsets.UTF_8), payload, 0, payload.length);
        h.send(out);
        assertThat(h.receive(2)).extracting(Frame::opcode).containsExactly(ACCEPTED, RESULT);
        assertThat(engine.status(key).get(5, TimeUnit.SECONDS).maxAttempts()).isEqualTo(7);
    }

    @Test
    void aRetryPolicyInTheSubmitIsJournaledWithTheTask()
    {
        final ConnectionHarness h = handshaken();
        final String key = key();
        final byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        final ByteBuf out = Unpooled.buffer();
        Frames.submit(out, 5, 1, 0, 0, 0, new Backoff(250, 4000, 1.5f, 0.125f), keyBytes,
            "echo".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[0], 0, 0);
        assertThat((int)out.getUnsignedByte(HEADER_BYTES + SUBMIT_FLAGS)).isEqualTo(SUBMIT_FLAG_RETRY_POLICY);
        h.send(out);
        assertThat(h.receive(2)).extracting(Frame::opcode).containsExactly(ACCEPTED, RESULT);
        final List<String> journaled = new ArrayList<>();
        try (Journal journal = Journal.openReadOnly(engine.config().journal()); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                if (record.type() == RecordType.SUBMITTED)
                {
                    final SubmittedRecord.Decoder d = record.submitted();
                    final byte[] k = new byte[d.keyLength()];
                    d.buffer().getBytes(d.keyOffset(), k);
                    if (Arrays.equals(k, keyBytes))
                    {
                        journaled.add(d.backoffInitialMillis() + " " + d.backoffMaxMillis() + " " + d.backoffMultiplier() + " " +
                            d.backoffJitter());
                    }
                }
            });
        }
        assertThat(journaled).containsExactly("250 4000 1.5 0.125");
    }

    @Test
    void aSubmitWithARetryPolicyEncodesAsTheProtocolDocumentShows()
    {
        final ByteBuf out = Unpooled.buffer();
        Frames.submit(out, 7, 1, 0, 0, 5, new Backoff(250, 4000, 1.5f, 0.125f), "k1".getBytes(StandardCharsets.UTF_8),
            "noop".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[0], 0, 0);
        assertThat(io.netty.buffer.ByteBufUtil.hexDump(out)).isEqualTo("0000002b" + "10" + "0000000000000007" + "01" + "02" + "00000000" +
            "0005" + "0002" + "04" + "00" + "00000000" + "000000fa" + "00000fa0" + "0096" + "007d" + "6b31" + "6e6f6f70");
        out.release();
    }

    @Test
    void aRetryPolicyOutOfRangeIsRejectedAndOneMissingIsMalformed()
    {
        final ConnectionHarness h = handshaken();
        final byte[] k = key().getBytes(StandardCharsets.UTF_8);
        final byte[] echo = "echo".getBytes(StandardCharsets.UTF_8);
        final byte[] none = new byte[0];
        final Backoff valid = new Backoff(100, 1000, 2f, 0.2f);
        final int policy = HEADER_BYTES + SUBMIT_FIXED;
        expectRejected(h, f ->
        {
            Frames.submit(f, 1, 1, 0, 0, 0, valid, k, echo, none, none, 0, 0);
            f.setInt(policy + RETRY_INITIAL, 0);
        }, 1, RejectCode.INVALID_TASK, "backoffInitialMillis=0 must be at least 1");
        expectRejected(h, f ->
        {
            Frames.submit(f, 2, 1, 0, 0, 0, valid, k, echo, none, none, 0, 0);
            f.setInt(policy + RETRY_MAX, 99);
        }, 2, RejectCode.INVALID_TASK, "backoffMaxMillis=99 must be at least backoffInitialMillis=100");
        expectRejected(h, f ->
        {
            Frames.submit(f, 3, 1, 0, 0, 0, valid, k, echo, none, none, 0, 0);
            f.setShort(policy + RETRY_MULTIPLIER, 50);
        }, 3, RejectCode.INVALID_TASK, "backoffMultiplier=0.5 must be in [1, 100]");
        expectRejected(h, f ->
        {
            Frames.submit(f, 4, 1, 0, 0, 0, valid, k, echo, none, none, 0, 0);
            f.setShort(policy + RETRY_JITTER, 1001);
        }, 4, RejectCode.INVALID_TASK, "backoffJitter=1.001 must be in [0, 1]");
        expectRejected(h, f ->
        {
            Frames.submit(f, 5, 1, 0, 0, 0, valid, k, echo, none, none, 0, 0);
            f.setInt(policy + RETRY_INITIAL, 0x8000_0000);
        }, 5, RejectCode.INVALID_TASK, "backoff_initial_ms=2147483648 exceeds 2147483647");
        assertThat(h.channel.isActive()).isTrue();

        // the flag without its block: the lengths no longer add up
        final ByteBuf out = Unpooled.buffer();
        Frames.submit(out, 6, 1, 0, 0, 0, k, echo, none, none, 0, 0);
        out.setByte(HEADER_BYTES + SUBMIT_FLAGS, SUBMIT_FLAG_RETRY_POLICY);
        h.send(out);
        h.expectError(ErrorCode.MALFORMED_FRAME);
    }

    @Test
    void resultsOnlyConnectionsGetNoAccepted()
    {
        final ConnectionHarness h = harness();
        h.send(Wire.hello(null, HELLO_FLAG_RESULTS_ONLY));
        final Frame welcome = h.receive(1).get(0);
        assertThat(welcome.u16(WELCOME_FLAGS) & WELCOME_FLAG_RESULTS_ONLY).isNotZero();
        h.send(Wire.submit(1, key(), "noop", ""), Wire.submit(2, key(), "noop", ""));
        assertThat(h.receive(2)).extracting(Frame::opcode).containsExactly(RESULT, RESULT);
        assertThat(h.drainFor(100)).isEmpty();
    }

    @Test
    void accountingConnectionsGetResultsWithQueueAndExecutionTime()
    {
        final ConnectionHarness h = harness();
        h.send(Wire.hello(null, HELLO_FLAG_ACCOUNTING));
        final Frame welcome = h.receive(1).get(0);
        assertThat(welcome.u16(WELCOME_FLAGS) & WELCOME_FLAG_ACCOUNTING).isNotZero();
        final String key = key();
        h.send(Wire.submit(1, key, "echo", "out"));
        final Frame result = h.receive(2).get(1);
        assertThat(result.opcode()).isEqualTo(RESULT);
        assertThat(result.u8(RESULT_FLAGS)).isEqualTo(RESULT_FLAG_ACCOUNTING);
        assertThat(result.body()).hasSize(RESULT_ACCOUNTED_FIXED + 3);
        assertThat(result.u32(RESULT_ACCOUNTED_BODY_LENGTH)).isEqualTo(3);
        assertThat(result.text(RESULT_ACCOUNTED_FIXED, 3)).isEqualTo("out");
        final long queue = result.u64(RESULT_QUEUE_NANOS);
        final long execution = result.u64(RESULT_EXECUTION_NANOS);
        assertThat(queue).isNotNegative();
        assertThat(execution).isNotNegative();
        assertThat(queue + execution).isLessThanOrEqualTo(result.u64(RESULT_FINISHED_AT) - result.u64(RESULT_SUBMITTED_AT));
        // a duplicate carries the recorded accounting; a connection that did not ask gets the short frame
        h.send(Wire.submit(2, key, "echo", "out"));
        final Frame duplicate = h.receive(1).get(0);
        assertThat(duplicate.u8(RESULT_FLAGS)).isEqualTo(RESULT_FLAG_ACCOUNTING | RESULT_FLAG_DUPLICATE);
        assertThat(duplicate.u64(RESULT_QUEUE_NANOS)).isEqualTo(queue);
        assertThat(duplicate.u64(RESULT_EXECUTION_NANOS)).isEqualTo(execution);
        final ConnectionHarness plain = handshaken();
        plain.send(Wire.submit(3, key, "echo", "out"));
        final Frame short_ = plain.receive(1).get(0);
        assertThat(short_.u8(RESULT_FLAGS)).isEqualTo(RESULT_FLAG_DUPLICATE);
        assertThat(short_.body()).hasSize(RESULT_FIXED + 3);
        assertThat(short_.text(RESULT_FIXED, 3)).isEqualTo("out");
    }

    @Test
    void statusAndCancelAreAnsweredWithTheTasksState()
    {
        final ConnectionHarness h = handshaken();
        final String key = key();
        h.send(Wire.submit(1, key, "echo", "out"));
        h.receive(2);
        h.send(Wire.keyed(STATUS, 2, key));
        final Frame status = h.receive(1).get(0);
        assertThat(status.opcode()).isEqualTo(STATUS_REPLY);
        assertThat(status.body()).hasSize(STATUS_FIXED + 3);
        assertThat(status.correlation()).isEqualTo(2);
        assertThat(status.u8(STATUS_FOUND)).isEqualTo(1);
        assertThat(status.u8(STATUS_STATE)).isEqualTo(TaskState.SUCCEEDED.code());
        assertThat(status.u16(STATUS_ATTEMPTS)).isEqualTo(1);
        assertThat(status.u16(STATUS_MAX_ATTEMPTS)).isEqualTo(engine.config().defaultMaxAttempts());
        assertThat(status.text(STATUS_FIXED, 3)).isEqualTo("out");

        h.send(Wire.keyed(STATUS, 3, "never-" + key));
        final Frame unknown = h.receive(1).get(0);
        assertThat(unknown.u8(STATUS_FOUND)).isZero();
        assertThat(unknown.u8(STATUS_STATE)).isEqualTo(STATE_NONE);
        assertThat(unknown.u64(STATUS_TASK_ID)).isZero();

        // a task waiting in the pool is cancelled at once
        stall = new CountDownLatch(1);
        final String held = key();
        h.send(Wire.submit(4, held, "hold", ""));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(ACCEPTED);
        h.send(Wire.keyed(CANCEL, 5, held));
        final List<Frame> frames = h.receive(2);
        final Frame cancel = frames.stream().filter(f -> f.opcode() == CANCEL_REPLY).findFirst().orElseThrow();
        assertThat(cancel.correlation()).isEqualTo(5);
        assertThat(cancel.u8(STATUS_STATE)).isEqualTo(TaskState.CANCELLED.code());
        final Frame result = frames.stream().filter(f -> f.opcode() == RESULT).findFirst().orElseThrow();
        assertThat(result.correlation()).isEqualTo(4);
        assertThat(result.u8(RESULT_STATE)).isEqualTo(TaskState.CANCELLED.code());
        stall.countDown();
    }

    @Test
    void pingIsAnsweredWithPong()
    {
        final ConnectionHarness h = handshaken();
        h.send(Wire.ping(0x1122334455667788L));
        final Frame pong = h.receive(1).get(0);
        assertThat(pong.opcode()).isEqualTo(PONG);
        assertThat(pong.body()).hasSize(PING_FIXED);
        assertThat(pong.correlation()).isEqualTo(0x1122334455667788L);
    }

    @Test
    void framesSplitAcrossReadsAndManyInOneReadAreAllHandled()
    {
        final ConnectionHarness h = handshaken();
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < 20; i++)
        {
            final byte[] frame = Wire.bytes(Wire.submit(100 + i, key(), "noop", "payload-" + i));
            all.writeBytes(frame);
        }
        final byte[] bytes = all.toByteArray();
        // one byte at a time for the first frames, then the rest in one go
        for (int i = 0; i < 100; i++)
        {
            h.send(Unpooled.wrappedBuffer(bytes, i, 1));
        }
        h.send(Unpooled.wrappedBuffer(bytes, 100, bytes.length - 100));
        final List<Frame> frames = h.receive(40);
        assertThat(frames.stream().filter(f -> f.opcode() == RESULT).map(Frame::correlation).sorted())
            .containsExactlyElementsOf(java.util.stream.LongStream.range(100, 120).boxed().toList());
    }

    @Test
    void heapAndDirectBuffersDecodeAlike()
    {
        final ConnectionHarness h = handshaken();
        h.direct = false;
        h.send(Wire.submit(1, key(), "echo", "heap"));
        assertThat(new String(h.receive(2).get(1).resultBody(), StandardCharsets.UTF_8)).isEqualTo("heap");
    }

    // ------------------------------------------------------------------------------------------------
    // Refusals that keep the connection

    @Test
    void invalidFieldsAreRejectedAndTheConnectionServesOn()
    {
        final ConnectionHarness h = handshaken();
        final byte[] k = key().getBytes(StandardCharsets.UTF_8);
        final byte[] echo = "echo".getBytes(StandardCharsets.UTF_8);
        final byte[] none = new byte[0];

        expectRejected(h, f -> Frames.submit(f, 1, 3, 0, 0, 0, k, echo, none, none, 0, 0), 1, RejectCode.INVALID_TASK, "priority=3");
        expectRejected(h, f -> Frames.submit(f, 2, 1, 0x80, 0, 0, k, echo, none, none, 0, 0), 2, RejectCode.INVALID_TASK, "reserved");
        expectRejected(h, f -> Frames.submit(f, 3, 1, 0, -1, 0, k, echo, none, none, 0, 0), 3, RejectCode.INVALID_TASK, "timeout_ms");
        expectRejected(h, f -> Frames.submit(f, 4, 1, 0, 0, 1001, k, echo, none, none, 0, 0), 4, RejectCode.INVALID_TASK, "maxAttempts");
        expectRejected(h, f -> Frames.submit(f, 5, 1, 0, 0, 0, none, echo, none, none, 0, 0), 5, RejectCode.INVALID_TASK, "key");
        expectRejected(h, f -> Frames.submit(f, 6, 1, 0, 0, 0, new byte[engine.config().maxKeyBytes() + 1], echo, none, none, 0, 0), 6,
            RejectCode.INVALID_TASK, "maxKeyBytes");
        expectRejected(h, f -> Frames.submit(f, 7, 1, 0, 0, 0, k, none, none, none, 0, 0), 7, RejectCode.INVALID_TASK, "type is required");
        expectRejected(h, f -> Frames.submit(f, 8, 1, 0, 0, 0, k, "nope".getBytes(StandardCharsets.UTF_8), none, none, 0, 0), 8,
            RejectCode.UNKNOWN_TYPE, "nope");
        expectRejected(h, f -> Frames.submit(f, 9, 1, 0, 0, 0, k, echo, new byte[65], none, 0, 0), 9, RejectCode.INVALID_TASK, "tenant");
        // an oversized payload (above the engine's maxPayloadBytes=4096, within the frame limit)
        final byte[] big = new byte[4097];
        expectRejected(h, f -> Frames.submit(f, 10, 1, 0, 0, 0, k, echo, none, big, 0, big.length), 10, RejectCode.INVALID_TASK, "payload");
        expectRejected(h, f -> Frames.keyed(f, STATUS, 11, none), 11, RejectCode.INVALID_TASK, "key");

        assertThat(h.channel.isActive()).isTrue();
        h.send(Wire.submit(12, key(), "echo", "still here"));
        assertThat(new String(h.receive(2).get(1).resultBody(), StandardCharsets.UTF_8)).isEqualTo("still here");
    }

    private void expectRejected(final ConnectionHarness h, final java.util.function.Consumer<ByteBuf> frame, final long correlation,
        final RejectCode code, final String messagePart)
    {
        final ByteBuf out = Unpooled.buffer();
        frame.accept(out);
        h.send(out);
        final Frame rejected = h.receive(1).get(0);
        assertThat(rejected.opcode()).isEqualTo(REJECTED);
        assertThat(rejected.correlation()).isEqualTo(correlation);
        assertThat(rejected.code()).as(rejected.message()).isEqualTo(code.code());
        assertThat(rejected.message()).contains(messagePart);
    }

    // ------------------------------------------------------------------------------------------------
    // Malformed input: an ERROR frame, then this connection closes

    @Test
    void zeroLengthIsBadLength()
    {
        final ConnectionHarness h = handshaken();
        h.send(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0}));
        h.expectError(ErrorCode.BAD_LENGTH);
    }

    @Test
    void negativeAndHugeLengthsAreTooLarge()
    {
        for (final long length : new long[] {0xFFFFFFFFL, 0x80000000L, 0x7FFFFFFFL})
        {
            final ConnectionHarness h = handshaken();
            h.send(Unpooled.buffer().writeInt((int)length).writeByte(SUBMIT));
            assertThat(h.expectError(ErrorCode.FRAME_TOO_LARGE).message()).contains(Long.toString(length));
        }
        final ConnectionHarness first = harness();
        first.send(Unpooled.buffer().writeInt(MAX_HELLO_FRAME + 1));
        assertThat(first.expectError(ErrorCode.FRAME_TOO_LARGE).message()).contains("HELLO");
    }

    @Test
    void aFrameJustOverTheConfiguredLimitIsTooLarge()
    {
        final ConnectionHarness h = harness(ServerConfig.builder().maxFrameBytes(100).build());
        h.send(Wire.hello(null, 0));
        h.receive(1);
        final String fits = "x".repeat(100 - 1 - SUBMIT_FIXED - 4 - 4);
        h.send(Wire.submit(1, "kkkk", "echo", fits));
        assertThat(h.receive(2)).extracting(Frame::opcode).containsExactly(ACCEPTED, RESULT);
        h.send(Wire.submit(2, "kkkk", "echo", fits + "y"));
        h.expectError(ErrorCode.FRAME_TOO_LARGE);
    }

    @Test
    void aHelloLongerThanASmallMaxFrameIsStillTaken()
    {
        final String token = "t".repeat(600);
        final ConnectionHarness h = harness(ServerConfig.builder().maxFrameBytes(100).authToken(token).build());
        h.send(Wire.hello(token, 0));
        assertThat(h.receive(1)).extracting(Frame::opcode).containsExactly(WELCOME);
        h.send(Wire.submit(1, "kkkk", "echo", "x".repeat(100)));
        assertThat(h.expectError(ErrorCode.FRAME_TOO_LARGE).message()).contains("maxFrameBytes=100");
    }

    @Test
    void aTruncatedFrameWaitsAndIsReleasedOnClose()
    {
        final ConnectionHarness h = handshaken();
        final byte[] frame = Wire.bytes(Wire.submit(1, key(), "echo", "abc"));
        h.send(Unpooled.wrappedBuffer(frame, 0, 2));
        h.send(Unpooled.wrappedBuffer(frame, 2, frame.length - 5));
        assertThat(h.drainFor(100)).isEmpty();
        assertThat(h.channel.isActive()).isTrue();
        h.channel.close();
        assertThat(h.channel.isActive()).isFalse();
    }

    @Test
    void bodiesThatDoNotMatchTheirFieldsAreMalformed()
    {
        final byte[] valid = Wire.bytes(Wire.submit(1, "key", "echo", "abc"));
        // declared lengths longer, and shorter, than the body
        for (final int delta : new int[] {+1, -1})
        {
            final ConnectionHarness h = handshaken();
            final ByteBuf bad = Unpooled.copiedBuffer(valid);
            bad.setInt(HEADER_BYTES + SUBMIT_PAYLOAD_LENGTH, 3 + delta);
            h.send(bad);
            h.expectError(ErrorCode.MALFORMED_FRAME);
        }
        // a body shorter than the fixed fields, for every request
        for (final int opcode : new int[] {SUBMIT, STATUS, CANCEL, PING, HELLO})
        {
            final ConnectionHarness h = opcode == HELLO ? harness() : handshaken();
            h.send(Unpooled.buffer().writeInt(1 + 3).writeByte(opcode).writeBytes(new byte[3]));
            h.expectError(ErrorCode.MALFORMED_FRAME);
        }
        final ConnectionHarness keyed = handshaken();
        keyed.send(Unpooled.buffer().writeInt(1 + KEYED_FIXED + 2).writeByte(STATUS).writeLong(1).writeShort(5).writeShort(0));
        keyed.expectError(ErrorCode.MALFORMED_FRAME);
    }

    @Test
    void unknownOpcodesAreErrors()
    {
        for (final int opcode : new int[] {0x00, 0x55, RESULT, WELCOME, 0xFF})
        {
            final ConnectionHarness h = handshaken();
            h.send(Unpooled.buffer().writeInt(9).writeByte(opcode).writeLong(1));
            assertThat(h.expectError(ErrorCode.UNKNOWN_OPCODE).message()).contains(Protocol.opcodeName(opcode));
        }
    }

    @Test
    void garbageAfterAValidFrameClosesOnlyAfterTheValidFrameIsServed()
    {
        final ConnectionHarness h = handshaken();
        final String key = key();
        final ByteBuf both = Unpooled.buffer();
        both.writeBytes(Wire.submit(7, key, "echo", "ok"));
        both.writeBytes("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        h.send(both);
        final List<Frame> frames = h.receiveUntilClosed();
        assertThat(frames.get(frames.size() - 1).opcode()).isEqualTo(ERROR);
        assertThat(frames.get(frames.size() - 1).code()).isEqualTo(ErrorCode.FRAME_TOO_LARGE.code());
        assertThat(h.channel.isActive()).isFalse();
        // the valid submission was accepted before the garbage: it runs and its outcome is recorded
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() ->
            engine.status(key).get().state() == TaskState.SUCCEEDED);
    }

    // ------------------------------------------------------------------------------------------------
    // Limits

    @Test
    void atMaxInFlightReadingPausesAndResumesAsAnswersGoOut()
    {
        stall = new CountDownLatch(1);
        final ConnectionHarness h = harness(ServerConfig.builder().maxInFlight(2).build());
        h.send(Wire.hello(null, HELLO_FLAG_RESULTS_ONLY));
        h.receive(1);
        assertThat(h.stats.frames()).as("the HELLO is a frame received").isEqualTo(1);
        h.send(Wire.submit(1, key(), "hold", ""), Wire.submit(2, key(), "hold", ""), Wire.submit(3, key(), "noop", ""));
        assertThat(h.drainFor(200)).isEmpty();
        assertThat(h.channel.config().isAutoRead()).isFalse();
        assertThat(h.stats.frames()).as("the third SUBMIT waits, not yet taken").isEqualTo(3);
        stall.countDown();
        final List<Frame> frames = h.receive(3);
        assertThat(frames).extracting(Frame::correlation).containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThat(h.channel.config().isAutoRead()).isTrue();
        assertThat(h.stats.frames()).as("each frame counted once, however often a paused read tried it").isEqualTo(4);
    }

    @Test
    void aFullRingPausesReadingUntilThereIsRoom()
    {
        stall = new CountDownLatch(1);
        final ConnectionHarness h = harness(ServerConfig.builder().build());
        h.send(Wire.hello(null, HELLO_FLAG_RESULTS_ONLY));
        h.receive(1);
        final ByteBuf burst = Unpooled.buffer();
        burst.writeBytes(Wire.submit(0, key(), "stall", ""));
        for (int i = 1; i <= 200; i++)
        {
            burst.writeBytes(Wire.submit(i, key(), "noop", ""));
        }
        // status and cancel wait for room the same way (never blocking the event loop)
        burst.writeBytes(Wire.keyed(STATUS, 1000, "status-" + key()));
        burst.writeBytes(Wire.keyed(CANCEL, 1001, "cancel-" + key()));
        h.send(burst);
        assertThat(h.channel.config().isAutoRead()).as("paused on the full ring").isFalse();
        stall.countDown();
        final List<Frame> frames = h.receive(203);
        assertThat(frames.stream().filter(f -> f.opcode() == RESULT))
            .hasSize(201)
            .allMatch(f -> f.u8(RESULT_STATE) == TaskState.SUCCEEDED.code());
        assertThat(frames.stream().filter(f -> f.opcode() == STATUS_REPLY || f.opcode() == CANCEL_REPLY).map(Frame::correlation))
            .containsExactlyInAnyOrder(1000L, 1001L);
        assertThat(h.channel.config().isAutoRead()).isTrue();
    }

    @Test
    void aFullRingIsRefusedWithBusyWhenConfigured()
    {
        stall = new CountDownLatch(1);
        final ConnectionHarness h = harness(ServerConfig.builder().busyRejects(true).build());
        h.send(Wire.hello(null, HELLO_FLAG_RESULTS_ONLY));
        assertThat(h.receive(1).get(0).u16(WELCOME_FLAGS) & WELCOME_FLAG_BUSY_REJECTS).isNotZero();
        final ByteBuf burst = Unpooled.buffer();
        burst.writeBytes(Wire.submit(0, key(), "stall", ""));
        for (int i = 1; i <= 200; i++)
        {
            burst.writeBytes(Wire.submit(i, key(), "noop", ""));
        }
        h.send(burst);
        final List<Frame> busy = h.drainFor(100);
        assertThat(busy).isNotEmpty().allMatch(f -> f.opcode() == REJECTED && f.code() == RejectCode.BUSY.code());
        stall.countDown();
        final List<Frame> rest = h.receive(201 - busy.size());
        assertThat(rest).allMatch(f -> f.opcode() == RESULT);
        assertThat(h.channel.isActive()).isTrue();
    }

    @Test
    void idleConnectionsAreToldAndClosed()
    {
        final ConnectionHarness h = handshaken();
        h.channel.pipeline().fireUserEventTriggered(io.netty.handler.timeout.IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
        h.expectError(ErrorCode.IDLE_TIMEOUT);
    }

    /**
     * A HELLO trickling in a byte at a time never leaves the connection idle, but it must be complete within the idle
     * timeout of connecting (an outside check held every connection slot with HELLOs sent a byte every 10 s).
     */
    @Test
    void aHelloNotCompleteWithinTheIdleTimeoutOfConnectingIsToldAndClosed()
    {
        final ConnectionHarness h = harness(ServerConfig.builder().idleTimeout(java.time.Duration.ofMillis(300)).build());
        final ByteBuf hello = Wire.hello(null, 0);
        final byte[] bytes = new byte[hello.readableBytes()];
        hello.readBytes(bytes);
        hello.release();
        final long start = System.nanoTime();
        for (int i = 0; i < bytes.length - 1 && h.channel.isActive() && System.nanoTime() - start < 2_000_000_000L; i++)
        {
            h.send(Unpooled.wrappedBuffer(new byte[] {bytes[i]}));
            h.drainFor(40).forEach(h.received::add);
        }
        final Frame error = h.expectError(ErrorCode.IDLE_TIMEOUT);
        assertThat(error.message()).isEqualTo("no complete HELLO within 300 ms of connecting; closing");

        // a HELLO in time: the deadline is gone with it
        final ConnectionHarness on = harness(ServerConfig.builder().idleTimeout(java.time.Duration.ofMillis(300)).build());
        on.send(Wire.hello(null, 0));
        assertThat(on.receive(1).get(0).opcode()).isEqualTo(WELCOME);
        on.send(Wire.ping(7));
        on.drainFor(400);
        assertThat(on.channel.isActive()).isTrue();
    }

    // ------------------------------------------------------------------------------------------------

    private ConnectionHarness harness()
    {
        return harness(ServerConfig.builder().build());
    }

    private ConnectionHarness harness(final ServerConfig config)
    {
        final ConnectionHarness h = new ConnectionHarness(engine, config, new ServerStats());
        harnesses.add(h);
        return h;
    }

    private ConnectionHarness handshaken()
    {
        final ConnectionHarness h = harness();
        h.send(Wire.hello(null, 0));
        assertThat(h.receive(1).get(0).opcode()).isEqualTo(WELCOME);
        return h;
    }

}
