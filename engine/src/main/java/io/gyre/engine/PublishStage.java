package io.gyre.engine;

import com.lmax.disruptor.EventHandler;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Stage 4, last: deliver every reply the sequence stage decided (acceptances, outcomes, refusals,
 * statuses) to the listeners waiting for them, then release the event. By now the event, and the record
 * any outcome came from, are in the journal. A listener that throws is logged and skipped; it cannot
 * stop the engine.
 */
final class PublishStage implements EventHandler<RingEvent>, RecordHandler
{
    private static final Logger LOG = LoggerFactory.getLogger(PublishStage.class);
    static final String MISPLACED_OUTCOME = "the outcome's record is not where the journal had it (were the journal's files replaced?)";

    private final JournalReader outcomes;
    private final ByteBudget budget;
    private final TaskOutcome view = new TaskOutcome();
    /** Where dead-letter queries go to be answered: off this thread, since the answer reads the journal per entry. */
    private final java.util.function.Consumer<Requests.DeadLetterQuery<?>> deadLetters;
    private final HandlerRegistry registry;
    private long listenerFailures;
    private final RepeatedWarnings listenerWarnings = new RepeatedWarnings();

    // listeners that asked to hear the end of a batch and were given replies in this one
    private BatchingOutcomeListener[] enlisted = new BatchingOutcomeListener[64];
    private int enlistedCount;
    private long batch;

    // the reply being delivered while an outcome record is read back from the journal
    private Effects pendingFx;
    private int pendingIndex;

    /**
     * @param deadLetters takes the dead-letter queries the sequence stage has filled, to answer them elsewhere
     *     (a {@link DeadLetterAnswerer}); it must not wait.
     */
    PublishStage(
        final JournalReader outcomes,
        final ByteBudget budget,
        final HandlerRegistry registry,
        final java.util.function.Consumer<Requests.DeadLetterQuery<?>> deadLetters)
    {
        this.outcomes = outcomes;
        this.budget = budget;
        this.registry = registry;
        this.deadLetters = deadLetters;
    }

    @Override
    public void onEvent(final RingEvent e, final long sequence, final boolean endOfBatch)
    {
        final Effects fx = e.effects;
        for (int i = 0; i < fx.replyCount; i++)
        {
            try
            {
                deliver(e, fx, i);
            }
            catch (final Throwable t)
            {
                listenerFailures++;
                listenerFailed(e, fx, i, t);
            }
        }
        budget.release(e.budgetBytes);
        e.clear();
        if (endOfBatch)
        {
            endBatch();
        }
    }

    /**
     * Log a listener's failure with the fields of the task it was told about. Those come from the reply and its
     * event: the key from a request made by key (submit, cancel, status, redrive: every reply to one is about the
     * task of that key), the type from a submission that created the task. A reply to a task's joiners on an event
     * that carries no key (an attempt's result, a derived record, a timer) has no key nor type at hand: this stage
     * reads only the outcome's record, which holds neither, and the sequencer's index is not this thread's to read.
     */
    private void listenerFailed(final RingEvent e, final Effects fx, final int i, final Throwable t)
    {
        // a listener that throws on every outcome must not flood the log at the engine's rate
        final long since = listenerWarnings.occurred(System.nanoTime());
        final org.slf4j.spi.LoggingEventBuilder line = (since > 0 ? LOG.atWarn() : LOG.atDebug()).setCause(t);
        if (!TaskLog.enabled(line))
        {
            return;
        }
        final long taskId = fx.replyTaskId(i);
        final TaskState state = fx.replyState(i);
        final String type = e.kind == RingEvent.SUBMIT && e.journaled && taskId == e.eventId ? registry.typeOf(e.handlerId) : null;
        TaskLog.task(line, taskId, TaskLog.keyOf(e), type, state == null ? 0 : fx.replyAttempts(i), state)
            .log("a listener threw on the reply to the task (correlation {}); the engine goes on{}", fx.replyCorrelation(i),
                RepeatedWarnings.since(since));
    }

    private void enlist(final Object target)
    {
        if (target instanceof BatchingOutcomeListener listener && listener.enlistedInBatch != batch)
        {
            listener.enlistedInBatch = batch;
            if (enlistedCount == enlisted.length)
            {
                enlisted = Arrays.copyOf(enlisted, enlistedCount * 2);
            }
            enlisted[enlistedCount++] = listener;
        }
    }

    private void endBatch()
    {
        for (int i = 0; i < enlistedCount; i++)
        {
            final BatchingOutcomeListener listener = enlisted[i];
            enlisted[i] = null;
            try
            {
                listener.onEndOfBatch();
            }
            catch (final Throwable t)
            {
                listenerFailures++;
                LOG.warn("a listener failed at the end of a batch", t);
            }
        }
        enlistedCount = 0;
        batch++;
    }

