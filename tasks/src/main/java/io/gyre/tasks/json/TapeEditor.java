package io.gyre.tasks.json;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.Arrays;

/**
 * {@link DocumentEditor}'s edits, made on a {@link Tape} without building a tree: a value is an {@code int}
 * handle, either a tape entry ({@code >= 0}, never changed) or a container an edit had to change
 * ({@code ~index} into a pool of {@link Container}s reused from task to task). Changing a value inside a tape
 * object or array first copies that one level into a container (its members stay tape handles), so an edit
 * costs in proportion to the path it walks, not to the document; a copy of a tape value is its handle.
 * <p>
 * Every method answers as its {@link DocumentEditor} counterpart would on the tree the payload parses to, or
 * says it cannot ({@code false}, {@link #NONE}) where the tree editor would fail: the caller then takes the
 * tree path, which words the error. {@link #write} writes with a Jackson generator what the tree writer would,
 * byte for byte: numbers as their tree nodes print them (integers as written, {@code -0} included; decimals as
 * {@link BigDecimal#toString}, a negative zero with its sign), strings decoded and escaped again.
 * <p>
 * Not thread-safe: one per {@link Workspace}.
 */
final class TapeEditor
{
    /** No value: a pointer that matches nothing, or an edit refused. Not a tape entry nor a container. */
    static final int NONE = Integer.MIN_VALUE;

    private final Tape tape;
    private Container[] containers = new Container[16];
    private int containerCount;
    private int maxCopiedValues;
    private int copiesLeft;
    /** Whether the last {@link #copy} was refused for the budget, where the tree editor would say so too. */
    private boolean overBudget;
    private int document;

    TapeEditor(final Tape tape)
    {
        this.tape = tape;
    }

    /**
     * Start a task: no containers, the full budget of copies, no document.
     */
    void reset(final int maxCopiedValues)
    {
        containerCount = 0;
        this.maxCopiedValues = maxCopiedValues;
        copiesLeft = maxCopiedValues;
        overBudget = false;
        document = NONE;
    }

    /**
     * @return the budget of copies this task started with.
     */
    int maxCopiedValues()
    {
        return maxCopiedValues;
    }

    /**
     * @return whether the last {@link #copy} returned {@link #NONE} because it would take this task past its budget,
     *     and {@link DocumentEditor#copy} would fail for that too, not for a value nested too deep: the caller may
     *     then word the failure itself ({@link DocumentEditor#overBudget}) rather than have the tree path copy as
     *     much again to find it.
     */
    boolean overBudget()
    {
        return overBudget;
    }

    /**
     * @return the document edited.
     */
    int document()
    {
        return document;
    }

    void document(final int value)
    {
        document = value;
    }

    /**
     * @return a new empty object.
     */
    int newObject()
    {
        return allocate(true);
    }

    /**
     * As {@link DocumentEditor#find}.
     *
     * @return the value the pointer refers to in {@code root}, or {@link #NONE}.
     */
    int find(final int root, final Pointer pointer)
    {
        int value = root;
        for (int i = 0, depth = pointer.depth(); i < depth && value != NONE; i++)
        {
            value = child(value, pointer.token(i));
        }
        return value;
    }

    /**
     * As {@link DocumentEditor#set} on the document.
     *
     * @return false where {@link DocumentEditor#set} throws.
     */
    boolean set(final Pointer path, final int value, final boolean insert)
    {
        if (path.isWholeDocument())
        {
            document = value;
            return true;
        }
        final int root = writable(document);
        if (root >= 0)
        {
            return false;
        }
        document = root;
        Container parent = containers[~root];
        final int last = path.depth() - 1;
        for (int i = 0; i < last; i++)
        {
            final String token = path.token(i);
            final int slot;
            if (parent.object)
            {
                slot = parent.indexOf(token);
                if (slot < 0)
                {
                    final int created = allocate(true);
                    parent.add(token, created);
                    parent = containers[~created];
                    continue;
                }
            }
            else
            {
                slot = Pointer.index(token);
                if (slot < 0 || slot >= parent.size)
                {
                    return false;
                }
            }
            final int child = writable(parent.values[slot]);
            if (child >= 0)
            {
                return false;
            }
            parent.values[slot] = child;
            parent = containers[~child];
        }
        final String token = path.token(last);
        if (parent.object)
        {
            final int slot = parent.indexOf(token);
            if (slot < 0)
            {
                parent.add(token, value);
            }
            else
            {
                parent.values[slot] = value;
            }
            return true;
        }
        final int size = parent.size;
        final int index = Pointer.END_OF_ARRAY.equals(token) ? size : Pointer.index(token);
        if (index < 0 || index > size)
        {
            return false;
        }
        if (index == size)
        {
            parent.add(null, value);
        }
        else if (insert)
        {
            parent.insert(index, value);
        }
        else
        {
            parent.values[index] = value;
        }
        return true;
    }

