package io.gyre.tasks.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import org.agrona.DirectBuffer;

import java.util.Map;

/**
 * What the JSON task types have in common: they run {@link ExecutionMode#INLINE} (microseconds of CPU, no I/O)
 * when their payload bounds their work to that, on the CPU pool otherwise ({@link #runsInline}: never above
 * {@value #INLINE_PAYLOAD_BYTES} bytes); they read the payload, build the output document from it and succeed
 * with that document as UTF-8 JSON.
 * <p>
 * Two paths, one behaviour. The fast path ({@link #edit}) reads the payload with Jackson's streaming parser
 * onto a {@link Tape} and edits handles to its values ({@link TapeEditor}): no tree of nodes, no strings for
 * names or pointers already seen, nothing allocated per task but the parser, on the thread's reused
 * {@link Workspace}. It succeeds with the bytes the tree path would write; wherever the tree path would fail, or
 * where it does not vouch for the result, it declines, and the tree path ({@link #apply} on the payload parsed by
 * {@link Payloads#parse}) runs from the start and words the failure. One failure it words itself, in the tree
 * path's words: a copy past {@value #MAX_COPIED_VALUES}, where the tree path would copy as much again only to
 * fail the same way (and only when nothing the tree path checks first, such as a later operation's fields, would
 * fail instead). So every error is the tree path's, and the two are held to the same output and errors by
 * {@code JsonEditEquivalenceTest}.
 * <p>
 * Every problem with a payload fails the attempt permanently, as {@code invalid input: <field>: <reason>}
 * ({@code invalid input: ops[2].from: "/a/b" matches nothing in the document}): the same payload would fail
 * again. {@link #validate} is not used: the payload is checked as it is edited, rather than parsed a second
 * time before; only a payload that fails is read twice (the fast path declines, the tree path says why).
 * <p>
 * Handlers that copy values take one setting, {@value #MAX_COPIED_VALUES} (values copied per attempt, each
 * object, array and scalar counted; default {@value #DEFAULT_MAX_COPIED_VALUES}), which keeps a small
 * payload that copies a document into itself again and again from exhausting the heap.
 */
abstract class JsonTaskHandler implements TaskHandler
{
    /** Name of the setting that bounds the values an attempt may copy. */
    static final String MAX_COPIED_VALUES = "max-copied-values";

    /** Values an attempt may copy unless configured otherwise. */
    static final int DEFAULT_MAX_COPIED_VALUES = 1 << 16;

    /** The largest payload whose task runs inline, on the engine's ring; a larger one runs on the CPU pool. */
    static final int INLINE_PAYLOAD_BYTES = 4096;

    private final String type;
    private final boolean copies;
    private final String[] fields;
    private int maxCopiedValues = DEFAULT_MAX_COPIED_VALUES;

    /**
     * @param type the task type name.
     * @param copies whether the type copies values (and so takes the {@value #MAX_COPIED_VALUES} setting).
     * @param fields the payload's members, every one the handler knows (the fast path finds them in this order).
     */
    JsonTaskHandler(final String type, final boolean copies, final String[] fields)
    {
        this.type = type;
        this.copies = copies;
        this.fields = fields;
    }

    @Override
    public final String type()
    {
        return type;
    }

    @Override
    public final ExecutionMode executionMode()
    {
        return ExecutionMode.INLINE;
    }

    /**
     * {@inheritDoc}
     * <p>
     * By the length alone: INLINE where {@link #runsInline} says any payload of that length may run inline, CPU
     * otherwise. The engine asks {@link #executionMode(DirectBuffer, int, int)}, which looks at the bytes too.
     */
    @Override
    public final ExecutionMode executionMode(final int payloadLength)
    {
        return payloadLength <= INLINE_PAYLOAD_BYTES && runsInline(null, 0, payloadLength) ? ExecutionMode.INLINE : ExecutionMode.CPU;
    }

    /**
     * {@inheritDoc}
     * <p>
     * INLINE when {@link #runsInline} says the payload's work is microseconds, CPU otherwise, and always above
     * {@value #INLINE_PAYLOAD_BYTES} bytes. Work grows with the payload, and a copy can multiply it: run inline,
     * a 16 KB string copied to 60 targets held the engine's ring, and every other task behind it, for tens of
     * milliseconds, and a 1.6 KB {@code transform} copying a document into itself 40 times for milliseconds.
     */
    @Override
    public final ExecutionMode executionMode(final DirectBuffer payload, final int offset, final int length)
    {
        return length <= INLINE_PAYLOAD_BYTES && runsInline(payload, offset, length) ? ExecutionMode.INLINE : ExecutionMode.CPU;
    }