    private void deliver(final RingEvent e, final Effects fx, final int i)
    {
        final Object target = fx.replyTarget(i);
        enlist(target);
        switch (fx.replyKind(i))
        {
            case Effects.REPLY_ACCEPTED -> ((OutcomeListener)target).onAccepted(fx.replyCorrelation(i), fx.replyTaskId(i));
            case Effects.REPLY_REJECTED -> rejected(e, target, fx, i);
            case Effects.REPLY_OUTCOME -> outcome(e, fx, i);
            case Effects.REPLY_STATUS -> status(fx, i);
            case Effects.REPLY_DEAD_LETTERS -> deadLetters.accept((Requests.DeadLetterQuery<?>)target);
            case Effects.REPLY_REDRIVE -> redriven((Requests.RedriveRequest)target, fx, i);
            case Effects.REPLY_PURGED -> ((Requests.PurgeRequest)target).complete(new PurgeResult(fx.replyPurgedCount(i), fx.replyRemaining(i)));
            case Effects.REPLY_STARTED ->
            {
                final Requests.Startup startup = (Requests.Startup)target;
                startup.requeued = fx.replyCorrelation(i);
                startup.live = (int)fx.replyTaskId(i);
                startup.done.countDown();
            }
            default -> throw new IllegalStateException("reply kind " + fx.replyKind(i));
        }
    }

    private static final String UNINSTALLED = "the task type is not installed in this engine (the journal holds tasks of it: " +
        "its plugin was removed), and the key has no task in flight nor a recorded outcome to answer with";

    private void rejected(final RingEvent e, final Object target, final Effects fx, final int i)
    {
        final RejectReason reason = RejectReason.fromCode(fx.replyReason(i));
        // why the journal did not take the request, when that is the reason (its error, e.g. the disk is full)
        final String why = reason == RejectReason.JOURNAL_UNAVAILABLE && e.journalError != null ?
            "the journal cannot be written (" + e.journalError + "); nothing was accepted: retry later" :
            reason == RejectReason.UNKNOWN_TYPE ? UNINSTALLED : null;
        if (target instanceof OutcomeListener listener)
        {
            listener.onOutcome(view.reset(fx.replyCorrelation(i), fx.replyTaskId(i)).rejected(reason).error(why));
        }
        else if (target instanceof Requests.StatusRequest request)
        {
            request.completeExceptionally(new RequestRefusedException(reason, "request for key " + request.key + " was refused: " + reason +
                (why != null ? ": " + why : "")));
        }
        else if (target instanceof Requests.RedriveRequest request)
        {
            request.completeExceptionally(new RequestRefusedException(reason, "redrive of key " + request.key + " was refused: " + reason +
                (why != null ? ": " + why : "")));
        }
        else if (target instanceof Requests.PurgeRequest request)
        {
            request.completeExceptionally(new RequestRefusedException(reason,
                (request.key == null ? "purge of every dead letter" : "purge of key " + request.key) + " was refused: " + reason +
                (why != null ? ": " + why : "")));
        }
        else if (target instanceof Requests.Startup startup)
        {
            startup.refused = true;
            startup.reason = why;
            startup.done.countDown();
        }
    }

    private void outcome(final RingEvent e, final Effects fx, final int i)
    {
        fillOutcome(fx, i);
        switch (fx.replySource(i))
        {
            case Effects.SOURCE_THIS_EVENT ->
            {
                if (e.succeeded)
                {
                    view.output(e.output.buffer(), 0, e.output.length());
                }
                else
                {
                    view.error(utf8(e.output.buffer(), 0, e.output.length()));
                }
                ((OutcomeListener)fx.replyTarget(i)).onOutcome(view);
            }
            case Effects.SOURCE_JOURNAL -> readBack(fx, i);
            default ->
            {
                view.error(describe(fx, i));
                ((OutcomeListener)fx.replyTarget(i)).onOutcome(view);
            }
        }
    }

    private void fillOutcome(final Effects fx, final int i)
    {
        view.reset(fx.replyCorrelation(i), fx.replyTaskId(i))
            .completed(fx.replyState(i), fx.replyAttempts(i), fx.replyDuplicate(i))
            .times(fx.replySubmittedAt(i), fx.replyStartedAt(i), fx.replyFinishedAt(i))
            .accounting(fx.replyQueueNanos(i), fx.replyExecutionNanos(i));
    }

    /** Whether a misplaced outcome record was logged: once is enough to tell the operator. */
    private boolean misplacedLogged;

    private void readBack(final Effects fx, final int i)
    {
        pendingFx = fx;
        pendingIndex = i;
        if (!outcomes.readRecordAt(fx.replyDocument(i), fx.replyOffset(i), this))
        {
            view.error("the outcome's record is no longer in the journal");
            deliverPending();
        }
        pendingFx = null;
    }

    /**
     * An outcome record read back from the journal (still mapped: deliver before returning).
     */
    @Override
    public void onRecord(final RecordView record)
    {
        final long taskId = pendingFx.replyTaskId(pendingIndex);
        if (record.type() == RecordType.SUCCEEDED && record.succeeded().taskId() == taskId)
        {
            view.output(record.buffer(), record.succeeded().outputOffset(), record.succeeded().outputLength());
        }
        else if (record.type() == RecordType.FAILED && record.failed().taskId() == taskId)
        {
            view.error(record.failed().message());
        }
        else
        {
            // never another task's output: the journal's files were replaced under the running engine
            view.error(MISPLACED_OUTCOME);
            if (!misplacedLogged)
            {
                misplacedLogged = true;
                LOG.error("the outcome record of task {} is not where the journal had it (document {}, offset {}): {} of task {} is " +
                    "there; were the journal's files deleted or replaced while the engine ran?", taskId, record.documentIndex(),
                    record.offsetInDocument(), record.type(), record.type() == RecordType.SUCCEEDED ? record.succeeded().taskId() :
                    record.type() == RecordType.FAILED ? record.failed().taskId() : -1);
            }
        }
        deliverPending();
    }

