package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#SUCCEEDED} record, version 1: an attempt finished successfully, with the
 * task's output.
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
 *  +---------------------------------------------------------------+
 *  |                 Flags (bit 0: held; others 0)                 | 44
 *  +---------------------------------------------------------------+
 *  |             Attempt Started At (epoch nanoseconds)            | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |             Attempt Finished At (epoch nanoseconds)           | 56
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Output Length                         | 64
 *  +---------------------------------------------------------------+
 *  |                         Output ...                           ...
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class SucceededRecord
{
    public static final int TASK_ID_OFFSET = HEADER_LENGTH;
    public static final int ATTEMPT_OFFSET = HEADER_LENGTH + 8;
    public static final int FLAGS_OFFSET = HEADER_LENGTH + 12;
    /**
     * Flag: the outcome is held until "finished at" (in the future when journaled): the task stays RUNNING
     * until then, on the engine's timer. For waits and delays.
     */
    public static final int FLAG_HELD = 1;
    public static final int STARTED_AT_OFFSET = HEADER_LENGTH + 16;
    public static final int FINISHED_AT_OFFSET = HEADER_LENGTH + 24;
    public static final int OUTPUT_OFFSET = HEADER_LENGTH + 32;

    private SucceededRecord()
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
            buffer.putInt(recordOffset + FLAGS_OFFSET, 0, BYTE_ORDER);
            limit = Fields.putLongField(buffer, recordOffset + OUTPUT_OFFSET, (byte[])null, 0, 0);
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

        public Encoder flags(final int value)
        {
            buffer.putInt(offset + FLAGS_OFFSET, value, BYTE_ORDER);
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

        public Encoder output(final byte[] src, final int srcOffset, final int length)
        {
            limit = Fields.putLongField(buffer, offset + OUTPUT_OFFSET, src, srcOffset, length);
            return this;
        }

        public Encoder output(final DirectBuffer src, final int srcOffset, final int length)
        {
            limit = Fields.putLongField(buffer, offset + OUTPUT_OFFSET, src, srcOffset, length);
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
            return frameLength >= OUTPUT_OFFSET + Fields.LONG_PREFIX &&
                Fields.skipLongField(buffer, recordOffset + OUTPUT_OFFSET, recordOffset + frameLength) == recordOffset + frameLength;
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

        /** @return the flags ({@link #FLAG_HELD}); 0 in records of engines before they existed. */
        public int flags()
        {
            return buffer.getInt(offset + FLAGS_OFFSET, BYTE_ORDER);
        }

        public long startedAt()
        {
            return buffer.getLong(offset + STARTED_AT_OFFSET, BYTE_ORDER);
        }

        public long finishedAt()
        {
            return buffer.getLong(offset + FINISHED_AT_OFFSET, BYTE_ORDER);
        }

        public int outputLength()
        {
            return Fields.longLength(buffer, offset + OUTPUT_OFFSET);
        }

        public int outputOffset()
        {
            return offset + OUTPUT_OFFSET + Fields.LONG_PREFIX;
        }
    }
}
