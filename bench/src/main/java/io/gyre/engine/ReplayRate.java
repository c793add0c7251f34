package io.gyre.engine;

import io.gyre.bench.BenchArgs;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalReader;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Replay rate of the sequencer alone, against a same-run baseline: journals N {@code noop} tasks once, then,
 * round after round in one warmed-up JVM, times three passes over the same journal:
 * <ol>
 * <li><b>read</b>: the journal reader alone, with a handler that sums event ids (the floor);</li>
 * <li><b>apply</b>: every record through {@link Sequencer#apply}, as replay did before {@link ReplayDriver};</li>
 * <li><b>replay</b>: the same records through {@link ReplayDriver}, with every checksum compared on this thread;</li>
 * <li><b>ahead</b>: the same, with the checksums compared ahead on a second thread
 *     ({@code JournalReader.checkChecksumsAhead()});</li>
 * <li><b>hashed</b>: the same, with the keys hashed ahead on that thread too
 *     ({@code JournalReader.checkChecksumsAhead(driver)}), as the engine replays now.</li>
 * </ol>
 * The machine is shared and noisy, so each pass is repeated and the medians reported. In package
 * {@code io.gyre.engine} to reach the sequencer, which is not public.
 * <pre>
 * ./gyre bench replay-rate TASKS [RETAINED [ROUNDS [DIR]]]
 * </pre>
 * RETAINED is the engine's {@code maxRetainedOutcomes} (default a million); DIR keeps the journal between runs
 * (made when empty). Last line: {@code RESULT tasks=<n> records=<n> retained=<n> read_per_s=<median>
 * apply_per_s=<median> replay_per_s=<median> ahead_per_s=<median> hashed_per_s=<median>}.
 */
public final class ReplayRate
{
    private ReplayRate()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        BenchArgs.run("replay-rate", "TASKS [retained outcomes, default 1000000] [rounds, default 5] [journal directory, default a new temporary one]", 4, args, ReplayRate::run);
    }

    static void run(final BenchArgs in) throws Exception
    {
        final long tasks = in.positiveLong(in.required(0, "TASKS"), "TASKS");
        final int retained = in.nonNegativeInt(1, "retained outcomes", 1_000_000);
        final int rounds = in.positiveInt(2, "rounds", 5);
        final Path dir = in.count() > 3 ? Path.of(in.string(3, ".")) : Files.createTempDirectory("gyre-replay-rate");
        final EngineConfig config = EngineConfig.builder(dir).snapshots(false).maxRetainedOutcomes(retained).build();
        if (!Files.exists(dir.resolve("metadata.cq4t")))
        {
            final long start = System.nanoTime();
            try (Engine engine = Engine.open(config))
            {
                submit(engine, tasks);
            }
            System.out.printf("journaled %,d noop tasks in %.1f s%n", tasks, (System.nanoTime() - start) / 1e9);
        }
        final HandlerRegistry registry = new HandlerRegistry(config.handlers());
        final double[] read = new double[rounds];
        final double[] apply = new double[rounds];
        final double[] replay = new double[rounds];
        final double[] ahead = new double[rounds];
        final double[] hashed = new double[rounds];
        long records = 0;
        try (Journal journal = Journal.openReadOnly(JournalConfig.of(dir)))
        {
            for (int round = 0; round < rounds; round++)
            {
                final long[] sum = {0};
                long start = System.nanoTime();
                long documents;
                try (JournalReader reader = journal.newReader())
                {
                    records = reader.readToEnd(record -> sum[0] += record.eventId());
                    documents = reader.documentsRead();
                }
                read[round] = records * 1e9 / (System.nanoTime() - start);

                final String plain;
                try (JournalReader lookup = journal.newReader(); JournalReader reader = journal.newReader())
                {
                    final Sequencer sequencer = new Sequencer(Settings.of(config), registry, lookup);
                    final Effects scratch = new Effects();
                    start = System.nanoTime();
                    reader.readToEnd(record ->
                    {
                        scratch.reset();
                        sequencer.apply(record, scratch);
                    });
                    apply[round] = records * 1e9 / (System.nanoTime() - start);
                    plain = digest(sequencer);
                }

                final String fast;
                try (JournalReader lookup = journal.newReader(); JournalReader reader = journal.newReader())
                {
                    final Sequencer sequencer = new Sequencer(Settings.of(config), registry, lookup);
                    start = System.nanoTime();
                    reader.readToEnd(new ReplayDriver(sequencer, null));
                    replay[round] = records * 1e9 / (System.nanoTime() - start);
                    fast = digest(sequencer);
                }
                final String checked;
                final long checkedAhead;
                try (JournalReader lookup = journal.newReader(); JournalReader reader = journal.newReader())
                {
                    final Sequencer sequencer = new Sequencer(Settings.of(config), registry, lookup);
                    start = System.nanoTime();
                    reader.checkChecksumsAhead();
                    reader.readToEnd(new ReplayDriver(sequencer, null));
                    ahead[round] = records * 1e9 / (System.nanoTime() - start);
                    checked = digest(sequencer);
                    checkedAhead = reader.documentsCheckedAhead();
                }
                final String hashedState;
                final long lookedAhead;
                try (JournalReader lookup = journal.newReader(); JournalReader reader = journal.newReader())
                {
                    final Sequencer sequencer = new Sequencer(Settings.of(config), registry, lookup);
                    start = System.nanoTime();
                    final ReplayDriver driver = new ReplayDriver(sequencer, null);
                    reader.checkChecksumsAhead(driver);
                    reader.readToEnd(driver);
                    hashed[round] = records * 1e9 / (System.nanoTime() - start);
                    hashedState = digest(sequencer);
                    lookedAhead = driver.documentsLookedAhead();
                }
                if (!plain.equals(fast) || !plain.equals(checked) || !plain.equals(hashedState))
                {
                    throw new IllegalStateException("the replay driver built another state than apply: " + fast + ", " + checked +
                        " and " + hashedState + " vs " + plain);
                }
                System.out.printf("round %d: %,d records in %,d documents (sum %d): read %,.0f/s, apply %,.0f/s, replay %,.0f/s, " +
                    "ahead %,.0f/s (%,d documents checked ahead), hashed %,.0f/s (%,d documents hashed ahead), state %s%n",
                    round, records, documents, sum[0], read[round], apply[round], replay[round], ahead[round], checkedAhead,
                    hashed[round], lookedAhead, plain);
            }
        }
        System.out.printf("RESULT tasks=%d records=%d retained=%d read_per_s=%.0f apply_per_s=%.0f replay_per_s=%.0f ahead_per_s=%.0f hashed_per_s=%.0f%n",
            tasks, records, retained, median(read), median(apply), median(replay), median(ahead), median(hashed));
    }

    private static String digest(final Sequencer sequencer)
    {
        final StateWriter out = new StateWriter(1 << 20);
        sequencer.writeState(out, true);
        final byte[] bytes = new byte[out.length()];
        out.buffer().getBytes(0, bytes);
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 0, bytes.length);
        return out.length() + " bytes crc " + Long.toHexString(crc.getValue()) + ", " + sequencer.liveCount() + " live, " +
            sequencer.retainedCount() + " retained";
    }

    private static double median(final double[] values)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static void submit(final Engine engine, final long count)
    {
        final AtomicLong outcomes = new AtomicLong();
        final OutcomeListener listener = new OutcomeListener()
        {
            @Override
            public void onAccepted(final long correlationId, final long taskId)
            {
            }

            @Override
            public void onOutcome(final TaskOutcome outcome)
            {
                outcomes.incrementAndGet();
            }
        };
        final TaskRequest request = new TaskRequest();
        final byte[] key = new byte[24];
        final byte[] prefix = "t".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(prefix, 0, key, 0, prefix.length);
        for (long i = 0; i < count; i++)
        {
            int length = prefix.length;
            for (long v = i; ; v >>>= 5)
            {
                key[length++] = (byte)('a' + (v & 0x1F));
                if (v < 32)
                {
                    break;
                }
            }
            engine.submit(request.clear().key(key, 0, length).type("noop"), listener);
        }
        while (outcomes.get() < count)
        {
            LockSupport.parkNanos(1_000_000);
        }
    }
}
