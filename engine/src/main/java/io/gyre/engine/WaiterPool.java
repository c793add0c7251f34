package io.gyre.engine;

import java.util.Arrays;

/**
 * Who waits for which task's outcome: singly linked lists of (listener, correlation id) over arrays, with a
 * free list. Owned by the sequence stage.
 */
final class WaiterPool
{
    private static final int INITIAL_CAPACITY = 1024;

    private Object[] target = new Object[INITIAL_CAPACITY];
    private long[] correlation = new long[INITIAL_CAPACITY];
    private int[] next = new int[INITIAL_CAPACITY];
    private int freeHead = -1;
    private int used;
    /** Entries allocated and not freed. */
    private int live;

    /**
     * @return the new head of the list.
     */
    int push(final int head, final Object waiter, final long correlationId)
    {
        final int i = allocate();
        target[i] = waiter;
        correlation[i] = correlationId;
        next[i] = head;
        return i;
    }

    Object target(final int i)
    {
        return target[i];
    }

    long correlation(final int i)
    {
        return correlation[i];
    }

    int next(final int i)
    {
        return next[i];
    }

    /**
     * Give a whole list back.
     */
    void freeList(final int head)
    {
        int i = head;
        while (i >= 0)
        {
            final int n = next[i];
            target[i] = null;
            next[i] = freeHead;
            freeHead = i;
            live--;
            i = n;
        }
        if (live == 0 && target.length > INITIAL_CAPACITY)
        {
            // every waiter answered: the arrays a burst grew go (entries are linked by index, so only an empty pool can
            // shrink), and the pool starts again as new
            target = new Object[INITIAL_CAPACITY];
            correlation = new long[INITIAL_CAPACITY];
            next = new int[INITIAL_CAPACITY];
            freeHead = -1;
            used = 0;
        }
    }

    /** @return the entries the arrays have room for (for tests: memory given back after a burst). */
    int capacity()
    {
        return target.length;
    }

    private int allocate()
    {
        live++;
        if (freeHead >= 0)
        {
            final int i = freeHead;
            freeHead = next[i];
            return i;
        }
        if (used == target.length)
        {
            final int n = used * 2;
            target = Arrays.copyOf(target, n);
            correlation = Arrays.copyOf(correlation, n);
            next = Arrays.copyOf(next, n);
        }
        return used++;
    }
}
