package io.gyre.tasks.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.TaskFailure;
import org.agrona.DirectBuffer;

import java.util.Map;

import static io.gyre.tasks.json.Payloads.describe;
import static io.gyre.tasks.json.Payloads.entry;
import static io.gyre.tasks.json.Payloads.invalid;
import static io.gyre.tasks.json.Payloads.quote;

/**
 * Task type {@code inject}: a template filled in with values taken from the input at JSON Pointers.
 * <pre>
 * {"input": {"user": {"id": 42, "name": "Ada"}},
 *  "template": {"to": null, "text": "welcome"},
 *  "refs": {"/to": "/user/name", "/meta/user": "/user/id"}}
 *   → {"to": "Ada", "text": "welcome", "meta": {"user": 42}}
 * </pre>
 * {@code input} (any JSON, default {@code {}}) is where values come from and {@code template} (any JSON,
 * default {@code {}}) the document they go into; {@code refs} (required) maps a target pointer in the
 * template to a source pointer in the input, applied in the order written. A copy of the source's value is
 * put at the target as {@link DocumentEditor#set} says (replacing what is there). When a source matches
 * nothing the task fails, naming the entry ({@code refs["/to"]: source "/user/name" matches nothing in the
 * input}), unless {@code required} is {@code false}: then that target is left as the template has it.
 */
public final class InjectTaskHandler extends JsonTaskHandler
{
    /** The task type name. */
    public static final String TYPE = "inject";

    /**
     * The largest payload whose task runs inline. Every ref copies, so what a payload can have copied grows with the
     * square of its length: at 512 bytes at most 28 refs each copying a 126-value input, 3,528 values written, 23 - 25
     * µs alone ({@code JsonWorstCaseBenchmark}, {@code inject-512}), under a 4 KiB {@code set}'s worst (47 - 57 µs);
     * at 1 KiB four times as many values, 77 - 94 µs, and at 4 KiB as many as max-copied-values allows, 0.4 ms.
     */
    static final int INLINE_PAYLOAD_BYTES_INJECT = 512;

    /** The payload's members (the fast path's variables are in this order). */
    private static final String[] FIELDS = {"input", "template", "refs", "required"};

    public InjectTaskHandler()
    {
        super(TYPE, true, FIELDS);
    }

    /**
     * {@inheritDoc}
     * <p>
     * Up to {@value #INLINE_PAYLOAD_BYTES_INJECT} bytes: what an {@code inject} copies grows as the product of its
     * refs and its input, so with the square of its payload's length.
     */
    @Override
    boolean runsInline(final DirectBuffer payload, final int offset, final int length)
    {
        return length <= INLINE_PAYLOAD_BYTES_INJECT;
    }

    @Override
    boolean edit(final Workspace workspace, final Tape tape, final TapeEditor editor, final int[] at) throws TaskFailure
    {
        final int input = at[0];
        final int template = at[1];
        final int refs = at[2];
        final int requiredEntry = at[3];
        if (refs < 0 || tape.kind(refs) != Tape.OBJECT)
        {
            return false;
        }
        if (requiredEntry >= 0 && tape.kind(requiredEntry) != Tape.TRUE && tape.kind(requiredEntry) != Tape.FALSE)
        {
            return false;
        }
        final boolean required = requiredEntry < 0 || tape.kind(requiredEntry) == Tape.TRUE;
        final int source = input >= 0 ? input : editor.newObject();
        editor.document(template >= 0 ? template : editor.newObject());
        for (int ref = refs + 1, end = tape.end(refs); ref < end; ref = tape.end(ref))
        {
            final Pointer target = workspace.pointer(tape.name(ref));
            final Pointer from = workspace.pointer(ref);
            if (target == null || from == null)
            {
                return false;
            }
            final int value = editor.find(source, from);
            if (value == TapeEditor.NONE)
            {
                if (required)
                {
                    return false;
                }
                continue;
            }
            final int copy = editor.copy(value);
            if (copy == TapeEditor.NONE)
            {
                if (editor.overBudget() && pointers(workspace, tape, tape.end(ref), end))
                {
                    // what the tree path would say, after copying as much again: it fails at this ref too, the refs
                    // before it having done what they did here, the ones after it being well-formed
                    throw invalid(entry("refs", target.toString()), DocumentEditor.overBudget(editor.maxCopiedValues()));
                }
                return false;
            }
            if (!editor.set(target, copy, false))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return whether every ref from {@code first} to {@code end} has a target and a source that are JSON Pointers,
     *     as the tree path checks before it copies anything.
     */
    private static boolean pointers(final Workspace workspace, final Tape tape, final int first, final int end)
    {
        for (int ref = first; ref < end; ref = tape.end(ref))
        {
            if (workspace.pointer(tape.name(ref)) == null || workspace.pointer(ref) == null)
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
            throw Payloads.unknownField("", payload, "an inject payload", FIELDS);
        }
        final JsonNode refs = payload.get("refs");
        if (refs == null)
        {
            throw invalid("refs", "required: an object of target JSON Pointer to source JSON Pointer");
        }
        if (!refs.isObject())
        {
            throw invalid("refs", "must be an object of target JSON Pointer to source JSON Pointer, was " + describe(refs));
        }
        final JsonNode requiredNode = payload.get("required");
        if (requiredNode != null && !requiredNode.isBoolean())
        {
            throw invalid("required", "must be true or false, was " + describe(requiredNode));
        }
        final boolean required = requiredNode == null || requiredNode.booleanValue();

        final Pointer[] targets = new Pointer[refs.size()];
        final Pointer[] sources = new Pointer[targets.length];
        int count = 0;
        for (final Map.Entry<String, JsonNode> ref : refs.properties())
        {
            final String target = ref.getKey();
            final JsonNode source = ref.getValue();
            try
            {
                targets[count] = Pointer.parse(target);
            }
            catch (final IllegalArgumentException ex)
            {
                throw invalid(entry("refs", target), "target " + quote(target) + " is not a JSON Pointer: " + ex.getMessage());
            }
            if (!source.isTextual())
            {
                throw invalid(entry("refs", target), "source must be a JSON Pointer string, was " + describe(source));
            }
            try
            {
                sources[count++] = Pointer.parse(source.textValue());
            }
            catch (final IllegalArgumentException ex)
            {
                throw invalid(entry("refs", target),
                    "source " + quote(source.textValue()) + " is not a JSON Pointer: " + ex.getMessage());
            }
        }

        final JsonNode input = Payloads.input(payload);
        final JsonNode template = payload.get("template");
        final DocumentEditor editor = new DocumentEditor(maxCopiedValues);
        JsonNode document = template != null ? template : payload.objectNode();
        for (int i = 0; i < count; i++)
        {
            final JsonNode value = DocumentEditor.find(input, sources[i]);
            if (value == null)
            {
                if (required)
                {
                    throw invalid(entry("refs", targets[i].toString()),
                        "source " + quote(sources[i].toString()) + " matches nothing in the input");
                }
                continue;
            }
            try
            {
                document = DocumentEditor.set(document, targets[i], editor.copy(value), false);
            }
            catch (final EditException ex)
            {
                throw invalid(entry("refs", targets[i].toString()), ex.getMessage());
            }
        }
        return document;
    }
}
