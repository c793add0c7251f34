package io.gyre.engine;

/**
 * Timers that are due and wait for a tick's budget to fire, first in first out: one queue per priority, so
 * that of the timers due together the high-priority ones fire first. Primitive arrays in a growable ring.
 */
final class DueTimers
{
    private long[] taskId = new long[16];
    private int[] attempt = new int[16];
    private byte[] kind = new byte[16];
    private int head;
    private int size;

    void add(final long task, final int attemptNumber, final int timerKind)
    {
        if (size == taskId.length)
        {
            grow();
        }
        final int i = (head + size) & (taskId.length - 1);
        taskId[i] = task;
        attempt[i] = attemptNumber;
        kind[i] = (byte)timerKind;
        size++;
    }

    boolean isEmpty()
    {
        return size == 0;
    }

    long peekTaskId()
    {
        return taskId[head];
    }

    int peekAttempt()
    {
        return attempt[head];
    }

    int peekKind()
    {
        return kind[head];
    }

    int size()
    {
        return size;
    }

    /** @return the task of the {@code k}th timer from the head (0: the head). */
    long taskIdAt(final int k)
    {
        return taskId[(head + k) & (taskId.length - 1)];
    }

    int attemptAt(final int k)
    {
        return attempt[(head + k) & (taskId.length - 1)];
    }

    int kindAt(final int k)
    {
        return kind[(head + k) & (taskId.length - 1)];
    }

    void poll()
    {
        head = (head + 1) & (taskId.length - 1);
        size--;
    }

    private void grow()
    {
        final int n = taskId.length * 2;
        final long[] t = new long[n];
        final int[] a = new int[n];
        final byte[] k = new byte[n];
        for (int j = 0; j < size; j++)
        {
            final int i = (head + j) & (taskId.length - 1);
            t[j] = taskId[i];
            a[j] = attempt[i];
            k[j] = kind[i];
        }
        taskId = t;
        attempt = a;
        kind = k;
        head = 0;
    }

    @Override
    public String toString()
    {
        return "DueTimers[" + size + (size > 0 ? ", first task " + taskId[head] : "") + "]";
    }

    /**
     * Write the queued timers, first to fire first.
     */
    void writeTo(final StateWriter out)
    {
        out.putInt(size);
        for (int j = 0; j < size; j++)
        {
            final int i = (head + j) & (taskId.length - 1);
            out.putLong(taskId[i]).putInt(attempt[i]).putByte(kind[i]);
        }
    }

    /**
     * Append the timers {@link #writeTo} wrote (to an empty queue).
     */
    void readFrom(final StateReader in)
    {
        final int n = in.count(13);
        for (int j = 0; j < n; j++)
        {
            add(in.getLong(), in.getInt(), in.getByte());
        }
    }
}
