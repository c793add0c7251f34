package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of an {@link RecordType#ENGINE_STARTED} record, version 1: an engine opened this journal, and these
 * are the settings its sequence stage decides with from here on (so a replay under other settings still
 * rebuilds the same state). Settings are named 64-bit integers, so new ones need no new version.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------------------------------------------------------+
 *  |                      Process Id (or -1)                       | 32
 *  +---------------------------------------------------------------+
 *  |                         Setting Count                         | 36
 *  +-------------------------------+-------------------------------+
 *  |     Engine Version Length     |  Engine Version (UTF-8) ...  ... 40
 *  +-------------------------------+-------------------------------+
 *  |  Setting Count times:                                         |
 *  |  +-------------------------------+-------------------------+  |
 *  |  |          Name Length          |  Name (UTF-8) ...      ... |
 *  |  +-------------------------------+-------------------------+  |
 *  |  |                       Value (int64)                     |  |
 *  |  |                                                         |  |
 *  |  +---------------------------------------------------------+  |
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class EngineStartedRecord
{
    public static final int PID_OFFSET = HEADER_LENGTH;
    public static final int SETTING_COUNT_OFFSET = HEADER_LENGTH + 4;
    public static final int VERSION_OFFSET = HEADER_LENGTH + 8;

    private EngineStartedRecord()
    {
    }

    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;
        private int limit;
        private int count;

        /**
         * Start a body; then set the version, then add settings.
         */
        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            this.count = 0;
            buffer.putInt(recordOffset + SETTING_COUNT_OFFSET, 0, BYTE_ORDER);
            limit = Fields.putShortField(buffer, recordOffset + VERSION_OFFSET, (byte[])null, 0, 0);
            return this;
        }

        public Encoder pid(final int value)
        {
            buffer.putInt(offset + PID_OFFSET, value, BYTE_ORDER);
            return this;
        }

        public Encoder engineVersion(final String version)
        {
            final byte[] bytes = version.getBytes(StandardCharsets.UTF_8);
            limit = Fields.putShortField(buffer, offset + VERSION_OFFSET, bytes, 0, bytes.length);
            return this;
        }

        public Encoder setting(final String name, final long value)
        {
            final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            limit = Fields.putShortField(buffer, limit, bytes, 0, bytes.length);
            buffer.putLong(limit, value, BYTE_ORDER);
            limit += Long.BYTES;
            buffer.putInt(offset + SETTING_COUNT_OFFSET, ++count, BYTE_ORDER);
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
        private int settingsOffset;

        public boolean wrap(final DirectBuffer buffer, final int recordOffset, final int frameLength)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            final int limit = recordOffset + frameLength;
            if (frameLength < VERSION_OFFSET + Fields.SHORT_PREFIX)
            {
                return false;
            }
            settingsOffset = Fields.skipShortField(buffer, recordOffset + VERSION_OFFSET, limit);
            int cursor = settingsOffset;
            final int count = settingCount();
            for (int i = 0; i < count && cursor >= 0; i++)
            {
                cursor = Fields.skipShortField(buffer, cursor, limit);
                cursor = cursor < 0 || cursor + Long.BYTES > limit ? -1 : cursor + Long.BYTES;
            }
            return count >= 0 && cursor == limit;
        }

        public int pid()
        {
            return buffer.getInt(offset + PID_OFFSET, BYTE_ORDER);
        }

        public int settingCount()
        {
            return buffer.getInt(offset + SETTING_COUNT_OFFSET, BYTE_ORDER);
        }

        public String engineVersion()
        {
            return Fields.utf8(buffer, offset + VERSION_OFFSET + Fields.SHORT_PREFIX, Fields.shortLength(buffer, offset + VERSION_OFFSET));
        }

        /**
         * Visit every setting in order.
         */
        public void forEachSetting(final SettingConsumer consumer)
        {
            int cursor = settingsOffset;
            final int count = settingCount();
            for (int i = 0; i < count; i++)
            {
                final int nameLength = Fields.shortLength(buffer, cursor);
                final String name = Fields.utf8(buffer, cursor + Fields.SHORT_PREFIX, nameLength);
                cursor += Fields.SHORT_PREFIX + nameLength;
                consumer.accept(name, buffer.getLong(cursor, BYTE_ORDER));
                cursor += Long.BYTES;
            }
        }

        /**
         * @return the value of the named setting, or {@code defaultValue} when the record does not carry it.
         */
        public long setting(final String name, final long defaultValue)
        {
            final long[] found = {defaultValue};
            forEachSetting((n, v) ->
            {
                if (n.equals(name))
                {
                    found[0] = v;
                }
            });
            return found[0];
        }
    }

    /**
     * Receives one setting of an engine-started record.
     */
    @FunctionalInterface
    public interface SettingConsumer
    {
        void accept(String name, long value);
    }
}
