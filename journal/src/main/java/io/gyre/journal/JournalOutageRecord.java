package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#JOURNAL_OUTAGE} record, version 1: the journal could not be written for a
 * while, and now can. The engine writes it first thing when writes succeed again, followed in the same
 * document by the records it kept in memory during the outage (results of attempts and derived records it
 * could not journal then). The record's own timestamp is when the outage ended.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------------------------------------------------------+
 *  |              Outage Started At (epoch nanoseconds)            | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                       Requests Refused                        | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Records Re-journaled                      | 48
 *  +---------------------------------------------------------------+
 *  |                      Reserved (must be 0)                     | 52
 *  +-------------------------------+-------------------------------+
 *  |         Cause Length          |  Cause (UTF-8) ...           ... 56
 *  +-------------------------------+-------------------------------+
 * </pre>
 */
public final class JournalOutageRecord
{
    public static final int STARTED_AT_OFFSET = HEADER_LENGTH;
    public static final int REFUSED_OFFSET = HEADER_LENGTH + 8;
    public static final int REJOURNALED_OFFSET = HEADER_LENGTH + 16;
    public static final int RESERVED_OFFSET = HEADER_LENGTH + 20;
    public static final int CAUSE_OFFSET = HEADER_LENGTH + 24;
    /** Longest cause kept, in bytes of UTF-8 (a longer one is cut). */
    public static final int MAX_CAUSE_BYTES = 1024;
    /** The largest frame this record can take. */
    public static final int MAX_FRAME_LENGTH = CAUSE_OFFSET + Fields.SHORT_PREFIX + MAX_CAUSE_BYTES;

    private JournalOutageRecord()
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
            buffer.putInt(recordOffset + RESERVED_OFFSET, 0, BYTE_ORDER);
            limit = Fields.putShortField(buffer, recordOffset + CAUSE_OFFSET, (byte[])null, 0, 0);
            return this;
        }

        public Encoder startedAt(final long value)
        {
            buffer.putLong(offset + STARTED_AT_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder refused(final long value)
        {
            buffer.putLong(offset + REFUSED_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder rejournaled(final int value)
        {
            buffer.putInt(offset + REJOURNALED_OFFSET, value, BYTE_ORDER);
            return this;
        }

        /** The cause, cut to {@link #MAX_CAUSE_BYTES} bytes of UTF-8 (on a character boundary). */
        public Encoder cause(final String value)
        {
            final byte[] bytes = value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8);
            int length = Math.min(bytes.length, MAX_CAUSE_BYTES);
            while (length > 0 && length < bytes.length && (bytes[length] & 0xC0) == 0x80)
            {
                length--;
            }
            limit = Fields.putShortField(buffer, offset + CAUSE_OFFSET, bytes, 0, length);
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
            return frameLength >= CAUSE_OFFSET + Fields.SHORT_PREFIX &&
                Fields.skipShortField(buffer, recordOffset + CAUSE_OFFSET, recordOffset + frameLength) == recordOffset + frameLength;
        }

        public long startedAt()
        {
            return buffer.getLong(offset + STARTED_AT_OFFSET, BYTE_ORDER);
        }

        public long refused()
        {
            return buffer.getLong(offset + REFUSED_OFFSET, BYTE_ORDER);
        }

        public int rejournaled()
        {
            return buffer.getInt(offset + REJOURNALED_OFFSET, BYTE_ORDER);
        }

        public String cause()
        {
            return Fields.utf8(buffer, offset + CAUSE_OFFSET + Fields.SHORT_PREFIX, Fields.shortLength(buffer, offset + CAUSE_OFFSET));
        }
    }
}
