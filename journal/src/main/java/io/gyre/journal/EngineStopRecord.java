package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.gyre.journal.RecordDescriptor.BYTE_ORDER;
import static io.gyre.journal.RecordDescriptor.HEADER_LENGTH;

/**
 * Body of an {@link RecordType#ENGINE_STOP} record, version 1: an engine stopping on purpose. It writes two:
 * {@link #PHASE_STOPPING} when it stops taking requests and starting attempts (the deadline it gives the
 * attempts running), and {@link #PHASE_STOPPED}, the last record it writes, saying what was left: counts of
 * the tasks still pending, running, waiting to retry and holding an outcome, and the attempts still running
 * at the deadline, which replay marks interrupted so that they run again after the next start. A journal
 * whose run has no STOPPED record before the next {@link RecordType#ENGINE_STARTED} ended in a crash.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Record header (32 bytes)                     ...  0
 *  +---------------+---------------+-------------------------------+
 *  |     Phase     |     Flags     |         Reserved (0)          | 32
 *  +---------------+---------------+-------------------------------+
 *  |                         Listed Count                          | 36
 *  +---------------------------------------------------------------+
 *  |                Stop Began At (epoch nanoseconds)              | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Deadline (epoch nanoseconds)                 | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                            Pending                            | 56
 *  +---------------------------------------------------------------+
 *  |                            Running                            | 60
 *  +---------------------------------------------------------------+
 *  |                         Retry Waiting                         | 64
 *  +---------------------------------------------------------------+
 *  |                             Held                              | 68
 *  +---------------------------------------------------------------+
 *  |  Listed Count times, by task id:                              | 72
 *  |  +---------------------------------------------------------+  |
 *  |  |                         Task Id                         |  |
 *  |  |                                                         |  |
 *  |  +---------------------------------------------------------+  |
 *  |  |                         Attempt                         |  |
 *  |  +---------------------------------------------------------+  |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * A STOPPING record has no counts and lists nothing: every field after the deadline is 0. At most
 * {@link #MAX_LISTED} attempts are listed; {@code Running} counts them all, and those beyond the list are
 * requeued by the next ENGINE_STARTED, as after a crash.
 */
public final class EngineStopRecord
{
    /** The engine stopped taking requests and starting attempts; running ones have until the deadline. */
    public static final int PHASE_STOPPING = 1;
    /** The engine stopped: the last record it wrote. */
    public static final int PHASE_STOPPED = 2;

    /** Flag: every attempt finished before the deadline (the engine went quiet; nothing was interrupted). */
    public static final int FLAG_FINISHED_IN_TIME = 0x01;

    /**
     * Most attempts one record lists (12 bytes each: 768 KiB). The default configuration cannot run more at
     * once (16 blocking threads, one CPU thread per core, 10,000 async attempts).
     */
    public static final int MAX_LISTED = 65_536;

    public static final int PHASE_OFFSET = HEADER_LENGTH;
    public static final int FLAGS_OFFSET = HEADER_LENGTH + 1;
    public static final int RESERVED_OFFSET = HEADER_LENGTH + 2;
    public static final int LISTED_COUNT_OFFSET = HEADER_LENGTH + 4;
    public static final int BEGAN_AT_OFFSET = HEADER_LENGTH + 8;
    public static final int DEADLINE_OFFSET = HEADER_LENGTH + 16;
    public static final int PENDING_OFFSET = HEADER_LENGTH + 24;
    public static final int RUNNING_OFFSET = HEADER_LENGTH + 28;
    public static final int RETRY_WAITING_OFFSET = HEADER_LENGTH + 32;
    public static final int HELD_OFFSET = HEADER_LENGTH + 36;
    public static final int LISTED_OFFSET = HEADER_LENGTH + 40;
    public static final int LISTED_ENTRY_LENGTH = 12;

    private EngineStopRecord()
    {
    }

    /**
     * @return the frame length of a record listing {@code listed} attempts.
     */
    public static int frameLength(final int listed)
    {
        return LISTED_OFFSET + listed * LISTED_ENTRY_LENGTH;
    }

    /**
     * @return "stopping", "stopped", or the code of a phase this build does not know.
     */
    public static String phaseName(final int phase)
    {
        return phase == PHASE_STOPPING ? "stopping" : phase == PHASE_STOPPED ? "stopped" : "phase-" + phase;
    }

    public static final class Encoder
    {
        private MutableDirectBuffer buffer;
        private int offset;
        private int listed;

        /**
         * Start a body with every field 0 and nothing listed.
         */
        public Encoder wrap(final MutableDirectBuffer buffer, final int recordOffset)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            this.listed = 0;
            buffer.setMemory(recordOffset + PHASE_OFFSET, LISTED_OFFSET - PHASE_OFFSET, (byte)0);
            return this;
        }

