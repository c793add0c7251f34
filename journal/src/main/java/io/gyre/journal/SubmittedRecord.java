package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#SUBMITTED} record, version 1: a task as the engine accepted it, with every
 * per-task setting already resolved (defaults applied), so replay never depends on configuration.
 * The task's id is the record's event id.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------------------------------------------------------+
 *  |                 Timeout (milliseconds, 0 = none)              | 32
 *  +---------------------------------------------------------------+
 *  |                          Max Attempts                         | 36
 *  +---------------------------------------------------------------+
 *  |                 Initial Backoff (milliseconds)                | 40
 *  +---------------------------------------------------------------+
 *  |                   Max Backoff (milliseconds)                  | 44
 *  +---------------------------------------------------------------+
 *  |                Backoff Multiplier (IEEE-754 float)            | 48
 *  +---------------------------------------------------------------+
 *  |              Backoff Jitter, 0..1 (IEEE-754 float)            | 52
 *  +---------------+---------------+-------------------------------+
 *  |   Priority    |Execution Mode |          Task Flags           | 56
 *  +---------------+---------------+-------------------------------+
 *  |                      Reserved (must be 0)                     | 60
 *  +-------------------------------+-------------------------------+
 *  |          Key Length           |  Key (UTF-8) ...             ... 64
 *  +-------------------------------+-------------------------------+
 *  |       Task Type Length        |  Task Type (UTF-8) ...       ...
 *  +-------------------------------+-------------------------------+
 *  |         Tenant Length         |  Tenant (UTF-8) ...          ...
 *  +-------------------------------+-------------------------------+
 *  |                        Payload Length                         |
 *  +---------------------------------------------------------------+
 *  |                        Payload ...                           ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Priority: 0 high, 1 normal, 2 low. Execution mode: as the task type's handler declared it when the task
 * was accepted (0 inline, 1 blocking pool, 2 asynchronous, 3 CPU pool). Task flags: bit 0, dead-letter the
 * task when it finally fails; bit 1, dead-letter it too when its last attempt times out.
 */
public final class SubmittedRecord
{
    public static final int TIMEOUT_MILLIS_OFFSET = HEADER_LENGTH;
    public static final int MAX_ATTEMPTS_OFFSET = HEADER_LENGTH + 4;
    public static final int BACKOFF_INITIAL_MILLIS_OFFSET = HEADER_LENGTH + 8;
    public static final int BACKOFF_MAX_MILLIS_OFFSET = HEADER_LENGTH + 12;
    public static final int BACKOFF_MULTIPLIER_OFFSET = HEADER_LENGTH + 16;
    public static final int BACKOFF_JITTER_OFFSET = HEADER_LENGTH + 20;
    public static final int PRIORITY_OFFSET = HEADER_LENGTH + 24;
    public static final int EXECUTION_MODE_OFFSET = HEADER_LENGTH + 25;
    public static final int TASK_FLAGS_OFFSET = HEADER_LENGTH + 26;
    public static final int RESERVED_OFFSET = HEADER_LENGTH + 28;
    public static final int KEY_OFFSET = HEADER_LENGTH + 32;

    /** Task flag: the task is dead-lettered, rather than left FAILED, when it finally fails. */
    public static final int FLAG_DEAD_LETTER = 0x01;
    /**
     * Task flag: the task is dead-lettered, rather than left TIMED_OUT, when its last attempt times out. Written
     * with {@link #FLAG_DEAD_LETTER} since dead letters could be listed and redriven; a submission without it
     * (from an older engine) keeps the older rule, so old journals replay as they were decided.
     */
    public static final int FLAG_DEAD_LETTER_TIMEOUT = 0x02;
    /** The largest priority (low) a record may hold. */
    static final int MAX_PRIORITY = 2;

    /**
     * @return whether a record may hold these task flags: none, {@link #FLAG_DEAD_LETTER} (an older engine's), or both.
     */
    static boolean validTaskFlags(final int flags)
    {
        return flags == 0 || flags == FLAG_DEAD_LETTER || flags == (FLAG_DEAD_LETTER | FLAG_DEAD_LETTER_TIMEOUT);
    }

    private SubmittedRecord()
    {
    }