    /**
     * Whether a task of this type may run inline, on the engine's ring: whether its payload bounds its work to
     * microseconds, so that a client cannot hold every other client's tasks up with it. Called once per submission,
     * on the submitting thread, for a payload of at most {@value #INLINE_PAYLOAD_BYTES} bytes: a scan of the bytes
     * at most.
     *
     * @param payload the payload, or null when only its length is known (answer for the worst payload of that
     *     length).
     * @param offset where the payload starts in {@code payload}.
     * @param length the payload's length, in bytes.
     * @return whether this payload's task may run inline.
     */
    abstract boolean runsInline(DirectBuffer payload, int offset, int length);

    /**
     * {@inheritDoc}
     * <p>
     * Takes {@value #MAX_COPIED_VALUES} (a positive integer) for the types that copy; nothing else. A setting
     * not given takes its default, whatever an earlier call set.
     */
    @Override
    public final void configure(final Map<String, String> settings)
    {
        int budget = DEFAULT_MAX_COPIED_VALUES;
        for (final Map.Entry<String, String> setting : settings.entrySet())
        {
            final String name = setting.getKey();
            final String value = setting.getValue();
            if (!copies || !MAX_COPIED_VALUES.equals(name))
            {
                throw new IllegalArgumentException(type + "." + name + "=" + value + " is not a setting of " + type +
                    (copies ? " (" + type + "." + MAX_COPIED_VALUES + ")" : " (it has none)"));
            }
            final int parsed;
            try
            {
                parsed = Integer.parseInt(value.trim());
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException(type + "." + name + "=" + value + " must be a positive integer", ex);
            }
            if (parsed < 1)
            {
                throw new IllegalArgumentException(type + "." + name + "=" + value + " must be a positive integer");
            }
            budget = parsed;
        }
        maxCopiedValues = budget;
    }

    /**
     * Edit the payload on the fast path and succeed with the output; when the fast path cannot (a payload
     * with something wrong, or that it does not vouch for), parse it into a tree, build the output from that
     * and succeed with it, or fail naming the field.
     *
     * @throws TaskFailure (permanent) naming the field of the payload that is wrong.
     */
    @Override
    public final void execute(final TaskContext context) throws TaskFailure
    {
        final Workspace workspace = Workspace.current();
        if (workspace.read(context, maxCopiedValues) && edit(workspace) && workspace.succeed(context))
        {
            return;
        }
        executeOnTree(context);
    }

    /**
     * The tree path alone: parse the payload into a tree, build the output from it, succeed with it or fail naming
     * the field. What {@link #execute} falls back on, and what the fast path is held to in tests.
     *
     * @throws TaskFailure (permanent) naming the field of the payload that is wrong.
     */
    final void executeOnTree(final TaskContext context) throws TaskFailure
    {
        final ObjectNode payload = Payloads.parse(context);
        Payloads.succeed(context, apply(payload, maxCopiedValues));
    }

    /**
     * The fast path, on the payload read onto {@code workspace.tape}: find its members, then {@link #edit(Workspace,
     * Tape, TapeEditor, int[]) edit}.
     *
     * @return false wherever {@link #apply} would fail (a member this type does not know, among others).
     * @throws TaskFailure (permanent) where the edit words the failure itself, exactly as {@link #apply} would.
     */
    final boolean edit(final Workspace workspace) throws TaskFailure
    {
        return workspace.tape.members(fields, workspace.members) && edit(workspace, workspace.tape, workspace.editor, workspace.members);
    }

    /**
     * The fast path: build the output document in {@code editor} from the payload on {@code tape} (read, and the
     * editor reset with this handler's budget of copies), exactly as {@link #apply} would from the tree.
     *
     * @param at the entries of the payload's members, in the order of the fields given to the constructor; -1 for
     *     one the payload does not have.
     * @return false wherever {@link #apply} would fail: the tree path runs instead and words the failure.
     * @throws TaskFailure (permanent) instead of returning false where the failure is certain and its wording is
     *     {@link #apply}'s exactly, so that the tree path need not do the work again to find it: a copy past
     *     {@value #MAX_COPIED_VALUES}.
     */
    abstract boolean edit(Workspace workspace, Tape tape, TapeEditor editor, int[] at) throws TaskFailure;

    /**
     * Build the output document. The payload is this attempt's own: edit it in place, move its values into
     * the output.
     *
     * @param payload the parsed payload.
     * @param maxCopiedValues the budget of values this attempt may copy (see {@link DocumentEditor}).
     * @return the output document.
     * @throws TaskFailure (permanent) naming the field of the payload that is wrong.
     */
    abstract JsonNode apply(ObjectNode payload, int maxCopiedValues) throws TaskFailure;
}
