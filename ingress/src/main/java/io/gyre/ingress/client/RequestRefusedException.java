package io.gyre.ingress.client;

import io.gyre.ingress.protocol.RejectCode;

/**
 * The server answered a request with REJECTED (for requests whose refusal is not a result, as a SUBMIT's is):
 * the reason says why; the connection is fine.
 */
public final class RequestRefusedException extends GyreClientException
{
    private static final long serialVersionUID = 1L;

    private final transient RejectCode reason;
    private final int reasonCode;

    public RequestRefusedException(final String message, final RejectCode reason, final int reasonCode)
    {
        super(message);
        this.reason = reason;
        this.reasonCode = reasonCode;
    }

    /** @return the reason, or null for a code this client does not know ({@link #reasonCode()} has it). */
    public RejectCode reason()
    {
        return reason;
    }

    public int reasonCode()
    {
        return reasonCode;
    }
}
