package io.gyre.tasks.json.reference;

/**
 * An edit the document does not allow (a value where a container must be, an index past an array's end,
 * a copy over budget). Carries only a reason: the handler that asked for the edit names the field.
 * Stackless: it is an answer about the input, not a bug.
 */
final class EditException extends Exception
{
    private static final long serialVersionUID = 1L;

    EditException(final String reason)
    {
        super(reason, null, false, false);
    }
}
