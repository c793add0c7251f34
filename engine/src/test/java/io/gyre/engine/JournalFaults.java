package io.gyre.engine;

import io.gyre.journal.JournalWriter;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes an engine's journal writes fail as a full disk or an I/O error would, until healed: the writer's
 * fault-injection seam, reachable from tests of any module (through the engine's test-jar).
 */
public final class JournalFaults implements JournalWriter.FaultInjection
{
    private volatile String failure;
    private final AtomicLong injected = new AtomicLong();

    private JournalFaults()
    {
    }

    /**
     * @return the faults of this engine's journal writer (none until {@link #fail}).
     */
    public static JournalFaults install(final Engine engine)
    {
        final JournalFaults faults = new JournalFaults();
        engine.journalWriter().faultInjection(faults);
        return faults;
    }

    /** Fail every write from now on with this message. */
    public void fail(final String message)
    {
        failure = message;
    }

    /** Let writes succeed again. */
    public void heal()
    {
        failure = null;
    }

    /** @return how many writes were failed so far. */
    public long injected()
    {
        return injected.get();
    }

    @Override
    public String failure()
    {
        final String f = failure;
        if (f != null)
        {
            injected.incrementAndGet();
        }
        return f;
    }
}
