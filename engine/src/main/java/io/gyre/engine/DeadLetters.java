package io.gyre.engine;

import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * The dead-letter list: tasks that failed permanently, used up their attempts, or timed out on their last
 * attempt, kept (unlike {@link RetainedOutcomes}, which forgets by count and age) until they are redriven or
 * purged. Bounded by the caller: the sequencer refuses to dead-letter into a full list.
 * <p>
 * Each entry is primitive fields only: its <b>sequence</b> (1, 2, 3... in the order tasks were dead-lettered;
 * the list's paging cursor), the task id, the key's hash, the journal positions of the submission and of
 * the failure that ended the task (-1 when none, for a timeout), the reason (the {@code DEAD_LETTERED}
 * record's reason code), the last attempt's number, and when the task was submitted and dead-lettered. The
 * key, request and error stay in the journal, found again by those positions.
 * <p>
 * The whole state is the entries plus {@link #nextSequence()}: {@link #forEach} visits every entry in
 * order and {@link #restore} / {@link #restoreNextSequence} rebuild a list from them (snapshots). The hash
 * index and the slot layout are derived from the entries, never part of the state.
 * <p>
 * Layout: entries in sequence order in parallel arrays; removing one leaves a hole (task id 0), and holes are
 * squeezed out when the arrays are full, so appending, removing and finding by key are O(1) amortized and
 * paging from a cursor is a binary search. One key has at most one entry (the sequencer replaces an older
 * one). Single-threaded: the sequence stage's thread.
 */
final class DeadLetters
{
    private static final int NONE = -1;
    private static final int INITIAL_CAPACITY = 16;

    /**
     * Sees every field of an entry.
     */
    @FunctionalInterface
    interface Visitor
    {
        void visit(
            long sequence,
            long taskId,
            long keyHash,
            long submitDocument,
            int submitOffset,
            long failureDocument,
            int failureOffset,
            int reason,
            int attempts,
            long submittedAt,
            long deadLetteredAt);
    }

    private long[] sequence = new long[0];
    private long[] taskId = new long[0];
    private long[] keyHash = new long[0];
    private long[] submitDocument = new long[0];
    private int[] submitOffset = new int[0];
    private long[] failureDocument = new long[0];
    private int[] failureOffset = new int[0];
    private int[] reason = new int[0];
    private int[] attempts = new int[0];
    private long[] submittedAt = new long[0];
    private long[] deadLetteredAt = new long[0];
    /** Next slot of an entry with the same key hash, or NONE. */
    private int[] nextSameHash = new int[0];
    /** Key hash to the first slot of its chain. */
    private final Long2LongHashMap byHash = new Long2LongHashMap(NONE);

    /** Slots [0, used) hold entries and holes, in sequence order. */
    private int used;
    private int size;
    private long nextSequence = 1;

    /** @return entries in the list. */
    int size()
    {
        return size;
    }

    /** @return the sequence the next entry gets. */
    long nextSequence()
    {
        return nextSequence;
    }

    /**
     * Append a task as the newest entry.
     *
     * @return its sequence.
     */
    long add(
        final long task,
        final long hash,
        final long submitDoc,
        final int submitOff,
        final long failureDoc,
        final int failureOff,
        final int reasonCode,
        final int lastAttempt,
        final long submitted,
        final long deadLettered)
    {
        final long assigned = nextSequence;
        restore(assigned, task, hash, submitDoc, submitOff, failureDoc, failureOff, reasonCode, lastAttempt, submitted, deadLettered);
        return assigned;
    }

    /**
     * Put back an entry as {@link #forEach} saw it (rebuilding a list from a snapshot). Entries must come in
     * increasing sequence order, after any already here.
     *
     * @throws IllegalArgumentException when the sequence is not after the last one, or the task id is not positive.
     */
    void restore(
        final long seq,
        final long task,
        final long hash,
        final long submitDoc,
        final int submitOff,
        final long failureDoc,
        final int failureOff,
        final int reasonCode,
        final int lastAttempt,
        final long submitted,
        final long deadLettered)
    {
        if (task <= 0)
        {
            throw new IllegalArgumentException("taskId=" + task + " must be positive");
        }
        if (seq < nextSequence)
        {
            throw new IllegalArgumentException("sequence=" + seq + " must be at least nextSequence=" + nextSequence);
        }
        if (used == taskId.length)
        {
            makeRoom();
        }
        final int slot = used++;
        sequence[slot] = seq;
        taskId[slot] = task;
        keyHash[slot] = hash;
        submitDocument[slot] = submitDoc;
        submitOffset[slot] = submitOff;
        failureDocument[slot] = failureDoc;
        failureOffset[slot] = failureOff;
        reason[slot] = reasonCode;
        attempts[slot] = lastAttempt;
        submittedAt[slot] = submitted;
        deadLetteredAt[slot] = deadLettered;
        nextSameHash[slot] = (int)byHash.get(hash);
        byHash.put(hash, slot);
        size++;
        nextSequence = seq + 1;
    }

    /**
     * Set the sequence the next entry gets (rebuilding a list whose newest entries were removed).
     *
     * @throws IllegalArgumentException when it is not after every entry's.
     */
    void restoreNextSequence(final long value)
    {
        if (value < nextSequence)
        {
            throw new IllegalArgumentException("nextSequence=" + value + " must be at least " + nextSequence);
        }
        nextSequence = value;
    }

    /**
     * @return whether an entry may have this key hash (a cheap test before reading keys from the journal).
     */
    boolean mayContain(final long hash)
    {
        return size > 0 && byHash.get(hash) != NONE;
    }

    /**
     * @return the slot of the entry whose key matches (same hash, and the check confirms it), or -1.
     */
    int find(final long hash, final RetainedOutcomes.KeyCheck check)
    {
        if (size == 0)
        {
            return NONE;
        }
        for (int slot = (int)byHash.get(hash); slot != NONE; slot = nextSameHash[slot])
        {
            if (check.matches(submitDocument[slot], submitOffset[slot]))
            {
                return slot;
            }
        }
        return NONE;
    }

    /**
     * Remove the entry in this slot (from {@link #find} or the iteration; slots stay valid until the next add).
     */
    void remove(final int slot)
    {
        if (taskId[slot] == 0)
        {
            throw new IllegalStateException("slot " + slot + " holds no entry");
        }
        final long hash = keyHash[slot];
        final int head = (int)byHash.get(hash);
        if (head == slot)
        {
            if (nextSameHash[slot] == NONE)
            {
                byHash.remove(hash);
            }
            else
            {
                byHash.put(hash, nextSameHash[slot]);
            }
        }
        else
        {
            int previous = head;
            while (nextSameHash[previous] != slot)
            {
                previous = nextSameHash[previous];
            }
            nextSameHash[previous] = nextSameHash[slot];
        }
        taskId[slot] = 0;
        nextSameHash[slot] = NONE;
        size--;
        if (size == 0)
        {
            used = 0;
        }
    }

    /**
     * Remove every entry.
     *
     * @return how many there were.
     */
    int clear()
    {
        final int removed = size;
        Arrays.fill(taskId, 0, used, 0L);
        byHash.clear();
        used = 0;
        size = 0;
        return removed;
    }

    /**
     * @return the slot of the oldest entry whose sequence is greater than {@code cursor}, or -1.
     */
    int firstAfter(final long cursor)
    {
        int low = 0;
        int high = used;
        while (low < high)
        {
            final int mid = (low + high) >>> 1;
            if (sequence[mid] <= cursor)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return skipHoles(low);
    }

    /**
     * @return the slot of the entry after this one, or -1.
     */
    int next(final int slot)
    {
        return skipHoles(slot + 1);
    }

    private int skipHoles(final int from)
    {
        for (int slot = from; slot < used; slot++)
        {
            if (taskId[slot] != 0)
            {
                return slot;
            }
        }
        return NONE;
    }

    /**
     * Visit every entry, oldest first.
     */
    void forEach(final Visitor visitor)
    {
        for (int slot = 0; slot < used; slot++)
        {
            if (taskId[slot] != 0)
            {
                visitor.visit(sequence[slot], taskId[slot], keyHash[slot], submitDocument[slot], submitOffset[slot],
                    failureDocument[slot], failureOffset[slot], reason[slot], attempts[slot], submittedAt[slot], deadLetteredAt[slot]);
            }
        }
    }

    // ---- fields of an entry, by slot

    long sequence(final int slot)
    {
        return sequence[slot];
    }

    long taskId(final int slot)
    {
        return taskId[slot];
    }

    long keyHash(final int slot)
    {
        return keyHash[slot];
    }

    long submitDocument(final int slot)
    {
        return submitDocument[slot];
    }

    int submitOffset(final int slot)
    {
        return submitOffset[slot];
    }

    long failureDocument(final int slot)
    {
        return failureDocument[slot];
    }

    int failureOffset(final int slot)
    {
        return failureOffset[slot];
    }

    int reason(final int slot)
    {
        return reason[slot];
    }

    int attempts(final int slot)
    {
        return attempts[slot];
    }

    long submittedAt(final int slot)
    {
        return submittedAt[slot];
    }

    long deadLetteredAt(final int slot)
    {
        return deadLetteredAt[slot];
    }

    /**
     * The arrays are full: squeeze the holes out when at least a quarter of the slots are holes, otherwise
     * double them (so either costs O(1) per entry added, amortized).
     */
    private void makeRoom()
    {
        if (used - size >= Math.max(1, used / 4))
        {
            compact();
        }
        else
        {
            final int capacity = Math.max(INITIAL_CAPACITY, taskId.length * 2);
            sequence = Arrays.copyOf(sequence, capacity);
            taskId = Arrays.copyOf(taskId, capacity);
            keyHash = Arrays.copyOf(keyHash, capacity);
            submitDocument = Arrays.copyOf(submitDocument, capacity);
            submitOffset = Arrays.copyOf(submitOffset, capacity);
            failureDocument = Arrays.copyOf(failureDocument, capacity);
            failureOffset = Arrays.copyOf(failureOffset, capacity);
            reason = Arrays.copyOf(reason, capacity);
            attempts = Arrays.copyOf(attempts, capacity);
            submittedAt = Arrays.copyOf(submittedAt, capacity);
            deadLetteredAt = Arrays.copyOf(deadLetteredAt, capacity);
            nextSameHash = Arrays.copyOf(nextSameHash, capacity);
        }
    }

    private void compact()
    {
        int to = 0;
        for (int from = 0; from < used; from++)
        {
            if (taskId[from] == 0)
            {
                continue;
            }
            if (to != from)
            {
                sequence[to] = sequence[from];
                taskId[to] = taskId[from];
                keyHash[to] = keyHash[from];
                submitDocument[to] = submitDocument[from];
                submitOffset[to] = submitOffset[from];
                failureDocument[to] = failureDocument[from];
                failureOffset[to] = failureOffset[from];
                reason[to] = reason[from];
                attempts[to] = attempts[from];
                submittedAt[to] = submittedAt[from];
                deadLetteredAt[to] = deadLetteredAt[from];
            }
            to++;
        }
        Arrays.fill(taskId, to, used, 0L);
        used = to;
        byHash.clear();
        for (int slot = 0; slot < used; slot++)
        {
            nextSameHash[slot] = (int)byHash.get(keyHash[slot]);
            byHash.put(keyHash[slot], slot);
        }
    }

    @Override
    public String toString()
    {
        return "DeadLetters[size=" + size + ", nextSequence=" + nextSequence + "]";
    }
}
