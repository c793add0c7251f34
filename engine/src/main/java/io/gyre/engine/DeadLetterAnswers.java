package io.gyre.engine;

import io.gyre.journal.FailedRecord;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import io.gyre.journal.SubmittedRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Completes dead-letter queries: the sequence stage wrote each entry's primitive fields
 * on the query; the key, type and request come from the entry's SUBMITTED record, the error from its FAILED
 * record (or, for a timeout, from the reason), both read back from the journal here.
 * <p>
 * Single-threaded: the {@link DeadLetterAnswerer}'s thread, with a journal reader of its own (not the publish
 * stage's: a page's reads there held up every client's results).
 */
final class DeadLetterAnswers implements RecordHandler
{
    private static final byte[] EMPTY = new byte[0];

    private final JournalReader journal;

    // what the last read found
    private boolean submissionFound;
    private byte[] key;
    private String type;
    private byte[] tenant;
    private byte[] payload;
    private int priority;
    private int timeoutMillis;
    private int maxAttempts;
    private String failure;

    DeadLetterAnswers(final JournalReader journal)
    {
        this.journal = journal;
    }

    void answer(final Requests.DeadLetterQuery<?> query)
    {
        if (query instanceof Requests.DeadLetterList list)
        {
            final List<DeadLetter> letters = new ArrayList<>(list.count);
            for (int i = 0; i < list.count; i++)
            {
                letters.add(letter(list, i, false));
            }
            list.complete(new DeadLetterPage(letters, list.nextCursor, list.more, list.total));
        }
        else
        {
            final Requests.DeadLetterShow show = (Requests.DeadLetterShow)query;
            if (show.count == 0)
            {
                show.complete(Optional.empty());
                return;
            }
            final DeadLetter letter = letter(show, 0, true);
            show.complete(Optional.of(new DeadLetterDetails(letter, Priority.fromCode(priority), tenant, timeoutMillis, maxAttempts,
                payload)));
        }
    }

    private DeadLetter letter(final Requests.DeadLetterQuery<?> q, final int i, final boolean withRequest)
    {
        submissionFound = false;
        key = EMPTY;
        type = "";
        tenant = EMPTY;
        payload = withRequest ? EMPTY : null;
        priority = Priority.NORMAL.code();
        timeoutMillis = 0;
        maxAttempts = 0;
        journal.readRecordAt(q.submitDocument[i], q.submitOffset[i], this);
        final DeadLetterReason reason = DeadLetterReason.fromCode(q.reason[i]);
        final String error;
        if (!submissionFound)
        {
            error = "the task's submission is no longer in the journal";
        }
        else if (q.failureDocument[i] >= 0)
        {
            failure = null;
            journal.readRecordAt(q.failureDocument[i], q.failureOffset[i], this);
            error = failure != null ? failure : "the task's last failure is no longer in the journal";
        }
        else if (reason == DeadLetterReason.TIMED_OUT)
        {
            error = timedOut(q.attempts[i], timeoutMillis);
        }
        else
        {
            error = null;
        }
        return new DeadLetter(q.cursor[i], q.taskId[i], key, type, reason, q.attempts[i], q.submittedAt[i], q.deadLetteredAt[i], error);
    }

    /** @return the error of an attempt that ran past its timeout, as outcomes word it. */
    static String timedOut(final int attempt, final int timeoutMillis)
    {
        return "attempt " + attempt + " timed out after " + timeoutMillis + " ms";
    }

    @Override
    public void onRecord(final RecordView record)
    {
        if (record.type() == RecordType.SUBMITTED)
        {
            final SubmittedRecord.Decoder d = record.submitted();
            key = copy(record, d.keyOffset(), d.keyLength());
            type = new String(copy(record, d.taskTypeOffset(), d.taskTypeLength()), java.nio.charset.StandardCharsets.UTF_8);
            priority = d.priority();
            timeoutMillis = d.timeoutMillis();
            maxAttempts = d.maxAttempts();
            if (payload != null)
            {
                tenant = copy(record, d.tenantOffset(), d.tenantLength());
                payload = copy(record, d.payloadOffset(), d.payloadLength());
            }
            submissionFound = true;
        }
        else if (record.type() == RecordType.FAILED)
        {
            final FailedRecord.Decoder d = record.failed();
            failure = d.message();
        }
    }

    private static byte[] copy(final RecordView record, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        record.buffer().getBytes(offset, bytes);
        return bytes;
    }
}