    /**
     * As {@link DocumentEditor#remove} on the document, for a pointer other than the empty one.
     *
     * @return the value removed, or {@link #NONE} when the pointer refers to none.
     */
    int remove(final Pointer path)
    {
        if (find(document, path) == NONE)
        {
            return NONE;
        }
        final int root = writable(document);
        document = root;
        Container parent = containers[~root];
        final int last = path.depth() - 1;
        for (int i = 0; i < last; i++)
        {
            final int slot = parent.slotOf(path.token(i));
            final int child = writable(parent.values[slot]);
            parent.values[slot] = child;
            parent = containers[~child];
        }
        return parent.removeAt(parent.slotOf(path.token(last)));
    }

    /**
     * As {@link DocumentEditor#merge}, for a patch from the tape.
     *
     * @param target the value patched, or {@link #NONE}.
     * @return the patched value: {@code target} itself when it was an object container and the patch an object.
     */
    int merge(final int target, final int patch)
    {
        if (tape.kind(patch) != Tape.OBJECT)
        {
            return patch;
        }
        final int result = target != NONE && isObject(target) ? writable(target) : allocate(true);
        final Container object = containers[~result];
        for (int member = patch + 1, end = tape.end(patch); member < end; member = tape.end(member))
        {
            final String name = tape.name(member);
            final int slot = object.indexOf(name);
            if (tape.kind(member) == Tape.NULL)
            {
                if (slot >= 0)
                {
                    object.removeAt(slot);
                }
            }
            else
            {
                final int existing = slot < 0 ? NONE : object.values[slot];
                final int merged = merge(existing, member);
                if (merged != existing)
                {
                    if (slot < 0)
                    {
                        object.add(name, merged);
                    }
                    else
                    {
                        object.values[slot] = merged;
                    }
                }
            }
        }
        return result;
    }

    /**
     * As {@link DocumentEditor#copy}, against this task's budget: a tape value is its own copy, a container
     * is copied level by level.
     *
     * @return the copy, or {@link #NONE} where {@link DocumentEditor#copy} throws (over budget, too deep).
     */
    int copy(final int value)
    {
        overBudget = false;
        return copy(value, 0);
    }

    /**
     * Write a value as the tree writer would.
     *
     * @throws IOException from the generator (nested deeper than it allows).
     */
    void write(final JsonGenerator generator, final int value) throws IOException
    {
        if (value >= 0)
        {
            writeEntry(generator, value);
            return;
        }
        final Container container = containers[~value];
        if (container.object)
        {
            generator.writeStartObject();
            for (int i = 0; i < container.size; i++)
            {
                generator.writeFieldName(container.names[i]);
                write(generator, container.values[i]);
            }
            generator.writeEndObject();
        }
        else
        {
            generator.writeStartArray();
            for (int i = 0; i < container.size; i++)
            {
                write(generator, container.values[i]);
            }
            generator.writeEndArray();
        }
    }

