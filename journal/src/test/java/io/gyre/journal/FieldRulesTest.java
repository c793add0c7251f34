package io.gyre.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record whose checksum matches can still break the rules JOURNAL.md gives its fields (a reserved field that must
 * be 0, a priority of 0 to 2, task flags of 0, 1 or 3, the DERIVED flag on derived records and on no other, timestamps
 * that never decrease): such a record was not written by Gyre, and is corruption, not data a replay may act on. An
 * outside check wrote each of these with a recomputed checksum and `gyre replay --verify` said "verdict: ok" (and the
 * engine ran a live task of priority 7).
 */
class FieldRulesTest
{
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // record | byte offset | value | what the reader says
        "SUBMITTED reserved        | SUBMITTED | 60 | 1 | SUBMITTED reserved field is 1, not 0",
        "SUBMITTED priority 7      | SUBMITTED | 56 | 7 | SUBMITTED priority 7 is none of 0 (high), 1 (normal), 2 (low)",
        "SUBMITTED task flags 2    | SUBMITTED | 58 | 2 | SUBMITTED task flags 2 are none of 0, 1, 3",
        "SUBMITTED task flags 5    | SUBMITTED | 58 | 5 | SUBMITTED task flags 5 are none of 0, 1, 3",
        "SUCCEEDED flags bit 1     | SUCCEEDED | 44 | 2 | SUCCEEDED flags 0x2 set bits other than HELD",
        "FAILED reserved           | FAILED    | 45 | 1 | FAILED reserved bytes are not 0",
        "FAILED reserved (last)    | FAILED    | 47 | 1 | FAILED reserved bytes are not 0",
        "STARTED reserved          | STARTED   | 46 | 1 | STARTED reserved bytes are not 0",
        "TICK with DERIVED         | TICK      | 11 | 1 | TICK with the DERIVED flag",
        "STARTED without DERIVED   | STARTED   | 11 | 0 | STARTED without the DERIVED flag",
        "undefined header flag     | SUBMITTED | 11 | 2 | header flags 0x2 set bits no version defines",
    })
    void shouldTakeARecordBreakingItsFieldRulesForCorruptionThoughItsChecksumMatches(
        final String name, final RecordType type, final int offset, final int value, final String error)
    {
        final UnsafeBuffer record = record(type);
        final RecordView view = new RecordView();
        assertThat(view.wrap(record, 0, record.capacity(), 1, 0)).as("the record as written").isNull();

        record.putByte(offset, (byte)value);
        record.putInt(RecordDescriptor.CHECKSUM_OFFSET, RecordDescriptor.checksum(record, 0, record.capacity()), RecordDescriptor.BYTE_ORDER);
        assertThat(view.wrap(record, 0, record.capacity(), 1, 0)).isEqualTo(error);
    }

    @Test
    void shouldTakeEveryValidValueOfTheCheckedFields()
    {
        final RecordView view = new RecordView();
        for (int priority = 0; priority <= 2; priority++)
        {
            // an execution mode past 3 is reserved for modes to come (a replay counts it against the blocking pool): valid
            for (int mode = 0; mode <= 5; mode++)
            {
                for (final int flags : new int[] {0, 1, 3})
                {
                    final UnsafeBuffer record = submitted(priority, mode, flags);
                    assertThat(view.wrap(record, 0, record.capacity(), 1, 0)).as("priority %d mode %d flags %d", priority, mode, flags).isNull();
                }
            }
        }
        final UnsafeBuffer held = new UnsafeBuffer(ByteBuffer.allocateDirect(SucceededRecord.OUTPUT_OFFSET + 4));
        new SucceededRecord.Encoder().wrap(held, 0).taskId(1).attempt(1).flags(SucceededRecord.FLAG_HELD).output(new byte[0], 0, 0);
        seal(held, RecordType.SUCCEEDED, 0);
        assertThat(view.wrap(held, 0, held.capacity(), 1, 0)).isNull();
    }

    @Test
    void shouldReportATimestampEarlierThanThePreviousRecordsAsCorruption()
    {
        final JournalConfig config = JournalConfig.of(dir);
        try (Journal journal = Journal.openForAppend(config))
        {
            final JournalWriter writer = journal.writer();
            for (final long timestamp : new long[] {1_000, 2_000, 2_000, 1_500, 3_000})
            {
                writer.claim(RecordDescriptor.HEADER_LENGTH);
                writer.commit(RecordType.TICK, 0, timestamp, RecordDescriptor.HEADER_LENGTH);
                writer.flush();
            }
        }
        final List<JournalProblem> problems = new ArrayList<>();
        final long[] read = {0};
        try (Journal journal = Journal.openReadOnly(config); JournalReader reader = journal.newReader())
        {
            reader.readToEnd(record -> read[0]++);
            problems.addAll(reader.problems());
        }
        assertThat(read[0]).isEqualTo(5);
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).kind()).isEqualTo(JournalProblem.Kind.CORRUPTION);
        assertThat(problems.get(0).reason()).isEqualTo("timestamp 1500 is earlier than the previous record's, 2000 (timestamps never decrease)");
    }

    private static UnsafeBuffer record(final RecordType type)
    {
        switch (type)
        {
            case SUBMITTED:
                return submitted(1, 0, SubmittedRecord.FLAG_DEAD_LETTER | SubmittedRecord.FLAG_DEAD_LETTER_TIMEOUT);
            case SUCCEEDED:
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(SucceededRecord.OUTPUT_OFFSET + 4 + 2));
                new SucceededRecord.Encoder().wrap(buffer, 0).taskId(1).attempt(1).startedAt(5).finishedAt(6).output("ok".getBytes(StandardCharsets.UTF_8), 0, 2);
                return seal(buffer, type, 0);
            }
            case FAILED:
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(FailedRecord.MESSAGE_OFFSET + 2 + 3));
                new FailedRecord.Encoder().wrap(buffer, 0).taskId(1).attempt(1).errorKind(FailedRecord.KIND_RETRYABLE).startedAt(5).finishedAt(6)
                    .message("bad".getBytes(StandardCharsets.UTF_8), 0, 3);
                return seal(buffer, type, 0);
            }
            case STARTED:
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(TransitionRecord.FRAME_LENGTH));
                new TransitionRecord.Encoder().wrap(buffer, 0).taskId(1).attempt(1).reason(0).time(0);
                return seal(buffer, type, RecordDescriptor.FLAG_DERIVED);
            }
            case TICK:
                return seal(new UnsafeBuffer(ByteBuffer.allocateDirect(RecordDescriptor.HEADER_LENGTH)), type, 0);
            default:
                throw new IllegalArgumentException(type.toString());
        }
    }

    private static UnsafeBuffer submitted(final int priority, final int mode, final int flags)
    {
        final byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        final byte[] taskType = "noop".getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(SubmittedRecord.KEY_OFFSET + 2 + 1 + 2 + 4 + 2 + 4));
        new SubmittedRecord.Encoder().wrap(buffer, 0).timeoutMillis(0).maxAttempts(3).backoff(100, 1_000, 2.0f, 0.2f)
            .priority(priority).executionMode(mode).taskFlags(flags)
            .key(key, 0, key.length).taskType(taskType, 0, taskType.length).tenant(new byte[0], 0, 0).payload(new byte[0], 0, 0);
        return seal(buffer, RecordType.SUBMITTED, 0);
    }

    /** Writes the header of a record whose body is encoded, and its checksum. */
    private static UnsafeBuffer seal(final UnsafeBuffer buffer, final RecordType type, final int flags)
    {
        RecordDescriptor.writeHeader(buffer, 0, type, flags, 1, 1_000);
        buffer.putInt(RecordDescriptor.LENGTH_OFFSET, buffer.capacity(), RecordDescriptor.BYTE_ORDER);
        buffer.putInt(RecordDescriptor.CHECKSUM_OFFSET, RecordDescriptor.checksum(buffer, 0, buffer.capacity()), RecordDescriptor.BYTE_ORDER);
        return buffer;
    }
}
