package io.gyre.engine;

/**
 * The live tasks by the hash of their idempotency key, for the sequence stage: buckets indexed by the hash's low
 * bits, each a chain through {@link TaskRecord#nextByKey}. Tasks of one key hash share a bucket, and so may tasks
 * of different hashes: a lookup walks the chain comparing the full hash (then the caller compares the key).
 * <p>
 * Why not a hash map from hash to chain head: the records already carry the link, so a bucket array is all the
 * index needs (4 bytes a bucket with compressed references, where an open-addressing map of longs to objects
 * takes 12 bytes a slot, at the same half load); and a removal unlinks a record from a short chain where the map compacts
 * its probe run. A lookup, an insertion and a removal are one array load each and a chain of about one record.
 * The buckets double when the tasks reach half their number, so chains stay short (a task ends oldest first,
 * so its removal walks past the newer tasks of its bucket: at half load, a measured ~2 % faster replay than at
 * full load). They halve when the tasks fall to an eighth of their number (not below their initial number), so a
 * burst of live tasks (a million pending waits) does not keep its buckets after it; a few thousand live tasks keep
 * them in cache.
 * <p>
 * Single-threaded (the sequence stage's, or replay's).
 */
final class TasksByKey
{
    /** Buckets at first: doubled whenever the live tasks reach half their number. */
    static final int INITIAL_BUCKETS = 1 << 10;

    private final int initialBuckets;
    private TaskRecord[] buckets;
    private int mask;
    private int size;

    /**
     * @param initialBuckets a power of two.
     */
    TasksByKey(final int initialBuckets)
    {
        if (initialBuckets < 1 || Integer.bitCount(initialBuckets) != 1)
        {
            throw new IllegalArgumentException("initialBuckets=" + initialBuckets + " must be a power of two");
        }
        this.initialBuckets = initialBuckets;
        buckets = new TaskRecord[initialBuckets];
        mask = initialBuckets - 1;
    }

    private static int bucket(final long keyHash, final int mask)
    {
        // the key hash is a 64-bit XXH3: its low bits are as good as any
        return (int)keyHash & mask;
    }

    /**
     * @return the first task of the chain this hash belongs to, or null; walk on with {@link TaskRecord#nextByKey},
     *     and compare {@link TaskRecord#keyHash}: the chain may hold other hashes.
     */
    TaskRecord chain(final long keyHash)
    {
        return buckets[bucket(keyHash, mask)];
    }

    /**
     * Add a task, by its {@link TaskRecord#keyHash}. It must not be in the index already.
     */
    void add(final TaskRecord r)
    {
        if (size >= buckets.length >> 1)
        {
            rehash(buckets.length * 2);
        }
        final int i = bucket(r.keyHash, mask);
        r.nextByKey = buckets[i];
        buckets[i] = r;
        size++;
    }

    /**
     * Remove a task that {@link #add} added.
     *
     * @return false when it was not in the index (nothing changed).
     */
    boolean remove(final TaskRecord r)
    {
        final int i = bucket(r.keyHash, mask);
        TaskRecord at = buckets[i];
        if (at == r)
        {
            buckets[i] = r.nextByKey;
        }
        else
        {
            while (at != null && at.nextByKey != r)
            {
                at = at.nextByKey;
            }
            if (at == null)
            {
                return false;
            }
            at.nextByKey = r.nextByKey;
        }
        r.nextByKey = null;
        size--;
        if (size < buckets.length >> 3 && buckets.length > initialBuckets)
        {
            rehash(buckets.length >> 1);
        }
        return true;
    }

    int size()
    {
        return size;
    }

    int buckets()
    {
        return buckets.length;
    }

    private void rehash(final int bucketCount)
    {
        final TaskRecord[] old = buckets;
        final TaskRecord[] rehashed = new TaskRecord[bucketCount];
        final int newMask = rehashed.length - 1;
        for (final TaskRecord head : old)
        {
            TaskRecord r = head;
            while (r != null)
            {
                final TaskRecord next = r.nextByKey;
                final int i = bucket(r.keyHash, newMask);
                r.nextByKey = rehashed[i];
                rehashed[i] = r;
                r = next;
            }
        }
        buckets = rehashed;
        mask = newMask;
    }
}
