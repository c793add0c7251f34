package io.gyre.ingress.client;

import io.gyre.ingress.protocol.ErrorCode;

/**
 * A request could not be answered: the connection failed for good (refused handshake, reconnects given
 * up), the request timed out, or the client was closed. Refusals of a task are not exceptions: they are
 * {@link TaskResult#rejected()} results.
 */
public class GyreClientException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final transient ErrorCode code;

    public GyreClientException(final String message)
    {
        this(message, null, null);
    }

    public GyreClientException(final String message, final ErrorCode code, final Throwable cause)
    {
        super(message, cause);
        this.code = code;
    }

    /**
     * @return the server's error code when the server said why (an ERROR frame), or {@link ErrorCode#FRAME_TOO_LARGE}
     *     for a request the client did not send because it exceeds the max frame the server announced; else null.
     */
    public ErrorCode code()
    {
        return code;
    }
}
