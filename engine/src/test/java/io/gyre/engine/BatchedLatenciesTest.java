package io.gyre.engine;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class BatchedLatenciesTest
{
    private static final long HIGHEST = 3_600_000_000_000L;

    @Test
    void valuesAreSeenOnceFlushedAndKeptAcrossReads()
    {
        final BatchedLatencies latencies = new BatchedLatencies(3, HIGHEST, 2);
        latencies.record(0, 1_000);
        latencies.record(2, 5_000);
        latencies.record(2, 7_000);
        assertThat(latencies.read(2).getTotalCount()).as("noted, not flushed").isZero();

        latencies.flush();
        final Histogram two = latencies.read(2);
        assertThat(two.getTotalCount()).isEqualTo(2);
        assertThat(two.getMaxValue()).isEqualTo(two.highestEquivalentValue(7_000));
        assertThat(latencies.read(0).getTotalCount()).isEqualTo(1);
        assertThat(latencies.read(1).getTotalCount()).isZero();

        latencies.record(2, 9_000);
        latencies.flush();
        assertThat(latencies.read(2).getTotalCount()).as("cumulative").isEqualTo(3);
        assertThat(latencies.read(0).getTotalCount()).isEqualTo(1);
    }

    @Test
    void outOfRangeValuesAreClampedAndAFullBufferFlushesItself()
    {
        final BatchedLatencies latencies = new BatchedLatencies(1, HIGHEST, 2);
        latencies.record(0, -5);
        latencies.record(0, Long.MAX_VALUE);
        for (int i = 0; i < 5_000; i++)
        {
            latencies.record(0, i);
        }
        assertThat(latencies.read(0).getTotalCount()).as("flushed as the buffer filled").isGreaterThanOrEqualTo(4_096);
        latencies.flush();
        final Histogram all = latencies.read(0);
        assertThat(all.getTotalCount()).isEqualTo(5_002);
        assertThat(all.getMinValue()).isZero();
        assertThat(all.getMaxValue()).isEqualTo(all.highestEquivalentValue(HIGHEST));
    }

    @Test
    void aReaderConcurrentWithTheWriterLosesAndDoublesNothing() throws Exception
    {
        final BatchedLatencies latencies = new BatchedLatencies(4, HIGHEST, 2);
        final int batches = 20_000;
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread reader = new Thread(() ->
        {
            try
            {
                long last = 0;
                while (!done.get())
                {
                    final long now = latencies.read(1).getTotalCount();
                    assertThat(now).isGreaterThanOrEqualTo(last);
                    last = now;
                }
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        });
        reader.start();
        for (int b = 0; b < batches; b++)
        {
            for (int i = 0; i < 7; i++)
            {
                latencies.record(i & 3, 1_000L * (i + 1));
            }
            latencies.flush();
        }
        done.set(true);
        reader.join();
        assertThat(failure.get()).isNull();
        long total = 0;
        for (int i = 0; i < 4; i++)
        {
            total += latencies.read(i).getTotalCount();
        }
        assertThat(total).isEqualTo(7L * batches);
        assertThat(latencies.read(1).getTotalCount()).isEqualTo(2L * batches);
    }
}
