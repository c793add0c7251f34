package io.gyre.engine;

/**
 * A status or cancel request was refused by the engine (it is shutting down, or could not journal the
 * request); nothing changed. The reason says why.
 */
public final class RequestRefusedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final transient RejectReason reason;

    public RequestRefusedException(final RejectReason reason, final String message)
    {
        super(message);
        this.reason = reason;
    }

    public RejectReason reason()
    {
        return reason;
    }
}
