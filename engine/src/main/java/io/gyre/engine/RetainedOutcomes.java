package io.gyre.engine;

import java.util.Arrays;

/**
 * Finished tasks remembered for deduplication: an open-addressing table keyed by key hash, each entry
 * nine longs in one array (one or two cache lines, no object to follow), plus a FIFO of finishing order
 * that decides which entry is forgotten first (by count, and by age).
 * <p>
 * Why not a general-purpose map: the table holds up to millions of entries and every task inserts one and
 * evicts one; with a map of objects that is several cache misses per task, here it is about two. Deletion
 * shifts later entries back (no tombstones), so probe chains stay short.
 * <p>
 * Single-threaded: the sequence stage's thread.
 */
final class RetainedOutcomes
{
    static final int STRIDE = 9;
    private static final int KEY_HASH = 0;
    private static final int TASK_ID = 1;
    private static final int SUBMIT_DOCUMENT = 2;
    private static final int OUTCOME_DOCUMENT = 3;
    private static final int OFFSETS = 4;
    private static final int PACKED = 5;
    private static final int SUBMITTED_AT = 6;
    private static final int STARTED_AT = 7;
    private static final int FINISHED_AT = 8;

    /**
     * Compares a probe key with the key of the submission at a journal position.
     */
    interface KeyCheck
    {
        boolean matches(long submitDocument, int submitOffset);
    }

    private long[] table;
    private int mask;
    private int size;

    private long[] fifoKeyHash = new long[1024];
    private long[] fifoTaskId = new long[1024];
    private long[] fifoFinishedAt = new long[1024];
    private int fifoHead;
    private int fifoCount;

    RetainedOutcomes()
    {
        allocate(1024);
    }

    private void allocate(final int slots)
    {
        table = new long[slots * STRIDE];
        mask = slots - 1;
        size = 0;
    }

    int size()
    {
        return size;
    }