    /**
     * Writes a body in place. Set the fixed fields in any order, then the variable fields in layout order:
     * key, type, tenant, payload.
     */
    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;
        private int limit;

        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            this.limit = recordOffset + KEY_OFFSET;
            buffer.putInt(recordOffset + RESERVED_OFFSET, 0, BYTE_ORDER);
            return this;
        }

        public Encoder timeoutMillis(final int value)
        {
            buffer.putInt(offset + TIMEOUT_MILLIS_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder maxAttempts(final int value)
        {
            buffer.putInt(offset + MAX_ATTEMPTS_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder backoff(final int initialMillis, final int maxMillis, final float multiplier, final float jitter)
        {
            buffer.putInt(offset + BACKOFF_INITIAL_MILLIS_OFFSET, initialMillis, BYTE_ORDER);
            buffer.putInt(offset + BACKOFF_MAX_MILLIS_OFFSET, maxMillis, BYTE_ORDER);
            buffer.putFloat(offset + BACKOFF_MULTIPLIER_OFFSET, multiplier, BYTE_ORDER);
            buffer.putFloat(offset + BACKOFF_JITTER_OFFSET, jitter, BYTE_ORDER);
            return this;
        }

        public Encoder priority(final int value)
        {
            buffer.putByte(offset + PRIORITY_OFFSET, (byte)value);
            return this;
        }

        public Encoder executionMode(final int value)
        {
            buffer.putByte(offset + EXECUTION_MODE_OFFSET, (byte)value);
            return this;
        }

        public Encoder taskFlags(final int value)
        {
            buffer.putShort(offset + TASK_FLAGS_OFFSET, (short)value, BYTE_ORDER);
            return this;
        }

        public Encoder key(final byte[] src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, offset + KEY_OFFSET, src, srcOffset, length);
            return this;
        }

        public Encoder key(final DirectBuffer src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, offset + KEY_OFFSET, src, srcOffset, length);
            return this;
        }

        public Encoder taskType(final byte[] src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, limit, src, srcOffset, length);
            return this;
        }

        public Encoder taskType(final DirectBuffer src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, limit, src, srcOffset, length);
            return this;
        }

        public Encoder tenant(final byte[] src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, limit, src, srcOffset, length);
            return this;
        }

        public Encoder tenant(final DirectBuffer src, final int srcOffset, final int length)
        {
            limit = Fields.putShortField(buffer, limit, src, srcOffset, length);
            return this;
        }

        public Encoder payload(final byte[] src, final int srcOffset, final int length)
        {
            limit = Fields.putLongField(buffer, limit, src, srcOffset, length);
            return this;
        }

        public Encoder payload(final DirectBuffer src, final int srcOffset, final int length)
        {
            limit = Fields.putLongField(buffer, limit, src, srcOffset, length);
            return this;
        }

        /**
         * @return the frame length of the record written so far (header included).
         */
        public int frameLength()
        {
            return limit - offset;
        }
    }

    /**
     * Reads a body in place; the getters are valid while the wrapped buffer is.
     */
    public static final class Decoder
    {
        private DirectBuffer buffer;
        private int offset;
        private int typeOffset;
        private int tenantOffset;
        private int payloadOffset;

        /**
         * @return true when every variable field fits inside the frame; false means the record is malformed.
         */
        public boolean wrap(final DirectBuffer buffer, final int recordOffset, final int frameLength)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            final int limit = recordOffset + frameLength;
            typeOffset = Fields.skipShortField(buffer, recordOffset + KEY_OFFSET, limit);
            tenantOffset = typeOffset < 0 ? -1 : Fields.skipShortField(buffer, typeOffset, limit);
            payloadOffset = tenantOffset < 0 ? -1 : Fields.skipShortField(buffer, tenantOffset, limit);
            final int end = payloadOffset < 0 ? -1 : Fields.skipLongField(buffer, payloadOffset, limit);
            return end == limit && frameLength >= KEY_OFFSET;
        }

        public DirectBuffer buffer()
        {
            return buffer;
        }

        public int timeoutMillis()
        {
            return buffer.getInt(offset + TIMEOUT_MILLIS_OFFSET, BYTE_ORDER);
        }

        public int maxAttempts()
        {
            return buffer.getInt(offset + MAX_ATTEMPTS_OFFSET, BYTE_ORDER);
        }

        public int backoffInitialMillis()
        {
            return buffer.getInt(offset + BACKOFF_INITIAL_MILLIS_OFFSET, BYTE_ORDER);
        }

        public int backoffMaxMillis()
        {
            return buffer.getInt(offset + BACKOFF_MAX_MILLIS_OFFSET, BYTE_ORDER);
        }

        public float backoffMultiplier()
        {
            return buffer.getFloat(offset + BACKOFF_MULTIPLIER_OFFSET, BYTE_ORDER);
        }

        public float backoffJitter()
        {
            return buffer.getFloat(offset + BACKOFF_JITTER_OFFSET, BYTE_ORDER);
        }

        public int priority()
        {
            return buffer.getByte(offset + PRIORITY_OFFSET) & 0xFF;
        }

        public int executionMode()
        {
            return buffer.getByte(offset + EXECUTION_MODE_OFFSET) & 0xFF;
        }

        public int reserved()
        {
            return buffer.getInt(offset + RESERVED_OFFSET, BYTE_ORDER);
        }

        public int taskFlags()
        {
            return buffer.getShort(offset + TASK_FLAGS_OFFSET, BYTE_ORDER) & 0xFFFF;
        }

        public int keyLength()
        {
            return Fields.shortLength(buffer, offset + KEY_OFFSET);
        }

        /** @return offset in {@link #buffer()} of the key's first byte. */
        public int keyOffset()
        {
            return offset + KEY_OFFSET + Fields.SHORT_PREFIX;
        }

        public String key()
        {
            return Fields.utf8(buffer, keyOffset(), keyLength());
        }

        public int taskTypeLength()
        {
            return Fields.shortLength(buffer, typeOffset);
        }

        public int taskTypeOffset()
        {
            return typeOffset + Fields.SHORT_PREFIX;
        }

        public String taskType()
        {
            return Fields.utf8(buffer, taskTypeOffset(), taskTypeLength());
        }

        public int tenantLength()
        {
            return Fields.shortLength(buffer, tenantOffset);
        }

        public int tenantOffset()
        {
            return tenantOffset + Fields.SHORT_PREFIX;
        }

        public String tenant()
        {
            return Fields.utf8(buffer, tenantOffset(), tenantLength());
        }

        public int payloadLength()
        {
            return Fields.longLength(buffer, payloadOffset);
        }

        public int payloadOffset()
        {
            return payloadOffset + Fields.LONG_PREFIX;
        }
    }
}
