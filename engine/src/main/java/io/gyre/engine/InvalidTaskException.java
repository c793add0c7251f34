package io.gyre.engine;

/**
 * A submission is malformed (missing key, unknown task type, oversized payload, a value out of range).
 * Nothing was journaled or accepted for it. The message names the field and the value.
 */
public final class InvalidTaskException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidTaskException(final String field, final String message)
    {
        super(message);
        this.field = field;
    }

    /**
     * @return the name of the offending field, e.g. {@code key} or {@code payload}.
     */
    public String field()
    {
        return field;
    }
}
