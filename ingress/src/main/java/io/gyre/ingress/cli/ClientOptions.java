package io.gyre.ingress.cli;

import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.time.Duration;

/**
 * Where the client commands ({@code submit}, {@code status}, {@code cancel}, {@code dlq}, {@code watch}) find the server.
 */
final class ClientOptions
{
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server host (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "Server port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--auth-token", paramLabel = "TOKEN", description = "The server's auth token (default: GYRE_AUTH_TOKEN from the environment, else none).")
    String authToken;

    @Option(names = "--timeout-s", defaultValue = "30", description = "Seconds to wait for the server: for its handshake (retrying while it has no room for the connection), " +
        "then for the answer, reconnects included (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    /**
     * Connect, once {@code --timeout-s} and {@code --port} have been checked: a wait of less than a second, or a port
     * no server can listen on, is a usage error (exit 2).
     */
    GyreClient connect(final CommandSpec spec)
    {
        if (timeoutSeconds < 1)
        {
            throw new ParameterException(spec.commandLine(), "--timeout-s=" + timeoutSeconds + " must be at least 1 (seconds)");
        }
        if (port < 1 || port > 65_535)
        {
            throw new ParameterException(spec.commandLine(), "--port=" + port + " must be in [1, 65535]");
        }
        final String token = authToken != null ? authToken : System.getenv("GYRE_AUTH_TOKEN");
        try
        {
            return connect(token);
        }
        catch (final GyreClientException ex)
        {
            if (ex.getMessage() != null && ex.getMessage().startsWith("no handshake"))
            {
                // the option that would have waited longer
                throw new GyreClientException(ex.getMessage() + " (--timeout-s " + timeoutSeconds + ")", ex.code(), ex);
            }
            throw ex;
        }
    }

    private GyreClient connect(final String token)
    {
        return GyreClient.connect(ClientConfig.builder()
            .host(host)
            .port(port)
            .authToken(token)
            // the whole wait for the handshake too: a loaded server (or machine) may take seconds to answer it, and 5 s
            // here failed commands that --timeout-s let wait 30 (an outside check, at a load average of 30)
            .connectTimeout(Duration.ofSeconds(timeoutSeconds))
            .requestTimeout(Duration.ofSeconds(timeoutSeconds))
            .reconnectGiveUp(Duration.ofSeconds(timeoutSeconds))
            .build());
    }

    /**
     * Check a {@code --key} before connecting: one the protocol cannot carry is a usage error (exit 2), not a
     * failure to get an answer.
     */
    static void checkKey(final CommandSpec spec, final String key)
    {
        try
        {
            GyreClient.validateKey(key);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), "--" + ex.getMessage());
        }
    }
}
