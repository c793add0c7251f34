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

            offset = writer.claim(JournalRecoveredRecord.PADDING_OFFSET + 100);
            final JournalRecoveredRecord.Encoder recovered = new JournalRecoveredRecord.Encoder().wrap(writer.buffer(), offset)
                .tornDocumentIndex(77).tornOffset(64).tornLength(100).lastGoodEventId(9).padding(100);
            writer.commit(RecordType.JOURNAL_RECOVERED, 0, time, recovered.frameLength());

            offset = writer.claim(JournalOutageRecord.MAX_FRAME_LENGTH);
            final JournalOutageRecord.Encoder outage = new JournalOutageRecord.Encoder().wrap(writer.buffer(), offset)
                .startedAt(T0 - 5).refused(12).rejournaled(3).cause("disk full: é".repeat(200));
            assertThat(outage.frameLength()).isLessThanOrEqualTo(JournalOutageRecord.MAX_FRAME_LENGTH);
            writer.commit(RecordType.JOURNAL_OUTAGE, 0, time + 1, outage.frameLength());
            writer.flush();
        }

        final Map<Long, String> seen = new LinkedHashMap<>();
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
