package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#PURGE_REQUESTED} record, version 1: an operator asked for dead letters to be
 * removed from the dead-letter list, the one of a key or all of them.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------+---------------+-------------------------------+
 *  |     Scope     |   Reserved    |          Key Length           | 32
 *  +---------------+---------------+-------------------------------+
 *  |                       Key (UTF-8) ...                        ... 36
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Scope: {@link #SCOPE_KEY} (1), the dead letter of this key (1 byte of key at least); or
 * {@link #SCOPE_ALL} (2), every dead letter the list holds when the record is applied (the key is then
 * empty). Reserved: 0.
 */
public final class PurgeRequestedRecord
{
    public static final int SCOPE_OFFSET = HEADER_LENGTH;
    public static final int RESERVED_OFFSET = HEADER_LENGTH + 1;
    public static final int KEY_OFFSET = HEADER_LENGTH + 2;

    /** Purge the dead letter of one key. */
    public static final int SCOPE_KEY = 1;
    /** Purge every dead letter. */
    public static final int SCOPE_ALL = 2;

    private PurgeRequestedRecord()
    {
    }

    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;
        private int limit;

        /**
         * Start a record that purges everything; {@link #key} narrows it to one key.
         */
        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            buffer.putByte(recordOffset + SCOPE_OFFSET, (byte)SCOPE_ALL);
            buffer.putByte(recordOffset + RESERVED_OFFSET, (byte)0);
            limit = Fields.putShortField(buffer, recordOffset + KEY_OFFSET, (byte[])null, 0, 0);
            return this;
        }

        public Encoder key(final byte[] src, final int srcOffset, final int length)
        {
            buffer.putByte(offset + SCOPE_OFFSET, (byte)SCOPE_KEY);
            limit = Fields.putShortField(buffer, offset + KEY_OFFSET, src, srcOffset, length);
            return this;
        }

        public Encoder key(final DirectBuffer src, final int srcOffset, final int length)
        {
            buffer.putByte(offset + SCOPE_OFFSET, (byte)SCOPE_KEY);
            limit = Fields.putShortField(buffer, offset + KEY_OFFSET, src, srcOffset, length);
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

        /**
         * @return true when the scope is known, the reserved byte 0, the key fills the frame exactly, and the
         *     key is present for {@link #SCOPE_KEY} and absent for {@link #SCOPE_ALL}; false means malformed.
         */
        public boolean wrap(final DirectBuffer buffer, final int recordOffset, final int frameLength)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            if (frameLength < KEY_OFFSET + Fields.SHORT_PREFIX ||
                Fields.skipShortField(buffer, recordOffset + KEY_OFFSET, recordOffset + frameLength) != recordOffset + frameLength ||
                buffer.getByte(recordOffset + RESERVED_OFFSET) != 0)
            {
                return false;
            }
            final int scope = scope();
            return scope == SCOPE_KEY ? keyLength() > 0 : scope == SCOPE_ALL && keyLength() == 0;
        }

        public DirectBuffer buffer()
        {
            return buffer;
        }

        public int scope()
        {
            return buffer.getByte(offset + SCOPE_OFFSET) & 0xFF;
        }

        public boolean all()
        {
            return scope() == SCOPE_ALL;
        }

        public int keyLength()
        {
            return Fields.shortLength(buffer, offset + KEY_OFFSET);
        }

        public int keyOffset()
        {
            return offset + KEY_OFFSET + Fields.SHORT_PREFIX;
        }

        public String key()
        {
            return Fields.utf8(buffer, keyOffset(), keyLength());
        }
    }
}
