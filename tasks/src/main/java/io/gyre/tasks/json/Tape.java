package io.gyre.tasks.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonTokenId;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;

/**
 * A payload read once with Jackson's streaming parser into flat arrays, one entry per JSON value in document
 * order (the {@code tape}): its kind, the entry after its last descendant, the property name it has in its
 * object, and for strings and numbers their text, decoded, in one shared {@code char[]}. The handlers' fast
 * path edits references to these entries rather than a tree of nodes: an untouched value costs no object.
 * <pre>
 *   {"input":{"a":[1,"x"]},"values":{}}
 *   entry  kind    end  name      text
 *     0    OBJECT   6   -
 *     1    OBJECT   5   input
 *     2    ARRAY    5   a
 *     3    INT      4   -         1
 *     4    STRING   5   -         x
 *     5    OBJECT   6   values
 * </pre>
 * <p>
 * {@link #read} accepts only what the tree reader in {@link Payloads#parse} accepts, and refuses, by
 * returning false, some of what it does accept: one object, no trailing tokens, no property named twice in an
 * object, no float whose exponent has more than nine digits (which {@link java.math.BigDecimal} may refuse) or
 * of 500 characters or more; and it refuses what {@link Payloads#parse} refuses after reading, a string with an
 * unpaired surrogate.
 * A refusal sends the task to the tree path, which words the error.
 * <p>
 * Not thread-safe: one per thread ({@link Workspace}), reused from task to task.
 */
final class Tape
{
    static final byte OBJECT = 1;
    static final byte ARRAY = 2;
    static final byte STRING = 3;
    static final byte INT = 4;
    static final byte FLOAT = 5;
    static final byte TRUE = 6;
    static final byte FALSE = 7;
    static final byte NULL = 8;

    /**
     * Characters from which Jackson reads a {@link java.math.BigDecimal} with its own algorithm rather than the
     * JDK's constructor, which {@link TapeEditor} uses: such a float is left to the tree path.
     */
    private static final int LONG_NUMBER = 500;

    /** Members of an object above which duplicates are looked for with a set rather than pairwise. */
    private static final int PAIRWISE_MEMBERS = 32;

    private static final int INITIAL_ENTRIES = 64;
    private static final int INITIAL_CHARS = 512;

    private byte[] kinds = new byte[INITIAL_ENTRIES];
    private int[] ends = new int[INITIAL_ENTRIES];
    private String[] names = new String[INITIAL_ENTRIES];
    private int[] textStarts = new int[INITIAL_ENTRIES];
    private int[] textLengths = new int[INITIAL_ENTRIES];
    private char[] text = new char[INITIAL_CHARS];
    private int[] open = new int[16];
    private int size;
    /**
     * Members or elements looked at one by one before a container is indexed: lookups in a large one (thousands
     * of pointers into one input object or array) then cost a hash or array access each. Built when first needed,
     * for this payload only.
     */
    private static final int SCANNED = 32;
    private final java.util.HashMap<Integer, java.util.HashMap<String, Integer>> memberIndexes = new java.util.HashMap<>();
    private final java.util.HashMap<Integer, int[]> elementIndexes = new java.util.HashMap<>();
    private int textSize;
    private int maxDepth;