    private void writeEntry(final JsonGenerator generator, final int entry) throws IOException
    {
        switch (tape.kind(entry))
        {
            case Tape.OBJECT:
                generator.writeStartObject();
                for (int member = entry + 1, end = tape.end(entry); member < end; member = tape.end(member))
                {
                    generator.writeFieldName(tape.name(member));
                    writeEntry(generator, member);
                }
                generator.writeEndObject();
                break;
            case Tape.ARRAY:
                generator.writeStartArray();
                for (int element = entry + 1, end = tape.end(entry); element < end; element = tape.end(element))
                {
                    writeEntry(generator, element);
                }
                generator.writeEndArray();
                break;
            case Tape.STRING:
                generator.writeString(tape.text(), tape.textStart(entry), tape.textLength(entry));
                break;
            case Tape.INT:
                generator.writeNumber(tape.text(), tape.textStart(entry), tape.textLength(entry));
                break;
            case Tape.FLOAT:
                writeDecimal(generator, tape.text(), tape.textStart(entry), tape.textLength(entry));
                break;
            case Tape.TRUE:
                generator.writeBoolean(true);
                break;
            case Tape.FALSE:
                generator.writeBoolean(false);
                break;
            case Tape.NULL:
                generator.writeNull();
                break;
            default:
                throw new IllegalStateException("tape entry " + entry + " of kind " + tape.kind(entry));
        }
    }

    /**
     * A number with a fraction or an exponent is a {@link BigDecimal} in the tree, printed by its
     * {@link BigDecimal#toString}, and a negative zero, which a {@code BigDecimal} cannot hold, with its sign
     * before that; that is its text when {@link #isPlainDecimal} says so, which spares the {@code BigDecimal} for
     * the usual {@code 19.99}.
     */
    private static void writeDecimal(final JsonGenerator generator, final char[] text, final int start, final int length)
        throws IOException
    {
        if (isPlainDecimal(text, start, length))
        {
            generator.writeNumber(text, start, length);
        }
        else
        {
            final BigDecimal value = new BigDecimal(text, start, length);
            if (value.signum() == 0 && text[start] == '-')
            {
                generator.writeNumber("-" + value);
            }
            else
            {
                generator.writeNumber(value);
            }
        }
    }

    /**
     * @return whether {@code new BigDecimal(text).toString()} is the text itself (after the sign of a negative
     *     zero, which it drops): no exponent, and an adjusted exponent of -6 or more (fewer than six zeros after
     *     {@code 0.} before the first significant digit; a zero with at most six decimals).
     */
    static boolean isPlainDecimal(final char[] text, final int start, final int length)
    {
        final int end = start + length;
        for (int i = start; i < end; i++)
        {
            final char c = text[i];
            if (c == 'e' || c == 'E')
            {
                return false;
            }
        }
        final boolean negative = text[start] == '-';
        final int integer = negative ? start + 1 : start;
        if (text[integer] != '0')
        {
            return true;
        }
        final int fraction = integer + 2;
        int zeros = 0;
        while (fraction + zeros < end && text[fraction + zeros] == '0')
        {
            zeros++;
        }
        if (fraction + zeros == end)
        {
            return zeros <= 6;
        }
        return zeros <= 5;
    }

    private int copy(final int value, final int depth)
    {
        if (value >= 0)
        {
            copiesLeft -= tape.end(value) - value;
            final byte kind = tape.kind(value);
            final boolean mayBeTooDeep = (kind == Tape.OBJECT || kind == Tape.ARRAY) &&
                depth + tape.maxDepth() > DocumentEditor.MAX_DEPTH;
            if (copiesLeft < 0)
            {
                // the tree editor counts value by value, checking each container's depth as it goes: it fails for the
                // budget, as this does, unless one of the containers it meets first is too deep
                overBudget = !mayBeTooDeep;
                return NONE;
            }
            return mayBeTooDeep ? NONE : value;
        }
        if (--copiesLeft < 0)
        {
            overBudget = true;
            return NONE;
        }
        if (depth == DocumentEditor.MAX_DEPTH)
        {
            return NONE;
        }
        final Container source = containers[~value];
        final int copy = allocate(source.object);
        for (int i = 0; i < source.size; i++)
        {
            final int element = copy(source.values[i], depth + 1);
            if (element == NONE)
            {
                return NONE;
            }
            containers[~copy].add(source.names[i], element);
        }
        return copy;
    }

    private boolean isObject(final int value)
    {
        return value >= 0 ? tape.kind(value) == Tape.OBJECT : containers[~value].object;
    }

