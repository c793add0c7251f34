package io.gyre.ingress.server;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * How a {@link GyreServer} listens and what it allows each connection; immutable, validated by
 * {@link Builder#build()}, which names the offending setting.
 *
 * @param host address to bind (default 127.0.0.1: only this machine; 0.0.0.0 for every interface).
 * @param port TCP port (default 7070; 0 picks a free one).
 * @param ioThreads Netty event loop threads (default 1: on two cores the engine's threads need the other).
 * @param transport epoll, nio, or auto (epoll where the native library loads).
 * @param maxFrameBytes largest frame a client may send, length field excluded; 0 (default) for the
 *     largest SUBMIT the engine's limits allow.
 * @param maxInFlight requests (submissions, status, cancel) a connection may have unanswered; at the
 *     limit the server stops reading that connection until answers go out (default 4096).
 * @param idleTimeout a connection that sends nothing for this long while nothing of it is in flight is
 *     closed with IDLE_TIMEOUT (default 60 s); the same time bounds the wait for the HELLO.
 * @param authToken when set, the HELLO must carry it (compared in constant time); null: no auth.
 * @param busyRejects when the engine is full: true refuses submissions with BUSY; false (default) stops
 *     reading the connection until there is room.
 * @param maxConnections connections open at once; one more gets TOO_MANY_CONNECTIONS (default 10000).
 * @param writeHighWaterMark outbound bytes queued on a connection above which the server stops reading it
 *     until they drain below {@code writeLowWaterMark} (defaults 1 MiB and 256 KiB).
 * @param writeLowWaterMark see above.
 * @param closeTimeout how long {@link GyreServer#close()} waits for in-flight answers (default 10 s).
 * @param maxSubscriptions status event subscriptions open at once over all connections (one per connection);
 *     one more is REJECTED {@code TOO_MANY_SUBSCRIPTIONS} (default 1000; 0 turns subscriptions off).
 * @param maxQueuedEvents status events queued for a subscription while its connection's write buffer is above
 *     the high-water mark; beyond, events are dropped and counted, and the client gets EVENTS_LOST (default 4096).
 * @param maxReplyBytes bytes of replies the server may hold for one connection, encoded and not yet taken by its
 *     socket (default 64 MiB, at least the write high-water mark): a client that does not read its replies while
 *     requests it sent earlier keep answering passes it, and its connection is closed with ERROR SLOW_CONSUMER.
 * @param maxTotalReplyBytes the same over all connections; past it, the connection holding the most is closed
 *     likewise. 0 (default): half the direct memory the JVM allows, where replies are held.
 */
public record ServerConfig(
    String host,
    int port,
    int ioThreads,
    Transport transport,
    int maxFrameBytes,
    int maxInFlight,
    Duration idleTimeout,
    byte[] authToken,
    boolean busyRejects,
    int maxConnections,
    int writeHighWaterMark,
    int writeLowWaterMark,
    Duration closeTimeout,
    int maxSubscriptions,
    int maxQueuedEvents,
    long maxReplyBytes,
    long maxTotalReplyBytes)
{
    public static final int DEFAULT_PORT = 7070;
    /** The most status subscriptions a server may be configured to hold. */
    public static final int MAX_SUBSCRIPTIONS = 65_536;
    /** The default of {@link #maxReplyBytes()}. */
    public static final long DEFAULT_MAX_REPLY_BYTES = 64L << 20;

    /**
     * @return the server-wide budget of held reply bytes in force: as configured, else half the JVM's
     *     direct memory limit (what Netty allocates replies from).
     */
    public long totalReplyBudget()
    {
        return maxTotalReplyBytes != 0 ? maxTotalReplyBytes : io.netty.util.internal.PlatformDependent.maxDirectMemory() / 2;
    }

    /** Which Netty transport to use. */
    public enum Transport
    {
        AUTO, EPOLL, NIO
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * Fills and validates a configuration. Defaults: see the record's parameters.
     */
    public static final class Builder
    {
        private String host = "127.0.0.1";
        private int port = DEFAULT_PORT;
        private int ioThreads = 1;
        private Transport transport = Transport.AUTO;
        private int maxFrameBytes;
        private int maxInFlight = 4096;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private byte[] authToken;
        private boolean busyRejects;
        private int maxConnections = 10_000;
        private int writeHighWaterMark = 1 << 20;
        private int writeLowWaterMark = 256 << 10;
        private Duration closeTimeout = Duration.ofSeconds(10);
        private int maxSubscriptions = 1000;
        private int maxQueuedEvents = 4096;
        private long maxReplyBytes = DEFAULT_MAX_REPLY_BYTES;
        private long maxTotalReplyBytes;

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

        public Builder ioThreads(final int value)
        {
            ioThreads = value;
            return this;
        }

        public Builder transport(final Transport value)
        {
            transport = value;
            return this;
        }

        public Builder maxFrameBytes(final int value)
        {
            maxFrameBytes = value;
            return this;
        }

        public Builder maxInFlight(final int value)
        {
            maxInFlight = value;
            return this;
        }

        public Builder idleTimeout(final Duration value)
        {
            idleTimeout = value;
            return this;
        }

        /** The token clients must present, as UTF-8; null or empty for none. */
        public Builder authToken(final String value)
        {
            authToken = value == null || value.isEmpty() ? null : value.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        public Builder busyRejects(final boolean value)
        {
            busyRejects = value;
            return this;
        }

        public Builder maxConnections(final int value)
        {
            maxConnections = value;
            return this;
        }

        public Builder writeWaterMarks(final int low, final int high)
        {
            writeLowWaterMark = low;
            writeHighWaterMark = high;
            return this;
        }

        public Builder closeTimeout(final Duration value)
        {
            closeTimeout = value;
            return this;
        }

        public Builder maxSubscriptions(final int value)
        {
            maxSubscriptions = value;
            return this;
        }

        public Builder maxQueuedEvents(final int value)
        {
            maxQueuedEvents = value;
            return this;
        }

        public Builder maxReplyBytes(final long value)
        {
            maxReplyBytes = value;
            return this;
        }

        /** 0 for half the JVM's direct memory limit. */
        public Builder maxTotalReplyBytes(final long value)
        {
            maxTotalReplyBytes = value;
            return this;
        }

        public ServerConfig build()
        {
            require(host != null && !host.isBlank(), "host=" + host + " must be an address or name to bind");
            require(port >= 0 && port <= 65535, "port=" + port + " must be in [0, 65535]");
            require(ioThreads >= 1 && ioThreads <= 64, "ioThreads=" + ioThreads + " must be in [1, 64]");
            require(transport != null, "transport must be set");
            require(maxFrameBytes == 0 || maxFrameBytes >= 64,
                "maxFrameBytes=" + maxFrameBytes + " must be 0 (derived from the engine's limits) or at least 64");
            require(maxInFlight >= 1 && maxInFlight <= 1 << 20, "maxInFlight=" + maxInFlight + " must be in [1, 1048576]");
            require(idleTimeout != null && idleTimeout.toMillis() >= 1 && idleTimeout.toMillis() <= Integer.MAX_VALUE,
                "idleTimeout=" + idleTimeout + " must be from 1 ms to 24 days");
            require(authToken == null || authToken.length <= io.gyre.ingress.protocol.Protocol.MAX_TOKEN_BYTES,
                "authToken must be at most " + io.gyre.ingress.protocol.Protocol.MAX_TOKEN_BYTES + " bytes of UTF-8");
            require(maxConnections >= 1, "maxConnections=" + maxConnections + " must be at least 1");
            require(writeLowWaterMark >= 1 && writeHighWaterMark >= writeLowWaterMark,
                "write water marks low=" + writeLowWaterMark + " high=" + writeHighWaterMark + " must satisfy 1 <= low <= high");
            require(closeTimeout != null && !closeTimeout.isNegative(), "closeTimeout=" + closeTimeout + " must not be negative");
            require(maxSubscriptions >= 0 && maxSubscriptions <= MAX_SUBSCRIPTIONS,
                "maxSubscriptions=" + maxSubscriptions + " must be in [0, " + MAX_SUBSCRIPTIONS + "] (0: no subscriptions)");
            require(maxQueuedEvents >= 1 && maxQueuedEvents <= io.gyre.engine.Engine.MAX_QUEUED_EVENTS,
                "maxQueuedEvents=" + maxQueuedEvents + " must be in [1, " + io.gyre.engine.Engine.MAX_QUEUED_EVENTS + "]");
            require(maxReplyBytes >= writeHighWaterMark,
                "maxReplyBytes=" + maxReplyBytes + " must be at least the write high-water mark (" + writeHighWaterMark + ")");
            require(maxTotalReplyBytes == 0 || maxTotalReplyBytes >= writeHighWaterMark,
                "maxTotalReplyBytes=" + maxTotalReplyBytes + " must be 0 (half the JVM's direct memory) or at least the write " +
                    "high-water mark (" + writeHighWaterMark + ")");
            return new ServerConfig(host, port, ioThreads, transport, maxFrameBytes, maxInFlight, idleTimeout,
                authToken == null ? null : authToken.clone(), busyRejects, maxConnections, writeHighWaterMark,
                writeLowWaterMark, closeTimeout, maxSubscriptions, maxQueuedEvents, maxReplyBytes, maxTotalReplyBytes);
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
