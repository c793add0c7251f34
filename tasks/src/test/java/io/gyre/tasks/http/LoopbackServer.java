package io.gyre.tasks.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 and an ephemeral port (the JDK's {@link HttpServer}), for tests. Routes
 * are added with {@link #route}; every request is counted.
 */
final class LoopbackServer implements AutoCloseable
{
    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicInteger requests = new AtomicInteger();

    LoopbackServer(final int threads)
    {
        try
        {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        executor = Executors.newFixedThreadPool(threads, runnable ->
        {
            final Thread thread = new Thread(runnable, "loopback-server");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.start();
    }

    LoopbackServer()
    {
        this(8);
    }

    /**
     * Serve a path (and everything under it) with this handler.
     */
    LoopbackServer route(final String path, final com.sun.net.httpserver.HttpHandler handler)
    {
        server.createContext(path, exchange ->
        {
            requests.incrementAndGet();
            handler.handle(exchange);
        });
        return this;
    }

    /**
     * @return {@code http://127.0.0.1:port} followed by the path.
     */
    String url(final String path)
    {
        return "http://127.0.0.1:" + port() + path;
    }

    /**
     * @return {@code 127.0.0.1:port}, the key of this server's circuit breaker.
     */
    String host()
    {
        return "127.0.0.1:" + port();
    }

    int port()
    {
        return server.getAddress().getPort();
    }

    /**
     * @return how many requests have reached a route.
     */
    int requests()
    {
        return requests.get();
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
        try
        {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Answer with a status, a content type (none when null) and a body of known length.
     */
    static void respond(final HttpExchange exchange, final int status, final String contentType, final String body) throws IOException
    {
        respond(exchange, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Answer with a status, a content type (none when null) and these bytes as the body.
     */
    static void respond(final HttpExchange exchange, final int status, final String contentType, final byte[] bytes) throws IOException
    {
        if (contentType != null)
        {
            exchange.getResponseHeaders().set("Content-Type", contentType);
        }
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(bytes);
        }
    }

    /**
     * @return a loopback port nothing listens on (bound, then released).
     */
    static int unusedPort()
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Read a raw socket's input to its end.
     *
     * @return true when the peer closed (or reset) the connection, false when the read timed out with it open.
     */
    static boolean readsUntilClosed(final java.io.InputStream in)
    {
        try
        {
            while (in.read() >= 0)
            {
                // whatever the client sent
            }
            return true;
        }
        catch (final java.net.SocketTimeoutException stillOpen)
        {
            return false;
        }
        catch (final java.io.IOException reset)
        {
            return true;
        }
    }
}
