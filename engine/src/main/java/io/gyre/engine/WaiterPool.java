package io.gyre.engine;

import java.util.Arrays;

/**
 * Who waits for which task's outcome: singly linked lists of (listener, correlation id) over arrays, with a
 * free list. Owned by the sequence stage.
 */
final class WaiterPool
{
    private Object[] target = new Object[1024];
    private long[] correlation = new long[1024];
    private int[] next = new int[1024];
    private int freeHead = -1;
    private int used;

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
            i = n;
        }
    }

    private int allocate()
    {
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
