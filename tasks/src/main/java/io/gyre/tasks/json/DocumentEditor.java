package io.gyre.tasks.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.Map;

import static io.gyre.tasks.json.Payloads.describe;
import static io.gyre.tasks.json.Payloads.quote;

/**
 * Edits a JSON tree in place at {@link Pointer}s: find, set, remove, deep copy and JSON merge patch
 * (RFC 7386). The tree is the task's own (parsed from its payload, dropped after its output is written), so
 * values are moved into it, not copied, except where one value would end up in two places ({@link #copy}).
 * <p>
 * Copies are counted against a budget of values per task, so that a payload of a few hundred bytes cannot
 * copy a document into itself until the heap is gone: each copy at least doubles what the next can copy.
 * Not thread-safe: one editor per attempt.
 */
final class DocumentEditor
{
    /** Deepest nesting copied, as deep as Jackson reads and writes by default. */
    static final int MAX_DEPTH = 1000;

    private final int maxCopiedValues;
    private int copiesLeft;

    /**
     * @param maxCopiedValues how many values (objects, arrays and scalars, each counted) this attempt may copy.
     */
    DocumentEditor(final int maxCopiedValues)
    {
        this.maxCopiedValues = maxCopiedValues;
        this.copiesLeft = maxCopiedValues;
    }

    /**
     * @return the value the pointer refers to (JSON {@code null} is a value), or null when it refers to none.
     */
    static JsonNode find(final JsonNode document, final Pointer pointer)
    {
        JsonNode node = document;
        for (int i = 0, depth = pointer.depth(); i < depth && node != null; i++)
        {
            node = child(node, pointer.token(i));
        }
        return node;
    }

    /**
     * Put a value at a pointer: the whole document for the empty pointer; a property of an object, created
     * or replaced; in an array, at an index up to its length, or at {@code -} for its length: appended there,
     * and below the length either replacing the element or, with {@code insert}, inserted before it (JSON
     * Patch's {@code add}). Missing intermediate properties are created as empty objects; nothing else is
     * created.
     *
     * @param insert whether a value put at an array index below its length shifts the element there up,
     *     rather than replacing it.
     * @return the document, which is {@code value} itself for the empty pointer.
     * @throws EditException when a value on the way is not a container, or an array has no such index.
     */
    static JsonNode set(final JsonNode document, final Pointer path, final JsonNode value, final boolean insert)
        throws EditException
    {
        if (path.isWholeDocument())
        {
            return value;
        }
        final int last = path.depth() - 1;
        JsonNode parent = document;
        for (int i = 0; i < last; i++)
        {
            final String token = path.token(i);
            if (parent.isObject())
            {
                final JsonNode child = parent.get(token);
                parent = child != null ? child : ((ObjectNode)parent).putObject(token);
            }
            else if (parent.isArray())
            {
                final int index = Pointer.index(token);
                if (index < 0 || index >= parent.size())
                {
                    throw cannotSet(path, i, index < 0 ?
                        "is an array and " + quote(token) + " is not an index" :
                        "has no element " + index + " (an array of " + parent.size() + ")");
                }
                parent = parent.get(index);
            }
            else
            {
                throw cannotSet(path, i, "is " + describe(parent) + ", not an object or array");
            }
        }
        final String token = path.token(last);
        if (parent.isObject())
        {
            ((ObjectNode)parent).set(token, value);
        }
        else if (parent.isArray())
        {
            final ArrayNode array = (ArrayNode)parent;
            final int index = Pointer.END_OF_ARRAY.equals(token) ? array.size() : Pointer.index(token);
            if (index < 0)
            {
                throw cannotSet(path, last, "is an array and " + quote(token) + " is not an index");
            }
            if (index < array.size())
            {
                if (insert)
                {
                    array.insert(index, value);
                }
                else
                {
                    array.set(index, value);
                }
            }
            else if (index == array.size())
            {
                array.add(value);
            }
            else
            {
                throw cannotSet(path, last, "has no element " + index + " (an array of " + array.size() +
                    "; " + array.size() + " or \"-\" appends)");
            }
        }
        else
        {
            throw cannotSet(path, last, "is " + describe(parent) + ", not an object or array");
        }
        return document;
    }

