package io.gyre.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RecordRoundTripTest
{
    private static final long T0 = 1_763_856_000_000_000_000L;

    @TempDir
    Path dir;

    private final Set<RecordType> covered = EnumSet.noneOf(RecordType.class);

    @Test
    void shouldRoundTripEveryRecordType()
    {
        final byte[] key = utf8("order-42");
        final byte[] type = utf8("echo");
        final byte[] tenant = utf8("acme");
        final byte[] payload = utf8("{\"x\":1}");
        final byte[] output = utf8("{\"y\":2}");
        final byte[] message = utf8("connection refused: 127.0.0.1:9");

        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();

            int offset = writer.claim(1024);
            final SubmittedRecord.Encoder submitted = new SubmittedRecord.Encoder().wrap(writer.buffer(), offset)
                .timeoutMillis(2500).maxAttempts(5).backoff(100, 30_000, 2.0f, 0.25f)
                .priority(0).executionMode(1).taskFlags(SubmittedRecord.FLAG_DEAD_LETTER)
                .key(key, 0, key.length).taskType(type, 0, type.length).tenant(tenant, 0, tenant.length)
                .payload(payload, 0, payload.length);
            assertThat(writer.commit(RecordType.SUBMITTED, 0, T0, submitted.frameLength())).isEqualTo(1);

            offset = writer.claim(1024);
            final SucceededRecord.Encoder succeeded = new SucceededRecord.Encoder().wrap(writer.buffer(), offset)
                .taskId(1).attempt(2).startedAt(T0 + 10).finishedAt(T0 + 20).output(output, 0, output.length);
            writer.commit(RecordType.SUCCEEDED, 0, T0 + 1, succeeded.frameLength());

            offset = writer.claim(1024);
            final FailedRecord.Encoder failed = new FailedRecord.Encoder().wrap(writer.buffer(), offset)
                .taskId(1).attempt(1).errorKind(FailedRecord.KIND_RETRYABLE).startedAt(T0 + 3).finishedAt(T0 + 4)
                .message(message, 0, message.length);
            writer.commit(RecordType.FAILED, 0, T0 + 2, failed.frameLength());

            offset = writer.claim(256);
            final CancelRequestedRecord.Encoder cancel = new CancelRequestedRecord.Encoder().wrap(writer.buffer(), offset)
                .key(key, 0, key.length);
            writer.commit(RecordType.CANCEL_REQUESTED, 0, T0 + 3, cancel.frameLength());

            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, T0 + 4, RecordDescriptor.HEADER_LENGTH);

            offset = writer.claim(1024);
            final EngineStartedRecord.Encoder started = new EngineStartedRecord.Encoder().wrap(writer.buffer(), offset)
                .pid(4242).engineVersion("0.1.0").setting("maxLiveTasks", 1_000_000).setting("dedupeRetentionMillis", 86_400_000L);
            writer.commit(RecordType.ENGINE_STARTED, 0, T0 + 5, started.frameLength());

            long time = T0 + 6;
            int reason = 1;
            for (final RecordType transition : RecordType.values())
            {
                if (transition.derived())
                {
                    offset = writer.claim(TransitionRecord.FRAME_LENGTH);
                    final TransitionRecord.Encoder encoder = new TransitionRecord.Encoder().wrap(writer.buffer(), offset)
                        .taskId(1).attempt(3).reason(reason++).time(time + 1000);
                    writer.commit(transition, RecordDescriptor.FLAG_DERIVED, time++, encoder.frameLength());
                }
            }

            offset = writer.claim(256);
            final RedriveRequestedRecord.Encoder redrive = new RedriveRequestedRecord.Encoder().wrap(writer.buffer(), offset)
                .key(key, 0, key.length);
            writer.commit(RecordType.REDRIVE_REQUESTED, 0, time++, redrive.frameLength());

            offset = writer.claim(256);
            final PurgeRequestedRecord.Encoder purgeOne = new PurgeRequestedRecord.Encoder().wrap(writer.buffer(), offset)
                .key(key, 0, key.length);
            writer.commit(RecordType.PURGE_REQUESTED, 0, time++, purgeOne.frameLength());

            offset = writer.claim(256);
            final PurgeRequestedRecord.Encoder purgeAll = new PurgeRequestedRecord.Encoder().wrap(writer.buffer(), offset);
            writer.commit(RecordType.PURGE_REQUESTED, 0, time++, purgeAll.frameLength());

            offset = writer.claim(JournalRecoveredRecord.PADDING_OFFSET + 100);
            final JournalRecoveredRecord.Encoder recovered = new JournalRecoveredRecord.Encoder().wrap(writer.buffer(), offset)
                .tornDocumentIndex(77).tornOffset(64).tornLength(100).lastGoodEventId(9).padding(100);
            writer.commit(RecordType.JOURNAL_RECOVERED, 0, time, recovered.frameLength());

            offset = writer.claim(EngineStopRecord.frameLength(0));
            final EngineStopRecord.Encoder stopping = new EngineStopRecord.Encoder().wrap(writer.buffer(), offset)
                .phase(EngineStopRecord.PHASE_STOPPING).beganAt(time + 1).deadline(time + 10_000);
            writer.commit(RecordType.ENGINE_STOP, 0, time + 1, stopping.frameLength());
            offset = writer.claim(EngineStopRecord.frameLength(2));
            final EngineStopRecord.Encoder stopped = new EngineStopRecord.Encoder().wrap(writer.buffer(), offset)
                .phase(EngineStopRecord.PHASE_STOPPED).flags(0).beganAt(time + 1).deadline(time + 10_000)
                .left(7, 3, 2, 1).listed(5, 1).listed(1L << 40, 12);
            writer.commit(RecordType.ENGINE_STOP, 0, time + 10_001, stopped.frameLength());
            offset = writer.claim(JournalOutageRecord.MAX_FRAME_LENGTH);
            final JournalOutageRecord.Encoder outage = new JournalOutageRecord.Encoder().wrap(writer.buffer(), offset)
                .startedAt(T0 - 5).refused(12).rejournaled(3).cause("disk full: é".repeat(200));
            assertThat(outage.frameLength()).isLessThanOrEqualTo(JournalOutageRecord.MAX_FRAME_LENGTH);
            writer.commit(RecordType.JOURNAL_OUTAGE, 0, time + 10_002, outage.frameLength());
            writer.flush();
        }

        final Map<Long, String> seen = new LinkedHashMap<>();
        final List<String> purges = new ArrayList<>();
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record ->
            {
                covered.add(record.type());
                seen.put(record.eventId(), record.type().name());
                assertThat(record.version()).isEqualTo(record.type().version());
                assertThat(record.derived()).isEqualTo(record.type().derived());
                switch (record.type())
                {
                    case SUBMITTED ->
                    {
                        final SubmittedRecord.Decoder d = record.submitted();
                        assertThat(record.timestamp()).isEqualTo(T0);
                        assertThat(d.timeoutMillis()).isEqualTo(2500);
                        assertThat(d.maxAttempts()).isEqualTo(5);
                        assertThat(d.backoffInitialMillis()).isEqualTo(100);
                        assertThat(d.backoffMaxMillis()).isEqualTo(30_000);
                        assertThat(d.backoffMultiplier()).isEqualTo(2.0f);
                        assertThat(d.backoffJitter()).isEqualTo(0.25f);
                        assertThat(d.priority()).isZero();
                        assertThat(d.executionMode()).isEqualTo(1);
                        assertThat(d.taskFlags()).isEqualTo(SubmittedRecord.FLAG_DEAD_LETTER);
                        assertThat(d.key()).isEqualTo("order-42");
                        assertThat(d.taskType()).isEqualTo("echo");
                        assertThat(d.tenant()).isEqualTo("acme");
                        assertThat(bytes(record, d.payloadOffset(), d.payloadLength())).isEqualTo(payload);
                    }
                    case SUCCEEDED ->
                    {
                        final SucceededRecord.Decoder d = record.succeeded();
                        assertThat(d.taskId()).isEqualTo(1);
                        assertThat(d.attempt()).isEqualTo(2);
                        assertThat(d.startedAt()).isEqualTo(T0 + 10);
                        assertThat(d.finishedAt()).isEqualTo(T0 + 20);
                        assertThat(bytes(record, d.outputOffset(), d.outputLength())).isEqualTo(output);
                    }
                    case FAILED ->
                    {
                        final FailedRecord.Decoder d = record.failed();
                        assertThat(d.taskId()).isEqualTo(1);
                        assertThat(d.attempt()).isEqualTo(1);
                        assertThat(d.errorKind()).isEqualTo(FailedRecord.KIND_RETRYABLE);
                        assertThat(d.startedAt()).isEqualTo(T0 + 3);
                        assertThat(d.finishedAt()).isEqualTo(T0 + 4);
                        assertThat(d.message()).isEqualTo("connection refused: 127.0.0.1:9");
                    }
                    case CANCEL_REQUESTED -> assertThat(record.cancelRequested().key()).isEqualTo("order-42");
                    case REDRIVE_REQUESTED ->
                    {
                        assertThat(record.redriveRequested().key()).isEqualTo("order-42");
                        assertThat(record.frameLength()).isEqualTo(RedriveRequestedRecord.KEY_OFFSET + 2 + 8);
                    }
                    case PURGE_REQUESTED ->
                    {
                        final PurgeRequestedRecord.Decoder d = record.purgeRequested();
                        purges.add(d.all() ? "all" : d.scope() + ":" + d.key());
                    }
                    case TICK -> assertThat(record.frameLength()).isEqualTo(RecordDescriptor.HEADER_LENGTH);
                    case ENGINE_STARTED ->
                    {
                        final EngineStartedRecord.Decoder d = record.engineStarted();
                        assertThat(d.pid()).isEqualTo(4242);
                        assertThat(d.engineVersion()).isEqualTo("0.1.0");
                        final List<String> settings = new ArrayList<>();
                        d.forEachSetting((name, value) -> settings.add(name + "=" + value));
                        assertThat(settings).containsExactly("maxLiveTasks=1000000", "dedupeRetentionMillis=86400000");
                        assertThat(d.setting("maxLiveTasks", -1)).isEqualTo(1_000_000);
                        assertThat(d.setting("absent", -1)).isEqualTo(-1);
                    }
                    case JOURNAL_RECOVERED ->
                    {
                        final JournalRecoveredRecord.Decoder d = record.journalRecovered();
                        assertThat(d.tornDocumentIndex()).isEqualTo(77);
                        assertThat(d.tornOffset()).isEqualTo(64);
                        assertThat(d.tornLength()).isEqualTo(100);
                        assertThat(d.lastGoodEventId()).isEqualTo(9);
                        assertThat(record.frameLength()).isEqualTo(JournalRecoveredRecord.PADDING_OFFSET + 100);
                    }
                    case ENGINE_STOP ->
                    {
                        final EngineStopRecord.Decoder d = record.engineStop();
                        assertThat(d.beganAt()).isEqualTo(d.phase() == EngineStopRecord.PHASE_STOPPING ? record.timestamp() : record.timestamp() - 10_000);
                        assertThat(d.deadline()).isEqualTo(d.beganAt() + 9_999);
                        if (d.phase() == EngineStopRecord.PHASE_STOPPING)
                        {
                            assertThat(d.listedCount()).isZero();
                            assertThat(d.pending() + d.running() + d.retryWaiting() + d.held()).isZero();
                            assertThat(record.frameLength()).isEqualTo(EngineStopRecord.LISTED_OFFSET);
                        }
                        else
                        {
                            assertThat(d.phase()).isEqualTo(EngineStopRecord.PHASE_STOPPED);
                            assertThat(d.finishedInTime()).isFalse();
                            assertThat(new int[] {d.pending(), d.running(), d.retryWaiting(), d.held()}).containsExactly(7, 3, 2, 1);
                            assertThat(d.listedCount()).isEqualTo(2);
                            assertThat(d.listedTaskId(0)).isEqualTo(5);
                            assertThat(d.listedAttempt(0)).isEqualTo(1);
                            assertThat(d.listedTaskId(1)).isEqualTo(1L << 40);
                            assertThat(d.listedAttempt(1)).isEqualTo(12);
                            assertThat(record.frameLength()).isEqualTo(EngineStopRecord.LISTED_OFFSET + 24);
                        }
                    }
                    case JOURNAL_OUTAGE ->
                    {
                        final JournalOutageRecord.Decoder d = record.journalOutage();
                        assertThat(d.startedAt()).isEqualTo(T0 - 5);
                        assertThat(d.refused()).isEqualTo(12);
                        assertThat(d.rejournaled()).isEqualTo(3);
                        assertThat(d.cause()).startsWith("disk full: é").hasSizeLessThanOrEqualTo(1024);
                        assertThat("disk full: é".repeat(200)).startsWith(d.cause());
                    }
                    default ->
                    {
                        final TransitionRecord.Decoder d = record.transition();
                        assertThat(d.taskId()).isEqualTo(1);
                        assertThat(d.attempt()).isEqualTo(3);
                        assertThat(d.reason()).isBetween(1, 6);
                        assertThat(d.time()).isEqualTo(record.timestamp() + 1000);
                    }
                }
            });
            assertThat(reader.problems()).isEmpty();
        }
        assertThat(covered).containsExactlyInAnyOrder(RecordType.values());
        assertThat(purges).containsExactly(PurgeRequestedRecord.SCOPE_KEY + ":order-42", "all");
        assertThat(seen.keySet()).containsExactly(longsFrom(1, seen.size()));
    }

    @Test
    void shouldReadOneRecordByItsPosition()
    {
        final byte[] key = utf8("k");
        long documentIndex;
        int offset;
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            for (int i = 0; i < 5; i++)
            {
                writer.claim(RecordDescriptor.HEADER_LENGTH);
                writer.commit(RecordType.TICK, 0, T0, RecordDescriptor.HEADER_LENGTH);
            }
            final int at = writer.claim(256);
            final CancelRequestedRecord.Encoder cancel = new CancelRequestedRecord.Encoder().wrap(writer.buffer(), at).key(key, 0, 1);
            writer.commit(RecordType.CANCEL_REQUESTED, 0, T0, cancel.frameLength());
            documentIndex = writer.documentIndex();
            offset = writer.lastRecordOffset();
            writer.flush();
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, T0, RecordDescriptor.HEADER_LENGTH);
            writer.flush();

            try (JournalReader reader = journal.newReader())
            {
                final List<String> found = new ArrayList<>();
                assertThat(reader.readRecordAt(documentIndex, offset, r -> found.add(r.type() + ":" + r.cancelRequested().key() + ":" + r.eventId())))
                    .isTrue();
                assertThat(found).containsExactly("CANCEL_REQUESTED:k:6");
                assertThat(offset).isEqualTo(5 * RecordDescriptor.HEADER_LENGTH);
                assertThat(reader.readRecordAt(documentIndex, offset + 1, r -> found.add("bad"))).isFalse();
                assertThat(reader.readRecordAt(documentIndex + 100, 0, r -> found.add("bad"))).isFalse();
            }
        }
    }

    /**
     * Reads by position in any order, the same document again and again included (a read leaves the reader on its
     * document, so that the next read of it costs no scan), return the records asked for, and a sequential-looking
     * pattern of reads ahead, behind and across hundreds of documents (past Chronicle's index spacing) too.
     */
    @Test
    void shouldReadRecordsByPositionInAnyOrderRepeatedly()
    {
        final int documents = 600;
        final int perDocument = 3;
        final long[] documentOf = new long[documents * perDocument];
        final int[] offsetOf = new int[documents * perDocument];
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            for (int d = 0; d < documents; d++)
            {
                for (int r = 0; r < perDocument; r++)
                {
                    writer.claim(RecordDescriptor.HEADER_LENGTH);
                    writer.commit(RecordType.TICK, 0, T0, RecordDescriptor.HEADER_LENGTH);
                    documentOf[d * perDocument + r] = writer.documentIndex();
                    offsetOf[d * perDocument + r] = writer.lastRecordOffset();
                }
                writer.flush();
            }
            try (JournalReader reader = journal.newReader())
            {
                final long[] seen = new long[1];
                final java.util.Random random = new java.util.Random(42);
                final int[] order = new int[4000];
                for (int i = 0; i < order.length; i++)
                {
                    // runs of the same document, steps forward and back, and random jumps
                    order[i] = switch (i % 4)
                    {
                        case 0 -> random.nextInt(documentOf.length);
                        case 1 -> order[i - 1];
                        case 2 -> Math.min(documentOf.length - 1, order[i - 1] + 1);
                        default -> Math.max(0, order[i - 1] - perDocument);
                    };
                }
                for (final int record : order)
                {
                    seen[0] = -1;
                    assertThat(reader.readRecordAt(documentOf[record], offsetOf[record], r -> seen[0] = r.eventId())).isTrue();
                    assertThat(seen[0]).as("record %d", record).isEqualTo(record + 1L);
                }
            }
        }
    }

    @Test
    void shouldSplitALargeBatchIntoDocumentsOfBoundedSize()
    {
        final byte[] payload = new byte[3000];
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir).withMaxDocumentBytes(8192)))
        {
            final JournalWriter writer = journal.writer();
            for (int i = 0; i < 10; i++)
            {
                final int offset = writer.claim(4096);
                final SucceededRecord.Encoder e = new SucceededRecord.Encoder().wrap(writer.buffer(), offset)
                    .taskId(i).attempt(1).output(payload, 0, payload.length);
                writer.commit(RecordType.SUCCEEDED, 0, T0, e.frameLength());
            }
            writer.flush();
            try (JournalReader reader = journal.newReader())
            {
                assertThat(reader.readToEnd(r -> { })).isEqualTo(10);
                assertThat(reader.documentsRead()).isEqualTo(5);
                assertThat(reader.problems()).isEmpty();
            }
        }
    }

    @Test
    void shouldRefuseAnEngineStopBodyThatDoesNotMatchItsLayout()
    {
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(new byte[EngineStopRecord.frameLength(3)]);
        final EngineStopRecord.Encoder encoder = new EngineStopRecord.Encoder().wrap(buffer, 0)
            .phase(EngineStopRecord.PHASE_STOPPED).left(0, 2, 0, 0).listed(3, 1).listed(4, 1);
        final EngineStopRecord.Decoder decoder = new EngineStopRecord.Decoder();
        assertThat(decoder.wrap(buffer, 0, encoder.frameLength())).isTrue();
        assertThat(decoder.wrap(buffer, 0, encoder.frameLength() + EngineStopRecord.LISTED_ENTRY_LENGTH)).as("longer than listed").isFalse();
        assertThat(decoder.wrap(buffer, 0, encoder.frameLength() - 1)).as("cut").isFalse();
        assertThat(decoder.wrap(buffer, 0, EngineStopRecord.LISTED_OFFSET - 1)).as("shorter than the fixed part").isFalse();
        encoder.phase(EngineStopRecord.PHASE_STOPPING);
        assertThat(decoder.wrap(buffer, 0, encoder.frameLength())).as("a STOPPING record listing attempts").isFalse();
        encoder.phase(3);
        assertThat(decoder.wrap(buffer, 0, encoder.frameLength())).as("an unknown phase").isFalse();
        buffer.putInt(EngineStopRecord.LISTED_COUNT_OFFSET, -1, RecordDescriptor.BYTE_ORDER);
        encoder.phase(EngineStopRecord.PHASE_STOPPED);
        assertThat(decoder.wrap(buffer, 0, EngineStopRecord.LISTED_OFFSET - EngineStopRecord.LISTED_ENTRY_LENGTH)).as("negative count").isFalse();
        assertThat(EngineStopRecord.phaseName(1)).isEqualTo("stopping");
        assertThat(EngineStopRecord.phaseName(2)).isEqualTo("stopped");
        assertThat(EngineStopRecord.phaseName(9)).isEqualTo("phase-9");
    }

    @Test
    void shouldListAtMostTheCapOfAttempts()
    {
        final org.agrona.concurrent.UnsafeBuffer buffer =
            new org.agrona.concurrent.UnsafeBuffer(new byte[EngineStopRecord.frameLength(EngineStopRecord.MAX_LISTED)]);
        final EngineStopRecord.Encoder encoder = new EngineStopRecord.Encoder().wrap(buffer, 0).phase(EngineStopRecord.PHASE_STOPPED);
        for (int i = 0; i < EngineStopRecord.MAX_LISTED; i++)
        {
            encoder.listed(i + 1, 1);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> encoder.listed(1L << 32, 1))
            .isInstanceOf(IllegalStateException.class)
            .hasMessage("an ENGINE_STOP record lists at most 65536 attempts");
        assertThat(new EngineStopRecord.Decoder().wrap(buffer, 0, encoder.frameLength())).isTrue();
    }

    @Test
    void shouldRefuseMalformedRedriveAndPurgeBodies()
    {
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(new byte[128]);
        final byte[] key = utf8("k1");
        final int redriveLength = new RedriveRequestedRecord.Encoder().wrap(buffer, 0).key(key, 0, 2).frameLength();
        final RedriveRequestedRecord.Decoder redrive = new RedriveRequestedRecord.Decoder();
        assertThat(redrive.wrap(buffer, 0, redriveLength)).isTrue();
        assertThat(redrive.wrap(buffer, 0, redriveLength + 1)).as("a byte after the key").isFalse();
        assertThat(redrive.wrap(buffer, 0, redriveLength - 1)).as("a key running past the frame").isFalse();
        final int emptyKey = new RedriveRequestedRecord.Encoder().wrap(buffer, 0).frameLength();
        assertThat(redrive.wrap(buffer, 0, emptyKey)).as("no key").isFalse();

        final PurgeRequestedRecord.Decoder purge = new PurgeRequestedRecord.Decoder();
        final int one = new PurgeRequestedRecord.Encoder().wrap(buffer, 0).key(key, 0, 2).frameLength();
        assertThat(purge.wrap(buffer, 0, one)).isTrue();
        assertThat(purge.all()).isFalse();
        assertThat(purge.wrap(buffer, 0, one + 1)).as("a byte after the key").isFalse();
        buffer.putByte(PurgeRequestedRecord.SCOPE_OFFSET, (byte)PurgeRequestedRecord.SCOPE_ALL);
        assertThat(purge.wrap(buffer, 0, one)).as("scope all with a key").isFalse();
        buffer.putByte(PurgeRequestedRecord.SCOPE_OFFSET, (byte)3);
        assertThat(purge.wrap(buffer, 0, one)).as("unknown scope").isFalse();
        buffer.putByte(PurgeRequestedRecord.SCOPE_OFFSET, (byte)PurgeRequestedRecord.SCOPE_KEY);
        buffer.putByte(PurgeRequestedRecord.RESERVED_OFFSET, (byte)1);
        assertThat(purge.wrap(buffer, 0, one)).as("reserved byte set").isFalse();

        final int all = new PurgeRequestedRecord.Encoder().wrap(buffer, 0).frameLength();
        assertThat(all).isEqualTo(PurgeRequestedRecord.KEY_OFFSET + 2);
        assertThat(purge.wrap(buffer, 0, all)).isTrue();
        assertThat(purge.all()).isTrue();
        buffer.putByte(PurgeRequestedRecord.SCOPE_OFFSET, (byte)PurgeRequestedRecord.SCOPE_KEY);
        assertThat(purge.wrap(buffer, 0, all)).as("scope key without a key").isFalse();
        assertThat(purge.wrap(buffer, 0, PurgeRequestedRecord.KEY_OFFSET + 1)).as("shorter than its fixed part").isFalse();
    }

    /** The REDRIVE_REQUESTED and PURGE_REQUESTED examples of docs/JOURNAL.md, byte for byte. */
    @Test
    void shouldEncodeTheRedriveAndPurgeExamplesOfTheJournalDocument()
    {
        final byte[] key = utf8("order-42");
        final long time = T0 + 5_000_000_000L;
        assertThat(example(RecordType.REDRIVE_REQUESTED, 9, time, buffer -> new RedriveRequestedRecord.Encoder().wrap(buffer, 0)
            .key(key, 0, key.length).frameLength()))
            .isEqualTo("2a00000087e179d10e000100000000000900000000000000 00f2f6f4b0797a18 0800 6f726465722d3432".replace(" ", ""));
        assertThat(example(RecordType.PURGE_REQUESTED, 10, time + 1000, buffer -> new PurgeRequestedRecord.Encoder().wrap(buffer, 0)
            .key(key, 0, key.length).frameLength()))
            .isEqualTo("2c0000005d6a83630f000100000000000a00000000000000e8f5f6f4b0797a18 0100 0800 6f726465722d3432".replace(" ", ""));
        assertThat(example(RecordType.PURGE_REQUESTED, 11, time + 2000, buffer -> new PurgeRequestedRecord.Encoder().wrap(buffer, 0)
            .frameLength()))
            .isEqualTo("24000000a353fcb40f000100000000000b00000000000000d0f9f6f4b0797a18 0200 0000".replace(" ", ""));
    }

    private static String example(final RecordType type, final long eventId, final long timestamp,
        final java.util.function.ToIntFunction<org.agrona.concurrent.UnsafeBuffer> body)
    {
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(new byte[256]);
        final int length = body.applyAsInt(buffer);
        RecordDescriptor.writeHeader(buffer, 0, type, 0, eventId, timestamp);
        buffer.putInt(RecordDescriptor.LENGTH_OFFSET, length, RecordDescriptor.BYTE_ORDER);
        buffer.putInt(RecordDescriptor.CHECKSUM_OFFSET, RecordDescriptor.checksum(buffer, 0, length), RecordDescriptor.BYTE_ORDER);
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return java.util.HexFormat.of().formatHex(bytes);
    }

    private static Long[] longsFrom(final long first, final int count)
    {
        final Long[] values = new Long[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = first + i;
        }
        return values;
    }

    private static byte[] bytes(final RecordView record, final int offset, final int length)
    {
        final byte[] out = new byte[length];
        record.buffer().getBytes(offset, out);
        return out;
    }

    private static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
