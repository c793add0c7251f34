package io.gyre.journal;

import org.agrona.DirectBuffer;

/**
 * One validated record, as a reader presents it to a {@link RecordHandler}. Valid only during the
 * callback: the reader reuses it, and its buffer is the journal's mapped memory.
 */
public final class RecordView
{
    final SubmittedRecord.Decoder submitted = new SubmittedRecord.Decoder();
    final SucceededRecord.Decoder succeeded = new SucceededRecord.Decoder();
    final FailedRecord.Decoder failed = new FailedRecord.Decoder();
    final CancelRequestedRecord.Decoder cancelRequested = new CancelRequestedRecord.Decoder();
    final EngineStartedRecord.Decoder engineStarted = new EngineStartedRecord.Decoder();
    final TransitionRecord.Decoder transition = new TransitionRecord.Decoder();
    final JournalRecoveredRecord.Decoder journalRecovered = new JournalRecoveredRecord.Decoder();
    final EngineStopRecord.Decoder engineStop = new EngineStopRecord.Decoder();
    final RedriveRequestedRecord.Decoder redriveRequested = new RedriveRequestedRecord.Decoder();
    final PurgeRequestedRecord.Decoder purgeRequested = new PurgeRequestedRecord.Decoder();
    final JournalOutageRecord.Decoder journalOutage = new JournalOutageRecord.Decoder();

    private DirectBuffer buffer;
    private int offset;
    private int frameLength;
    private RecordType type;
    private long documentIndex;
    private int offsetInDocument;

    /**
     * Validate the record at {@code offset} and, when valid, present it through this view.
     *
     * @return null when the record is valid, otherwise why it is not.
     */
    String wrap(final DirectBuffer buffer, final int offset, final int available, final long documentIndex, final int offsetInDocument)
    {
        return wrap(buffer, offset, available, documentIndex, offsetInDocument, false);
    }

    /**
     * As {@link #wrap(DirectBuffer, int, int, long, int)}; with {@code checksumVerified}, the record's checksum
     * is not computed again: another thread compared it over these same bytes ({@link ChecksumsAhead}).
     */
    String wrap(final DirectBuffer buffer, final int offset, final int available, final long documentIndex, final int offsetInDocument,
                final boolean checksumVerified)
    {
        if (available < RecordDescriptor.HEADER_LENGTH)
        {
            return "only " + available + " bytes left, less than a record header";
        }
        final int length = RecordDescriptor.frameLength(buffer, offset);
        if (length < RecordDescriptor.HEADER_LENGTH || length > available || length > RecordDescriptor.MAX_FRAME_LENGTH)
        {
            return "frame length " + length + " outside [" + RecordDescriptor.HEADER_LENGTH + ", " + Math.min(available, RecordDescriptor.MAX_FRAME_LENGTH) + "]";
        }
        if (!checksumVerified)
        {
            final int stored = RecordDescriptor.storedChecksum(buffer, offset);
            final int computed = RecordDescriptor.checksum(buffer, offset, length);
            if (stored != computed)
            {
                return "checksum mismatch (stored " + Integer.toHexString(stored) + ", computed " + Integer.toHexString(computed) + ")";
            }
        }
        final int code = RecordDescriptor.typeCode(buffer, offset);
        final RecordType recordType = RecordType.fromCode(code);
        if (recordType == null)
        {
            return "unknown record type " + code;
        }
        final int version = RecordDescriptor.version(buffer, offset);
        if (version < 1 || version > recordType.version())
        {
            return recordType + " version " + version + " is not supported (this build reads up to " + recordType.version() + ")";
        }
        if (RecordDescriptor.reserved(buffer, offset) != 0)
        {
            return "reserved header field is not zero";
        }
        // replay applies an input and re-derives a derived record: a record flagged as the other kind would be taken
        // for what it is not
        final int flags = RecordDescriptor.flags(buffer, offset);
        if (flags != (recordType.derived() ? RecordDescriptor.FLAG_DERIVED : 0))
        {
            return (flags & ~RecordDescriptor.FLAG_DERIVED) != 0 ? "header flags 0x" + Integer.toHexString(flags) + " set bits no version defines" :
                recordType + (recordType.derived() ? " without" : " with") + " the DERIVED flag";
        }
        if (!wrapBody(recordType, buffer, offset, length))
        {
            return recordType + " body does not match its layout";
        }
        if (!fieldRulesHold(recordType, buffer, offset))
        {
            return recordType + " " + fieldRuleBroken(recordType);
        }
        this.buffer = buffer;
        this.offset = offset;
        this.frameLength = length;
        this.type = recordType;
        this.documentIndex = documentIndex;
        this.offsetInDocument = offsetInDocument;
        return null;
    }

    /**
     * The rules {@link #fieldRuleBroken} says, checked with as few reads as may be (every record of a replay passes
     * here): a SUBMITTED record's priority, execution mode, task flags and reserved field are one little-endian long.
     */
    private static boolean fieldRulesHold(final RecordType recordType, final DirectBuffer buffer, final int offset)
    {
        if (recordType == RecordType.SUBMITTED)
        {
            final long v = buffer.getLong(offset + SubmittedRecord.PRIORITY_OFFSET, RecordDescriptor.BYTE_ORDER);
            return (v & 0xFF) <= SubmittedRecord.MAX_PRIORITY && (v >>> 32) == 0 && SubmittedRecord.validTaskFlags((int)(v >>> 16) & 0xFFFF);
        }
        if (recordType == RecordType.SUCCEEDED)
        {
            return (buffer.getInt(offset + SucceededRecord.FLAGS_OFFSET, RecordDescriptor.BYTE_ORDER) & ~SucceededRecord.FLAG_HELD) == 0;
        }
        if (recordType == RecordType.FAILED || recordType.derived())
        {
            // the three bytes after the error kind, or after a transition's reason (the same offset: 13)
            return (buffer.getInt(offset + FailedRecord.ERROR_KIND_OFFSET, RecordDescriptor.BYTE_ORDER) & 0xFFFFFF00) == 0;
        }
        return true;
    }

