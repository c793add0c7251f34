package io.gyre.engine;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The live tasks by task id, for the sequence stage: a ring of slots indexed by the id's low bits, and a hash map
 * for the ids whose slot another task holds.
 * <p>
 * Why not a hash map alone: a task id is the event id of its submission, so ids grow with the journal, and tasks
 * mostly end in about the order they began. Indexed by id, the slots are written, read and cleared almost in
 * sequence, a few cache lines the hardware prefetches, where a hash map scatters each task over two arrays
 * (keys and values) and compacts its probe chains on every removal: ~10 % of the sequence stage's time in a
 * profile of the engine at its peak. A task that outlives the ring (a long wait, retries far apart) keeps its
 * slot; the tasks that come around to that slot while it lives go to the map, which is the only cost of a ring
 * smaller than the spread of live ids.
 * <p>
 * Order: iteration follows the slots, then the map; callers that need an order sort ({@link #sortedIds()}).
 * Single-threaded (the sequence stage's, or replay's).
 */
final class TasksById implements Iterable<TaskRecord>
{
    /** Slots by default: 64 Ki ids of spread, 768 KB. */
    static final int DEFAULT_SLOTS = 1 << 16;
    /** The overflow map is compacted only above this capacity (below it, its arrays cost less than rebuilding them). */
    private static final int OVERFLOW_COMPACT_CAPACITY = 1 << 12;

    private final long[] ids;
    private final TaskRecord[] records;
    private final int mask;
    private final Long2ObjectHashMap<TaskRecord> overflow = new Long2ObjectHashMap<>(64, 0.5f);
    private int size;

    /**
     * @param slots a power of two.
     */
    TasksById(final int slots)
    {
        if (slots < 1 || Integer.bitCount(slots) != 1)
        {
            throw new IllegalArgumentException("slots=" + slots + " must be a power of two");
        }
        ids = new long[slots];
        records = new TaskRecord[slots];
        mask = slots - 1;
    }

    /**
     * Add or replace the task of this id.
     */
    void put(final long id, final TaskRecord record)
    {
        final int i = (int)id & mask;
        final TaskRecord held = records[i];
        if (held == null)
        {
            // the id may be in the map from when its slot was taken: it moves to its slot
            if (overflow.isEmpty() || overflow.remove(id) == null)
            {
                size++;
            }
            ids[i] = id;
            records[i] = record;
        }
        else if (ids[i] == id)
        {
            records[i] = record;
        }
        else if (overflow.put(id, record) == null)
        {
            size++;
        }
    }

    /**
     * @return the task of this id, or null.
     */
    TaskRecord get(final long id)
    {
        final int i = (int)id & mask;
        final TaskRecord held = records[i];
        if (held != null && ids[i] == id)
        {
            return held;
        }
        return overflow.isEmpty() ? null : overflow.get(id);
    }

    boolean containsKey(final long id)
    {
        return get(id) != null;
    }

    /**
     * @return the task of this id, now removed, or null.
     */
    TaskRecord remove(final long id)
    {
        final int i = (int)id & mask;
        final TaskRecord held = records[i];
        if (held != null && ids[i] == id)
        {
            records[i] = null;
            size--;
            return held;
        }
        if (overflow.isEmpty())
        {
            return null;
        }
        final TaskRecord removed = overflow.remove(id);
        if (removed != null)
        {
            size--;
            // the map never shrinks by itself: a burst of long-lived tasks (a million waits) would keep its arrays
            // for good; rebuilt at its size once it holds an eighth of what it has room for (its half load stays)
            if (overflow.capacity() > OVERFLOW_COMPACT_CAPACITY && overflow.size() < overflow.capacity() >>> 3)
            {
                overflow.compact();
            }
        }
        return removed;
    }

    int size()
    {
        return size;
    }

    boolean isEmpty()
    {
        return size == 0;
    }

    /** @return tasks that found their slot taken (a measure of the ring's fit, for tests). */
    int overflowed()
    {
        return overflow.size();
    }

    /** @return the entries the overflow map has room for (for tests: memory given back). */
    int overflowCapacity()
    {
        return overflow.capacity();
    }

    /**
     * @return every id, ascending.
     */
    long[] sortedIds()
    {
        final long[] all = new long[size];
        int n = 0;
        for (int i = 0; i < records.length; i++)
        {
            if (records[i] != null)
            {
                all[n++] = ids[i];
            }
        }
        final Long2ObjectHashMap<TaskRecord>.KeyIterator keys = overflow.keySet().iterator();
        while (keys.hasNext())
        {
            all[n++] = keys.nextLong();
        }
        Arrays.sort(all);
        return all;
    }

    /**
     * The tasks, slots first, then the others (no set order; not for the hot path).
     */
    @Override
    public Iterator<TaskRecord> iterator()
    {
        final Iterator<TaskRecord> others = overflow.values().iterator();
        return new Iterator<>()
        {
            private int next = advance(0);

            private int advance(final int from)
            {
                int i = from;
                while (i < records.length && records[i] == null)
                {
                    i++;
                }
                return i;
            }

            @Override
            public boolean hasNext()
            {
                return next < records.length || others.hasNext();
            }

            @Override
            public TaskRecord next()
            {
                if (next < records.length)
                {
                    final TaskRecord r = records[next];
                    next = advance(next + 1);
                    return r;
                }
                if (!others.hasNext())
                {
                    throw new NoSuchElementException();
                }
                return others.next();
            }
        };
    }
}
