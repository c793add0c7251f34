package io.gyre.tasks.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.TaskFailure;
import org.agrona.DirectBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static io.gyre.tasks.json.Payloads.describe;
import static io.gyre.tasks.json.Payloads.invalid;
import static io.gyre.tasks.json.Payloads.quote;

/**
 * Task type {@code transform}: the input edited by a list of operations, applied in order.
 * <pre>
 * {"input": {"first": "Ada", "tmp": 1, "tags": ["a"]},
 *  "ops": [{"op": "move", "from": "/first", "path": "/name"},
 *          {"op": "remove", "path": "/tmp"},
 *          {"op": "copy", "from": "/tags/0", "path": "/tags/-"},
 *          {"op": "set", "path": "/version", "value": 2},
 *          {"op": "merge", "path": "/meta", "value": {"source": "crm", "draft": null}}]}
 *   → {"tags": ["a", "a"], "name": "Ada", "version": 2, "meta": {"source": "crm"}}
 * </pre>
 * {@code input} (any JSON, default {@code {}}) is the document; {@code ops} (required) the operations. Each
 * operation's pointers refer to the document as the operations before it left it:
 * <ul>
 *   <li>{@code {"op": "set", "path", "value"}}: put the value at path ({@link DocumentEditor#set}: replace,
 *       or append to an array at {@code -}).</li>
 *   <li>{@code {"op": "copy", "from", "path", "required"}}: put a copy of the value at from at path; into an
 *       array it is inserted, as JSON Patch (RFC 6902) does.</li>
 *   <li>{@code {"op": "move", "from", "path", "required"}}: remove the value at from, then put it at path
 *       (inserted into an array, as JSON Patch does); path may not be inside from.</li>
 *   <li>{@code {"op": "remove", "path", "required"}}: remove the value at path (not the whole document).</li>
 *   <li>{@code {"op": "merge", "path", "value"}}: apply the value as a JSON merge patch (RFC 7386) to the value
 *       at path, or to nothing when there is none.</li>
 * </ul>
 * {@code required} defaults to {@code true}: an operation whose from (copy, move) or path (remove) matches
 * nothing fails the task ({@code ops[2].from: "/a/b" matches nothing in the document}); with {@code false}
 * it does nothing. Every operation is checked before the first is applied.
 */
public final class TransformTaskHandler extends JsonTaskHandler
{
    /** The task type name. */
    public static final String TYPE = "transform";

    /** The payload's members (the fast path's variables are in this order). */
    private static final String[] FIELDS = {"input", "ops"};

    /** Eight copies of a byte, to look for it in eight bytes at once. */
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;
    /** Eight bytes of a {@code byte[]} as a {@code long}, for a payload on the heap (the engine's case). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    public TransformTaskHandler()
    {
        super(TYPE, true, FIELDS);
    }

    /**
     * {@inheritDoc}
     * <p>
     * Up to {@value #INLINE_PAYLOAD_BYTES} bytes, as long as its copies cannot make it more work than that: without
     * {@code copy} a transform's document and output grow with its payload and no faster (moves, removes, sets and
     * merges place what the payload holds), but each copy can double the document (a 1.6 KB payload copying a
     * document into itself 40 times ran for milliseconds on the ring before max-copied-values stopped it). So the
     * payload's length, doubled once for each {@code copy} in its bytes, must stay within {@value #INLINE_PAYLOAD_BYTES}
     * bytes: a small transform with a copy or two stays inline, a copying one past that runs on the CPU pool. The
     * bytes {@code copy} are counted wherever they appear (an operation's name is matched exactly, case included),
     * and a backslash-u escape (one could spell the name) counts as too many: a conservative look, never an
     * underestimate. Without the bytes, never inline.
     */
    @Override
    boolean runsInline(final DirectBuffer payload, final int offset, final int length)
    {
        if (payload == null)
        {
            return false;
        }
        final int copies = copies(payload, offset, length);
        return copies < Integer.SIZE && ((long)length << copies) <= INLINE_PAYLOAD_BYTES;
    }