    private void deliverPending()
    {
        final Object target = pendingFx.replyTarget(pendingIndex);
        if (target instanceof OutcomeListener listener)
        {
            listener.onOutcome(view);
        }
        else
        {
            final Requests.StatusRequest request = (Requests.StatusRequest)target;
            request.complete(statusOf(request.key, pendingFx, pendingIndex, view.toOutcome()));
        }
    }

    private void status(final Effects fx, final int i)
    {
        final Requests.StatusRequest request = (Requests.StatusRequest)fx.replyTarget(i);
        if (fx.replyTaskId(i) == 0)
        {
            request.complete(TaskStatus.notFound(request.key));
            return;
        }
        final TaskState state = fx.replyState(i);
        if (!state.terminal())
        {
            request.complete(statusOf(request.key, fx, i, null));
            return;
        }
        fillOutcome(fx, i);
        if (fx.replySource(i) == Effects.SOURCE_JOURNAL)
        {
            readBack(fx, i);
        }
        else
        {
            view.error(describe(fx, i));
            request.complete(statusOf(request.key, fx, i, view.toOutcome()));
        }
    }

    private static void redriven(final Requests.RedriveRequest request, final Effects fx, final int i)
    {
        final RedriveOutcome outcome = RedriveOutcome.fromCode(fx.replyReason(i));
        final TaskState state = fx.replyState(i);
        final long taskId = fx.replyTaskId(i);
        final String message = switch (outcome)
        {
            case REDRIVEN -> "task " + taskId + " of key " + request.key + " redriven: attempts " + (fx.replyAttempts(i) + 1) + " to " +
                fx.replyMaxAttempts(i) + " may run";
            case NOT_DEAD_LETTERED -> state == null ?
                "key " + request.key + " is not dead-lettered: no task with this key is known" :
                state == TaskState.DEAD_LETTERED ?
                    "key " + request.key + " has no dead letter: its task " + taskId +
                        " ended DEAD_LETTERED, and its letter is gone (purged, or left out when the list was full)" :
                    "key " + request.key + " is not dead-lettered: its task " + taskId + " is " + state;
            case SUPERSEDED -> "the dead letter of key " + request.key + " is superseded: task " + taskId +
                " was submitted with this key since and is " + state + "; purge the dead letter instead";
            case CAPACITY -> "task " + taskId + " of key " + request.key +
                " was not redriven: the engine holds as many live tasks as it is configured for; retry later";
            case ATTEMPTS_LIMIT -> "task " + taskId + " of key " + request.key + " was not redriven: it has made " + fx.replyAttempts(i) +
                " attempts, and a fresh budget would take it to " + fx.replyMaxAttempts(i) + ", past the limit of " +
                Engine.MAX_ATTEMPTS_PER_TASK + " per task";
            case SUBMISSION_MISSING -> "task " + taskId + " of key " + request.key +
                " was not redriven: its submission is no longer in the journal";
        };
        request.complete(new RedriveResult(request.key, outcome, taskId, state, fx.replyAttempts(i), fx.replyMaxAttempts(i), message));
    }

    private static TaskStatus statusOf(final String key, final Effects fx, final int i, final Outcome outcome)
    {
        return new TaskStatus(key, true, fx.replyTaskId(i), fx.replyState(i), fx.replyAttempts(i), fx.replyMaxAttempts(i),
            fx.replySubmittedAt(i), outcome);
    }

    private static String describe(final Effects fx, final int i)
    {
        final TaskState state = fx.replyState(i);
        if (state == TaskState.TIMED_OUT)
        {
            return DeadLetterAnswers.timedOut(fx.replyAttempts(i), fx.replyTimeoutMillis(i));
        }
        if (state == TaskState.DEAD_LETTERED && fx.replyReason(i) == Sequencer.REASON_DEAD_LETTER_TIMED_OUT)
        {
            return DeadLetterAnswers.timedOut(fx.replyAttempts(i), fx.replyTimeoutMillis(i));
        }
        if (state == TaskState.CANCELLED)
        {
            // waiting: for its first attempt (it never ran), or for a retry or a pool slot after attempts that did
            // (a later attempt's number, or time spent executing, says one did)
            return fx.replyReason(i) == Sequencer.REASON_CANCELLED_RUNNING ? "cancelled while running" :
                fx.replyAttempts(i) <= 1 && fx.replyExecutionNanos(i) == 0 ? "cancelled before it ran" :
                    "cancelled while waiting for its next attempt";
        }
        return null;
    }

    private static String utf8(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    long listenerFailures()
    {
        return listenerFailures;
    }
}
