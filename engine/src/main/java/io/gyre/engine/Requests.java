package io.gyre.engine;

import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * Reply targets the engine makes for its own asynchronous API (the publish stage completes them).
 */
final class Requests
{
    private Requests()
    {
    }

    /**
     * Completes a future with an immutable copy of the outcome; exceptionally, with a {@link TaskUnfinishedException},
     * when the engine stopped before the task finished.
     */
    static final class FutureOutcome extends CompletableFuture<Outcome> implements OutcomeListener
    {
        @Override
        public void onOutcome(final TaskOutcome outcome)
        {
            if (outcome.unfinished())
            {
                unfinished(null, outcome);
                return;
            }
            complete(outcome.toOutcome());
        }

        /**
         * The engine stopped before the task finished.
         *
         * @param key the submission's key, or null when unknown.
         */
        void unfinished(final String key, final TaskOutcome outcome)
        {
            completeExceptionally(new TaskUnfinishedException(key, outcome.toOutcome()));
        }
    }

    /** Completes a future with a task's status (for status and cancel requests). */
    static final class StatusRequest extends CompletableFuture<TaskStatus>
    {
        final String key;

        StatusRequest(final String key)
        {
            this.key = key;
        }
    }

    /**
     * A question about the dead-letter list: the sequence stage writes the entries it finds here (primitive
     * fields, as the list holds them), then the publish stage reads keys, requests and errors from the journal
     * and completes it.
     */
    abstract static class DeadLetterQuery<T> extends CompletableFuture<T> implements Sequencer.DeadLetterRows
    {
        final long after;
        final int limit;
        int count;
        long[] cursor;
        long[] taskId;
        long[] submitDocument;
        int[] submitOffset;
        long[] failureDocument;
        int[] failureOffset;
        int[] reason;
        int[] attempts;
        long[] submittedAt;
        long[] deadLetteredAt;
        long nextCursor;
        boolean more;
        int total;

        DeadLetterQuery(final long after, final int limit)
        {
            this.after = after;
            this.limit = limit;
            final int capacity = Math.min(limit, 16);
            cursor = new long[capacity];
            taskId = new long[capacity];
            submitDocument = new long[capacity];
            submitOffset = new int[capacity];
            failureDocument = new long[capacity];
            failureOffset = new int[capacity];
            reason = new int[capacity];
            attempts = new int[capacity];
            submittedAt = new long[capacity];
            deadLetteredAt = new long[capacity];
        }

        @Override
        public void visit(
            final long sequence,
            final long task,
            final long keyHash,
            final long submitDoc,
            final int submitOff,
            final long failureDoc,
            final int failureOff,
            final int reasonCode,
            final int lastAttempt,
            final long submitted,
            final long deadLettered)
        {
            if (count == cursor.length)
            {
                final int capacity = Math.min(limit, count * 2);
                cursor = Arrays.copyOf(cursor, capacity);
                taskId = Arrays.copyOf(taskId, capacity);
                submitDocument = Arrays.copyOf(submitDocument, capacity);
                submitOffset = Arrays.copyOf(submitOffset, capacity);
                failureDocument = Arrays.copyOf(failureDocument, capacity);
                failureOffset = Arrays.copyOf(failureOffset, capacity);
                reason = Arrays.copyOf(reason, capacity);
                attempts = Arrays.copyOf(attempts, capacity);
                submittedAt = Arrays.copyOf(submittedAt, capacity);
                deadLetteredAt = Arrays.copyOf(deadLetteredAt, capacity);
            }
            final int i = count++;
            cursor[i] = sequence;
            taskId[i] = task;
            submitDocument[i] = submitDoc;
            submitOffset[i] = submitOff;
            failureDocument[i] = failureDoc;
            failureOffset[i] = failureOff;
            reason[i] = reasonCode;
            attempts[i] = lastAttempt;
            submittedAt[i] = submitted;
            deadLetteredAt[i] = deadLettered;
        }

        @Override
        public void end(final long next, final boolean hasMore, final int size)
        {
            nextCursor = next;
            more = hasMore;
            total = size;
        }
    }

    /** A page of the dead-letter list. */
    static final class DeadLetterList extends DeadLetterQuery<DeadLetterPage>
    {
        DeadLetterList(final long after, final int limit)
        {
            super(after, limit);
        }
    }

    /** The dead letter of a key, with its request. */
    static final class DeadLetterShow extends DeadLetterQuery<Optional<DeadLetterDetails>>
    {
        final String key;

        DeadLetterShow(final String key)
        {
            super(0, 1);
            this.key = key;
        }
    }

    /** Completes with what a redrive did. */
    static final class RedriveRequest extends CompletableFuture<RedriveResult>
    {
        final String key;

        RedriveRequest(final String key)
        {
            this.key = key;
        }
    }

    /** Completes with what a purge removed. */
    static final class PurgeRequest extends CompletableFuture<PurgeResult>
    {
        /** The key whose letter goes, or null for every letter. */
        final String key;

        PurgeRequest(final String key)
        {
            this.key = key;
        }
    }

    /** Tells the opening thread the engine's first event went through every stage. */
    static final class Startup
    {
        final CountDownLatch done = new CountDownLatch(1);
        volatile long requeued = -1;
        /** Live tasks when the start was applied, before anything ran: as the journal (and snapshot) left them. */
        volatile int live = -1;
        volatile boolean refused;
        volatile String reason;
    }
}
