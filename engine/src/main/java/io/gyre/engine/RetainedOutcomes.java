package io.gyre.engine;

import org.agrona.UnsafeApi;

/**
 * Finished tasks remembered for deduplication, in two parts laid out for the cache:
 * <ul>
 * <li>a <b>ring</b> of entries in finishing order, eleven longs each (key hash, task id, positions, state,
 *     times, queue and execution time): appended at the tail and forgotten from the head (by count, and by age), so both ends are
 *     touched sequentially;</li>
 * <li>an <b>index</b> of buckets, each one 64-byte cache line of eight longs: a watermark and seven slots.
 *     A key's home bucket is chosen by the low bits of its hash; a slot holds the hash's high 32 bits (the
 *     fingerprint) and the low 32 bits of the entry's sequence number in the ring plus one.</li>
 * </ul>
 * A lookup reads one cache line of the index (two when its bucket overflowed), and a ring entry only when a
 * fingerprint matches. <b>Forgetting the oldest entry does not touch the index</b>: a slot whose sequence number
 * is no longer in the ring's window {@code [head, tail)} is stale, free for the next key whose home it is, and
 * skipped by lookups. (The window is compared on 32 bits; a slot that outlived 2<sup>32</sup> entries
 * can look live again, but it then points at a live entry, whose key a match still compares, so a lookup
 * stays exact: it only occupies the slot until it is seen stale again.)
 * <p>
 * A bucket whose seven slots hold live entries sends the next key of that home to the next bucket, and
 * records that key's sequence number in its watermark: a lookup goes on to the next bucket only while the
 * watermark is in the window, that is while an entry that passed over this bucket may still be there.
 * Entries are indexed in sequence order, so the watermark is the newest of them. The index has three
 * and a half slots an entry of the ring's capacity, so a bucket overflows rarely (a few in a thousand).
 * <p>
 * An entry can also be {@link #forget forgotten} before its turn (a redriven task: its new outcome will
 * replace it): its slot is cleared at once, and its ring slot, marked with task id 0, until the head reaches
 * it; it still counts in {@link #size()} (the window) until then, not in {@link #live()}.
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

    /** The most entries the ring can hold. */
    static final int MAX_CAPACITY = 1 << 28;

    private static final int BUCKET_SHIFT = 3;
    private static final int BUCKET_LONGS = 1 << BUCKET_SHIFT;
    /**
     * The element of the index array at which the buckets start, so that each bucket is one cache line when
     * the array itself starts on a cache line, as G1 places an array of the size the default limit takes
     * (a humongous object starts a region). Elsewhere a bucket may straddle two lines: slower, never wrong.
     */
    private static final int FIRST_BUCKET =
        ((64 - UnsafeApi.arrayBaseOffset(long[].class) % 64) % 64) / Long.BYTES;

    /**
     * Compares a probe key with the key of the submission at a journal position.
     */
    interface KeyCheck
    {
        boolean matches(long submitDocument, int submitOffset);
    }

    private long[] index;
    private int bucketMask;

    private long[] ring;
    private int ringMask;
    private long head;
    private long tail;
    /** Entries in the window forgotten before their turn (task id 0). */
    private int forgotten;
    /**
     * Their sequence numbers, ascending ({@link #forgotten} of them): eviction, which takes the oldest, recognises one
     * without reading its ring slot, which at the head of a large window is a cache miss per task. Forgetting is rare
     * (a redrive), so the list is short and kept sorted by insertion.
     */
    private long[] forgottenSequences = new long[16];
    /** Sum of prefetched slots: kept so the compiler cannot drop the loads. */
    private long prefetched;

    /**
     * @param expected how many outcomes will be retained at most (the engine's limit): room for them is
     *     taken now, so that reaching the limit never stops the sequencer to grow and rehash (a stall of
     *     milliseconds at a few hundred thousand entries, and a humongous allocation for the collector).
     */
    RetainedOutcomes(final int expected)
    {
        final int capacity = capacityFor(expected);
        ring = new long[capacity * STRIDE];
        ringMask = capacity - 1;
        index = newIndex(capacity);
        bucketMask = buckets(capacity) - 1;
    }

    /**
     * A table whose first entry gets this sequence number rather than 0: for tests of the index across the
     * 32-bit wrap of sequence numbers.
     */
    static RetainedOutcomes startingAt(final int expected, final long firstSequence)
    {
        final RetainedOutcomes table = new RetainedOutcomes(expected);
        table.head = firstSequence;
        table.tail = firstSequence;
        return table;
    }

    /**
     * @return the bytes of heap the table takes for this many outcomes (the ring and the index, which are
     *     allocated in full when the table is made).
     */
    static long bytesFor(final int expected)
    {
        final long capacity = capacityFor(expected);
        return capacity * STRIDE * Long.BYTES + ((long)FIRST_BUCKET + capacity / 2 * BUCKET_LONGS) * Long.BYTES;
    }

    private static int capacityFor(final int expected)
    {
        return Math.max(512, 1 << (32 - Integer.numberOfLeadingZeros(Math.max(1, Math.min(expected, MAX_CAPACITY)) - 1)));
    }

    /** Half a bucket an entry: seven slots for two entries. */
    private static int buckets(final int capacity)
    {
        return capacity / 2;
    }

    private static long[] newIndex(final int capacity)
    {
        return new long[FIRST_BUCKET + buckets(capacity) * BUCKET_LONGS];
    }

    /** @return the entries in the window, forgotten ones included. */
    int size()
    {
        return (int)(tail - head);
    }

    /** @return the entries that answer a key: the window less the forgotten ones. */
    int live()
    {
        return (int)(tail - head) - forgotten;
    }

    /**
     * @param sequence32 the low 32 bits of an entry's sequence number plus one, as a slot or a watermark holds it
     * @return whether that entry is in the ring's window (see the class comment for the 32-bit wrap)
     */
    private boolean live(final int sequence32)
    {
        return Integer.compareUnsigned((int)tail - sequence32, (int)(tail - head)) < 0;
    }

    private static int bucketBase(final int bucket)
    {
        return FIRST_BUCKET + (bucket << BUCKET_SHIFT);
    }

    /**
     * @return the ring position of the entry whose key matches, or -1.
     */
    int find(final long keyHash, final KeyCheck check)
    {
        if (tail == head)
        {
            return -1;
        }
        final long[] index = this.index;
        final int fingerprint = (int)(keyHash >>> 32);
        int bucket = (int)keyHash & bucketMask;
        while (true)
        {
            final int base = bucketBase(bucket);
            for (int i = 1; i < BUCKET_LONGS; i++)
            {
                final long value = index[base + i];
                if ((int)(value >>> 32) == fingerprint && live((int)value))
                {
                    final int position = ((int)value - 1) & ringMask;
                    final int entry = position * STRIDE;
                    if (ring[entry + KEY_HASH] == keyHash && ring[entry + TASK_ID] != 0 &&
                        check.matches(ring[entry + SUBMIT_DOCUMENT], (int)(ring[entry + OFFSETS] >>> 32)))
                    {
                        return position;
                    }
                }
            }
            final int watermark = (int)index[base];
            if (watermark == 0 || !live(watermark))
            {
                return -1;
            }
            bucket = (bucket + 1) & bucketMask;
        }
    }

    /**
     * Load the index bucket a lookup of this key starts at, and nothing else. Called for every new key of a
     * batch before the batch is applied, so the batch's cache misses on the index overlap one another
     * instead of being paid one after the other inside {@link #find} and {@link #add}. Reads only: state and
     * decisions are unchanged.
     */
    void prefetch(final long keyHash)
    {
        prefetched += index[bucketBase((int)keyHash & bucketMask)];
    }

    /**
     * As {@link #prefetch}, for the first {@code count} hashes, in a loop with nothing else in it, so that
     * its cache misses overlap.
     */
    void prefetch(final long[] keyHashes, final int count)
    {
        final long[] index = this.index;
        final int mask = bucketMask;
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += index[bucketBase((int)keyHashes[i] & mask)];
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
        final long sequence = tail;
        final int position = (int)(sequence & ringMask);
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
        insertIndex(r.keyHash, sequence);
    }

    /**
     * @return the finish time of the oldest entry, or {@link Long#MAX_VALUE} when empty.
     */
    long oldestFinishedAt()
    {
        return head == tail ? Long.MAX_VALUE : ring[(int)(head & ringMask) * STRIDE + FINISHED_AT];
    }

    /**
     * Forget the oldest entry. Its index slot goes stale by itself: nothing to remove.
     */
    void evictOldest()
    {
        if (head < tail)
        {
            if (forgotten > 0 && forgottenSequences[0] == head)
            {
                forgotten--;
                System.arraycopy(forgottenSequences, 1, forgottenSequences, 0, forgotten);
            }
            head++;
        }
    }

    /**
     * Forget the oldest entries until at most {@code limit} are left: entries that answer a key, or, with
     * {@code countForgotten} (journals written before {@link Settings#forgottenOutcomesCount()}), every entry of
     * the window.
     */
    void trimTo(final int limit, final boolean countForgotten)
    {
        while ((countForgotten ? size() : live()) > limit)
        {
            evictOldest();
        }
    }

    /**
     * Forget the entry at this ring position (from {@link #find}) now: lookups no longer find it.
     */
    void forget(final int position)
    {
        final int base = position * STRIDE;
        if (ring[base + TASK_ID] != 0)
        {
            final long sequence = head + ((position - head) & ringMask);
            removeIndex(ring[base + KEY_HASH], sequence);
            ring[base + TASK_ID] = 0;
            addForgotten(sequence);
        }
    }

    private void addForgotten(final long sequence)
    {
        if (forgotten == forgottenSequences.length)
        {
            forgottenSequences = java.util.Arrays.copyOf(forgottenSequences, forgotten * 2);
        }
        int i = forgotten;
        while (i > 0 && forgottenSequences[i - 1] > sequence)
        {
            forgottenSequences[i] = forgottenSequences[i - 1];
            i--;
        }
        forgottenSequences[i] = sequence;
        forgotten++;
    }

    private static long slotValue(final long keyHash, final long sequence)
    {
        return (keyHash & 0xFFFF_FFFF_0000_0000L) | ((sequence + 1) & 0xFFFF_FFFFL);
    }

    /**
     * Index an entry just appended: the first free slot (empty, or stale) from the key's home bucket on.
     * Entries are indexed in sequence order, which the watermarks rely on.
     */
    private void insertIndex(final long keyHash, final long sequence)
    {
        final long[] index = this.index;
        int bucket = (int)keyHash & bucketMask;
        while (true)
        {
            final int base = bucketBase(bucket);
            for (int i = 1; i < BUCKET_LONGS; i++)
            {
                final long value = index[base + i];
                if (value == 0 || !live((int)value))
                {
                    index[base + i] = slotValue(keyHash, sequence);
                    return;
                }
            }
            index[base] = (sequence + 1) & 0xFFFF_FFFFL;
            bucket = (bucket + 1) & bucketMask;
        }
    }

    private void removeIndex(final long keyHash, final long sequence)
    {
        final long target = slotValue(keyHash, sequence);
        int bucket = (int)keyHash & bucketMask;
        for (int visited = 0; visited <= bucketMask; visited++)
        {
            final int base = bucketBase(bucket);
            for (int i = 1; i < BUCKET_LONGS; i++)
            {
                if (index[base + i] == target)
                {
                    index[base + i] = 0;
                    return;
                }
            }
            bucket = (bucket + 1) & bucketMask;
        }
    }

    /**
     * Index every entry of the window again, in sequence order, into a fresh index for this capacity.
     */
    private void rebuildIndex(final int capacity)
    {
        index = newIndex(capacity);
        bucketMask = buckets(capacity) - 1;
        for (long seq = head; seq < tail; seq++)
        {
            final int position = (int)(seq & ringMask);
            if (ring[position * STRIDE + TASK_ID] != 0)
            {
                insertIndex(ring[position * STRIDE + KEY_HASH], seq);
            }
        }
    }

    private void growRing()
    {
        final int capacity = (ringMask + 1) * 2;
        if (capacity > MAX_CAPACITY)
        {
            throw new IllegalStateException("retained outcomes beyond " + MAX_CAPACITY);
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
        for (int i = 0; i < forgotten; i++)
        {
            forgottenSequences[i] -= head;      // renumbered with the window, from 0
        }
        head = 0;
        tail = count;
        rebuildIndex(capacity);
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
        head = 0;
        tail = n;
        in.getLongs(ring, 0, n * STRIDE);
        forgotten = 0;
        for (int i = 0; i < n; i++)
        {
            if (ring[i * STRIDE + TASK_ID] == 0)
            {
                addForgotten(i);
            }
        }
        // a forgotten entry (task id 0) keeps its ring slot until evicted, and stays out of the index
        rebuildIndex(ringMask + 1);
    }
}