    /**
     * @return the slot of the entry whose key matches, or -1.
     */
    int find(final long keyHash, final KeyCheck check)
    {
        int slot = (int)keyHash & mask;
        while (true)
        {
            final int base = slot * STRIDE;
            if (table[base + TASK_ID] == 0)
            {
                return -1;
            }
            if (table[base + KEY_HASH] == keyHash && check.matches(table[base + SUBMIT_DOCUMENT], (int)(table[base + OFFSETS] >>> 32)))
            {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    /**
     * Remember a finished task (its record fields) as the newest entry.
     */
    void add(final TaskRecord r)
    {
        if ((size + 1) * 2 > mask + 1)
        {
            grow();
        }
        insert(r.keyHash, r.taskId, r.submitDocument, r.outcomeDocument,
            ((long)r.submitOffset << 32) | (r.outcomeOffset & 0xFFFF_FFFFL),
            pack(r.timeoutMillis, r.attempt, r.maxAttempts, r.state.code(), r.outcomeReason),
            r.submittedAt, r.startedAt, r.finishedAt);
        if (fifoCount == fifoKeyHash.length)
        {
            growFifo();
        }
        final int tail = (fifoHead + fifoCount) & (fifoKeyHash.length - 1);
        fifoKeyHash[tail] = r.keyHash;
        fifoTaskId[tail] = r.taskId;
        fifoFinishedAt[tail] = r.finishedAt;
        fifoCount++;
    }

    /**
     * @return the finish time of the oldest entry, or {@link Long#MAX_VALUE} when empty.
     */
    long oldestFinishedAt()
    {
        return fifoCount == 0 ? Long.MAX_VALUE : fifoFinishedAt[fifoHead];
    }

    /**
     * Forget the oldest entry.
     */
    void evictOldest()
    {
        final long keyHash = fifoKeyHash[fifoHead];
        final long taskId = fifoTaskId[fifoHead];
        fifoHead = (fifoHead + 1) & (fifoKeyHash.length - 1);
        fifoCount--;
        remove(keyHash, taskId);
    }

    private void insert(
        final long keyHash, final long taskId, final long submitDocument, final long outcomeDocument,
        final long offsets, final long packed, final long submittedAt, final long startedAt, final long finishedAt)
    {
        int slot = (int)keyHash & mask;
        while (table[slot * STRIDE + TASK_ID] != 0)
        {
            slot = (slot + 1) & mask;
        }
        final int base = slot * STRIDE;
        table[base + KEY_HASH] = keyHash;
        table[base + TASK_ID] = taskId;
        table[base + SUBMIT_DOCUMENT] = submitDocument;
        table[base + OUTCOME_DOCUMENT] = outcomeDocument;
        table[base + OFFSETS] = offsets;
        table[base + PACKED] = packed;
        table[base + SUBMITTED_AT] = submittedAt;
        table[base + STARTED_AT] = startedAt;
        table[base + FINISHED_AT] = finishedAt;
        size++;
    }

    private void remove(final long keyHash, final long taskId)
    {
        int slot = (int)keyHash & mask;
        while (true)
        {
            final long id = table[slot * STRIDE + TASK_ID];
            if (id == 0)
            {
                return;
            }
            if (id == taskId)
            {
                break;
            }
            slot = (slot + 1) & mask;
        }
        // shift back later entries of the probe run that may not stay past the gap
        int gap = slot;
        int next = (gap + 1) & mask;
        while (table[next * STRIDE + TASK_ID] != 0)
        {
            final int home = (int)table[next * STRIDE + KEY_HASH] & mask;
            final boolean movable = gap <= next ? (home <= gap || home > next) : (home <= gap && home > next);
            if (movable)
            {
                System.arraycopy(table, next * STRIDE, table, gap * STRIDE, STRIDE);
                gap = next;
            }
            next = (next + 1) & mask;
        }
        Arrays.fill(table, gap * STRIDE, gap * STRIDE + STRIDE, 0L);
        size--;
    }

    private void grow()
    {
        final long[] old = table;
        allocate((mask + 1) * 2);
        for (int base = 0; base < old.length; base += STRIDE)
        {
            if (old[base + TASK_ID] != 0)
            {
                insert(old[base + KEY_HASH], old[base + TASK_ID], old[base + SUBMIT_DOCUMENT], old[base + OUTCOME_DOCUMENT],
                    old[base + OFFSETS], old[base + PACKED], old[base + SUBMITTED_AT], old[base + STARTED_AT], old[base + FINISHED_AT]);
            }
        }
    }

    private void growFifo()
    {
        final int n = fifoKeyHash.length * 2;
        final long[] hashes = new long[n];
        final long[] ids = new long[n];
        final long[] times = new long[n];
        for (int k = 0; k < fifoCount; k++)
        {
            final int i = (fifoHead + k) & (fifoKeyHash.length - 1);
            hashes[k] = fifoKeyHash[i];
            ids[k] = fifoTaskId[i];
            times[k] = fifoFinishedAt[i];
        }
        fifoKeyHash = hashes;
        fifoTaskId = ids;
        fifoFinishedAt = times;
        fifoHead = 0;
    }

    private static long pack(final int timeoutMillis, final int attempt, final int maxAttempts, final int state, final int reason)
    {
        return ((long)timeoutMillis << 32) | ((long)(attempt & 0xFFF) << 20) | ((long)(maxAttempts & 0xFFF) << 8) |
            ((long)(state & 0xF) << 4) | (reason & 0xF);
    }

    // ---- fields of an entry, by slot

    long taskId(final int slot)
    {
        return table[slot * STRIDE + TASK_ID];
    }

    long outcomeDocument(final int slot)
    {
        return table[slot * STRIDE + OUTCOME_DOCUMENT];
    }

    int outcomeOffset(final int slot)
    {
        return (int)table[slot * STRIDE + OFFSETS];
    }

    int timeoutMillis(final int slot)
    {
        return (int)(table[slot * STRIDE + PACKED] >>> 32);
    }

    int attempts(final int slot)
    {
        return (int)(table[slot * STRIDE + PACKED] >>> 20) & 0xFFF;
    }

    int maxAttempts(final int slot)
    {
        return (int)(table[slot * STRIDE + PACKED] >>> 8) & 0xFFF;
    }

    TaskState state(final int slot)
    {
        return TaskState.fromCode((int)(table[slot * STRIDE + PACKED] >>> 4) & 0xF);
    }

    int reason(final int slot)
    {
        return (int)table[slot * STRIDE + PACKED] & 0xF;
    }

    long submittedAt(final int slot)
    {
        return table[slot * STRIDE + SUBMITTED_AT];
    }

    long startedAt(final int slot)
    {
        return table[slot * STRIDE + STARTED_AT];
    }

    long finishedAt(final int slot)
    {
        return table[slot * STRIDE + FINISHED_AT];
    }

    /**
     * Visit every entry (for inspection; order is the table's).
     */
    void forEach(final Sequencer.TaskVisitor visitor)
    {
        for (int slot = 0; slot <= mask; slot++)
        {
            if (taskId(slot) != 0)
            {
                visitor.visit(taskId(slot), state(slot), attempts(slot), submittedAt(slot), finishedAt(slot));
            }
        }
    }
}
