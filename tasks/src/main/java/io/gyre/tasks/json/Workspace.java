package io.gyre.tasks.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import java.io.IOException;

/**
 * What the JSON handlers' fast path reuses from task to task on one thread, so that a task allocates little
 * beyond its Jackson parser: the {@link Tape} and {@link TapeEditor}, a generator that writes one document
 * after another into one growable buffer, from its start each time (no root separator between them), parsed
 * {@link Pointer}s by their text, and a copy of an off-heap payload.
 * <p>
 * Per thread ({@link #current()}) because a handler is shared: the engine runs INLINE handlers on its execute
 * stage, and tests and other engines may call the same instance from other threads.
 */
final class Workspace
{
    private static final ThreadLocal<Workspace> WORKSPACES = ThreadLocal.withInitial(Workspace::new);

    /** Pointers remembered per thread (a power of two): a pointer is looked up by its hash, the last one wins. */
    private static final int POINTER_SLOTS = 256;

    /** Entries of a tape, and bytes of the output, above which they are given back after the task. */
    private static final int KEPT_ENTRIES = 1 << 14;
    private static final int KEPT_OUTPUT_BYTES = 1 << 20;
    private static final int INITIAL_OUTPUT_BYTES = 1024;

    final Tape tape = new Tape();
    final TapeEditor editor = new TapeEditor(tape);
    /** The payload's members a handler looks for ({@link Tape#members}). */
    final int[] members = new int[4];

    private final Pointer[] pointers = new Pointer[POINTER_SLOTS];
    private ExpandableArrayBuffer outputBuffer = new ExpandableArrayBuffer(INITIAL_OUTPUT_BYTES);
    private final CappedOutput output = new CappedOutput(outputBuffer);
    private JsonGenerator generator;
    private byte[] offHeapCopy = new byte[0];

    private Workspace()
    {
    }

    /**
     * @return the calling thread's workspace.
     */
    static Workspace current()
    {
        return WORKSPACES.get();
    }

    /**
     * Read the attempt's payload into the tape and reset the editor.
     *
     * @return false when the tree path must decide (the payload is not well-formed UTF-8, not JSON, or not as
     *     {@link Tape#read} vouches for).
     */
    boolean read(final TaskContext context, final int maxCopiedValues)
    {
        final DirectBuffer payload = context.payload();
        final int length = context.payloadLength();
        byte[] array = payload.byteArray();
        int offset = payload.wrapAdjustment();
        if (array == null)
        {
            if (offHeapCopy.length < length)
            {
                offHeapCopy = new byte[length];
            }
            payload.getBytes(0, offHeapCopy, 0, length);
            array = offHeapCopy;
            offset = 0;
        }
        if (Utf8.firstInvalidJson(array, offset, length) >= 0)
        {
            return false;
        }
        editor.reset(maxCopiedValues);
        try (JsonParser parser = Payloads.factory().createParser(array, offset, length))
        {
            return tape.read(parser);
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /**
     * Write the editor's document and succeed the attempt with it.
     *
     * @return false when the document cannot be written (the tree path words why); the attempt is untouched.
     * @throws TaskFailure (permanent) when the document passes the context's {@link TaskContext#maxOutputBytes()}:
     *     writing stops there.
     */
    boolean succeed(final TaskContext context) throws TaskFailure
    {
        output.reset(outputBuffer, context.maxOutputBytes());
        try
        {
            if (generator == null)
            {
                generator = Payloads.factory().createGenerator(output);
                generator.setRootValueSeparator(null);
            }
            editor.write(generator, editor.document());
            generator.flush();
        }
        catch (final CappedOutput.TooLarge ex)
        {
            generator = null;
            release();
            throw CappedOutput.failure(ex.maxBytes);
        }
        catch (final IOException ex)
        {
            generator = null;
            return false;
        }
        context.succeed(outputBuffer, 0, output.position());
        release();
        return true;
    }

    /** Give back what one large task grew. */
    private void release()
    {
        if (outputBuffer.capacity() > KEPT_OUTPUT_BYTES)
        {
            outputBuffer = new ExpandableArrayBuffer(INITIAL_OUTPUT_BYTES);
        }
        tape.trim(KEPT_ENTRIES);
        if (offHeapCopy.length > KEPT_OUTPUT_BYTES)
        {
            offHeapCopy = new byte[0];
        }
    }

    /**
     * @return the pointer with that text, or null when it is not a JSON Pointer.
     */
    Pointer pointer(final String text)
    {
        final int slot = slot(text.hashCode());
        final Pointer cached = pointers[slot];
        if (cached != null && cached.toString().equals(text))
        {
            return cached;
        }
        return parse(text, slot);
    }

    /**
     * @return the pointer that a string on the tape spells, or null when the entry is not a string or not a
     *     JSON Pointer.
     */
    Pointer pointer(final int entry)
    {
        if (tape.kind(entry) != Tape.STRING)
        {
            return null;
        }
        final char[] text = tape.text();
        final int start = tape.textStart(entry);
        final int length = tape.textLength(entry);
        int hash = 0;
        for (int i = start, end = start + length; i < end; i++)
        {
            hash = 31 * hash + text[i];
        }
        final int slot = slot(hash);
        final Pointer cached = pointers[slot];
        if (cached != null && cached.matches(text, start, length))
        {
            return cached;
        }
        return parse(new String(text, start, length), slot);
    }

    private Pointer parse(final String text, final int slot)
    {
        final Pointer pointer;
        try
        {
            pointer = Pointer.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            return null;
        }
        pointers[slot] = pointer;
        return pointer;
    }

    private static int slot(final int hash)
    {
        return (hash ^ (hash >>> 16)) & (POINTER_SLOTS - 1);
    }
}
