package io.gyre.journal;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The snapshot files of a journal, in its {@value #DIRECTORY} subdirectory: each holds an engine's state as
 * of one journal position, in a container this class writes and checks (the body is the engine's business).
 * <p>
 * A file is written to a temporary name, forced to disk and renamed, so a crash leaves either the whole file
 * or none under a snapshot name; a file that is damaged anyway (a disk error, a hand edit) fails its
 * checksums when loaded and the caller falls back to an older one. Layout (little-endian), see
 * docs/JOURNAL.md:
 * <pre>
 *  0 magic "GYRESNAP"          8 bytes
 *  8 format version            u16 (1)
 * 10 flags                     u16 (0)
 * 12 header length             u32 (72)
 * 16 event id                  i64  last journal record the state includes
 * 24 document index            i64  its document
 * 32 offset in document        i32  its offset
 * 36 reserved                  i32
 * 40 timestamp                 i64  its time, epoch nanos
 * 48 oldest needed document    i64  the earliest journal document the state refers to
 * 56 body length               i64
 * 64 body CRC-32C              u32
 * 68 header CRC-32C            u32  of bytes 0..67
 * 72 body
 * </pre>
 * Thread safety: one writer at a time (the engine's snapshot thread); readers may list and load concurrently.
 */
public final class SnapshotStore
{
    /** Subdirectory of the journal directory that holds the snapshots. */
    public static final String DIRECTORY = "snapshots";
    public static final int HEADER_LENGTH = 72;
    public static final int FORMAT_VERSION = 1;
    private static final long MAGIC = 0x50414E5345525947L; // "GYRESNAP" little-endian
    private static final String PREFIX = "snapshot-";
    private static final String SUFFIX = ".gsnap";
    private static final String TEMPORARY = ".tmp";
    private static final int WRITE_CHUNK = 1 << 20;

    private final Path directory;

    private SnapshotStore(final Path directory)
    {
        this.directory = directory;
    }

    /**
     * @param journalDirectory the journal's directory; snapshots live in its {@value #DIRECTORY} subdirectory.
     */
    public static SnapshotStore of(final Path journalDirectory)
    {
        return new SnapshotStore(journalDirectory.resolve(DIRECTORY));
    }

    public Path directory()
    {
        return directory;
    }

    /**
     * Where a snapshot is in the journal, and what it needs kept.
     *
     * @param eventId the last journal record the state includes.
     * @param documentIndex that record's document.
     * @param offsetInDocument that record's offset in its document.
     * @param timestamp that record's time, epoch nanos.
     * @param oldestNeededDocument the earliest journal document the state refers to (submissions and outputs
     *     it reads back): retention keeps it and everything after.
     */
    public record Position(long eventId, long documentIndex, int offsetInDocument, long timestamp, long oldestNeededDocument)
    {
        /**
         * @return whether a record at this place in the journal is already in the state.
         */
        public boolean includes(final long recordDocument, final int recordOffset)
        {
            return recordDocument < documentIndex || (recordDocument == documentIndex && recordOffset <= offsetInDocument);
        }

        /**
         * @return the first journal document retention must keep for this snapshot.
         */
        public long firstDocumentKept()
        {
            return Math.min(documentIndex, oldestNeededDocument);
        }
    }

    /**
     * A snapshot file found in the store, by name; its contents are checked only by {@link #load}.
     */
    public record Entry(Path path, long eventId, long sizeBytes)
    {
    }

    /**
     * A snapshot read back and checked: its position and body.
     */
    public record Loaded(Entry entry, Position position, DirectBuffer body)
    {
    }

    /**
     * Write a snapshot: a temporary file, forced, then renamed into place.
     *
     * @return the file written.
     * @throws JournalException when it cannot be written (nothing is left under a snapshot name).
     */
    public Entry write(final Position position, final DirectBuffer body, final int offset, final int length)
    {
        final Path target = directory.resolve(name(position.eventId()));
        final Path temporary = directory.resolve(name(position.eventId()) + TEMPORARY);
        try
        {
            Files.createDirectories(directory);
            final ByteBuffer header = header(position, body, offset, length);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE))
            {
                writeFully(channel, header);
                final ByteBuffer chunk = ByteBuffer.allocateDirect(Math.min(WRITE_CHUNK, Math.max(1, length)));
                int written = 0;
                while (written < length)
                {
                    final int n = Math.min(chunk.capacity(), length - written);
                    chunk.clear();
                    body.getBytes(offset + written, chunk, 0, n);
                    chunk.limit(n);
                    writeFully(channel, chunk);
                    written += n;
                }
                channel.force(true);
            }
            try
            {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (final AtomicMoveNotSupportedException ex)
            {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
            forceDirectory();
            return new Entry(target, position.eventId(), HEADER_LENGTH + (long)length);
        }
        catch (final IOException | RuntimeException ex)
        {
            try
            {
                Files.deleteIfExists(temporary);
            }
            catch (final IOException ignored)
            {
                // the temporary name is never loaded; the next write replaces it
            }
            throw new JournalException("cannot write snapshot " + target + ": " + ex.getMessage(), ex);
        }
    }

    private static ByteBuffer header(final Position position, final DirectBuffer body, final int offset, final int length)
    {
        final CRC32C bodyCrc = new CRC32C();
        final byte[] chunk = new byte[Math.min(WRITE_CHUNK, Math.max(1, length))];
        for (int done = 0; done < length; )
        {
            final int n = Math.min(chunk.length, length - done);
            body.getBytes(offset + done, chunk, 0, n);
            bodyCrc.update(chunk, 0, n);
            done += n;
        }
        final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(0, MAGIC)
            .putShort(8, (short)FORMAT_VERSION)
            .putShort(10, (short)0)
            .putInt(12, HEADER_LENGTH)
            .putLong(16, position.eventId())
            .putLong(24, position.documentIndex())
            .putInt(32, position.offsetInDocument())
            .putInt(36, 0)
            .putLong(40, position.timestamp())
            .putLong(48, position.oldestNeededDocument())
            .putLong(56, length)
            .putInt(64, (int)bodyCrc.getValue());
        final CRC32C headerCrc = new CRC32C();
        headerCrc.update(header.array(), 0, 68);
        header.putInt(68, (int)headerCrc.getValue());
        return header;
    }

    private static void writeFully(final FileChannel channel, final ByteBuffer buffer) throws IOException
    {
        while (buffer.hasRemaining())
        {
            channel.write(buffer);
        }
    }

    private void forceDirectory()
    {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ))
        {
            dir.force(true);
        }
        catch (final IOException ex)
        {
            // some file systems cannot sync a directory; the rename is still atomic
        }
    }

    /**
     * Delete the temporary files of snapshots whose writing never finished (the process died while writing one: the
     * rename that makes a snapshot is the last step, so such a file is never one). Only the store's one writer may
     * call this, before it writes: it would delete the file of a snapshot being written.
     *
     * @return the files deleted.
     * @throws JournalException when the directory cannot be listed or a file deleted.
     */
    public int deleteUnfinished()
    {
        if (!Files.isDirectory(directory))
        {
            return 0;
        }
        int deleted = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*" + SUFFIX + TEMPORARY))
        {
            for (final Path file : files)
            {
                if (Files.deleteIfExists(file))
                {
                    deleted++;
                }
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot delete unfinished snapshots in " + directory + ": " + ex.getMessage(), ex);
        }
        return deleted;
    }

    /**
     * @return the snapshot files present, newest (highest event id) first. Temporary files are not listed.
     */
    public List<Entry> list()
    {
        final List<Entry> entries = new ArrayList<>();
        if (!Files.isDirectory(directory))
        {
            return entries;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*" + SUFFIX))
        {
            for (final Path file : files)
            {
                final String name = file.getFileName().toString();
                final String digits = name.substring(PREFIX.length(), name.length() - SUFFIX.length());
                try
                {
                    entries.add(new Entry(file, Long.parseLong(digits), Files.size(file)));
                }
                catch (final NumberFormatException | NoSuchFileException ex)
                {
                    // not one of ours, or deleted while listing
                }
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot list snapshots in " + directory + ": " + ex.getMessage(), ex);
        }
        entries.sort(Comparator.comparingLong(Entry::eventId).reversed());
        return entries;
    }

    /**
     * @param file a snapshot file (named as this store names them).
     * @return its entry, for {@link #load}.
     * @throws SnapshotCorruptedException when the name is not a snapshot's or the file cannot be read.
     */
    public static Entry entryOf(final Path file)
    {
        final String name = file.getFileName().toString();
        if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX))
        {
            throw new SnapshotCorruptedException(file, "is not named like a snapshot (" + PREFIX + "<event id>" + SUFFIX + ")");
        }
        try
        {
            return new Entry(file, Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length())), Files.size(file));
        }
        catch (final NumberFormatException ex)
        {
            throw new SnapshotCorruptedException(file, "is not named like a snapshot (" + PREFIX + "<event id>" + SUFFIX + ")");
        }
        catch (final IOException ex)
        {
            throw new SnapshotCorruptedException(file, "cannot be read: " + ex);
        }
    }

    /**
     * Read a snapshot and check it: magic, version, lengths and both checksums.
     *
     * @throws SnapshotCorruptedException saying what is wrong, when it fails a check or cannot be read.
     */
    public Loaded load(final Entry entry)
    {
        final byte[] bytes;
        try
        {
            bytes = Files.readAllBytes(entry.path());
        }
        catch (final IOException | OutOfMemoryError ex)
        {
            throw new SnapshotCorruptedException(entry.path(), "cannot be read: " + ex);
        }
        final Position position = readHeader(entry.path(), bytes);
        final long bodyLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(56);
        if (bodyLength != bytes.length - HEADER_LENGTH)
        {
            throw new SnapshotCorruptedException(entry.path(), "body length " + bodyLength + " in the header, " +
                (bytes.length - HEADER_LENGTH) + " bytes in the file (truncated or extended)");
        }
        final CRC32C crc = new CRC32C();
        crc.update(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH);
        final int expected = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(64);
        if ((int)crc.getValue() != expected)
        {
            throw new SnapshotCorruptedException(entry.path(), "body checksum mismatch (CRC-32C " +
                Integer.toHexString((int)crc.getValue()) + ", header says " + Integer.toHexString(expected) + ")");
        }
        if (position.eventId() != entry.eventId())
        {
            throw new SnapshotCorruptedException(entry.path(), "header says event " + position.eventId() + ", the name " + entry.eventId());
        }
        return new Loaded(entry, position, new UnsafeBuffer(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH));
    }

    /**
     * Read only the header of a snapshot (checked with its own checksum), e.g. to plan retention.
     *
     * @throws SnapshotCorruptedException when it fails a check or cannot be read.
     */
    public Position position(final Entry entry)
    {
        final byte[] bytes = new byte[HEADER_LENGTH];
        try (FileChannel channel = FileChannel.open(entry.path(), StandardOpenOption.READ))
        {
            final ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0)
            {
                // keep reading
            }
            if (buffer.hasRemaining())
            {
                throw new SnapshotCorruptedException(entry.path(), "shorter than its " + HEADER_LENGTH + "-byte header");
            }
        }
        catch (final IOException ex)
        {
            throw new SnapshotCorruptedException(entry.path(), "cannot be read: " + ex);
        }
        return readHeader(entry.path(), bytes);
    }

    private static Position readHeader(final Path path, final byte[] bytes)
    {
        if (bytes.length < HEADER_LENGTH)
        {
            throw new SnapshotCorruptedException(path, "shorter than its " + HEADER_LENGTH + "-byte header (" + bytes.length + " bytes)");
        }
        final ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0) != MAGIC)
        {
            throw new SnapshotCorruptedException(path, "bad magic (not a Gyre snapshot)");
        }
        final CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 68);
        if ((int)crc.getValue() != b.getInt(68))
        {
            throw new SnapshotCorruptedException(path, "header checksum mismatch");
        }
        final int version = b.getShort(8) & 0xFFFF;
        if (version != FORMAT_VERSION)
        {
            throw new SnapshotCorruptedException(path, "format version " + version + ", this build reads " + FORMAT_VERSION);
        }
        if (b.getInt(12) != HEADER_LENGTH)
        {
            throw new SnapshotCorruptedException(path, "header length " + b.getInt(12) + ", expected " + HEADER_LENGTH);
        }
        return new Position(b.getLong(16), b.getLong(24), b.getInt(32), b.getLong(40), b.getLong(48));
    }

    /**
     * Delete a snapshot file.
     *
     * @return whether it was there.
     */
    public boolean delete(final Entry entry)
    {
        try
        {
            return Files.deleteIfExists(entry.path());
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot delete snapshot " + entry.path() + ": " + ex.getMessage(), ex);
        }
    }

    private static String name(final long eventId)
    {
        return PREFIX + String.format("%020d", eventId) + SUFFIX;
    }
}
