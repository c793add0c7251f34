package io.gyre.ingress.client;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * How a {@link GyreClient} connects; immutable, validated by {@link Builder#build()}.
 *
 * @param host server host (default 127.0.0.1).
 * @param port server port (default 7070).
 * @param authToken the server's token, or null.
 * @param connectTimeout how long one connection attempt may take (default 5 s).
 * @param requestTimeout how long a request may wait for its answer, reconnects included (default 30 s).
 * @param reconnectInitialDelay first wait before reconnecting (default 50 ms); doubles per failed attempt...
 * @param reconnectMaxDelay ...up to this (default 2 s), with up to 20% jitter.
 * @param reconnectGiveUp after this long without a connection, unanswered requests fail (default 60 s);
 *     the client keeps trying for new requests.
 * @param maxPending requests that may wait for answers at once; submitting more blocks the caller
 *     (default 65536).
 */
public record ClientConfig(
    String host,
    int port,
    byte[] authToken,
    Duration connectTimeout,
    Duration requestTimeout,
    Duration reconnectInitialDelay,
    Duration reconnectMaxDelay,
    Duration reconnectGiveUp,
    int maxPending)
{
    public static Builder builder()
    {
        return new Builder();
    }

    public static final class Builder
    {
        private String host = "127.0.0.1";
        private int port = 7070;
        private byte[] authToken;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration reconnectInitialDelay = Duration.ofMillis(50);
        private Duration reconnectMaxDelay = Duration.ofSeconds(2);
        private Duration reconnectGiveUp = Duration.ofSeconds(60);
        private int maxPending = 65536;

        private Builder()
        {
        }

        public Builder host(final String value)
        {
            host = value;
            return this;
        }

        public Builder port(final int value)
        {
            port = value;
            return this;
        }

        public Builder address(final java.net.InetSocketAddress value)
        {
            host = value.getHostString();
            port = value.getPort();
            return this;
        }

        public Builder authToken(final String value)
        {
            authToken = value == null || value.isEmpty() ? null : value.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        public Builder connectTimeout(final Duration value)
        {
            connectTimeout = value;
            return this;
        }

        public Builder requestTimeout(final Duration value)
        {
            requestTimeout = value;
            return this;
        }

        public Builder reconnectDelays(final Duration initial, final Duration max)
        {
            reconnectInitialDelay = initial;
            reconnectMaxDelay = max;
            return this;
        }

        public Builder reconnectGiveUp(final Duration value)
        {
            reconnectGiveUp = value;
            return this;
        }

        public Builder maxPending(final int value)
        {
            maxPending = value;
            return this;
        }

        public ClientConfig build()
        {
            require(host != null && !host.isBlank(), "host must be set");
            require(port >= 1 && port <= 65535, "port=" + port + " must be in [1, 65535]");
            require(authToken == null || authToken.length <= io.gyre.ingress.protocol.Protocol.MAX_TOKEN_BYTES,
                "authToken must be at most 1024 bytes of UTF-8");
            require(positive(connectTimeout), "connectTimeout=" + connectTimeout + " must be positive");
            require(positive(requestTimeout), "requestTimeout=" + requestTimeout + " must be positive");
            require(positive(reconnectInitialDelay) && positive(reconnectMaxDelay) &&
                reconnectMaxDelay.compareTo(reconnectInitialDelay) >= 0,
                "reconnect delays initial=" + reconnectInitialDelay + " max=" + reconnectMaxDelay + " must be positive, max >= initial");
            require(positive(reconnectGiveUp), "reconnectGiveUp=" + reconnectGiveUp + " must be positive");
            require(maxPending >= 1, "maxPending=" + maxPending + " must be at least 1");
            return new ClientConfig(host, port, authToken == null ? null : authToken.clone(), connectTimeout, requestTimeout,
                reconnectInitialDelay, reconnectMaxDelay, reconnectGiveUp, maxPending);
        }

        private static boolean positive(final Duration d)
        {
            return d != null && !d.isNegative() && !d.isZero();
        }

        private static void require(final boolean condition, final String message)
        {
            if (!condition)
            {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