    /** What {@link #copies} says of a payload with a backslash-u escape: more copies than any inline payload has. */
    static final int ESCAPED = Integer.SIZE;

    /**
     * @return whether the bytes {@code copy}, or a backslash then a {@code u}, appear in the payload.
     */
    static boolean mayCopy(final DirectBuffer payload, final int offset, final int length)
    {
        return copies(payload, offset, length) > 0;
    }

    /**
     * @return how many times the bytes {@code copy} appear in the payload, or {@link #ESCAPED} once a backslash then a
     *     {@code u} does: eight bytes are looked at at once for a {@code y} or a backslash (rarer in JSON than a
     *     {@code c}), and only where there is one, byte by byte: about 60 ns for the 309 bytes of
     *     {@code TransformBenchmark}'s payload ({@code executionModeOnly}).
     */
    static int copies(final DirectBuffer payload, final int offset, final int length)
    {
        final byte[] array = payload.byteArray();
        final int base = payload.wrapAdjustment() + offset;
        int copies = 0;
        int i = 0;
        for (final int words = length - Long.BYTES; i <= words; i += Long.BYTES)
        {
            // in the platform's order: which of the eight bytes it is does not matter, they are looked at one by one
            final long word = array != null ? (long)LONGS.get(array, base + i) : payload.getLong(offset + i);
            if (hasEither(word, 'y', '\\'))
            {
                for (int k = i; k < i + Long.BYTES; k++)
                {
                    final int found = copyOrEscapeAt(payload, offset, length, k);
                    if (found == ESCAPED)
                    {
                        return ESCAPED;
                    }
                    copies += found;
                }
            }
        }
        for (; i < length; i++)
        {
            final int found = copyOrEscapeAt(payload, offset, length, i);
            if (found == ESCAPED)
            {
                return ESCAPED;
            }
            copies += found;
        }
        return Math.min(copies, ESCAPED - 1);
    }

    /**
     * @return whether one of the eight bytes of {@code word} is {@code a} or {@code b}: the bytes equal to one are zero
     *     after the exclusive or with it, and subtracting one from a zero byte is the only way to set its high bit
     *     where it was not (a borrow from a lower zero byte can set it in others too, but only when there is one).
     */
    private static boolean hasEither(final long word, final char a, final char b)
    {
        final long zeroWhereA = word ^ (ONES * a);
        final long zeroWhereB = word ^ (ONES * b);
        return (((zeroWhereA - ONES) & ~zeroWhereA | (zeroWhereB - ONES) & ~zeroWhereB) & HIGH_BITS) != 0;
    }

    /**
     * @return 1 when the byte at {@code i} is the {@code y} of {@code copy}, {@link #ESCAPED} when it is a backslash
     *     before a {@code u}, else 0.
     */
    private static int copyOrEscapeAt(final DirectBuffer payload, final int offset, final int length, final int i)
    {
        final byte b = payload.getByte(offset + i);
        if (b == '\\')
        {
            return i + 1 < length && payload.getByte(offset + i + 1) == 'u' ? ESCAPED : 0;
        }
        return b == 'y' && i >= 3 && payload.getByte(offset + i - 3) == 'c' && payload.getByte(offset + i - 2) == 'o' &&
            payload.getByte(offset + i - 1) == 'p' ? 1 : 0;
    }

    @Override
    boolean edit(final Workspace workspace, final Tape tape, final TapeEditor editor, final int[] at) throws TaskFailure
    {
        final int input = at[0];
        final int ops = at[1];
        if (ops < 0 || tape.kind(ops) != Tape.ARRAY)
        {
            return false;
        }
        editor.document(input >= 0 ? input : editor.newObject());
        int index = 0;
        for (int op = ops + 1, end = tape.end(ops); op < end; op = tape.end(op), index++)
        {
            if (!Operation.apply(workspace, op, false))
            {
                if (editor.overBudget() && compile(workspace, tape.end(op), end))
                {
                    // what the tree path would say, after copying as much again: it checks every operation before
                    // applying the first, and fails at this one, the ones before it having done what they did here
                    throw invalid(Operation.field(index, "from"), DocumentEditor.overBudget(editor.maxCopiedValues()));
                }
                return false;
            }
        }
        return true;
    }

