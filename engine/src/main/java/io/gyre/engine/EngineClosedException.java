package io.gyre.engine;

/**
 * The engine is closing or closed and takes no more requests.
 */
public final class EngineClosedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    public EngineClosedException(final String message)
    {
        super(message);
    }
}
