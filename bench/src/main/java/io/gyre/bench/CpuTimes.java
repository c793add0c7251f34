package io.gyre.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time spent from its creation on, by the whole JVM and by each of the engine's stage threads ({@code gyre-*}),
 * per task. On a shared machine throughput moves with whatever else runs; the CPU a task costs moves much less, so
 * it is the figure to compare two builds by when the machine is busy (a thread that waits for work spins and yields
 * a little before it parks, which counts too: compare runs of one wait strategy).
 */
final class CpuTimes
{
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final long process;
    private final Map<String, Long> byThread;

    CpuTimes()
    {
        process = processCpu();
        byThread = stageThreads();
    }

    /**
     * @return one line: nanoseconds of CPU per task since this was created, the JVM's and each stage thread's.
     */
    String perTask(final long tasks)
    {
        final StringBuilder line = new StringBuilder(String.format("cpu ns/task: process %.0f", (processCpu() - process) / (double)tasks));
        stageThreads().forEach((name, now) ->
            line.append(String.format(", %s %.0f", name, (now - byThread.getOrDefault(name, 0L)) / (double)tasks)));
        return line.toString();
    }

    private static long processCpu()
    {
        return ((com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static Map<String, Long> stageThreads()
    {
        final Map<String, Long> times = new TreeMap<>();
        for (final ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds()))
        {
            if (info != null && info.getThreadName().startsWith("gyre-"))
            {
                final long time = THREADS.getThreadCpuTime(info.getThreadId());
                if (time >= 0)
                {
                    times.merge(info.getThreadName(), time, Long::sum);
                }
            }
        }
        return times;
    }
}
