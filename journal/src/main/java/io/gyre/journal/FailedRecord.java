package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#FAILED} record, version 1: an attempt ended without success.
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
 *  |  Error Kind   |   Reserved    |           Reserved            | 44
 *  +---------------+---------------+-------------------------------+
 *  |             Attempt Started At (epoch nanoseconds)            | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |             Attempt Finished At (epoch nanoseconds)           | 56
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |        Message Length         |  Message (UTF-8) ...         ... 64
 *  +-------------------------------+-------------------------------+
 * </pre>
 *
 * Error kinds: {@link #KIND_RETRYABLE}, {@link #KIND_PERMANENT}, {@link #KIND_TIMEOUT},
 * {@link #KIND_CANCELLED}.
 */
public final class FailedRecord
{
    public static final int TASK_ID_OFFSET = HEADER_LENGTH;
    public static final int ATTEMPT_OFFSET = HEADER_LENGTH + 8;
    public static final int ERROR_KIND_OFFSET = HEADER_LENGTH + 12;
    public static final int RESERVED_OFFSET = HEADER_LENGTH + 13;
    public static final int STARTED_AT_OFFSET = HEADER_LENGTH + 16;
    public static final int FINISHED_AT_OFFSET = HEADER_LENGTH + 24;
    public static final int MESSAGE_OFFSET = HEADER_LENGTH + 32;

    /** The failure may go away on its own: retry if attempts remain. */
    public static final int KIND_RETRYABLE = 1;
    /** Retrying cannot help (invalid input, a 4xx answer, an unknown task type). */
    public static final int KIND_PERMANENT = 2;
    /** The handler gave up because the attempt's deadline passed. */
    public static final int KIND_TIMEOUT = 3;
    /** The handler stopped because it was asked to (cancel or shutdown). */
    public static final int KIND_CANCELLED = 4;

    private FailedRecord()
    {
    }

    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;
        private int limit;

        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            buffer.putByte(recordOffset + RESERVED_OFFSET, (byte)0);
            buffer.putShort(recordOffset + RESERVED_OFFSET + 1, (short)0, BYTE_ORDER);
            limit = Fields.putShortField(buffer, recordOffset + MESSAGE_OFFSET, (byte[])null, 0, 0);
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

        public Encoder errorKind(final int value)
        {
            buffer.putByte(offset + ERROR_KIND_OFFSET, (byte)value);
            return this;
        }

        public Encoder startedAt(final long value)
        {
            buffer.putLong(offset + STARTED_AT_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder finishedAt(final long value)
        {
            buffer.putLong(offset + FINISHED_AT_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder message(final byte[] src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, offset + MESSAGE_OFFSET, src, srcOffset, length);
            return this;
        }

        public Encoder message(final DirectBuffer src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, offset + MESSAGE_OFFSET, src, srcOffset, length);
            return this;
        }

        public int frameLength()
        {
            return limit - offset;
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
            if (frameLength < MESSAGE_OFFSET + Fields.SHORT_PREFIX ||
                Fields.skipShortField(buffer, recordOffset + MESSAGE_OFFSET, recordOffset + frameLength) != recordOffset + frameLength)
            {
                return false;
            }
            final int kind = errorKind();
            return kind >= KIND_RETRYABLE && kind <= KIND_CANCELLED;
        }

        public DirectBuffer buffer()
        {
            return buffer;
        }

        public long taskId()
        {
            return buffer.getLong(offset + TASK_ID_OFFSET, BYTE_ORDER);
        }

        public int attempt()
        {
            return buffer.getInt(offset + ATTEMPT_OFFSET, BYTE_ORDER);
        }

        /** @return the three reserved bytes after the error kind, as one value (0 in every record written). */
        public int reserved()
        {
            return (buffer.getByte(offset + RESERVED_OFFSET) & 0xFF) | (buffer.getShort(offset + RESERVED_OFFSET + 1, BYTE_ORDER) & 0xFFFF) << 8;
        }

        public int errorKind()
        {
            return buffer.getByte(offset + ERROR_KIND_OFFSET) & 0xFF;
        }

        public long startedAt()
        {
            return buffer.getLong(offset + STARTED_AT_OFFSET, BYTE_ORDER);
        }

        public long finishedAt()
        {
            return buffer.getLong(offset + FINISHED_AT_OFFSET, BYTE_ORDER);
        }

        public int messageLength()
        {
            return Fields.shortLength(buffer, offset + MESSAGE_OFFSET);
        }

        public int messageOffset()
        {
            return offset + MESSAGE_OFFSET + Fields.SHORT_PREFIX;
        }

        public String message()
        {
            return Fields.utf8(buffer, messageOffset(), messageLength());
        }
    }

    /**
     * @return a readable name for an error kind code.
     */
    public static String kindName(final int kind)
    {
        switch (kind)
        {
            case KIND_RETRYABLE:
                return "RETRYABLE";
            case KIND_PERMANENT:
                return "PERMANENT";
            case KIND_TIMEOUT:
                return "TIMEOUT";
            case KIND_CANCELLED:
                return "CANCELLED";
            default:
                return "UNKNOWN(" + kind + ")";
        }
    }
}
