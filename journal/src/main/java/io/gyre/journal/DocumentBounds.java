package io.gyre.journal;

import net.openhft.chronicle.queue.ExcerptTailer;

import java.io.File;

/**
 * Whether a document Chronicle presents can be one a writer made, before its bytes are touched: a damaged header
 * (a length byte flipped) can claim hundreds of megabytes, and reading them through the memory map runs past the
 * file, which faults the JVM rather than failing a call. One per reading thread: it remembers the length of the
 * file last looked at, so the file is measured again only when a document ends beyond what is known of it.
 */
final class DocumentBounds
{
    /** No writer makes a longer document: up to {@code maxDocumentBytes} (at most a frame's length), then one record more. */
    static final long MAX_DOCUMENT_LENGTH = 2L * RecordDescriptor.MAX_FRAME_LENGTH;

    private File file;
    private long fileLength;
    private boolean pastFile;

    /** @return whether the last document found implausible ran past the end of its file (rather than being too long). */
    boolean pastFile()
    {
        return pastFile;
    }

    /**
     * @param start the document's position in the tailer's current file.
     * @return why a document this long at this position cannot be one a writer made, or null.
     */
    String implausible(final ExcerptTailer tailer, final long start, final long length)
    {
        pastFile = false;
        if (length > MAX_DOCUMENT_LENGTH)
        {
            return "a document of " + length + " bytes, longer than any a writer makes (" + MAX_DOCUMENT_LENGTH + ")";
        }
        final File current = tailer.currentFile();
        if (current != null && (current != file || start + length > fileLength))
        {
            file = current;
            fileLength = current.length();
            pastFile = start + length > fileLength;
            if (pastFile)
            {
                return "a document of " + length + " bytes at position " + start + " runs past the end of " + current.getName() +
                    " (" + fileLength + " bytes)";
            }
        }
        return null;
    }
}