    /**
     * Read the payload: one JSON object and nothing after it.
     *
     * @return false when the payload is not one object, names a property twice in an object, or has a float
     *     this class does not vouch for: the tree path decides.
     * @throws IOException when the parser finds the payload is not JSON (the tree path words it).
     */
    boolean read(final JsonParser parser) throws IOException
    {
        memberIndexes.clear();
        elementIndexes.clear();
        size = 0;
        textSize = 0;
        maxDepth = 0;
        int depth = 0;
        String name = null;
        if (parser.nextToken() == null || parser.currentTokenId() != JsonTokenId.ID_START_OBJECT)
        {
            return false;
        }
        while (true)
        {
            switch (parser.currentTokenId())
            {
                case JsonTokenId.ID_FIELD_NAME:
                    name = parser.currentName();
                    break;
                case JsonTokenId.ID_START_OBJECT:
                case JsonTokenId.ID_START_ARRAY:
                {
                    final int entry = add(parser.currentTokenId() == JsonTokenId.ID_START_OBJECT ? OBJECT : ARRAY, name);
                    name = null;
                    if (depth == open.length)
                    {
                        open = Arrays.copyOf(open, depth * 2);
                    }
                    open[depth++] = entry;
                    maxDepth = Math.max(maxDepth, depth);
                    break;
                }
                case JsonTokenId.ID_END_OBJECT:
                case JsonTokenId.ID_END_ARRAY:
                {
                    final int entry = open[--depth];
                    ends[entry] = size;
                    if (kinds[entry] == OBJECT && hasDuplicateName(entry))
                    {
                        return false;
                    }
                    if (depth == 0)
                    {
                        return parser.nextToken() == null;
                    }
                    break;
                }
                case JsonTokenId.ID_STRING:
                {
                    final int entry = addText(STRING, name, parser);
                    name = null;
                    if (JsonErrors.unpairedSurrogate(text, textStarts[entry], textLengths[entry]) >= 0)
                    {
                        return false; // not Unicode text: refused, as in a member name, by the tree path
                    }
                    break;
                }
                case JsonTokenId.ID_NUMBER_INT:
                    addText(INT, name, parser);
                    name = null;
                    break;
                case JsonTokenId.ID_NUMBER_FLOAT:
                {
                    final int entry = addText(FLOAT, name, parser);
                    name = null;
                    if (textLengths[entry] >= LONG_NUMBER || exponentDigits(entry) > 9)
                    {
                        return false;
                    }
                    break;
                }
                case JsonTokenId.ID_TRUE:
                    add(TRUE, name);
                    name = null;
                    break;
                case JsonTokenId.ID_FALSE:
                    add(FALSE, name);
                    name = null;
                    break;
                case JsonTokenId.ID_NULL:
                    add(NULL, name);
                    name = null;
                    break;
                default:
                    return false;
            }
            parser.nextToken();
        }
    }

    /**
     * @return how many entries: the payload's values, the payload itself being entry 0.
     */
    int size()
    {
        return size;
    }

    /**
     * @return the deepest nesting of containers in the payload (1 for a payload of scalars only).
     */
    int maxDepth()
    {
        return maxDepth;
    }

    byte kind(final int entry)
    {
        return kinds[entry];
    }

    /**
     * @return the entry after the value's last descendant: its next sibling, if it has one.
     */
    int end(final int entry)
    {
        return ends[entry];
    }

    /**
     * Find the payload's members by name: {@code at[i]} is the entry of the member named {@code names[i]} (the last
     * one, should a name come twice), or -1 when there is none.
     *
     * @return false when the payload has a member of another name (the tree path says what is wrong with it).
     */
    boolean members(final String[] names, final int[] at)
    {
        java.util.Arrays.fill(at, 0, names.length, -1);
        for (int member = 1, end = end(0); member < end; member = end(member))
        {
            final String name = name(member);
            int i = 0;
            while (i < names.length && !names[i].equals(name))
            {
                i++;
            }
            if (i == names.length)
            {
                return false;
            }
            at[i] = member;
        }
        return true;
    }

    /**
     * @return the value's property name in its object; null for an array element or the payload.
     */
    String name(final int entry)
    {
        return names[entry];
    }

    /**
     * @return the shared characters holding the text of strings and numbers ({@link #textStart},
     *     {@link #textLength}).
     */
    char[] text()
    {
        return text;
    }

    int textStart(final int entry)
    {
        return textStarts[entry];
    }

    int textLength(final int entry)
    {
        return textLengths[entry];
    }

