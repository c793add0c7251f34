package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of a {@link RecordType#JOURNAL_RECOVERED} record, version 1, written by the journal itself, first
 * thing after it finds a torn tail on opening for append. It states what was discarded, and for a document
 * that was never finished it is padded to cover every torn byte, so no remnant can later be taken for data.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------------------------------------------------------+
 *  |         Torn Document Index (or -1: an unfinished one)        | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                Torn Offset (in that document)                 | 40
 *  +---------------------------------------------------------------+
 *  |                    Torn Length (bytes dropped)                | 44
 *  +---------------------------------------------------------------+
 *  |                 Last Good Event Id (or -1)                    | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Padding (zeros) ...                          ... 56
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class JournalRecoveredRecord
{
    public static final int TORN_DOCUMENT_INDEX_OFFSET = HEADER_LENGTH;
    public static final int TORN_OFFSET_OFFSET = HEADER_LENGTH + 8;
    public static final int TORN_LENGTH_OFFSET = HEADER_LENGTH + 12;
    public static final int LAST_GOOD_EVENT_ID_OFFSET = HEADER_LENGTH + 16;
    public static final int PADDING_OFFSET = HEADER_LENGTH + 24;

    private JournalRecoveredRecord()
    {
    }

    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;
        private int padding;

        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            this.padding = 0;
            return this;
        }

        public Encoder tornDocumentIndex(final long value)
        {
            buffer.putLong(offset + TORN_DOCUMENT_INDEX_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder tornOffset(final int value)
        {
            buffer.putInt(offset + TORN_OFFSET_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder tornLength(final int value)
        {
            buffer.putInt(offset + TORN_LENGTH_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder lastGoodEventId(final long value)
        {
            buffer.putLong(offset + LAST_GOOD_EVENT_ID_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder padding(final int length)
        {
            buffer.setMemory(offset + PADDING_OFFSET, length, (byte)0);
            padding = length;
            return this;
        }

        public int frameLength()
        {
            return PADDING_OFFSET + padding;
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
            return frameLength >= PADDING_OFFSET;
        }

        public long tornDocumentIndex()
        {
            return buffer.getLong(offset + TORN_DOCUMENT_INDEX_OFFSET, BYTE_ORDER);
        }

        public int tornOffset()
        {
            return buffer.getInt(offset + TORN_OFFSET_OFFSET, BYTE_ORDER);
        }

        public int tornLength()
        {
            return buffer.getInt(offset + TORN_LENGTH_OFFSET, BYTE_ORDER);
        }

        public long lastGoodEventId()
        {
            return buffer.getLong(offset + LAST_GOOD_EVENT_ID_OFFSET, BYTE_ORDER);
        }
    }
}
