package io.gyre.tasks.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.TaskFailure;
import org.agrona.DirectBuffer;

import java.util.Map;

import static io.gyre.tasks.json.Payloads.describe;
import static io.gyre.tasks.json.Payloads.entry;
import static io.gyre.tasks.json.Payloads.invalid;

/**
 * Task type {@code set}: the input with values put at JSON Pointers.
 * <pre>
 * {"input": {"order": {"id": 7}}, "values": {"/order/status": "paid", "/audit/by": "billing"}}
 *   → {"order": {"id": 7, "status": "paid"}, "audit": {"by": "billing"}}
 * </pre>
 * {@code input} (any JSON, default {@code {}}) is the document; {@code values} (required) maps pointers to
 * the values put there, in the order written. A value is put as {@link DocumentEditor#set} says: an object
 * property is created or replaced, an array element replaced or appended ({@code -} or the length), missing
 * objects on the way created; the empty pointer replaces the whole document. Anything else (a pointer
 * through a scalar, past an array's end) fails the task, naming the entry: {@code values["/a/b"]}.
 */
public final class SetTaskHandler extends JsonTaskHandler
{
    /** The task type name. */
    public static final String TYPE = "set";

    /** The payload's members (the fast path's variables are in this order). */
    private static final String[] FIELDS = {"input", "values"};

    public SetTaskHandler()
    {
        super(TYPE, false, FIELDS);
    }

    /**
     * {@inheritDoc}
     * <p>
     * Always, up to {@value #INLINE_PAYLOAD_BYTES} bytes: a {@code set} copies nothing, so its work and its output
     * grow with its payload and no faster.
     */
    @Override
    boolean runsInline(final DirectBuffer payload, final int offset, final int length)
    {
        return true;
    }

    @Override
    boolean edit(final Workspace workspace, final Tape tape, final TapeEditor editor, final int[] at)
    {
        final int input = at[0];
        final int values = at[1];
        if (values < 0 || tape.kind(values) != Tape.OBJECT)
        {
            return false;
        }
        editor.document(input >= 0 ? input : editor.newObject());
        for (int value = values + 1, end = tape.end(values); value < end; value = tape.end(value))
        {
            final Pointer path = workspace.pointer(tape.name(value));
            if (path == null || !editor.set(path, value, false))
            {
                return false;
            }
        }
        return true;
    }

    @Override
    JsonNode apply(final ObjectNode payload, final int maxCopiedValues) throws TaskFailure
    {
        final JsonNode values = payload.get("values");
        if (Payloads.countPresent(payload, FIELDS) != payload.size())
        {
            throw Payloads.unknownField("", payload, "a set payload", FIELDS);
        }
        if (values == null)
        {
            throw invalid("values", "required: an object of JSON Pointer to value");
        }
        if (!values.isObject())
        {
            throw invalid("values", "must be an object of JSON Pointer to value, was " + describe(values));
        }

        final Pointer[] paths = new Pointer[values.size()];
        final JsonNode[] literals = new JsonNode[paths.length];
        int count = 0;
        for (final Map.Entry<String, JsonNode> value : values.properties())
        {
            final String key = value.getKey();
            try
            {
                paths[count] = Pointer.parse(key);
            }
            catch (final IllegalArgumentException ex)
            {
                throw Payloads.notAPointer(entry("values", key), key, ex);
            }
            literals[count++] = value.getValue();
        }

        JsonNode document = Payloads.input(payload);
        for (int i = 0; i < count; i++)
        {
            try
            {
                document = DocumentEditor.set(document, paths[i], literals[i], false);
            }
            catch (final EditException ex)
            {
                throw invalid(entry("values", paths[i].toString()), ex.getMessage());
            }
        }
        return document;
    }
}