    /**
     * @return whether the entry is a string whose text is {@code value}.
     */
    boolean isString(final int entry, final String value)
    {
        if (kinds[entry] != STRING || textLengths[entry] != value.length())
        {
            return false;
        }
        final int start = textStarts[entry];
        for (int i = 0, length = value.length(); i < length; i++)
        {
            if (text[start + i] != value.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return the member of the object entry with that name, or -1.
     */
    int member(final int object, final String name)
    {
        if (!memberIndexes.isEmpty())
        {
            final java.util.HashMap<String, Integer> index = memberIndexes.get(object);
            if (index != null)
            {
                final Integer found = index.get(name);
                return found == null ? -1 : found;
            }
        }
        int scanned = 0;
        final int end = ends[object];
        int entry = object + 1;
        for (; entry < end && scanned < SCANNED; entry = ends[entry], scanned++)
        {
            if (name.equals(names[entry]))
            {
                return entry;
            }
        }
        if (entry >= end)
        {
            return -1;
        }
        // a large object: index its names once (the first of a name wins, as the scan finds), so that looking up
        // thousands of its members costs thousands of steps, not millions
        final java.util.HashMap<String, Integer> index = new java.util.HashMap<>();
        for (int member = object + 1; member < end; member = ends[member])
        {
            index.putIfAbsent(names[member], member);
        }
        memberIndexes.put(object, index);
        final Integer found = index.get(name);
        return found == null ? -1 : found;
    }

    /**
     * @return the element at that index of the array entry, or -1.
     */
    int element(final int array, final int index)
    {
        final int end = ends[array];
        if (index >= SCANNED)
        {
            int[] elements = elementIndexes.isEmpty() ? null : elementIndexes.get(array);
            if (elements == null)
            {
                // a large array: its elements' entries once, so that many lookups by index do not each walk it
                elements = new int[count(array)];
                int i = 0;
                for (int entry = array + 1; entry < end; entry = ends[entry])
                {
                    elements[i++] = entry;
                }
                elementIndexes.put(array, elements);
            }
            return index < elements.length ? elements[index] : -1;
        }
        int entry = array + 1;
        for (int i = 0; i < index && entry < end; i++)
        {
            entry = ends[entry];
        }
        return entry < end ? entry : -1;
    }

    /**
     * @return how many members or elements the container entry has.
     */
    int count(final int container)
    {
        int count = 0;
        for (int entry = container + 1, end = ends[container]; entry < end; entry = ends[entry])
        {
            count++;
        }
        return count;
    }

    /**
     * Forget the text and names of a payload larger than usual, so that one large payload does not keep its
     * arrays for the thread's lifetime.
     */
    void trim(final int maxEntries)
    {
        if (kinds.length > maxEntries)
        {
            kinds = new byte[INITIAL_ENTRIES];
            ends = new int[INITIAL_ENTRIES];
            names = new String[INITIAL_ENTRIES];
            textStarts = new int[INITIAL_ENTRIES];
            textLengths = new int[INITIAL_ENTRIES];
            open = new int[16];
        }
        if (text.length > maxEntries * 16)
        {
            text = new char[INITIAL_CHARS];
        }
    }

    private int add(final byte kind, final String name)
    {
        final int entry = size;
        if (entry == kinds.length)
        {
            final int capacity = entry * 2;
            kinds = Arrays.copyOf(kinds, capacity);
            ends = Arrays.copyOf(ends, capacity);
            names = Arrays.copyOf(names, capacity);
            textStarts = Arrays.copyOf(textStarts, capacity);
            textLengths = Arrays.copyOf(textLengths, capacity);
        }
        kinds[entry] = kind;
        ends[entry] = entry + 1;
        names[entry] = name;
        textStarts[entry] = 0;
        textLengths[entry] = 0;
        size = entry + 1;
        return entry;
    }

    private int addText(final byte kind, final String name, final JsonParser parser) throws IOException
    {
        final int entry = add(kind, name);
        final char[] source = parser.getTextCharacters();
        final int offset = parser.getTextOffset();
        final int length = parser.getTextLength();
        if (textSize + length > text.length)
        {
            text = Arrays.copyOf(text, Math.max(text.length * 2, textSize + length));
        }
        System.arraycopy(source, offset, text, textSize, length);
        textStarts[entry] = textSize;
        textLengths[entry] = length;
        textSize += length;
        return entry;
    }

    private int exponentDigits(final int entry)
    {
        final int start = textStarts[entry];
        final int end = start + textLengths[entry];
        for (int i = start; i < end; i++)
        {
            final char c = text[i];
            if (c == 'e' || c == 'E')
            {
                int digits = end - i - 1;
                if (i + 1 < end && (text[i + 1] == '+' || text[i + 1] == '-'))
                {
                    digits--;
                }
                return digits;
            }
        }
        return 0;
    }

    private boolean hasDuplicateName(final int object)
    {
        final int end = ends[object];
        int members = 0;
        for (int entry = object + 1; entry < end; entry = ends[entry])
        {
            members++;
        }
        if (members < 2)
        {
            return false;
        }
        if (members > PAIRWISE_MEMBERS)
        {
            final HashSet<String> seen = new HashSet<>(members * 2);
            for (int entry = object + 1; entry < end; entry = ends[entry])
            {
                if (!seen.add(names[entry]))
                {
                    return true;
                }
            }
            return false;
        }
        for (int entry = object + 1; entry < end; entry = ends[entry])
        {
            final String name = names[entry];
            for (int other = ends[entry]; other < end; other = ends[other])
            {
                if (name.equals(names[other]))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