    /**
     * @return whether every operation from {@code first} to {@code end} is well-formed, as the tree path checks
     *     ({@link Operation#compile}) before it applies any.
     */
    private static boolean compile(final Workspace workspace, final int first, final int end)
    {
        for (int op = first; op < end; op = workspace.tape.end(op))
        {
            if (!Operation.apply(workspace, op, true))
            {
                return false;
            }
        }
        return true;
    }

    @Override
    JsonNode apply(final ObjectNode payload, final int maxCopiedValues) throws TaskFailure
    {
        if (Payloads.countPresent(payload, FIELDS) != payload.size())
        {
            throw Payloads.unknownField("", payload, "a transform payload", FIELDS);
        }
        final JsonNode ops = payload.get("ops");
        if (ops == null)
        {
            throw invalid("ops", "required: an array of operations");
        }
        if (!ops.isArray())
        {
            throw invalid("ops", "must be an array of operations, was " + describe(ops));
        }
        final int count = ops.size();
        final Operation[] operations = new Operation[count];
        for (int i = 0; i < count; i++)
        {
            operations[i] = Operation.compile(ops.get(i), i);
        }

        final DocumentEditor editor = new DocumentEditor(maxCopiedValues);
        JsonNode document = Payloads.input(payload);
        for (int i = 0; i < count; i++)
        {
            document = operations[i].applyTo(document, editor, i);
        }
        return document;
    }

    /**
     * The operations, with the fields each one takes.
     */
    private enum Kind
    {
        SET("set", new String[] {"op", "path", "value"}),
        COPY("copy", new String[] {"op", "from", "path", "required"}),
        MOVE("move", new String[] {"op", "from", "path", "required"}),
        REMOVE("remove", new String[] {"op", "path", "required"}),
        MERGE("merge", new String[] {"op", "path", "value"});

        static final String NAMES = "set, copy, move, remove, merge";

        private static final Kind[] KINDS = values();

        final String name;
        final String[] fields;

        Kind(final String name, final String[] fields)
        {
            this.name = name;
            this.fields = fields;
        }

        static Kind named(final String name)
        {
            switch (name)
            {
                case "set":
                    return SET;
                case "copy":
                    return COPY;
                case "move":
                    return MOVE;
                case "remove":
                    return REMOVE;
                case "merge":
                    return MERGE;
                default:
                    return null;
            }
        }

        /**
         * @return the kind a string on the tape names, or null.
         */
        static Kind named(final Tape tape, final int entry)
        {
            for (final Kind kind : KINDS)
            {
                if (tape.isString(entry, kind.name))
                {
                    return kind;
                }
            }
            return null;
        }

