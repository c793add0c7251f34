package io.gyre.engine;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs the stop actions handlers register ({@link TaskContext#onStop}) off the engine's stage threads: a cancel or a
 * timeout is decided on a stage thread, and an action that blocks there would hold up every task. One daemon thread for
 * the JVM, started when an action first needs it and ended after a minute without any; actions run in the order their
 * attempts were stopped. An action that blocks delays the actions after it (the engine ends a stopped attempt all the
 * same), never a task.
 */
final class StopActions
{
    private static final ThreadPoolExecutor EXECUTOR = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), runnable ->
    {
        final Thread thread = new Thread(runnable, "gyre-stop-actions");
        thread.setDaemon(true);
        return thread;
    });

    static
    {
        EXECUTOR.allowCoreThreadTimeOut(true);
    }

    private StopActions()
    {
    }

    /** Run a stopped attempt's actions, in order, on the stop actions' thread. */
    static void run(final Runnable actions)
    {
        EXECUTOR.execute(actions);
    }
}
