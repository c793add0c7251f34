package io.gyre.ingress.protocol;

/**
 * Codes of ERROR frames. An ERROR frame with correlation 0 is about the connection, and the server closes
 * the connection right after it.
 */
public enum ErrorCode
{
    /** The HELLO did not start with the magic "GYRE". */
    BAD_MAGIC(1),
    /** The HELLO asked for a protocol version this server does not speak. */
    UNSUPPORTED_VERSION(2),
    /** The server wants an auth token and the HELLO carried none, or a wrong one. */
    AUTH_FAILED(3),
    /** The first frame was not a HELLO. */
    HANDSHAKE_REQUIRED(4),
    /** A frame's length exceeds the server's maximum (the WELCOME says it; before the handshake, 1035). */
    FRAME_TOO_LARGE(5),
    /** A frame's length is 0 (no opcode). */
    BAD_LENGTH(6),
    /** An opcode this server does not take from clients. */
    UNKNOWN_OPCODE(7),
    /** A frame's body does not match its fields: too short, too long, or a length field that overruns it. */
    MALFORMED_FRAME(8),
    /** Nothing was received for the idle timeout while nothing was in flight. */
    IDLE_TIMEOUT(9),
    /** The server is shutting down. */
    SHUTTING_DOWN(10),
    /** A frame that is valid but not allowed now (a second HELLO). */
    UNEXPECTED_FRAME(11),
    /** The server failed; the message says how. */
    INTERNAL_ERROR(12),
    /** The server has as many connections as it is configured for. */
    TOO_MANY_CONNECTIONS(13),
    /**
     * The connection's replies were not being read: the bytes of replies the server still held for it passed
     * its per-connection budget, or it held the most when the server's total budget was passed. Nothing is
     * lost: outcomes are journaled; reconnect and resubmit by key, or ask STATUS.
     */
    SLOW_CONSUMER(14);

    private static final ErrorCode[] VALUES = values();

    private final int code;

    ErrorCode(final int code)
    {
        this.code = code;
    }

    public int code()
    {
        return code;
    }

    /**
     * @return the code's constant, or null for a code this version does not know.
     */
    public static ErrorCode fromCode(final int code)
    {
        for (final ErrorCode value : VALUES)
        {
            if (value.code == code)
            {
                return value;
            }
        }
        return null;
    }
}