        boolean takes(final String field)
        {
            for (final String candidate : fields)
            {
                if (candidate.equals(field))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * One operation, checked: its pointers parsed, its fields present and of the right types.
     */
    private static final class Operation
    {
        final Kind kind;
        final Pointer path;
        final Pointer from;
        final JsonNode value;
        final boolean required;

        private Operation(final Kind kind, final Pointer path, final Pointer from, final JsonNode value, final boolean required)
        {
            this.kind = kind;
            this.path = path;
            this.from = from;
            this.value = value;
            this.required = required;
        }

        static Operation compile(final JsonNode op, final int index) throws TaskFailure
        {
            if (!op.isObject())
            {
                throw invalid("ops[" + index + "]", "must be an operation object, was " + describe(op));
            }
            final JsonNode name = op.get("op");
            if (name == null)
            {
                throw invalid(field(index, "op"), "required (" + Kind.NAMES + ")");
            }
            if (!name.isTextual())
            {
                throw invalid(field(index, "op"), "must be a string (" + Kind.NAMES + "), was " + describe(name));
            }
            final Kind kind = Kind.named(name.textValue());
            if (kind == null)
            {
                throw invalid(field(index, "op"), "unknown operation " + quote(name.textValue()) + " (" + Kind.NAMES + ")");
            }
            if (Payloads.countPresent((ObjectNode)op, kind.fields) != op.size())
            {
                throw Payloads.unknownField("ops[" + index + "].", (ObjectNode)op, "a " + kind.name + " operation", kind.fields);
            }

            final Pointer path = pointer(op, index, "path");
            final Pointer from = kind.takes("from") ? pointer(op, index, "from") : null;
            final JsonNode value = op.get("value");
            if (value == null && kind.takes("value"))
            {
                throw invalid(field(index, "value"), "required (any JSON, null included)");
            }
            final JsonNode requiredNode = op.get("required");
            if (requiredNode != null && !requiredNode.isBoolean())
            {
                throw invalid(field(index, "required"), "must be true or false, was " + describe(requiredNode));
            }

            if (kind == Kind.REMOVE && path.isWholeDocument())
            {
                throw invalid(field(index, "path"), "the empty pointer: the whole document cannot be removed");
            }
            if (kind == Kind.MOVE && from.isWholeDocument())
            {
                throw invalid(field(index, "from"), "the empty pointer: the whole document cannot be moved");
            }
            if (kind == Kind.MOVE && from.isProperPrefixOf(path))
            {
                throw invalid(field(index, "path"), quote(path.toString()) + " is inside from " + quote(from.toString()) +
                    ": a value cannot be moved into itself");
            }
            return new Operation(kind, path, from, value, requiredNode == null || requiredNode.booleanValue());
        }

        /**
         * The fast path's counterpart of {@link #compile} and {@link #applyTo} together, on the tape.
         *
         * @param compileOnly whether to stop once the operation is found well-formed, applying nothing.
         * @return false wherever they would throw.
         */
        static boolean apply(final Workspace workspace, final int op, final boolean compileOnly)
        {
            final Tape tape = workspace.tape;
            final TapeEditor editor = workspace.editor;
            if (tape.kind(op) != Tape.OBJECT)
            {
                return false;
            }
            int nameEntry = -1;
            int pathEntry = -1;
            int fromEntry = -1;
            int value = -1;
            int requiredEntry = -1;
            for (int member = op + 1, end = tape.end(op); member < end; member = tape.end(member))
            {
                final String field = tape.name(member);
                switch (field)
                {
                    case "op":
                        nameEntry = member;
                        break;
                    case "path":
                        pathEntry = member;
                        break;
                    case "from":
                        fromEntry = member;
                        break;
                    case "value":
                        value = member;
                        break;
                    case "required":
                        requiredEntry = member;
                        break;
                    default:
                        return false;
                }
            }
            final Kind kind = nameEntry < 0 ? null : Kind.named(tape, nameEntry);
            if (kind == null || pathEntry < 0 ||
                (fromEntry >= 0) != kind.takes("from") ||
                (value >= 0) != kind.takes("value") ||
                (requiredEntry >= 0 && !kind.takes("required")))
            {
                return false;
            }
            if (requiredEntry >= 0 && tape.kind(requiredEntry) != Tape.TRUE && tape.kind(requiredEntry) != Tape.FALSE)
            {
                return false;
            }
            final boolean required = requiredEntry < 0 || tape.kind(requiredEntry) == Tape.TRUE;
            final Pointer path = workspace.pointer(pathEntry);
            final Pointer from = fromEntry >= 0 ? workspace.pointer(fromEntry) : null;
            if (path == null || (fromEntry >= 0 && from == null))
            {
                return false;
            }
            if (kind == Kind.REMOVE && path.isWholeDocument() ||
                kind == Kind.MOVE && (from.isWholeDocument() || from.isProperPrefixOf(path)))
            {
                return false;
            }
            if (compileOnly)
            {
                return true;
            }

            switch (kind)
            {
                case SET:
                    return editor.set(path, value, false);
                case COPY:
                {
                    final int found = editor.find(editor.document(), from);
                    if (found == TapeEditor.NONE)
                    {
                        return !required;
                    }
                    final int copy = editor.copy(found);
                    return copy != TapeEditor.NONE && editor.set(path, copy, true);
                }
                case MOVE:
                {
                    if (from.toString().equals(path.toString()))
                    {
                        return editor.find(editor.document(), from) != TapeEditor.NONE || !required;
                    }
                    final int removed = editor.remove(from);
                    if (removed == TapeEditor.NONE)
                    {
                        return !required;
                    }
                    return editor.set(path, removed, true);
                }
                case REMOVE:
                    return editor.remove(path) != TapeEditor.NONE || !required;
                case MERGE:
                {
                    final int target = editor.find(editor.document(), path);
                    final int merged = editor.merge(target, value);
                    return merged == target || editor.set(path, merged, false);
                }
                default:
                    throw new IllegalStateException("operation " + kind);
            }
        }

        JsonNode applyTo(final JsonNode document, final DocumentEditor editor, final int index) throws TaskFailure
        {
            switch (kind)
            {
                case SET:
                    return put(document, value, false, index);
                case COPY:
                {
                    final JsonNode found = DocumentEditor.find(document, from);
                    if (found == null)
                    {
                        return unmatched(document, "from", from, index);
                    }
                    final JsonNode copy;
                    try
                    {
                        copy = editor.copy(found);
                    }
                    catch (final EditException ex)
                    {
                        throw invalid(field(index, "from"), ex.getMessage());
                    }
                    return put(document, copy, true, index);
                }
                case MOVE:
                {
                    if (from.toString().equals(path.toString()))
                    {
                        return DocumentEditor.find(document, from) == null ? unmatched(document, "from", from, index) : document;
                    }
                    final JsonNode removed = DocumentEditor.remove(document, from);
                    if (removed == null)
                    {
                        return unmatched(document, "from", from, index);
                    }
                    return put(document, removed, true, index);
                }
                case REMOVE:
                    return DocumentEditor.remove(document, path) == null ? unmatched(document, "path", path, index) : document;
                case MERGE:
                {
                    final JsonNode target = DocumentEditor.find(document, path);
                    final JsonNode merged = DocumentEditor.merge(target, value);
                    return merged == target ? document : put(document, merged, false, index);
                }
                default:
                    throw new IllegalStateException("operation " + kind);
            }
        }

        private JsonNode put(final JsonNode document, final JsonNode value, final boolean insert, final int index) throws TaskFailure
        {
            try
            {
                return DocumentEditor.set(document, path, value, insert);
            }
            catch (final EditException ex)
            {
                throw invalid(field(index, "path"), ex.getMessage());
            }
        }

        private JsonNode unmatched(final JsonNode document, final String name, final Pointer pointer, final int index)
            throws TaskFailure
        {
            if (required)
            {
                throw invalid(field(index, name), quote(pointer.toString()) + " matches nothing in the document");
            }
            return document;
        }

        private static Pointer pointer(final JsonNode op, final int index, final String name) throws TaskFailure
        {
            final JsonNode node = op.get(name);
            if (node == null)
            {
                throw invalid(field(index, name), "required (a JSON Pointer)");
            }
            if (!node.isTextual())
            {
                throw invalid(field(index, name), "must be a JSON Pointer string, was " + describe(node));
            }
            try
            {
                return Pointer.parse(node.textValue());
            }
            catch (final IllegalArgumentException ex)
            {
                throw Payloads.notAPointer(field(index, name), node.textValue(), ex);
            }
        }

        static String field(final int index, final String name)
        {
            return "ops[" + index + "]." + name;
        }
    }
}
