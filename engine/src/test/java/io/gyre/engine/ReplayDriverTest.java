package io.gyre.engine;

import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replay driver builds exactly the state that applying every record with {@link Sequencer#apply} builds
 * (invariant 4): its look-ahead over each document only loads memory.
 */
class ReplayDriverTest
{
    @TempDir
    Path dir;

    private EngineConfig config(final TestHandlers.Gated gated)
    {
        // few retained outcomes, so that finishes evict and resubmitted keys are found, or not, in the table
        return EngineConfig.builder(dir).ringSize(1024).timerFiresPerTick(16).blockingPoolThreads(4)
            .maxRetainedOutcomes(300).snapshots(false).closeTimeout(Duration.ofMillis(100))
            .handler(gated)
            .handler(new TestHandlers.Flaky("flaky", 2, true, ExecutionMode.INLINE))
            .handler(new TestHandlers.Flaky("doomed", 9, false, ExecutionMode.INLINE))
            .build();
    }

    @Test
    void shouldBuildTheStateApplyBuildsOnAMixedJournal() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final EngineConfig config = config(gated);
        try (Engine engine = Engine.open(config))
        {
            final List<CompletableFuture<Outcome>> finishing = new ArrayList<>();
            for (int i = 0; i < 3_000; i++)
            {
                final String type = switch (i % 5)
                {
                    case 0 -> "echo";
                    case 1 -> "flaky";
                    case 2 -> "doomed";
                    case 3 -> "gated";
                    default -> "noop";
                };
                // every third key repeats an earlier one: a duplicate while it is live, retained, or evicted
                final String key = "k" + (i % 3 == 0 ? i / 2 : i);
                final CompletableFuture<Outcome> future = engine.submit(new TaskRequest().key(key).type(type).payload("p" + i)
                    .backoff(60_000, 60_000, 2f, 0.5f).deadLetter(i % 10 == 2));
                if (i % 3 != 0 && !type.equals("gated") && !type.equals("flaky"))
                {
                    finishing.add(future);
                }
                if (i % 17 == 5)
                {
                    engine.cancel("k" + (i - 3));
                }
            }
            CompletableFuture.allOf(finishing.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        }
        // a second engine on the same journal: an ENGINE_STARTED that requeues the gated tasks, then more
        try (Engine engine = Engine.open(config))
        {
            gated.open();
            final List<CompletableFuture<Outcome>> more = new ArrayList<>();
            for (int i = 0; i < 500; i++)
            {
                // old keys (answered from the table, or joining a task still retrying) and new ones
                final CompletableFuture<Outcome> future = engine.submit(new TaskRequest().key(i % 2 == 0 ? "k" + i * 3 : "m" + i)
                    .type(i % 4 == 1 ? "noop" : "echo").payload("q" + i));
                if (i % 2 == 1)
                {
                    more.add(future);
                }
            }
            CompletableFuture.allOf(more.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        }

        final byte[] plain = replay(config, false);
        final byte[] driven = replay(config, true);
        assertThat(driven).isEqualTo(plain);
        assertThat(replayHashedAhead(config)).isEqualTo(plain);
        assertThat(recoveredState(config)).isEqualTo(plain);
    }

    /**
     * Journals written by seeded random mixes of everything replay must re-decide (duplicates live, retained and
     * evicted; cancels; retries and their timers; dead letters, redrives and purges; a restart with gated work
     * running), replayed record by record and through the driver, and recovered as the engine does.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(longs = {7, 1_234, 98_765})
    void shouldBuildTheStateApplyBuildsOnSeededRandomJournals(final long seed) throws Exception
    {
        final Random random = new Random(seed);
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        final EngineConfig config = config(gated);
        final String[] types = {"echo", "noop", "flaky", "doomed", "gated"};
        for (int run = 0; run < 2; run++)
        {
            try (Engine engine = Engine.open(config))
            {
                if (run == 1)
                {
                    gated.open();
                }
                final List<CompletableFuture<?>> pending = new ArrayList<>();
                for (int i = 0; i < 1_500; i++)
                {
                    final String key = "r" + random.nextInt(900);
                    final int op = random.nextInt(100);
                    if (op < 80)
                    {
                        final String type = types[random.nextInt(types.length)];
                        // gated tasks under keys of their own: nothing waited for joins one before the gate opens
                        final CompletableFuture<Outcome> future = engine.submit(new TaskRequest()
                            .key(type.equals("gated") ? "g" + run + "-" + i : key).type(type).payload("p" + i)
                            .backoff(1 + random.nextInt(3), 5, 2f, 0.5f).deadLetter(random.nextBoolean()));
                        if (!type.equals("gated"))
                        {
                            pending.add(future);
                        }
                    }
                    else if (op < 90)
                    {
                        pending.add(engine.cancel(key));
                    }
                    else if (op < 97)
                    {
                        pending.add(engine.redrive(key));
                    }
                    else
                    {
                        pending.add(random.nextBoolean() ? engine.purgeDeadLetter(key) : engine.purgeDeadLetters());
                    }
                }
                for (final CompletableFuture<?> future : pending)
                {
                    try
                    {
                        future.get(30, TimeUnit.SECONDS);
                    }
                    catch (final java.util.concurrent.ExecutionException ex)
                    {
                        // a task that failed for good: its outcome is journaled all the same
                    }
                }
            }
        }

        final byte[] plain = replay(config, false);
        final byte[] driven = replay(config, true);
        assertThat(driven).isEqualTo(plain);
        assertThat(replayHashedAhead(config)).isEqualTo(plain);
        assertThat(recoveredState(config)).isEqualTo(plain);
    }

    @Test
    void shouldDecideNothingFromADamagedDocumentsHints() throws Exception
    {
        final EngineConfig config = config(new TestHandlers.Gated("gated"));
        journalNoops(config, "d", 1, 1_000);
        final byte[] plain = replay(config, false);
        final Random random = new Random(42);
        final byte[] junk = new byte[4096];
        final Driven driven = replayWithHints(config, (driver, document, documentIndex) ->
        {
            // hints from garbage (frame lengths, types and key lengths out of range) before the real ones
            random.nextBytes(junk);
            driver.onDocument(new UnsafeBuffer(junk), documentIndex);
            final byte[] header = "\u0040\0\0\0\0\0\0\0\u0001\0\u0001\0".getBytes(StandardCharsets.ISO_8859_1);
            driver.onDocument(new UnsafeBuffer(header), documentIndex);
            driver.onDocument(document, documentIndex);
        });
        assertThat(driven.driver().applied()).isEqualTo(driven.recordsRead());
        assertThat(driven.state()).isEqualTo(plain);
    }

    @Test
    void shouldHandAHashOnlyToTheSubmissionItWasComputedFrom() throws Exception
    {
        final EngineConfig config = config(new TestHandlers.Gated("gated"));
        journalNoops(config, "h", 20, 50);
        final byte[] plain = replay(config, false);
        final Driven driven = replayWithHints(config, (driver, document, documentIndex) ->
        {
            // the look-ahead of another document, of the same shape but other keys (each key's last byte
            // changed), instead of this one's
            final UnsafeBuffer other = new UnsafeBuffer(new byte[document.capacity()]);
            other.putBytes(0, document, 0, document.capacity());
            final java.nio.ByteOrder order = io.gyre.journal.RecordDescriptor.BYTE_ORDER;
            for (int at = 0; at < other.capacity(); at += other.getInt(at + io.gyre.journal.RecordDescriptor.LENGTH_OFFSET, order))
            {
                if ((other.getShort(at + io.gyre.journal.RecordDescriptor.TYPE_OFFSET, order) & 0xFFFF) ==
                    io.gyre.journal.RecordType.SUBMITTED.code())
                {
                    final int keyAt = at + io.gyre.journal.SubmittedRecord.KEY_OFFSET;
                    final int last = keyAt + 2 + (other.getShort(keyAt, order) & 0xFFFF) - 1;
                    other.putByte(last, (byte)(other.getByte(last) ^ 0x20));
                }
            }
            driver.onDocument(other, documentIndex + 1);
        });
        assertThat(driven.documentsRead()).isGreaterThan(2);
        assertThat(driven.driver().hashesUsed()).isZero();
        assertThat(driven.state()).isEqualTo(plain);
    }

    /** What a test feeds the driver's look-ahead for each document the reader delivers. */
    private interface Hints
    {
        void feed(ReplayDriver driver, org.agrona.DirectBuffer document, long documentIndex);
    }

    private record Driven(ReplayDriver driver, long recordsRead, long documentsRead, byte[] state)
    {
    }

    private static Driven replayWithHints(final EngineConfig config, final Hints hints)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader();
             JournalReader reader = journal.newReader())
        {
            final Sequencer sequencer = new Sequencer(Settings.of(config), new HandlerRegistry(config.handlers()), lookup);
            final ReplayDriver driver = new ReplayDriver(sequencer, null);
            reader.readToEnd(new io.gyre.journal.RecordHandler()
            {
                @Override
                public void onDocument(final org.agrona.DirectBuffer document, final long documentIndex)
                {
                    hints.feed(driver, document, documentIndex);
                }

                @Override
                public void onRecord(final io.gyre.journal.RecordView record)
                {
                    driver.onRecord(record);
                }
            });
            return new Driven(driver, reader.recordsRead(), reader.documentsRead(), canonical(sequencer));
        }
    }

    /** Journal {@code rounds} batches of {@code perRound} noop tasks, each batch finished before the next. */
    private static void journalNoops(final EngineConfig config, final String prefix, final int rounds, final int perRound) throws Exception
    {
        try (Engine engine = Engine.open(config))
        {
            for (int round = 0; round < rounds; round++)
            {
                final List<CompletableFuture<Outcome>> futures = new ArrayList<>();
                for (int i = 0; i < perRound; i++)
                {
                    futures.add(engine.submit(new TaskRequest().key(prefix + round + "-" + i).type("noop")));
                }
                CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static byte[] replay(final EngineConfig config, final boolean driven)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader();
             JournalReader reader = journal.newReader())
        {
            final Sequencer sequencer = new Sequencer(Settings.of(config), new HandlerRegistry(config.handlers()), lookup);
            if (driven)
            {
                final ReplayDriver driver = new ReplayDriver(sequencer, null);
                final long[] submissions = {0};
                reader.readToEnd(new io.gyre.journal.RecordHandler()
                {
                    @Override
                    public void onDocument(final org.agrona.DirectBuffer document, final long documentIndex)
                    {
                        driver.onDocument(document, documentIndex);
                    }

                    @Override
                    public void onRecord(final io.gyre.journal.RecordView record)
                    {
                        submissions[0] += record.type() == io.gyre.journal.RecordType.SUBMITTED ? 1 : 0;
                        driver.onRecord(record);
                    }
                });
                assertThat(driver.applied()).isEqualTo(reader.recordsRead()).isGreaterThan(2_000);
                assertThat(driver.firstEventId()).isEqualTo(1);
                // every submission was applied with the key hash its document's look-ahead computed
                assertThat(driver.hashesUsed()).isEqualTo(submissions[0]).isPositive();
            }
            else
            {
                final Effects scratch = new Effects();
                reader.readToEnd(record ->
                {
                    scratch.reset();
                    sequencer.apply(record, scratch);
                });
            }
            assertThat(sequencer.derivedMismatches()).isZero();
            return canonical(sequencer);
        }
    }

    /**
     * Through the driver, with the keys hashed by the thread checking the checksums ahead, which is let get ahead
     * at the first document: every submission is applied with a hash, those of the documents it reached first
     * computed on that thread.
     */
    private static byte[] replayHashedAhead(final EngineConfig config)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader();
             JournalReader reader = journal.newReader())
        {
            final Sequencer sequencer = new Sequencer(Settings.of(config), new HandlerRegistry(config.handlers()), lookup);
            final ReplayDriver driver = new ReplayDriver(sequencer, null);
            final long[] submissions = {0};
            reader.checkChecksumsAhead(driver);
            reader.readToEnd(new io.gyre.journal.RecordHandler()
            {
                private boolean paused;

                @Override
                public void onDocument(final org.agrona.DirectBuffer document, final long documentIndex, final int lookedAheadSlot)
                {
                    if (!paused)
                    {
                        paused = true;
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                    }
                    driver.onDocument(document, documentIndex, lookedAheadSlot);
                }

                @Override
                public void onRecord(final io.gyre.journal.RecordView record)
                {
                    submissions[0] += record.type() == io.gyre.journal.RecordType.SUBMITTED ? 1 : 0;
                    driver.onRecord(record);
                }
            });
            assertThat(driver.hashesUsed()).isEqualTo(submissions[0]).isPositive();
            // the checker fills what slots it may during the pause; after it, either thread may lead
            assertThat(driver.documentsLookedAhead()).as("documents hashed ahead").isPositive();
            assertThat(sequencer.derivedMismatches()).isZero();
            return canonical(sequencer);
        }
    }

    private static byte[] recoveredState(final EngineConfig config)
    {
        try (Journal journal = Journal.openReadOnly(config.journal()); JournalReader lookup = journal.newReader())
        {
            return canonical(Engine.recover(config, journal, new HandlerRegistry(config.handlers()), lookup).sequencer());
        }
    }

    private static byte[] canonical(final Sequencer sequencer)
    {
        final StateWriter out = new StateWriter(1024);
        sequencer.writeState(out, true);
        final byte[] bytes = new byte[out.length()];
        out.buffer().getBytes(0, bytes);
        return bytes;
    }
}
