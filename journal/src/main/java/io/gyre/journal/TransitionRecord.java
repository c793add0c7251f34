package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body shared by the derived records, version 1: {@link RecordType#STARTED}, {@link RecordType#RETRY_SCHEDULED},
 * {@link RecordType#TIMED_OUT}, {@link RecordType#CANCELLED}, {@link RecordType#DEAD_LETTERED} and
 * {@link RecordType#REJECTED}. Each records one lifecycle transition the sequence stage decided.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------------------------------------------------------+
 *  |                     Task Id (submission's event id)           | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                            Attempt                            | 40
 *  +---------------+---------------+-------------------------------+
 *  |    Reason     |   Reserved    |           Reserved            | 44
 *  +---------------+---------------+-------------------------------+
 *  |                 Time (epoch nanoseconds, or 0)                | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Attempt: the attempt the transition concerns (for RETRY_SCHEDULED, the attempt that failed). Reason: a
 * code whose meaning depends on the type (see docs/JOURNAL.md). Time: the due time for RETRY_SCHEDULED,
 * otherwise 0.
 */
public final class TransitionRecord
{
    public static final int TASK_ID_OFFSET = HEADER_LENGTH;
    public static final int ATTEMPT_OFFSET = HEADER_LENGTH + 8;
    public static final int REASON_OFFSET = HEADER_LENGTH + 12;
    public static final int RESERVED_OFFSET = HEADER_LENGTH + 13;
    public static final int TIME_OFFSET = HEADER_LENGTH + 16;
    public static final int FRAME_LENGTH = HEADER_LENGTH + 24;

    private TransitionRecord()
    {
    }

    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;

        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            buffer.putByte(recordOffset + RESERVED_OFFSET, (byte)0);
            buffer.putShort(recordOffset + RESERVED_OFFSET + 1, (short)0, BYTE_ORDER);
            return this;
        }

        public Encoder taskId(final long value)
        {
            buffer.putLong(offset + TASK_ID_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder attempt(final int value)
        {
            buffer.putInt(offset + ATTEMPT_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder reason(final int value)
        {
            buffer.putByte(offset + REASON_OFFSET, (byte)value);
            return this;
        }

        public Encoder time(final long value)
        {
            buffer.putLong(offset + TIME_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public int frameLength()
        {
            return FRAME_LENGTH;
        }
    }

    public static final class Decoder
    {
        private DirectBuffer buffer;
        private int offset;

        public boolean wrap(final DirectBuffer buffer, final int recordOffset, final int frameLength)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            return frameLength == FRAME_LENGTH;
        }

        /** @return the three reserved bytes after the reason, as one value (0 in every record written). */
        public int reserved()
        {
            return (buffer.getByte(offset + RESERVED_OFFSET) & 0xFF) | (buffer.getShort(offset + RESERVED_OFFSET + 1, BYTE_ORDER) & 0xFFFF) << 8;
        }

        public long taskId()
        {
            return buffer.getLong(offset + TASK_ID_OFFSET, BYTE_ORDER);
        }

        public int attempt()
        {
            return buffer.getInt(offset + ATTEMPT_OFFSET, BYTE_ORDER);
        }

        public int reason()
        {
            return buffer.getByte(offset + REASON_OFFSET) & 0xFF;
        }

        public long time()
        {
            return buffer.getLong(offset + TIME_OFFSET, BYTE_ORDER);
        }
    }
}
