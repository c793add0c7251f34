package io.gyre.bench;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.RecordType;
import io.gyre.journal.SubmittedRecord;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
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
 * (a) Journal append: a submission record (16-byte key, type "noop", 32-byte payload: 100 bytes) through the
 * journal's writer, committing one Chronicle document per batch of {@code batch} records, as the engine's
 * journal stage does at the end of each Disruptor batch. {@code rawChroniclePerRecord} is the reference:
 * the same bytes written straight to Chronicle Queue, one document each, no encoding, no checksum.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class JournalAppendBenchmark extends AbstractBenchmark
{
    private static final int RECORDS = 1024;

    @State(Scope.Thread)
    public static class Gyre
    {
        @Param({"1", "64", "1024"})
        int batch;

        private Path dir;
        private Journal journal;
        private JournalWriter writer;
        private final SubmittedRecord.Encoder encoder = new SubmittedRecord.Encoder();
        private final byte[] key = new byte[16];
        private final byte[] type = "noop".getBytes(StandardCharsets.US_ASCII);
        private final byte[] tenant = new byte[0];
        private final byte[] payload = new byte[32];
        private long sequence;

        @Setup(Level.Trial)
        public void open()
        {
            dir = TempDirectories.create("journal-bench");
            journal = Journal.openForAppend(JournalConfig.of(dir));
            writer = journal.writer();
        }

        @TearDown(Level.Trial)
        public void close()
        {
            writer.flush();
            journal.close();
            TempDirectories.delete(dir);
        }
    }

    @State(Scope.Thread)
    public static class Raw
    {
        private final byte[] raw = new byte[100];
        private SingleChronicleQueue rawQueue;
        private ExcerptAppender rawAppender;
        private Path rawDir;

        @Setup(Level.Trial)
        public void open()
        {
            rawDir = TempDirectories.create("chronicle-bench");
            rawQueue = SingleChronicleQueueBuilder.binary(rawDir.toFile()).build();
            rawAppender = rawQueue.createAppender();
        }

        @TearDown(Level.Trial)
        public void close()
        {
            rawAppender.close();
            rawQueue.close();
            TempDirectories.delete(rawDir);
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long gyreJournal(final Gyre s)
    {
        final JournalWriter writer = s.writer;
        final byte[] key = s.key;
        long last = 0;
        for (int i = 0; i < RECORDS; i++)
        {
            final long n = s.sequence++;
            key[0] = (byte)n;
            key[1] = (byte)(n >>> 8);
            key[2] = (byte)(n >>> 16);
            final int offset = writer.claim(256);
            s.encoder.wrap(writer.buffer(), offset)
                .timeoutMillis(30_000).maxAttempts(3).backoff(100, 60_000, 2f, 0.2f).priority(1).executionMode(0).taskFlags(1)
                .key(key, 0, key.length).taskType(s.type, 0, s.type.length).tenant(s.tenant, 0, 0).payload(s.payload, 0, s.payload.length);
            last = writer.commit(RecordType.SUBMITTED, 0, n, s.encoder.frameLength());
            if ((i + 1) % s.batch == 0)
            {
                writer.flush();
            }
        }
        writer.flush();
        return last;
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public void rawChroniclePerRecord(final Raw s)
    {
        for (int i = 0; i < RECORDS; i++)
        {
            s.raw[0] = (byte)i;
            try (DocumentContext dc = s.rawAppender.writingDocument())
            {
                dc.wire().bytes().write(s.raw);
            }
        }
    }
}
