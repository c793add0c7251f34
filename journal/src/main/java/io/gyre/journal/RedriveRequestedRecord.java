package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#REDRIVE_REQUESTED} record, version 1: an operator asked for the dead-lettered
 * task with this idempotency key to run again, under the same key and task id.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +-------------------------------+-------------------------------+
 *  |          Key Length           |  Key (UTF-8) ...             ... 32
 *  +-------------------------------+-------------------------------+
 * </pre>
 *
 * The same layout as {@link CancelRequestedRecord}; a type of its own so that a reader needs no context
 * to tell the two apart.
 */
public final class RedriveRequestedRecord
{
    public static final int KEY_OFFSET = HEADER_LENGTH;

    private RedriveRequestedRecord()
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
            limit = Fields.putShortField(buffer, recordOffset + KEY_OFFSET, (byte[])null, 0, 0);
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
         * @return true when the key fills the frame exactly and is not empty; false means the record is malformed.
         */
        public boolean wrap(final DirectBuffer buffer, final int recordOffset, final int frameLength)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            return frameLength > KEY_OFFSET + Fields.SHORT_PREFIX &&
                Fields.skipShortField(buffer, recordOffset + KEY_OFFSET, recordOffset + frameLength) == recordOffset + frameLength;
        }

        public DirectBuffer buffer()
        {
            return buffer;
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
