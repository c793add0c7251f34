package io.gyre.engine;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Task types for tests: each counts its attempts and behaves in one controlled way.
 */
final class TestHandlers
{
    private TestHandlers()
    {
    }

    /** BLOCKING: waits until released, then echoes its payload. */
    static final class Gated implements TaskHandler
    {
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger stopped = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        private volatile CountDownLatch release = new CountDownLatch(1);
        private final String type;
        private final int maxConcurrency;

        Gated(final String type)
        {
            this(type, 0);
        }

        Gated(final String type, final int maxConcurrency)
        {
            this.type = type;
            this.maxConcurrency = maxConcurrency;
        }

        @Override
        public int maxConcurrency()
        {
            return maxConcurrency;
        }

        void open()
        {
            release.countDown();
        }

        @Override
        public String type()
        {
            return type;
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            started.incrementAndGet();
            try
            {
                if (!release.await(30, TimeUnit.SECONDS))
                {
                    throw TaskFailure.permanent("test gate never opened");
                }
            }
            catch (final InterruptedException ex)
            {
                stopped.incrementAndGet();
                throw ex;
            }
            context.succeed(context.payload(), 0, context.payloadLength());
            finished.incrementAndGet();
        }
    }

    /** A handler of a given type name and execution mode: what the handlers of tests have in common. */
    abstract static class Typed implements TaskHandler
    {
        private final String type;
        private final ExecutionMode mode;

        Typed(final String type, final ExecutionMode mode)
        {
            this.type = type;
            this.mode = mode;
        }

        @Override
        public String type()
        {
            return type;
        }

        @Override
        public ExecutionMode executionMode()
        {
            return mode;
        }
    }

    /** Fails (retryably, or not) on its first {@code failures} attempts, then echoes. */
    static final class Flaky extends Typed
    {
        final AtomicInteger attempts = new AtomicInteger();
        private final int failures;
        private final boolean retryable;

        Flaky(final String type, final int failures, final boolean retryable, final ExecutionMode mode)
        {
            super(type, mode);
            this.failures = failures;
            this.retryable = retryable;
        }

        @Override
        public void execute(final TaskContext context)
        {
            attempts.incrementAndGet();
            if (context.attempt() <= failures)
            {
                context.fail(retryable, "attempt " + context.attempt() + " failed on purpose");
                return;
            }
            context.succeed(("ok after " + context.attempt()).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** BLOCKING: its first {@code stuckAttempts} attempts park until asked to stop; later ones succeed. */
    static final class Stuck implements TaskHandler
    {
        final AtomicInteger attempts = new AtomicInteger();
        final AtomicInteger stopped = new AtomicInteger();
        private final int stuckAttempts;

        Stuck(final int stuckAttempts)
        {
            this.stuckAttempts = stuckAttempts;
        }

        @Override
        public String type()
        {
            return "stuck";
        }

        @Override
        public ExecutionMode executionMode()
        {
            return ExecutionMode.BLOCKING;
        }

        @Override
        public void execute(final TaskContext context) throws Exception
        {
            attempts.incrementAndGet();
            if (context.attempt() > stuckAttempts)
            {
                context.succeed("finally".getBytes(StandardCharsets.UTF_8));
                return;
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!context.stopRequested() && System.nanoTime() < deadline)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            if (context.stopRequested())
            {
                stopped.incrementAndGet();
            }
            throw new InterruptedException("stopped");
        }
    }

    /** INLINE: throws. */
    static final class Throwing implements TaskHandler
    {
        @Override
        public String type()
        {
            return "throwing";
        }

        @Override
        public void execute(final TaskContext context)
        {
            throw new IllegalStateException("boom");
        }
    }

    /** INLINE: asks for an output buffer larger than allowed. */
    static final class Greedy implements TaskHandler
    {
        @Override
        public String type()
        {
            return "greedy";
        }

        @Override
        public void execute(final TaskContext context) throws TaskFailure
        {
            context.outputBuffer(Integer.MAX_VALUE);
        }
    }
}
