package io.gyre.bench;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
import io.gyre.journal.SucceededRecord;
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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * (c) The baseline users would write by hand for the same workload: a {@link ThreadPoolExecutor} fed by an
 * {@link ArrayBlockingQueue}, a bounded map of idempotency keys for deduplication, and the same journal
 * writes as Gyre (a SUBMITTED record before the task is acknowledged and queued, a SUCCEEDED record before
 * its outcome is delivered), through the same journal, under a lock, one document per record (there is no
 * batch to commit at the end of; the writer is handed between threads under the lock). Same tasks, keys and outcome callback as {@link SubmitToOutcomeBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ThreadPoolBaselineBenchmark extends AbstractBenchmark
{
    static final int TASKS = SubmitToOutcomeBenchmark.TASKS;
    private static final int RETAINED_KEYS = 1_000_000;

    @Param({"2"})
    int workers;

    private Path dir;
    private Journal journal;
    private JournalWriter writer;
    private final SubmittedRecord.Encoder submittedEncoder = new SubmittedRecord.Encoder();
    private final SucceededRecord.Encoder succeededEncoder = new SucceededRecord.Encoder();
    private final byte[] type = "noop".getBytes(StandardCharsets.US_ASCII);
    private final byte[] empty = new byte[0];
    private ThreadPoolExecutor executor;
    private final ConcurrentHashMap<String, Long> keys = new ConcurrentHashMap<>();
    private final ArrayBlockingQueue<String> keyOrder = new ArrayBlockingQueue<>(RETAINED_KEYS);
    private final AtomicLong outcomes = new AtomicLong();
    private long submitted;

    @Setup(Level.Trial)
    public void open()
    {
        dir = TempDirectories.create("baseline-bench");
        journal = Journal.openForAppend(JournalConfig.of(dir));
        writer = journal.writer();
        executor = new ThreadPoolExecutor(workers, workers, 1, TimeUnit.MINUTES, new ArrayBlockingQueue<>(16 * 1024),
            (task, pool) ->
            {
                try
                {
                    pool.getQueue().put(task);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException
    {
        executor.shutdown();
        executor.awaitTermination(1, TimeUnit.MINUTES);
        journal.close();
        TempDirectories.delete(dir);
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long submitToOutcome()
    {
        final byte[] key = new byte[16];
        for (int i = 0; i < TASKS; i++)
        {
            final long n = submitted++;
            for (int b = 0; b < 8; b++)
            {
                key[b] = (byte)(n >>> (8 * b));
            }
            submit(new String(key, StandardCharsets.ISO_8859_1));
        }
        CountingListener.awaitCount(outcomes, submitted);
        return submitted;
    }

    private void submit(final String key)
    {
        final long taskId;
        synchronized (writer)
        {
            writer.transferOwnership();
            final byte[] keyBytes = key.getBytes(StandardCharsets.ISO_8859_1);
            final int offset = writer.claim(256);
            submittedEncoder.wrap(writer.buffer(), offset)
                .timeoutMillis(30_000).maxAttempts(3).backoff(100, 60_000, 2f, 0.2f).priority(1).executionMode(0).taskFlags(1)
                .key(keyBytes, 0, keyBytes.length).taskType(type, 0, type.length).tenant(empty, 0, 0).payload(empty, 0, 0);
            taskId = writer.commit(RecordType.SUBMITTED, 0, System.nanoTime(), submittedEncoder.frameLength());
            writer.flush();
        }
        if (keys.putIfAbsent(key, taskId) != null)
        {
            outcomes.incrementAndGet();
            return;
        }
        if (!keyOrder.offer(key))
        {
            keys.remove(keyOrder.poll());
            keyOrder.offer(key);
        }
        executor.execute(() -> run(taskId));
    }

    private void run(final long taskId)
    {
        final long started = System.nanoTime();
        synchronized (writer)
        {
            writer.transferOwnership();
            final int offset = writer.claim(128);
            succeededEncoder.wrap(writer.buffer(), offset).taskId(taskId).attempt(1).startedAt(started).finishedAt(System.nanoTime())
                .output(empty, 0, 0);
            writer.commit(RecordType.SUCCEEDED, 0, System.nanoTime(), succeededEncoder.frameLength());
            writer.flush();
        }
        outcomes.incrementAndGet();
    }
}