    /**
     * Remove the value at a pointer other than the empty one.
     *
     * @return the value removed, or null when the pointer refers to none.
     */
    static JsonNode remove(final JsonNode document, final Pointer path)
    {
        final int last = path.depth() - 1;
        JsonNode parent = document;
        for (int i = 0; i < last && parent != null; i++)
        {
            parent = child(parent, path.token(i));
        }
        if (parent == null)
        {
            return null;
        }
        final String token = path.token(last);
        if (parent.isObject())
        {
            return ((ObjectNode)parent).remove(token);
        }
        if (parent.isArray())
        {
            final int index = Pointer.index(token);
            return index >= 0 && index < parent.size() ? ((ArrayNode)parent).remove(index) : null;
        }
        return null;
    }

    /**
     * Apply a JSON merge patch (RFC 7386) to a value: an object patch merges into an object target in place
     * ({@code null} members remove, others merge recursively) and into anything else as if it were
     * {@code {}}; any other patch replaces the target.
     *
     * @param target the value patched, or null when there is none.
     * @return the patched value: {@code target} itself when it was an object and the patch one.
     */
    static JsonNode merge(final JsonNode target, final JsonNode patch)
    {
        if (!patch.isObject())
        {
            return patch;
        }
        final ObjectNode result = target != null && target.isObject() ? (ObjectNode)target : JsonNodeFactory.instance.objectNode();
        for (final Map.Entry<String, JsonNode> member : patch.properties())
        {
            final String name = member.getKey();
            final JsonNode value = member.getValue();
            if (value.isNull())
            {
                result.remove(name);
            }
            else
            {
                final JsonNode existing = result.get(name);
                final JsonNode merged = merge(existing, value);
                if (merged != existing)
                {
                    result.set(name, merged);
                }
            }
        }
        return result;
    }

    /**
     * @return a copy of the value that shares no container with it (scalars are immutable and shared).
     * @throws EditException when the copy would take this attempt past its budget of copied values, or the
     *     value is nested deeper than {@link #MAX_DEPTH}.
     */
    JsonNode copy(final JsonNode value) throws EditException
    {
        return copy(value, 0);
    }

    private JsonNode copy(final JsonNode value, final int depth) throws EditException
    {
        if (--copiesLeft < 0)
        {
            throw new EditException(overBudget(maxCopiedValues));
        }
        if (!value.isContainerNode())
        {
            return value;
        }
        if (depth == MAX_DEPTH)
        {
            throw new EditException("the value is nested deeper than " + MAX_DEPTH + " levels");
        }
        if (value.isObject())
        {
            final ObjectNode copy = JsonNodeFactory.instance.objectNode();
            for (final Map.Entry<String, JsonNode> member : value.properties())
            {
                copy.set(member.getKey(), copy(member.getValue(), depth + 1));
            }
            return copy;
        }
        final ArrayNode copy = JsonNodeFactory.instance.arrayNode(value.size());
        for (final Iterator<JsonNode> elements = value.elements(); elements.hasNext(); )
        {
            copy.add(copy(elements.next(), depth + 1));
        }
        return copy;
    }

    /**
     * @return why a copy fails that would take an attempt past its budget ({@link TapeEditor} words it alike).
     */
    static String overBudget(final int maxCopiedValues)
    {
        return "copies more than " + maxCopiedValues + " values in all (max-copied-values)";
    }

    private static JsonNode child(final JsonNode node, final String token)
    {
        if (node.isObject())
        {
            return node.get(token);
        }
        if (node.isArray())
        {
            final int index = Pointer.index(token);
            return index >= 0 && index < node.size() ? node.get(index) : null;
        }
        return null;
    }

    private static EditException cannotSet(final Pointer path, final int depth, final String problem)
    {
        return new EditException("cannot set " + quote(path.toString()) + ": " + where(path, depth) + " " + problem);
    }

    /**
     * @return the value the first {@code depth} tokens lead to, named for a message.
     */
    static String where(final Pointer pointer, final int depth)
    {
        return depth == 0 ? "the document" : quote(pointer.prefix(depth));
    }
}