        public Encoder phase(final int value)
        {
            buffer.putByte(offset + PHASE_OFFSET, (byte)value);
            return this;
        }

        public Encoder flags(final int value)
        {
            buffer.putByte(offset + FLAGS_OFFSET, (byte)value);
            return this;
        }

        public Encoder beganAt(final long epochNanos)
        {
            buffer.putLong(offset + BEGAN_AT_OFFSET, epochNanos, BYTE_ORDER);
            return this;
        }

        public Encoder deadline(final long epochNanos)
        {
            buffer.putLong(offset + DEADLINE_OFFSET, epochNanos, BYTE_ORDER);
            return this;
        }

        public Encoder left(final int pending, final int running, final int retryWaiting, final int held)
        {
            buffer.putInt(offset + PENDING_OFFSET, pending, BYTE_ORDER);
            buffer.putInt(offset + RUNNING_OFFSET, running, BYTE_ORDER);
            buffer.putInt(offset + RETRY_WAITING_OFFSET, retryWaiting, BYTE_ORDER);
            buffer.putInt(offset + HELD_OFFSET, held, BYTE_ORDER);
            return this;
        }

        /**
         * List one more attempt still running (in task id order).
         *
         * @throws IllegalStateException beyond {@link #MAX_LISTED}.
         */
        public Encoder listed(final long taskId, final int attempt)
        {
            if (listed == MAX_LISTED)
            {
                throw new IllegalStateException("an ENGINE_STOP record lists at most " + MAX_LISTED + " attempts");
            }
            final int at = offset + LISTED_OFFSET + listed * LISTED_ENTRY_LENGTH;
            buffer.putLong(at, taskId, BYTE_ORDER);
            buffer.putInt(at + Long.BYTES, attempt, BYTE_ORDER);
            buffer.putInt(offset + LISTED_COUNT_OFFSET, ++listed, BYTE_ORDER);
            return this;
        }

        public int frameLength()
        {
            return EngineStopRecord.frameLength(listed);
        }
    }

    public static final class Decoder
    {
        private DirectBuffer buffer;
        private int offset;

        /**
         * @return false when the body does not match the layout: an unknown phase, a listed count out of
         *     [0, {@link #MAX_LISTED}], a STOPPING record that lists attempts, or a length that is not the
         *     listed count's.
         */
        public boolean wrap(final DirectBuffer buffer, final int recordOffset, final int frameLength)
        {
            this.buffer = buffer;
            this.offset = recordOffset;
            if (frameLength < LISTED_OFFSET)
            {
                return false;
            }
            final int phase = phase();
            final int count = listedCount();
            return (phase == PHASE_STOPPING || phase == PHASE_STOPPED) && count >= 0 && count <= MAX_LISTED &&
                (phase == PHASE_STOPPED || count == 0) && frameLength == EngineStopRecord.frameLength(count);
        }

        public int phase()
        {
            return buffer.getByte(offset + PHASE_OFFSET) & 0xFF;
        }

        public int flags()
        {
            return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
        }

        public boolean finishedInTime()
        {
            return (flags() & FLAG_FINISHED_IN_TIME) != 0;
        }

        public int listedCount()
        {
            return buffer.getInt(offset + LISTED_COUNT_OFFSET, BYTE_ORDER);
        }

        public long beganAt()
        {
            return buffer.getLong(offset + BEGAN_AT_OFFSET, BYTE_ORDER);
        }

        public long deadline()
        {
            return buffer.getLong(offset + DEADLINE_OFFSET, BYTE_ORDER);
        }

        public int pending()
        {
            return buffer.getInt(offset + PENDING_OFFSET, BYTE_ORDER);
        }

        public int running()
        {
            return buffer.getInt(offset + RUNNING_OFFSET, BYTE_ORDER);
        }

        public int retryWaiting()
        {
            return buffer.getInt(offset + RETRY_WAITING_OFFSET, BYTE_ORDER);
        }

        public int held()
        {
            return buffer.getInt(offset + HELD_OFFSET, BYTE_ORDER);
        }

        /** @return the task id of the {@code i}th attempt listed. */
        public long listedTaskId(final int i)
        {
            return buffer.getLong(offset + LISTED_OFFSET + i * LISTED_ENTRY_LENGTH, BYTE_ORDER);
        }

        /** @return the attempt number of the {@code i}th attempt listed. */
        public int listedAttempt(final int i)
        {
            return buffer.getInt(offset + LISTED_OFFSET + i * LISTED_ENTRY_LENGTH + Long.BYTES, BYTE_ORDER);
        }
    }
}