    /**
     * @return which rule JOURNAL.md gives a field of the record just wrapped its value breaks (a record whose checksum
     *     matches, but that no Gyre wrote), or null. An execution mode this build does not know is not one: the codes
     *     past 3 are reserved for modes to come, and counted against the blocking pool by a replay.
     */
    private String fieldRuleBroken(final RecordType recordType)
    {
        switch (recordType)
        {
            case SUBMITTED:
            {
                if (submitted.priority() > SubmittedRecord.MAX_PRIORITY)
                {
                    return "priority " + submitted.priority() + " is none of 0 (high), 1 (normal), 2 (low)";
                }
                if (!SubmittedRecord.validTaskFlags(submitted.taskFlags()))
                {
                    return "task flags " + submitted.taskFlags() + " are none of 0, 1, 3";
                }
                return submitted.reserved() != 0 ? "reserved field is " + submitted.reserved() + ", not 0" : null;
            }
            case SUCCEEDED:
                return (succeeded.flags() & ~SucceededRecord.FLAG_HELD) != 0 ?
                    "flags 0x" + Integer.toHexString(succeeded.flags()) + " set bits other than HELD" : null;
            case FAILED:
                return failed.reserved() != 0 ? "reserved bytes are not 0" : null;
            default:
                return recordType.derived() && transition.reserved() != 0 ? "reserved bytes are not 0" : null;
        }
    }

    private boolean wrapBody(final RecordType recordType, final DirectBuffer buffer, final int offset, final int length)
    {
        switch (recordType)
        {
            case SUBMITTED:
                return submitted.wrap(buffer, offset, length);
            case SUCCEEDED:
                return succeeded.wrap(buffer, offset, length);
            case FAILED:
                return failed.wrap(buffer, offset, length);
            case CANCEL_REQUESTED:
                return cancelRequested.wrap(buffer, offset, length);
            case TICK:
                return length == RecordDescriptor.HEADER_LENGTH;
            case ENGINE_STARTED:
                return engineStarted.wrap(buffer, offset, length);
            case JOURNAL_RECOVERED:
                return journalRecovered.wrap(buffer, offset, length);
            case ENGINE_STOP:
                return engineStop.wrap(buffer, offset, length);
            case REDRIVE_REQUESTED:
                return redriveRequested.wrap(buffer, offset, length);
            case PURGE_REQUESTED:
                return purgeRequested.wrap(buffer, offset, length);
            case JOURNAL_OUTAGE:
                return journalOutage.wrap(buffer, offset, length);
            default:
                return transition.wrap(buffer, offset, length);
        }
    }

    public RecordType type()
    {
        return type;
    }

    public int version()
    {
        return RecordDescriptor.version(buffer, offset);
    }

    public int flags()
    {
        return RecordDescriptor.flags(buffer, offset);
    }

    public boolean derived()
    {
        return (flags() & RecordDescriptor.FLAG_DERIVED) != 0;
    }

    public long eventId()
    {
        return RecordDescriptor.eventId(buffer, offset);
    }

    public long timestamp()
    {
        return RecordDescriptor.timestamp(buffer, offset);
    }

    public int frameLength()
    {
        return frameLength;
    }

    /** @return the Chronicle Queue index of the document holding the record. */
    public long documentIndex()
    {
        return documentIndex;
    }

    /** @return the record's offset inside its document: with {@link #documentIndex()}, its position. */
    public int offsetInDocument()
    {
        return offsetInDocument;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }

    public SubmittedRecord.Decoder submitted()
    {
        check(RecordType.SUBMITTED);
        return submitted;
    }

    public SucceededRecord.Decoder succeeded()
    {
        check(RecordType.SUCCEEDED);
        return succeeded;
    }

    public FailedRecord.Decoder failed()
    {
        check(RecordType.FAILED);
        return failed;
    }

    public CancelRequestedRecord.Decoder cancelRequested()
    {
        check(RecordType.CANCEL_REQUESTED);
        return cancelRequested;
    }

    public EngineStartedRecord.Decoder engineStarted()
    {
        check(RecordType.ENGINE_STARTED);
        return engineStarted;
    }

    public JournalRecoveredRecord.Decoder journalRecovered()
    {
        check(RecordType.JOURNAL_RECOVERED);
        return journalRecovered;
    }

    public EngineStopRecord.Decoder engineStop()
    {
        check(RecordType.ENGINE_STOP);
        return engineStop;
    }

    public RedriveRequestedRecord.Decoder redriveRequested()
    {
        check(RecordType.REDRIVE_REQUESTED);
        return redriveRequested;
    }

    public PurgeRequestedRecord.Decoder purgeRequested()
    {
        check(RecordType.PURGE_REQUESTED);
        return purgeRequested;
    }

    public JournalOutageRecord.Decoder journalOutage()
    {
        check(RecordType.JOURNAL_OUTAGE);
        return journalOutage;
    }

    /**
     * @return the body of a derived record (STARTED, RETRY_SCHEDULED, TIMED_OUT, CANCELLED, DEAD_LETTERED, REJECTED).
     */
    public TransitionRecord.Decoder transition()
    {
        if (!type.derived())
        {
            throw new IllegalStateException("a " + type + " record has no transition body");
        }
        return transition;
    }

    private void check(final RecordType expected)
    {
        if (type != expected)
        {
            throw new IllegalStateException("record is " + type + ", not " + expected);
        }
    }
}
