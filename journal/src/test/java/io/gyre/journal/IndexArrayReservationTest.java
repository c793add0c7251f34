package io.gyre.journal;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Chronicle writes a new index array through the map when it commits the first document the array covers, right after
 * that document: onto pages the writer must have reserved already, or a disk that filled meanwhile faults the write
 * (SIGBUS, an {@link InternalError} thrown later, after the document may have been acknowledged). With the
 * {@code TEST8_DAILY} roll cycle an array (128 entries) starts every 1,024 documents. The test makes the document that
 * starts one end just before the file's reserved part ends, fills the disk (a 16 MiB tmpfs) right before writing it,
 * and checks that the writer refuses or writes cleanly, never faults, and that every document it committed reads back.
 * Skipped where a tmpfs cannot be mounted (it needs root and a mount namespace that allows it).
 */
class IndexArrayReservationTest
{
    private static final int DOCUMENTS_PER_INDEX_ARRAY = 128 * 8;

    private Path mount;
    private boolean mounted;

    @BeforeEach
    void mountTmpfs() throws Exception
    {
        mount = Files.createTempDirectory("gyre-index-array");
        final Process process = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount.toString())
            .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        mounted = process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        assumeTrue(mounted, "cannot mount a 16 MiB tmpfs at " + mount + " (needs root and permission to mount): " + output);
    }

    @AfterEach
    void unmount() throws Exception
    {
        if (mounted && run("umount", mount.toString()) != 0)
        {
            run("umount", "-l", mount.toString());
        }
        Files.deleteIfExists(mount);
    }

    @Test
    void shouldReserveTheIndexArrayChronicleWritesAfterADocumentBeforeTheDiskFills() throws Exception
    {
        final Path dir = mount.resolve("journal");
        final Path filler = mount.resolve("filler");
        final JournalConfig config = JournalConfig.of(dir).withRollCycle("TEST8_DAILY").withMaxDocumentBytes(256 << 10)
            .withPretouchAheadBytes(0).withMinFreeBytes(1 << 20);
        long committedTicks = 0;
        int scenarios = 0;
        final List<String> refusals = new ArrayList<>();
        try (Journal journal = Journal.openForAppend(config))
        {
            final JournalWriter writer = journal.writer();
            long documents = 0;
            for (int round = 0; round < 6 && scenarios == 0; round++)
            {
                // up to the next document that starts an index array (at least one: a refusal leaves the space check
                // to be done again, and a document after the filler is gone gets a fresh one)
                do
                {
                    committedTicks += writeTicks(writer, 1);
                    documents++;
                }
                while (documents % DOCUMENTS_PER_INDEX_ARRAY != 0);
                // the next document starts a new index array: make it end 8 to 40 bytes short of the reserved part
                final long start = ((writer.documentEnd() + 3) & ~3L) + 4;
                final long room = writer.reservedUpTo() - 8 - start;
                assertThat(room).as("reserved room ahead of the next document").isGreaterThan(64);
                final int ticks = (int)Math.min(room / RecordDescriptor.HEADER_LENGTH, (256 << 10) / RecordDescriptor.HEADER_LENGTH);
                fill(filler);
                final Throwable refused = catchThrowable(() -> writeTicks(writer, ticks));
                assertThat(writer.faulted()).as("the writer faulted").isNull();
                if (refused == null)
                {
                    committedTicks += ticks;
                    documents++;
                    scenarios++;
                }
                else
                {
                    assertThat(refused).isInstanceOf(JournalException.class);
                    refusals.add(refused.getMessage());
                    writer.rollback();
                    // refused by the reservation: the scenario happened; by the periodic space check: too slow, again
                    if (refused.getMessage().contains("cannot write a document"))
                    {
                        scenarios++;
                    }
                }
                Files.delete(filler);
            }
            assertThat(scenarios).as("documents written or refused on a full disk, other refusals: " + refusals).isPositive();
            committedTicks += writeTicks(writer, 3);
        }
        try (Journal journal = Journal.openReadOnly(config); JournalReader reader = journal.newReader())
        {
            final long[] read = {0};
            reader.readToEnd(record -> read[0]++);
            assertThat(reader.problems()).isEmpty();
            assertThat(read[0]).isEqualTo(committedTicks);
        }
    }

    /** Writes a document of {@code ticks} TICK records; returns how many it committed. */
    private static long writeTicks(final JournalWriter writer, final int ticks)
    {
        for (int i = 0; i < ticks; i++)
        {
            writer.claim(RecordDescriptor.HEADER_LENGTH);
            writer.commit(RecordType.TICK, 0, 1, RecordDescriptor.HEADER_LENGTH);
        }
        writer.flush();
        return ticks;
    }

    /** Fills the file system until it has no byte left: megabytes, then pages, then bytes. */
    private static void fill(final Path filler) throws IOException
    {
        try (FileChannel channel = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            long at = 0;
            for (final int size : new int[] {1 << 20, 4096, 1})
            {
                final ByteBuffer block = ByteBuffer.allocateDirect(size);
                try
                {
                    while (true)
                    {
                        block.clear();
                        at += channel.write(block, at);
                    }
                }
                catch (final IOException full)
                {
                    // this size no longer fits: go on with a smaller one
                }
            }
        }
    }

    private static int run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        return process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }
}
