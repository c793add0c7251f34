package io.gyre.engine;

/**
 * How urgent a task is, relative to others waiting for the same resource.
 */
public enum Priority
{
    HIGH(0),
    NORMAL(1),
    LOW(2);

    private static final Priority[] BY_CODE = values();

    private final int code;

    Priority(final int code)
    {
        this.code = code;
    }

    public int code()
    {
        return code;
    }

    public static Priority fromCode(final int code)
    {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
