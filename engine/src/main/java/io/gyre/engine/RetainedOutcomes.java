package io.gyre.engine;

import java.util.Arrays;

/**
 * Finished tasks remembered for deduplication, in two parts laid out for the cache:
 * <ul>
 * <li>a <b>ring</b> of entries in finishing order, eleven longs each (key hash, task id, positions, state,
 *     times, queue and execution time): appended at the tail and forgotten from the head (by count, and by age), so both ends are
 *     touched sequentially;</li>
 * <li>an <b>index</b>, open addressing over single longs: each slot holds 36 bits of the key hash (the
 *     fingerprint, which also gives the home slot) and the entry's position in the ring. At a million entries
 *     it is 16 MiB, which stays in cache, where a table of whole entries would not.</li>
 * </ul>
 * A new key costs an index probe (a miss on the fingerprint) plus sequential ring work; only a hit reads a
 * ring entry at random. Index deletion shifts later entries back (no tombstones), so probe runs stay short.
 * <p>
 * An entry can also be {@link #forget forgotten} before its turn (a redriven task: its new outcome will
 * replace it): it leaves the index at once, and its ring slot, marked with task id 0, until the head reaches
 * it; it still counts in {@link #size()} until then.
 * <p>
 * Single-threaded: the sequence stage's thread.
 */
final class RetainedOutcomes
{
    static final int STRIDE = 11;
    private static final int KEY_HASH = 0;
    private static final int TASK_ID = 1;
    private static final int SUBMIT_DOCUMENT = 2;
    private static final int OUTCOME_DOCUMENT = 3;
    private static final int OFFSETS = 4;
    private static final int PACKED = 5;
    private static final int SUBMITTED_AT = 6;
    private static final int STARTED_AT = 7;
    private static final int FINISHED_AT = 8;
    private static final int QUEUE_NANOS = 9;
    private static final int EXECUTION_NANOS = 10;

    private static final int POSITION_BITS = 28;
    private static final long POSITION_MASK = (1L << POSITION_BITS) - 1;

    /**
     * Compares a probe key with the key of the submission at a journal position.
     */
    interface KeyCheck
    {
        boolean matches(long submitDocument, int submitOffset);
    }

    private long[] index;
    private int indexMask;

    private long[] ring;
    private int ringMask;
    private long head;
    private long tail;
    /** Sum of prefetched slots: kept so the compiler cannot drop the loads. */
    private long prefetched;

    /**
     * @param expected how many outcomes will be retained at most (the engine's limit): room for them is
     *     taken now, so that reaching the limit never stops the sequencer to grow and rehash (a stall of
     *     milliseconds at a few hundred thousand entries, and a humongous allocation for the collector).
     */
    RetainedOutcomes(final int expected)
    {
        final int capacity = Math.max(512, 1 << (32 - Integer.numberOfLeadingZeros(Math.max(1, Math.min(expected, 1 << 27)) - 1)));
        index = new long[capacity * 2];
        indexMask = index.length - 1;
        ring = new long[capacity * STRIDE];
        ringMask = capacity - 1;
    }

    int size()
    {
        return (int)(tail - head);
    }

    private static long fingerprint(final long keyHash)
    {
        return keyHash >>> POSITION_BITS;
    }

    /**
     * @return the ring position of the entry whose key matches, or -1.
     */
    int find(final long keyHash, final KeyCheck check)
    {
        final long fingerprint = fingerprint(keyHash);
        int slot = (int)fingerprint & indexMask;
        while (true)
        {
            final long value = index[slot];
            if (value == 0)
            {
                return -1;
            }
            if (value >>> POSITION_BITS == fingerprint)
            {
                final int position = (int)(value & POSITION_MASK) - 1;
                final int base = position * STRIDE;
                if (ring[base + KEY_HASH] == keyHash && check.matches(ring[base + SUBMIT_DOCUMENT], (int)(ring[base + OFFSETS] >>> 32)))
                {
                    return position;
                }
            }
            slot = (slot + 1) & indexMask;
        }
    }

    /**
     * Load the index slot a lookup of this key starts at, and nothing else. Called for every new key of a
     * batch before the batch is applied, so the batch's cache misses on the index overlap one another
     * instead of being paid one after the other inside {@link #find} and {@link #add}. Reads only: state and
     * decisions are unchanged.
     */
    void prefetch(final long keyHash)
    {
        prefetched += index[(int)fingerprint(keyHash) & indexMask];
    }

