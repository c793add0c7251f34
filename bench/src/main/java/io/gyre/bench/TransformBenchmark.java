package io.gyre.bench;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskRequest;
import io.gyre.tasks.json.JsonTaskHandlers;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The JSON task types {@code set} and {@code transform}, two ways:
 * <ul>
 *   <li>{@link #submitToOutcome}: in process, journaled, as {@link SubmitToOutcomeBenchmark} measures
 *       {@code noop} (default configuration: BACKOFF, 2 stage threads; fresh 16-byte keys; allocation-free
 *       callback; {@value #TASKS} in flight per invocation). {@code noop} runs beside them as the engine's own
 *       ceiling in the same run. One operation is one task from submission to its outcome.</li>
 *   <li>{@link #executeOnly}: the handler alone on the same payload (parse, edit, write), on one thread, with
 *       a context that keeps nothing: what a task of the type costs the execute stage.</li>
 * </ul>
 * The payloads are an order of ~150 bytes: {@code set} puts two values, {@code transform} runs four
 * operations (move, remove, set, copy). Run with {@code -prof gc} for the allocation per task. Its copy sends the
 * {@code transform} task to the CPU pool in process (a transform runs inline only when its bytes cannot copy), so
 * {@link #submitToOutcome} measures that hand-off for it; {@code set} runs inline.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TransformBenchmark extends AbstractBenchmark
{
    static final int TASKS = 10_000;

    static final String SET = "{\"input\":{\"order\":{\"id\":42,\"customer\":\"ada\",\"total\":19.99}}," +
        "\"values\":{\"/order/status\":\"paid\",\"/order/paidAt\":\"2026-11-24T10:00:00Z\"}}";

    static final String TRANSFORM = "{\"input\":{\"order\":{\"id\":42,\"customer\":{\"first\":\"Ada\",\"last\":\"L\"}," +
        "\"total\":19.99,\"tmp\":true}},\"ops\":[{\"op\":\"move\",\"from\":\"/order/customer/first\",\"path\":\"/order/customer/name\"}," +
        "{\"op\":\"remove\",\"path\":\"/order/tmp\"},{\"op\":\"set\",\"path\":\"/order/status\",\"value\":\"paid\"}," +
        "{\"op\":\"copy\",\"from\":\"/order/id\",\"path\":\"/ref\"}]}";

    static byte[] payload(final String type)
    {
        switch (type)
        {
            case "noop":
                return new byte[0];
            case "echo":
            case "set":
                return SET.getBytes(StandardCharsets.UTF_8);
            case "transform":
                return TRANSFORM.getBytes(StandardCharsets.UTF_8);
            default:
                throw new IllegalArgumentException("type=" + type);
        }
    }

    /**
     * An engine with the JSON task types registered, and a request of the type benchmarked.
     */
    @State(Scope.Benchmark)
    public static class InProcess
    {
        @Param({"noop", "echo", "set", "transform"})
        String type;

        private Path dir;
        private Engine engine;
        private final CountingListener listener = new CountingListener();
        private final TaskRequest request = new TaskRequest();
        private final byte[] key = new byte[16];
        private long submitted;

        @Setup(Level.Trial)
        public void open()
        {
            dir = TempDirectories.create("transform-bench");
            final EngineConfig.Builder builder = EngineConfig.builder(dir);
            JsonTaskHandlers.all().forEach(builder::handler);
            engine = Engine.open(builder.build());
            request.type(type).payload(payload(type));
        }

        @TearDown(Level.Trial)
        public void close()
        {
            engine.close();
            TempDirectories.delete(dir);
            if (listener.unexpected.get() != 0)
            {
                throw new IllegalStateException(listener.unexpected.get() + " " + type + " tasks did not simply succeed");
            }
        }
    }

    /**
     * A handler of the type benchmarked, and a context holding its payload.
     */
    @State(Scope.Thread)
    public static class HandlerOnly
    {
        @Param({"set", "transform"})
        String handlerType;

        private TaskHandler handler;
        private OutputSink context;

        @Setup(Level.Trial)
        public void open()
        {
            handler = JsonTaskHandlers.all().stream().filter(h -> h.type().equals(handlerType)).findFirst().orElseThrow();
            context = new OutputSink(payload(handlerType));
        }
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long submitToOutcome(final InProcess s)
    {
        for (int i = 0; i < TASKS; i++)
        {
            final long n = s.submitted++;
            for (int b = 0; b < 8; b++)
            {
                s.key[b] = (byte)(n >>> (8 * b));
            }
            s.engine.submit(s.request.key(s.key, 0, s.key.length), s.listener);
        }
        s.listener.awaitCount(s.submitted);
        return s.submitted;
    }

    @Benchmark
    public int executeOnly(final HandlerOnly s) throws Exception
    {
        s.handler.execute(s.context);
        return s.context.length;
    }

    /**
     * What deciding the task's execution mode costs the submitting thread: a length check for {@code set}, a scan
     * of the payload's bytes for {@code transform} (whose payload here copies: the scan reads up to its last op).
     */
    @Benchmark
    public io.gyre.engine.ExecutionMode executionModeOnly(final HandlerOnly s)
    {
        return s.handler.executionMode(s.context.payload(), 0, s.context.payloadLength());
    }

    /**
     * The least a context can be for a handler run outside an engine: a payload, an output buffer reused from
     * call to call, and the length of the last output and the time it was held until (a failure throws: the
     * benchmark's payloads are valid).
     */
    static final class OutputSink implements TaskContext
    {
        private final UnsafeBuffer payload;
        private final org.agrona.ExpandableArrayBuffer output = new org.agrona.ExpandableArrayBuffer(1024);
        int length;
        long heldUntil;

        OutputSink(final byte[] payload)
        {
            this.payload = new UnsafeBuffer(payload);
        }

        @Override
        public long taskId()
        {
            return 1;
        }

        @Override
        public int attempt()
        {
            return 1;
        }

        @Override
        public DirectBuffer payload()
        {
            return payload;
        }

        @Override
        public int payloadLength()
        {
            return payload.capacity();
        }

        @Override
        public String taskType()
        {
            return "";
        }

        @Override
        public boolean stopRequested()
        {
            return false;
        }

        @Override
        public void onStop(final Runnable action)
        {
        }

        @Override
        public long submittedAt()
        {
            return 0;
        }

        @Override
        public void holdUntil(final long epochNanos)
        {
            heldUntil = epochNanos;
        }

        @Override
        public MutableDirectBuffer outputBuffer(final int capacity)
        {
            output.checkLimit(capacity);
            return output;
        }

        @Override
        public void succeed(final int length)
        {
            this.length = length;
        }

        @Override
        public void succeed(final DirectBuffer output, final int offset, final int length)
        {
            this.length = length;
        }

        @Override
        public void succeed(final byte[] output)
        {
            this.length = output.length;
        }

        @Override
        public void fail(final boolean retryable, final String message)
        {
            throw new IllegalStateException("failed: " + message);
        }
    }
}
