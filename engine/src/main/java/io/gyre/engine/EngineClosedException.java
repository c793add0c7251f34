package io.gyre.engine;

/**
 * The engine is stopping or stopped and takes no more requests: the engine's SHUTTING_DOWN (over TCP, a
 * REJECTED {@code SHUTTING_DOWN}). Nothing was journaled for the request; submit it again to the next engine.
 */
public final class EngineClosedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    public EngineClosedException(final String message)
    {
        super(message);
    }
}
