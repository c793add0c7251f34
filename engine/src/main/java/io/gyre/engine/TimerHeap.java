package io.gyre.engine;

import java.util.Arrays;

/**
 * Pending timers of the sequence stage, earliest first: a binary heap over primitive arrays, ordered by
 * due time and then by insertion, so the order timers fire in depends only on the events that set them.
 * Timers are not removed one by one: each names a task and attempt, one that no longer applies is ignored
 * when it fires, and {@link #removeIf} drops those that never can in bulk.
 */
final class TimerHeap
{
    static final int RETRY = 1;
    static final int DEADLINE = 2;
    /** A held outcome's release time. */
    static final int RELEASE = 3;

    private static final int INITIAL_CAPACITY = 64;

    private long[] due = new long[INITIAL_CAPACITY];
    private long[] order = new long[INITIAL_CAPACITY];
    private long[] taskId = new long[INITIAL_CAPACITY];
    private int[] attempt = new int[INITIAL_CAPACITY];
    private byte[] kind = new byte[INITIAL_CAPACITY];
    private int size;
    private long inserted;

    void add(final long dueAt, final long task, final int attemptNumber, final int timerKind)
    {
        if (size == due.length)
        {
            resize(size * 2);
        }
        int i = size++;
        final long seq = inserted++;
        while (i > 0)
        {
            final int parent = (i - 1) >>> 1;
            if (!before(dueAt, seq, due[parent], order[parent]))
            {
                break;
            }
            move(parent, i);
            i = parent;
        }
        set(i, dueAt, seq, task, attemptNumber, timerKind);
    }

    int size()
    {
        return size;
    }

    /** @return the earliest due time, or {@link Long#MAX_VALUE} when empty. */
    long peekDue()
    {
        return size == 0 ? Long.MAX_VALUE : due[0];
    }

    long peekTaskId()
    {
        return taskId[0];
    }

    /** @return the task of the timer in heap slot {@code i} (slots in no particular order), {@code i < size()}. */
    long taskIdAt(final int i)
    {
        return taskId[i];
    }

    int attemptAt(final int i)
    {
        return attempt[i];
    }

    int kindAt(final int i)
    {
        return kind[i];
    }

    int peekAttempt()
    {
        return attempt[0];
    }

    int peekKind()
    {
        return kind[0];
    }

    void poll()
    {
        final int last = --size;
        if (last != 0)
        {
            move(last, 0);
            siftDown(0);
        }
        shrinkIfSparse();
    }

    /** @return the timers the arrays have room for (memory held: 29 bytes each). */
    int capacity()
    {
        return due.length;
    }

    /**
     * Gives memory back once the timers fill a quarter of the arrays or less (a million waits that all fired would
     * otherwise hold ~30 MiB for good), halving them: room for twice the timers left, so a heap that grows and
     * shrinks around a size does not copy its arrays at every timer.
     */
    private void shrinkIfSparse()
    {
        if (size <= due.length >>> 2 && due.length > INITIAL_CAPACITY)
        {
            resize(Math.max(INITIAL_CAPACITY, due.length >>> 1));
        }
    }

    private void resize(final int capacity)
    {
        due = Arrays.copyOf(due, capacity);
        order = Arrays.copyOf(order, capacity);
        taskId = Arrays.copyOf(taskId, capacity);
        attempt = Arrays.copyOf(attempt, capacity);
        kind = Arrays.copyOf(kind, capacity);
    }

    /**
     * What decides that a timer can no longer act.
     */
    @FunctionalInterface
    interface Dead
    {
        boolean test(long taskId, int attempt);
    }

    /**
     * Drops the timers that can no longer act, keeping the others' due times and insertion order, so they fire as
     * they would have. The heap is rebuilt from the kept timers in their slot order: the same heap gives the same
     * layout, as a snapshot and a replay need.
     *
     * @return how many were dropped.
     */
    int removeIf(final Dead dead)
    {
        int kept = 0;
        for (int i = 0; i < size; i++)
        {
            if (!dead.test(taskId[i], attempt[i]))
            {
                if (kept != i)
                {
                    move(i, kept);
                }
                kept++;
            }
        }
        final int dropped = size - kept;
        size = kept;
        for (int i = (size >>> 1) - 1; i >= 0; i--)
        {
            siftDown(i);
        }
        int capacity = due.length;
        while (size <= capacity >>> 2 && capacity > INITIAL_CAPACITY)
        {
            capacity >>>= 1;
        }
        if (capacity != due.length)
        {
            resize(Math.max(INITIAL_CAPACITY, capacity));
        }
        return dropped;
    }

    private void siftDown(final int from)
    {
        final long d = due[from];
        final long o = order[from];
        final long t = taskId[from];
        final int a = attempt[from];
        final int k = kind[from];
        int i = from;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && before(due[child + 1], order[child + 1], due[child], order[child]))
            {
                child++;
            }
            if (!before(due[child], order[child], d, o))
            {
                break;
            }
            move(child, i);
            i = child;
        }
        set(i, d, o, t, a, k);
    }

    private static boolean before(final long dueA, final long orderA, final long dueB, final long orderB)
    {
        return dueA < dueB || (dueA == dueB && orderA < orderB);
    }

    private void move(final int from, final int to)
    {
        due[to] = due[from];
        order[to] = order[from];
        taskId[to] = taskId[from];
        attempt[to] = attempt[from];
        kind[to] = kind[from];
    }

    private void set(final int i, final long d, final long o, final long t, final int a, final int k)
    {
        due[i] = d;
        order[i] = o;
        taskId[i] = t;
        attempt[i] = a;
        kind[i] = (byte)k;
    }

    /**
     * Write every timer as laid out in the heap, with the insertion counter, so a restored heap fires in the
     * same order, ties included.
     */
    void writeTo(final StateWriter out)
    {
        out.putLong(inserted).putInt(size);
        for (int i = 0; i < size; i++)
        {
            out.putLong(due[i]).putLong(order[i]).putLong(taskId[i]).putInt(attempt[i]).putByte(kind[i]);
        }
    }

    /**
     * Replace this heap (empty) with the timers {@link #writeTo} wrote.
     */
    void readFrom(final StateReader in)
    {
        final long insertedCount = in.getLong();
        final int n = in.count(29);
        final int capacity = Math.max(64, Integer.highestOneBit(Math.max(1, n)) * 2);
        due = new long[capacity];
        order = new long[capacity];
        taskId = new long[capacity];
        attempt = new int[capacity];
        kind = new byte[capacity];
        for (int i = 0; i < n; i++)
        {
            set(i, in.getLong(), in.getLong(), in.getLong(), in.getInt(), in.getByte());
        }
        size = n;
        inserted = insertedCount;
    }
}