    private int child(final int value, final String token)
    {
        if (value >= 0)
        {
            final byte kind = tape.kind(value);
            if (kind == Tape.OBJECT)
            {
                final int member = tape.member(value, token);
                return member >= 0 ? member : NONE;
            }
            if (kind == Tape.ARRAY)
            {
                final int index = Pointer.index(token);
                final int element = index >= 0 ? tape.element(value, index) : -1;
                return element >= 0 ? element : NONE;
            }
            return NONE;
        }
        final Container container = containers[~value];
        final int slot = container.object ? container.indexOf(token) : Pointer.index(token);
        return slot >= 0 && slot < container.size ? container.values[slot] : NONE;
    }

    /**
     * @return the value itself when it is a container or a tape scalar; for a tape object or array, a new
     *     container with its members (the caller puts it where the tape value was).
     */
    private int writable(final int value)
    {
        if (value < 0)
        {
            return value;
        }
        final byte kind = tape.kind(value);
        if (kind != Tape.OBJECT && kind != Tape.ARRAY)
        {
            return value;
        }
        final int handle = allocate(kind == Tape.OBJECT);
        final Container container = containers[~handle];
        for (int member = value + 1, end = tape.end(value); member < end; member = tape.end(member))
        {
            container.add(tape.name(member), member);
        }
        return handle;
    }

    private int allocate(final boolean object)
    {
        if (containerCount == containers.length)
        {
            containers = Arrays.copyOf(containers, containerCount * 2);
        }
        Container container = containers[containerCount];
        if (container == null)
        {
            container = new Container();
            containers[containerCount] = container;
        }
        container.reset(object);
        return ~containerCount++;
    }

    /**
     * A JSON object (names and values, in order) or array (values) an edit has changed. Values are handles.
     */
    private static final class Container
    {
        /**
         * Members above which an object's names are looked up in a hash index, built when first needed: a payload
         * that puts thousands of members into one object would otherwise cost a scan per put (quadratic: 12,000
         * members took 185 ms). Small objects, the common case, allocate no index.
         */
        private static final int INDEXED_ABOVE = 32;
        /** An index larger than this is dropped when the container is reused, rather than kept for the next task. */
        private static final int KEPT_INDEX = 4096;

        boolean object;
        int size;
        String[] names = new String[8];
        int[] values = new int[8];
        /** Name to slot, valid while {@link #indexed}: the first slot of a name, as the scan finds. */
        private java.util.HashMap<String, Integer> index;
        private boolean indexed;

        void reset(final boolean isObject)
        {
            object = isObject;
            size = 0;
            if (index != null && index.size() > KEPT_INDEX)
            {
                index = null;
            }
            indexed = false;
        }

        int indexOf(final String name)
        {
            if (size > INDEXED_ABOVE)
            {
                if (!indexed)
                {
                    buildIndex();
                }
                final Integer slot = index.get(name);
                return slot == null ? -1 : slot;
            }
            for (int i = 0; i < size; i++)
            {
                if (name.equals(names[i]))
                {
                    return i;
                }
            }
            return -1;
        }

        private void buildIndex()
        {
            if (index == null)
            {
                index = new java.util.HashMap<>(size * 2);
            }
            index.clear();
            for (int i = 0; i < size; i++)
            {
                if (names[i] != null)
                {
                    index.putIfAbsent(names[i], i);
                }
            }
            indexed = true;
        }

        /**
         * @return the slot of a token known to be there: a member's name or an element's index.
         */
        int slotOf(final String token)
        {
            return object ? indexOf(token) : Pointer.index(token);
        }

        void add(final String name, final int value)
        {
            if (size == values.length)
            {
                names = Arrays.copyOf(names, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            names[size] = name;
            values[size++] = value;
            if (indexed && name != null)
            {
                index.putIfAbsent(name, size - 1);
            }
        }

        void insert(final int index, final int value)
        {
            add(null, value);
            System.arraycopy(values, index, values, index + 1, size - 1 - index);
            values[index] = value;
            indexed = false;   // (arrays only: their names are null)
        }

        int removeAt(final int slot)
        {
            final int removed = values[slot];
            System.arraycopy(names, slot + 1, names, slot, size - 1 - slot);
            System.arraycopy(values, slot + 1, values, slot, size - 1 - slot);
            names[--size] = null;
            indexed = false;   // the slots after it moved: rebuilt when next needed
            return removed;
        }
    }
}
