package io.gyre.engine;

import io.gyre.journal.RecordType;

import java.util.Arrays;

/**
 * Derived records the sequence stage decided, in order, until each comes back through the journal: a FIFO
 * over primitive arrays. Checking each journaled derived record against the head proves, live and on every
 * replay, that the state machine decides the same way from the same events.
 */
final class DerivedExpectations
{
    private RecordType[] type = new RecordType[64];
    private long[] taskId = new long[64];
    private int[] attempt = new int[64];
    private int[] reason = new int[64];
    private long[] time = new long[64];
    private int head;
    private int size;

    void push(final RecordType recordType, final long task, final int attemptNumber, final int reasonCode, final long at)
    {
        if (size == type.length)
        {
            grow();
        }
        final int i = (head + size) & (type.length - 1);
        type[i] = recordType;
        taskId[i] = task;
        attempt[i] = attemptNumber;
        reason[i] = reasonCode;
        time[i] = at;
        size++;
    }

    boolean isEmpty()
    {
        return size == 0;
    }

    int size()
    {
        return size;
    }

    boolean matchesHead(final RecordType recordType, final long task, final int attemptNumber, final int reasonCode, final long at)
    {
        return type[head] == recordType && taskId[head] == task && attempt[head] == attemptNumber && reason[head] == reasonCode &&
            time[head] == at;
    }

    String describeHead()
    {
        return type[head] + " for task " + taskId[head] + " attempt " + attempt[head] + " reason " + reason[head] + " time " + time[head];
    }

    void pop()
    {
        type[head] = null;
        head = (head + 1) & (type.length - 1);
        size--;
    }

    /**
     * Hand every expectation, oldest first, to the effects (to journal them), keeping them expected.
     */
    void copyTo(final Effects fx)
    {
        for (int k = 0; k < size; k++)
        {
            final int i = (head + k) & (type.length - 1);
            fx.derived(type[i], taskId[i], attempt[i], reason[i], time[i]);
        }
    }

    private void grow()
    {
        final int n = type.length * 2;
        final RecordType[] t = new RecordType[n];
        final long[] id = new long[n];
        final int[] a = new int[n];
        final int[] r = new int[n];
        final long[] tm = new long[n];
        for (int k = 0; k < size; k++)
        {
            final int i = (head + k) & (type.length - 1);
            t[k] = type[i];
            id[k] = taskId[i];
            a[k] = attempt[i];
            r[k] = reason[i];
            tm[k] = time[i];
        }
        type = t;
        taskId = id;
        attempt = a;
        reason = r;
        time = tm;
        head = 0;
        Arrays.fill(type, size, n, null);
    }

    /**
     * Write the records derived and not yet seen back, oldest first.
     */
    void writeTo(final StateWriter out)
    {
        out.putInt(size);
        for (int k = 0; k < size; k++)
        {
            final int i = (head + k) & (type.length - 1);
            out.putInt(type[i].code()).putLong(taskId[i]).putInt(attempt[i]).putInt(reason[i]).putLong(time[i]);
        }
    }

    /**
     * Append what {@link #writeTo} wrote (to an empty queue).
     */
    void readFrom(final StateReader in)
    {
        final int n = in.count(28);
        for (int k = 0; k < n; k++)
        {
            final int code = in.getInt();
            final RecordType recordType = RecordType.fromCode(code);
            if (recordType == null || !recordType.derived())
            {
                throw new IllegalStateException("snapshot state names record type " + code + " as derived");
            }
            push(recordType, in.getLong(), in.getInt(), in.getInt(), in.getLong());
        }
    }
}