    /**
     * As {@link #prefetch}, for the first {@code count} hashes, in a loop with nothing else in it, so that
     * its cache misses overlap.
     */
    void prefetch(final long[] keyHashes, final int count)
    {
        final long[] index = this.index;
        final int mask = indexMask;
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += index[(int)fingerprint(keyHashes[i]) & mask];
        }
        prefetched += sum;
    }

    /**
     * Load the index slots of the {@code count} oldest entries, the next ones {@link #evictOldest} forgets
     * when the table is full. Reads only, as {@link #prefetch}.
     */
    void prefetchEvictions(final int count, final int capacity)
    {
        final int size = size();
        final int n = Math.min(count, size - capacity + count);
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            final long keyHash = ring[(int)((head + i) & ringMask) * STRIDE + KEY_HASH];
            sum += index[(int)fingerprint(keyHash) & indexMask];
        }
        prefetched += sum;
    }

    /**
     * Remember a finished task (its record's fields) as the newest entry.
     */
    void add(final TaskRecord r)
    {
        if (size() == ringMask + 1)
        {
            growRing();
        }
        if ((size() + 1) * 2 > indexMask + 1)
        {
            growIndex();
        }
        final int position = (int)(tail & ringMask);
        final int base = position * STRIDE;
        ring[base + KEY_HASH] = r.keyHash;
        ring[base + TASK_ID] = r.taskId;
        ring[base + SUBMIT_DOCUMENT] = r.submitDocument;
        ring[base + OUTCOME_DOCUMENT] = r.outcomeDocument;
        ring[base + OFFSETS] = ((long)r.submitOffset << 32) | (r.outcomeOffset & 0xFFFF_FFFFL);
        ring[base + PACKED] = pack(r.timeoutMillis, r.attempt, r.maxAttempts, r.state.code(), r.outcomeReason);
        ring[base + SUBMITTED_AT] = r.submittedAt;
        ring[base + STARTED_AT] = r.startedAt;
        ring[base + FINISHED_AT] = r.finishedAt;
        ring[base + QUEUE_NANOS] = r.queueNanos();
        ring[base + EXECUTION_NANOS] = r.executionNanos;
        tail++;
        insertIndex(r.keyHash, position);
    }

    /**
     * @return the finish time of the oldest entry, or {@link Long#MAX_VALUE} when empty.
     */
    long oldestFinishedAt()
    {
        return head == tail ? Long.MAX_VALUE : ring[(int)(head & ringMask) * STRIDE + FINISHED_AT];
    }

    /**
     * Forget the oldest entry.
     */
    void evictOldest()
    {
        final int position = (int)(head & ringMask);
        if (ring[position * STRIDE + TASK_ID] != 0)
        {
            removeIndex(ring[position * STRIDE + KEY_HASH], position);
        }
        head++;
    }

    /**
     * Forget the entry at this ring position (from {@link #find}) now: lookups no longer find it.
     */
    void forget(final int position)
    {
        final int base = position * STRIDE;
        if (ring[base + TASK_ID] != 0)
        {
            removeIndex(ring[base + KEY_HASH], position);
            ring[base + TASK_ID] = 0;
        }
    }

    private void insertIndex(final long keyHash, final int position)
    {
        final long fingerprint = fingerprint(keyHash);
        int slot = (int)fingerprint & indexMask;
        while (index[slot] != 0)
        {
            slot = (slot + 1) & indexMask;
        }
        index[slot] = (fingerprint << POSITION_BITS) | (position + 1L);
    }

    private void removeIndex(final long keyHash, final int position)
    {
        final long target = (fingerprint(keyHash) << POSITION_BITS) | (position + 1L);
        int slot = (int)fingerprint(keyHash) & indexMask;
        while (index[slot] != target)
        {
            if (index[slot] == 0)
            {
                return;
            }
            slot = (slot + 1) & indexMask;
        }
        // shift back later entries of the probe run that may not stay past the gap
        int gap = slot;
        int next = (gap + 1) & indexMask;
        while (index[next] != 0)
        {
            final int home = (int)(index[next] >>> POSITION_BITS) & indexMask;
            final boolean movable = gap <= next ? (home <= gap || home > next) : (home <= gap && home > next);
            if (movable)
            {
                index[gap] = index[next];
                gap = next;
            }
            next = (next + 1) & indexMask;
        }
        index[gap] = 0;
    }

    private void growIndex()
    {
        index = new long[index.length * 2];
        indexMask = index.length - 1;
        for (long seq = head; seq < tail; seq++)
        {
            final int position = (int)(seq & ringMask);
            if (ring[position * STRIDE + TASK_ID] != 0)
            {
                insertIndex(ring[position * STRIDE + KEY_HASH], position);
            }
        }
    }

    private void growRing()
    {
        final int capacity = (ringMask + 1) * 2;
        if (capacity > POSITION_MASK)
        {
            throw new IllegalStateException("retained outcomes beyond " + POSITION_MASK);
        }
        final long[] bigger = new long[capacity * STRIDE];
        int k = 0;
        for (long seq = head; seq < tail; seq++, k++)
        {
            System.arraycopy(ring, (int)(seq & ringMask) * STRIDE, bigger, k * STRIDE, STRIDE);
        }
        ring = bigger;
        ringMask = capacity - 1;
        final long count = tail - head;
        head = 0;
        tail = count;
        Arrays.fill(index, 0L);
        for (long seq = head; seq < tail; seq++)
        {
            if (ring[(int)seq * STRIDE + TASK_ID] != 0)
            {
                insertIndex(ring[(int)seq * STRIDE + KEY_HASH], (int)seq);
            }
        }
    }

    private static long pack(final int timeoutMillis, final int attempt, final int maxAttempts, final int state, final int reason)
    {
        return ((long)timeoutMillis << 32) | ((long)(attempt & 0xFFF) << 20) | ((long)(maxAttempts & 0xFFF) << 8) |
            ((long)(state & 0xF) << 4) | (reason & 0xF);
    }

    // ---- fields of an entry, by ring position

    long taskId(final int position)
    {
        return ring[position * STRIDE + TASK_ID];
    }

    long outcomeDocument(final int position)
    {
        return ring[position * STRIDE + OUTCOME_DOCUMENT];
    }

    int outcomeOffset(final int position)
    {
        return (int)ring[position * STRIDE + OFFSETS];
    }

    int timeoutMillis(final int position)
    {
        return (int)(ring[position * STRIDE + PACKED] >>> 32);
    }

    int attempts(final int position)
    {
        return (int)(ring[position * STRIDE + PACKED] >>> 20) & 0xFFF;
    }

    int maxAttempts(final int position)
    {
        return (int)(ring[position * STRIDE + PACKED] >>> 8) & 0xFFF;
    }

    TaskState state(final int position)
    {
        return TaskState.fromCode((int)(ring[position * STRIDE + PACKED] >>> 4) & 0xF);
    }

    int reason(final int position)
    {
        return (int)ring[position * STRIDE + PACKED] & 0xF;
    }

    long submittedAt(final int position)
    {
        return ring[position * STRIDE + SUBMITTED_AT];
    }

    long startedAt(final int position)
    {
        return ring[position * STRIDE + STARTED_AT];
    }

    long finishedAt(final int position)
    {
        return ring[position * STRIDE + FINISHED_AT];
    }

    long queueNanos(final int position)
    {
        return ring[position * STRIDE + QUEUE_NANOS];
    }

    long executionNanos(final int position)
    {
        return ring[position * STRIDE + EXECUTION_NANOS];
    }

    /**
     * Visit every entry, oldest first (forgotten ones excepted).
     */
    void forEach(final Sequencer.TaskVisitor visitor)
    {
        for (long seq = head; seq < tail; seq++)
        {
            final int position = (int)(seq & ringMask);
            if (ring[position * STRIDE + TASK_ID] == 0)
            {
                continue;
            }
            visitor.visit(taskId(position), state(position), attempts(position), submittedAt(position), finishedAt(position));
        }
    }

    /**
     * Write every entry, oldest first, as its eleven longs.
     *
     * @return the earliest journal document an entry refers to (its submission or its output), or
     *     {@link Long#MAX_VALUE} when none does.
     */
    long writeTo(final StateWriter out)
    {
        final int size = size();
        out.putInt(size);
        final int first = (int)(head & ringMask);
        final int capacity = ringMask + 1;
        final int toEnd = Math.min(size, capacity - first);
        out.putLongs(ring, first * STRIDE, toEnd * STRIDE);
        out.putLongs(ring, 0, (size - toEnd) * STRIDE);
        long oldest = Long.MAX_VALUE;
        for (long seq = head; seq < tail; seq++)
        {
            final int base = (int)(seq & ringMask) * STRIDE;
            final long submit = ring[base + SUBMIT_DOCUMENT];
            final long outcome = ring[base + OUTCOME_DOCUMENT];
            if (submit >= 0 && submit < oldest)
            {
                oldest = submit;
            }
            if (outcome >= 0 && outcome < oldest)
            {
                oldest = outcome;
            }
        }
        return oldest;
    }

    /**
     * Append the entries {@link #writeTo} wrote (to an empty table), indexing each.
     */
    void readFrom(final StateReader in)
    {
        if (size() > 0)
        {
            throw new IllegalStateException("retained outcomes can only be restored into an empty table");
        }
        final int n = in.count(STRIDE * 8);
        while (n > ringMask + 1)
        {
            growRing();
        }
        while (n * 2L > indexMask + 1)
        {
            index = new long[index.length * 2];
            indexMask = index.length - 1;
        }
        head = 0;
        tail = n;
        in.getLongs(ring, 0, n * STRIDE);
        for (int position = 0; position < n; position++)
        {
            // a forgotten entry (task id 0) keeps its ring slot until evicted, and stays out of the index
            if (ring[position * STRIDE + TASK_ID] != 0)
            {
                insertIndex(ring[position * STRIDE + KEY_HASH], position);
            }
        }
    }
}
