package io.gyre.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A child JVM for {@link CrashRecoveryIT}: opens an engine on a journal, then submits a mix of tasks as
 * fast as the engine takes them until it is killed: inline tasks (some failing their first attempt and
 * retried), blocking ones, asynchronous ones, ones that hold their outcome for a while (as a wait does),
 * ones that time out on every attempt, and held ones cancelled right after they are submitted. Each key is appended to an acknowledgement log when,
 * and only when, the engine acknowledges it ({@link OutcomeListener#onAccepted}: the submission is
 * journaled), so the log holds exactly the keys a client was promised.
 * <p>
 * Arguments: journal directory, round number, acknowledgement log, tasks to submit at most.
 */
public final class CrashLoadMain
{
    static final String FLAKY = "flaky";
    static final String SLOW = "slow";
    static final String LATER = "later";
    static final String HOLD = "hold";
    static final String STUCK = "stuck";
    static final int MAX_ATTEMPTS = 3;
    /** Attempts of a STUCK task: each times out. */
    static final int STUCK_ATTEMPTS = 2;
    /** How long a HOLD task of index i holds its outcome; an hour for those the load cancels. */
    static long holdMillis(final int i)
    {
        return kind(i) == Kind.CANCELLED_HOLD ? 3_600_000L : 100 + (i % 7) * 100;
    }

    /** What becomes of the task of index i. */
    enum Kind
    {
        SUCCEEDS, HELD, TIMES_OUT, CANCELLED_HOLD
    }

    static Kind kind(final int i)
    {
        return switch (i % 20)
        {
            case 4, 14 -> Kind.HELD;
            case 5 -> i % 100 == 5 ? Kind.TIMES_OUT : Kind.SUCCEEDS;
            case 6 -> Kind.CANCELLED_HOLD;
            default -> Kind.SUCCEEDS;
        };
    }

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r ->
    {
        final Thread t = new Thread(r, "crash-load-timer");
        t.setDaemon(true);
        return t;
    });

    private CrashLoadMain()
    {
    }

    /**
     * The task types of the crash test, registered by the child and by the test's final check alike.
     */
    static List<TaskHandler> handlers()
    {
        return List.of(new TaskHandler()
        {
            @Override
            public String type()
            {
                return FLAKY;
            }

            @Override
            public void execute(final TaskContext context)
            {
                if (context.attempt() == 1)
                {
                    context.fail(true, "first attempts of flaky tasks fail");
                    return;
                }
                context.succeed(context.payload(), 0, context.payloadLength());
            }
        }, new TaskHandler()
        {
            @Override
            public String type()
            {
                return LATER;
            }

            @Override
            public ExecutionMode executionMode()
            {
                return ExecutionMode.ASYNC;
            }

            @Override
            public void execute(final TaskContext context)
            {
                final byte[] payload = new byte[context.payloadLength()];
                context.payload().getBytes(0, payload);
                final var pending = TIMER.schedule(() -> context.succeed(payload), 1, TimeUnit.MILLISECONDS);
                context.onStop(() -> pending.cancel(false));
            }
        }, new TaskHandler()
        {
            @Override
            public String type()
            {
                return HOLD;
            }

            @Override
            public void execute(final TaskContext context)
            {
                final String millis = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
                context.holdUntil(context.submittedAt() + Long.parseLong(millis) * 1_000_000L);
                context.succeed(context.payload(), 0, context.payloadLength());
            }
        }, new TaskHandler()
        {
            @Override
            public String type()
            {
                return STUCK;
            }

            @Override
            public ExecutionMode executionMode()
            {
                return ExecutionMode.ASYNC;
            }

            @Override
            public void execute(final TaskContext context)
            {
                // never reports: every attempt times out, and the engine ends it
            }
        }, new TaskHandler()
        {
            @Override
            public String type()
            {
                return SLOW;
            }

            @Override
            public ExecutionMode executionMode()
            {
                return ExecutionMode.BLOCKING;
            }

            @Override
            public void execute(final TaskContext context)
            {
                LockSupport.parkNanos(200_000);
                context.succeed(context.payload(), 0, context.payloadLength());
            }
        });
    }

    static EngineConfig config(final Path directory)
    {
        // snapshots every few thousand records, so kills land before, during and after snapshots, and restarts
        // recover from them (a snapshot half written when killed is a .tmp file, never loaded)
        final EngineConfig.Builder builder = EngineConfig.builder(directory).blockingPoolThreads(8).snapshotEveryRecords(20_000);
        handlers().forEach(builder::handler);
        return builder.build();
    }

    /**
     * The request for the {@code i}th task of a round: a deterministic mix of types.
     */
    static TaskRequest request(final TaskRequest request, final String key, final int i)
    {
        request.clear().key(key).payload("{\"i\":" + i + "}").maxAttempts(MAX_ATTEMPTS);
        switch (kind(i))
        {
            case HELD, CANCELLED_HOLD -> request.type(HOLD).payload(Long.toString(holdMillis(i)));
            case TIMES_OUT -> request.type(STUCK).timeoutMillis(30).maxAttempts(STUCK_ATTEMPTS).backoff(5, 5, 1f, 0f);
            default ->
            {
                switch (i % 10)
                {
                    case 0, 1 -> request.type(FLAKY).backoff(2, 20, 2f, 0.5f);
                    case 2 -> request.type(SLOW);
                    case 3 -> request.type(LATER);
                    case 7, 8 -> request.type("echo");
                    default -> request.type("noop");
                }
            }
        }
        return request;
    }

    static String key(final int round, final int i)
    {
        return "r" + round + "-" + i;
    }

    public static void main(final String[] args) throws IOException
    {
        final Path directory = Path.of(args[0]);
        final int round = Integer.parseInt(args[1]);
        final Path ackLog = Path.of(args[2]);
        final int tasks = Integer.parseInt(args[3]);
        try (FileChannel acks = FileChannel.open(ackLog, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
             Engine engine = Engine.open(config(directory)))
        {
            final RecoveryReport recovery = engine.recovery();
            System.out.println("ready round=" + round + " recovery=" + recovery);
            System.out.flush();
            final OutcomeListener listener = new OutcomeListener()
            {
                @Override
                public void onAccepted(final long correlationId, final long taskId)
                {
                    final byte[] line = (key(round, (int)correlationId) + "\n").getBytes(StandardCharsets.US_ASCII);
                    try
                    {
                        acks.write(ByteBuffer.wrap(line));
                    }
                    catch (final IOException ex)
                    {
                        throw new IllegalStateException("cannot log an acknowledgement", ex);
                    }
                }

                @Override
                public void onOutcome(final TaskOutcome outcome)
                {
                }
            };
            final TaskRequest request = new TaskRequest();
            for (int i = 0; i < tasks; i++)
            {
                engine.submit(request(request, key(round, i), i).correlationId(i), listener);
                if (kind(i) == Kind.CANCELLED_HOLD)
                {
                    engine.cancel(key(round, i));
                }
            }
            System.out.println("submitted all " + tasks);
            System.out.flush();
            LockSupport.parkNanos(Long.MAX_VALUE);
        }
    }
}
