package io.gyre.ingress.cli;

import io.gyre.engine.ExecutionMode;
import io.gyre.engine.Priority;
import io.gyre.journal.CancelRequestedRecord;
import io.gyre.journal.EngineStartedRecord;
import io.gyre.journal.EngineStopRecord;
import io.gyre.journal.FailedRecord;
import io.gyre.journal.JournalOutageRecord;
import io.gyre.journal.JournalRecoveredRecord;
import io.gyre.journal.PurgeRequestedRecord;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import io.gyre.journal.RedriveRequestedRecord;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.SucceededRecord;
import io.gyre.journal.TransitionRecord;
import org.agrona.DirectBuffer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Formats journal records for people, one line per record: position, event id, time, type, then the body's
 * fields as {@code name=value}. Byte fields (keys, payloads, outputs, messages) are shown as quoted, escaped
 * text when they are UTF-8 without control characters, otherwise as hex; either way cut at
 * {@link #MAX_BYTES_SHOWN} bytes with the full length noted.
 * <p>
 * Not thread safe: one instance per printing thread.
 */
final class RecordFormat
{
    /** Bytes of a byte field shown before it is cut. */
    static final int MAX_BYTES_SHOWN = 64;
    /** Interrupted attempts of an ENGINE_STOP record shown before the list is cut. */
    static final int MAX_ATTEMPTS_SHOWN = 16;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder line = new StringBuilder(256);
    private final byte[] scratch = new byte[MAX_BYTES_SHOWN];
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);

    /**
     * @param record a record, during the reader's callback.
     * @return the record as one line (no line separator).
     */
    String format(final RecordView record)
    {
        line.setLength(0);
        line.append(position(record.documentIndex(), record.offsetInDocument()))
            .append(" event=").append(record.eventId())
            .append(" time=").append(time(record.timestamp()))
            .append(' ').append(record.type().name());
        if (record.version() != 1)
        {
            line.append(" version=").append(record.version());
        }
        switch (record.type())
        {
            case SUBMITTED:
                submitted(record.submitted());
                break;
            case SUCCEEDED:
                succeeded(record.succeeded());
                break;
            case FAILED:
                failed(record.failed());
                break;
            case CANCEL_REQUESTED:
                final CancelRequestedRecord.Decoder cancel = record.cancelRequested();
                bytes("key", cancel.buffer(), cancel.keyOffset(), cancel.keyLength());
                break;
            case REDRIVE_REQUESTED:
                final RedriveRequestedRecord.Decoder redrive = record.redriveRequested();
                bytes("key", redrive.buffer(), redrive.keyOffset(), redrive.keyLength());
                break;
            case PURGE_REQUESTED:
                final PurgeRequestedRecord.Decoder purge = record.purgeRequested();
                if (purge.all())
                {
                    line.append(" all");
                }
                else
                {
                    bytes("key", purge.buffer(), purge.keyOffset(), purge.keyLength());
                }
                break;
            case TICK:
                break;
            case ENGINE_STARTED:
                engineStarted(record.engineStarted());
                break;
            case JOURNAL_RECOVERED:
                journalRecovered(record.journalRecovered());
                break;
            case ENGINE_STOP:
                engineStop(record.engineStop());
                break;
            case JOURNAL_OUTAGE:
                final JournalOutageRecord.Decoder outage = record.journalOutage();
                line.append(" since=").append(time(outage.startedAt()))
                    .append(" refused=").append(outage.refused())
                    .append(" rejournaled=").append(outage.rejournaled())
                    .append(" cause=");
                quoted(outage.cause());
                break;
            default:
                transition(record.type(), record.transition());
                break;
        }
        return line.toString();
    }

    /**
     * @return a record's position: its document's index in hex, and its offset in the document.
     */
    static String position(final long documentIndex, final int offsetInDocument)
    {
        return "0x" + Long.toHexString(documentIndex) + "+" + offsetInDocument;
    }

    /**
     * @return epoch nanoseconds as an ISO-8601 instant (UTC).
     */
    static String time(final long epochNanos)
    {
        return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L)).toString();
    }

    private void submitted(final SubmittedRecord.Decoder body)
    {
        final DirectBuffer buffer = body.buffer();
        bytes("key", buffer, body.keyOffset(), body.keyLength());
        bytes("type", buffer, body.taskTypeOffset(), body.taskTypeLength());
        bytes("tenant", buffer, body.tenantOffset(), body.tenantLength());
        bytes("payload", buffer, body.payloadOffset(), body.payloadLength());
        line.append(" timeoutMs=").append(body.timeoutMillis())
            .append(" maxAttempts=").append(body.maxAttempts())
            .append(" backoff=").append(body.backoffInitialMillis()).append("ms*").append(body.backoffMultiplier())
            .append("<=").append(body.backoffMaxMillis()).append("ms")
            .append(" jitter=").append(body.backoffJitter())
            .append(" priority=").append(priorityName(body.priority()))
            .append(" mode=").append(modeName(body.executionMode()))
            .append(" deadLetter=").append(deadLetter(body.taskFlags()));
        final int otherFlags = body.taskFlags() & ~(SubmittedRecord.FLAG_DEAD_LETTER | SubmittedRecord.FLAG_DEAD_LETTER_TIMEOUT);
        if (otherFlags != 0)
        {
            line.append(" flags=0x").append(Integer.toHexString(otherFlags));
        }
    }

    /**
     * @return when the task is dead-lettered: {@code true} (a final failure or timeout), {@code failures} (a
     *     final failure only: an engine from before timeouts were), {@code timeouts}, or {@code false}.
     */
    private static String deadLetter(final int flags)
    {
        final boolean failures = (flags & SubmittedRecord.FLAG_DEAD_LETTER) != 0;
        final boolean timeouts = (flags & SubmittedRecord.FLAG_DEAD_LETTER_TIMEOUT) != 0;
        return failures && timeouts ? "true" : failures ? "failures" : timeouts ? "timeouts" : "false";
    }

    private void succeeded(final SucceededRecord.Decoder body)
    {
        line.append(" task=").append(body.taskId())
            .append(" attempt=").append(body.attempt())
            .append(" startedAt=").append(time(body.startedAt()))
            .append(" finishedAt=").append(time(body.finishedAt()));
        if ((body.flags() & SucceededRecord.FLAG_HELD) != 0)
        {
            line.append(" held");
        }
        bytes("output", body.buffer(), body.outputOffset(), body.outputLength());
    }

    private void failed(final FailedRecord.Decoder body)
    {
        line.append(" task=").append(body.taskId())
            .append(" attempt=").append(body.attempt())
            .append(" kind=").append(FailedRecord.kindName(body.errorKind()))
            .append(" startedAt=").append(time(body.startedAt()))
            .append(" finishedAt=").append(time(body.finishedAt()));
        bytes("message", body.buffer(), body.messageOffset(), body.messageLength());
    }

    private void engineStarted(final EngineStartedRecord.Decoder body)
    {
        line.append(" pid=").append(body.pid()).append(" engineVersion=");
        quoted(body.engineVersion());
        line.append(" settings={");
        final int start = line.length();
        body.forEachSetting((name, value) ->
        {
            if (line.length() > start)
            {
                line.append(", ");
            }
            line.append(name).append('=').append(value);
        });
        line.append('}');
    }

    private void journalRecovered(final JournalRecoveredRecord.Decoder body)
    {
        line.append(" tornDocument=")
            .append(body.tornDocumentIndex() < 0 ? "unfinished" : "0x" + Long.toHexString(body.tornDocumentIndex()))
            .append(" tornOffset=").append(body.tornOffset())
            .append(" tornBytes=").append(body.tornLength())
            .append(" lastGoodEvent=").append(body.lastGoodEventId());
    }

    private void engineStop(final EngineStopRecord.Decoder body)
    {
        line.append(" phase=").append(EngineStopRecord.phaseName(body.phase()))
            .append(" beganAt=").append(time(body.beganAt()))
            .append(" deadline=").append(time(body.deadline()));
        if (body.phase() != EngineStopRecord.PHASE_STOPPED)
        {
            return;
        }
        line.append(" finishedInTime=").append(body.finishedInTime())
            .append(" pending=").append(body.pending())
            .append(" running=").append(body.running())
            .append(" retryWaiting=").append(body.retryWaiting())
            .append(" held=").append(body.held())
            .append(" interrupted=[");
        final int shown = Math.min(body.listedCount(), MAX_ATTEMPTS_SHOWN);
        for (int i = 0; i < shown; i++)
        {
            line.append(i > 0 ? ", " : "").append("task ").append(body.listedTaskId(i)).append(" attempt ").append(body.listedAttempt(i));
        }
        if (body.running() > shown)
        {
            line.append(shown > 0 ? ", " : "").append("...(").append(body.running() - shown).append(" more)");
        }
        line.append(']');
    }

    private void transition(final RecordType type, final TransitionRecord.Decoder body)
    {
        line.append(" task=").append(body.taskId())
            .append(" attempt=").append(body.attempt())
            .append(" reason=").append(body.reason());
        final String reason = reasonName(type, body.reason());
        if (reason != null)
        {
            line.append('(').append(reason).append(')');
        }
        if (body.time() != 0)
        {
            line.append(type == RecordType.RETRY_SCHEDULED ? " dueAt=" : " time=").append(time(body.time()));
        }
    }

    /**
     * The reason codes of derived records, as docs/JOURNAL.md lists them.
     *
     * @return the reason's name, or null when the code is not one this build knows.
     */
    static String reasonName(final RecordType type, final int reason)
    {
        switch (type)
        {
            case RETRY_SCHEDULED:
                return reason == 1 ? "after-failure" : reason == 2 ? "after-timeout" : reason == 3 ? "after-redrive" : null;
            case TIMED_OUT:
                return reason == 1 ? "final" : reason == 2 ? "will-retry" : null;
            case CANCELLED:
                return reason == 1 ? "was-waiting" : reason == 2 ? "was-running" : null;
            case DEAD_LETTERED:
                return reason == 1 ? "permanent-failure" : reason == 2 ? "attempts-exhausted" : reason == 3 ? "timed-out" : null;
            case REJECTED:
                return reason == 1 ? "capacity" : reason == 5 ? "busy" : null;
            default:
                return null;
        }
    }

    private static String priorityName(final int code)
    {
        return code >= 0 && code < Priority.values().length ? Priority.fromCode(code).name() : "UNKNOWN(" + code + ")";
    }

    private static String modeName(final int code)
    {
        final ExecutionMode mode = ExecutionMode.fromCode(code);
        return mode != null ? mode.name() : "UNKNOWN(" + code + ")";
    }

    /**
     * Append {@code name=} and the bytes: {@code "escaped text"} when they are UTF-8 without control
     * characters other than tab, CR and LF, otherwise {@code hex:...}; longer than {@link #MAX_BYTES_SHOWN},
     * cut with {@code ...} and the full length.
     */
    private void bytes(final String name, final DirectBuffer buffer, final int offset, final int length)
    {
        line.append(' ').append(name).append('=');
        final int shown = Math.min(length, MAX_BYTES_SHOWN);
        buffer.getBytes(offset, scratch, 0, shown);
        final String text = shown < length ? decodeCut(shown) : decode(shown);
        if (text != null && printable(text))
        {
            quoted(text);
        }
        else
        {
            line.append("hex:");
            for (int i = 0; i < shown; i++)
            {
                line.append(HEX[(scratch[i] >> 4) & 0xF]).append(HEX[scratch[i] & 0xF]);
            }
        }
        if (shown < length)
        {
            line.append("...(").append(length).append(" bytes)");
        }
    }

    /**
     * Decode the first {@code shown} bytes of a field that was cut: the cut may split a character, so
     * allow up to three bytes of it to be dropped.
     */
    private String decodeCut(final int shown)
    {
        for (int drop = 0; drop < 4 && drop < shown; drop++)
        {
            final String text = decode(shown - drop);
            if (text != null)
            {
                return text;
            }
        }
        return null;
    }

    private String decode(final int length)
    {
        try
        {
            final CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(scratch, 0, length));
            return chars.toString();
        }
        catch (final CharacterCodingException ex)
        {
            return null;
        }
    }

    private static boolean printable(final String text)
    {
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r')
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Append text in double quotes, escaped so the line stays one line of ASCII: quote, backslash, tab,
     * CR and LF as backslash escapes, everything else outside printable ASCII as a Java-style unicode escape
     * (backslash, {@code u}, four hex digits).
     */
    private void quoted(final String text)
    {
        line.append('"');
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            switch (c)
            {
                case '"':
                    line.append("\\\"");
                    break;
                case '\\':
                    line.append("\\\\");
                    break;
                case '\t':
                    line.append("\\t");
                    break;
                case '\n':
                    line.append("\\n");
                    break;
                case '\r':
                    line.append("\\r");
                    break;
                default:
                    if (c >= 0x20 && c < 0x7F)
                    {
                        line.append(c);
                    }
                    else
                    {
                        line.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF])
                            .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
                    }
                    break;
            }
        }
        line.append('"');
    }
}
