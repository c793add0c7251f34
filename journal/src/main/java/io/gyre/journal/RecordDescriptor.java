package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.checksum.Crc32c;

import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import static org.agrona.BufferUtil.ARRAY_BASE_OFFSET;

/**
 * Layout of the header every journal record starts with. All fields are little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Frame Length                           |  0
 *  +---------------------------------------------------------------+
 *  |                  Checksum (CRC-32C of [8, length))            |  4
 *  +-------------------------------+---------------+---------------+
 *  |          Record Type          |    Version    |     Flags     |  8
 *  +-------------------------------+---------------+---------------+
 *  |                      Reserved (must be 0)                     | 12
 *  +---------------------------------------------------------------+
 *  |                           Event Id                            | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Timestamp (epoch nanoseconds)                 | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Body ...                             ... 32
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * The frame length counts the header. The event id is one more than the previous record's, across the
 * whole journal, so a gap or a repeat is corruption. Flags bit 0 ({@link #FLAG_DERIVED}) marks a record
 * the engine derived from earlier records (replay re-derives it and checks that it matches).
 */
public final class RecordDescriptor
{
    /** Byte order of every multi-byte field in the journal. */
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;

    public static final int LENGTH_OFFSET = 0;
    public static final int CHECKSUM_OFFSET = 4;
    public static final int TYPE_OFFSET = 8;
    public static final int VERSION_OFFSET = 10;
    public static final int FLAGS_OFFSET = 11;
    public static final int RESERVED_OFFSET = 12;
    public static final int EVENT_ID_OFFSET = 16;
    public static final int TIMESTAMP_OFFSET = 24;
    public static final int HEADER_LENGTH = 32;

    /** First byte covered by the checksum: everything after the length and checksum fields. */
    public static final int CHECKSUMMED_FROM = TYPE_OFFSET;

    /** The record was derived by the engine's sequence stage rather than received from outside. */
    public static final int FLAG_DERIVED = 0x01;

    /**
     * Largest frame the writer accepts and the reader believes: a batch document must fit Chronicle
     * Queue's overlap region (a quarter of its 64 MiB block), with room for other records.
     */
    public static final int MAX_FRAME_LENGTH = 8 << 20;

    private RecordDescriptor()
    {
    }

    /**
     * CRC-32C of a record's checksummed bytes, computed in place.
     *
     * @param address address of the first byte of the record.
     * @param frameLength the record's frame length.
     * @return the checksum to store at {@link #CHECKSUM_OFFSET}.
     */
    public static int checksum(final long address, final int frameLength)
    {
        return Crc32c.INSTANCE.compute(address, CHECKSUMMED_FROM, frameLength - CHECKSUMMED_FROM);
    }

    /**
     * CRC-32C of the record at {@code offset} in {@code buffer}, on or off the heap.
     */
    public static int checksum(final DirectBuffer buffer, final int offset, final int frameLength)
    {
        final byte[] array = buffer.byteArray();
        if (array == null)
        {
            return checksum(buffer.addressOffset() + offset, frameLength);
        }
        final CRC32C crc = new CRC32C();
        crc.update(array, (int)(buffer.addressOffset() - ARRAY_BASE_OFFSET) + offset + CHECKSUMMED_FROM, frameLength - CHECKSUMMED_FROM);
        return (int)crc.getValue();
    }

    static void writeHeader(
        final MutableDirectBuffer buffer,
        final int offset,
        final RecordType type,
        final int flags,
        final long eventId,
        final long timestamp)
    {
        buffer.putShort(offset + TYPE_OFFSET, (short)type.code(), BYTE_ORDER);
        buffer.putByte(offset + VERSION_OFFSET, (byte)type.version());
        buffer.putByte(offset + FLAGS_OFFSET, (byte)flags);
        buffer.putInt(offset + RESERVED_OFFSET, 0, BYTE_ORDER);
        buffer.putLong(offset + EVENT_ID_OFFSET, eventId, BYTE_ORDER);
        buffer.putLong(offset + TIMESTAMP_OFFSET, timestamp, BYTE_ORDER);
    }

    public static int frameLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + LENGTH_OFFSET, BYTE_ORDER);
    }

    public static int storedChecksum(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + CHECKSUM_OFFSET, BYTE_ORDER);
    }

    public static int typeCode(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + TYPE_OFFSET, BYTE_ORDER) & 0xFFFF;
    }

    public static int version(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + VERSION_OFFSET) & 0xFF;
    }

    public static int flags(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    public static int reserved(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RESERVED_OFFSET, BYTE_ORDER);
    }

    public static long eventId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + EVENT_ID_OFFSET, BYTE_ORDER);
    }

    public static long timestamp(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + TIMESTAMP_OFFSET, BYTE_ORDER);
    }
}
