package io.gyre.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A child JVM for {@link CrashRecoveryIT}: opens an engine on a journal, then submits a mix of tasks as
 * fast as the engine takes them until it is killed. Each key is appended to an acknowledgement log when,
 * and only when, the engine acknowledges it ({@link OutcomeListener#onAccepted}: the submission is
 * journaled), so the log holds exactly the keys a client was promised.
 * <p>
 * Arguments: journal directory, round number, acknowledgement log, tasks to submit at most.
 */
public final class CrashLoadMain
{
    static final String FLAKY = "flaky";
    static final String SLOW = "slow";
    static final int MAX_ATTEMPTS = 3;

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
        final EngineConfig.Builder builder = EngineConfig.builder(directory).blockingPoolThreads(8);
        handlers().forEach(builder::handler);
        return builder.build();
    }

    /**
     * The request for the {@code i}th task of a round: a deterministic mix of types.
     */
    static TaskRequest request(final TaskRequest request, final String key, final int i)
    {
        request.clear().key(key).payload("{\"i\":" + i + "}").maxAttempts(MAX_ATTEMPTS);
        switch (i % 10)
        {
            case 0, 1 -> request.type(FLAKY).backoff(2, 20, 2f, 0.5f);
            case 2 -> request.type(SLOW);
            case 3, 4, 5 -> request.type("echo");
            default -> request.type("noop");
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
            }
            System.out.println("submitted all " + tasks);
            System.out.flush();
            LockSupport.parkNanos(Long.MAX_VALUE);
        }
    }
}
