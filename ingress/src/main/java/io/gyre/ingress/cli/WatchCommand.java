package io.gyre.ingress.cli;

import io.gyre.engine.EventFilter;
import io.gyre.engine.TaskEvent;
import io.gyre.engine.TaskEventListener;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.RequestRefusedException;
import io.gyre.ingress.client.Subscription;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code gyre watch}: subscribe to a running server's status events (all, or filtered by type, tenant, key
 * prefix) and print each as it comes, one line per event (text, or JSON with {@code --json}), until
 * interrupted. Events the server had to drop (this terminal did not keep up) are printed as a LOST line in
 * their place.
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"Print task lifecycle events live, one line each, until interrupted (Ctrl-C).",
        "Filters combine (every one given must match)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped (Ctrl-C, SIGTERM, or --count events printed)", "1:no connection, or the connection was lost",
        "2:usage error", "3:the server refused the subscription (unknown type, a field too long, its subscription limit)"})
public final class WatchCommand implements Callable<Integer>
{
    static final int EXIT_REFUSED = 3;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions server;

    @Option(names = "--type", paramLabel = "TYPE", description = "Only tasks of this type.")
    private String type;

    @Option(names = "--tenant", paramLabel = "TENANT", description = "Only tasks of this tenant (\"\" for tasks without one).")
    private String tenant;

    @Option(names = "--key-prefix", paramLabel = "PREFIX", description = "Only tasks whose key starts with this.")
    private String keyPrefix;

    @Option(names = "--json", description = "One JSON object per line instead of text.")
    private boolean json;

    @Option(names = "--count", paramLabel = "N", description = "Exit after N events (default: until interrupted).")
    private long count;

    /** Completed with the exit code when watching should end (count reached, a signal, the connection lost). */
    private final CompletableFuture<Integer> done = new CompletableFuture<>();

    @Override
    public Integer call()
    {
        final EventFilter filter = filter();
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        try (GyreClient client = server.connect(spec))
        {
            final Printer printer = new Printer(out);
            final Subscription subscription;
            try
            {
                subscription = client.blocking().subscribe(filter, printer);
            }
            catch (final RequestRefusedException ex)
            {
                err.println("gyre watch: " + ex.getMessage());
                err.flush();
                return EXIT_REFUSED;
            }
            err.println("gyre watch: watching " + filter + " on " + server.host + ":" + server.port + " (Ctrl-C to stop)");
            err.flush();
            if (ServeCommand.ownsProcess)
            {
                Signals.handle("INT", () -> done.complete(0));
                Signals.handle("TERM", () -> done.complete(0));
            }
            subscription.ended().whenComplete((ignored, failure) ->
                done.complete(failure == null ? 0 : ReplayCommand.EXIT_ERROR));
            int exit;
            boolean interrupted = false;
            try
            {
                exit = done.get();
            }
            catch (final InterruptedException ex)
            {
                // an interrupt is how an embedding program stops it, as Ctrl-C stops the command line: a clean end
                interrupted = true;
                exit = 0;
            }
            catch (final ExecutionException ex)
            {
                exit = ReplayCommand.EXIT_ERROR;
            }
            if (subscription.isOpen())
            {
                unsubscribe(subscription);
            }
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
            else if (subscription.ended().isCompletedExceptionally())
            {
                err.println("gyre watch: " + cause(subscription.ended()));
            }
            err.println("gyre watch: " + printer.events.get() + " events" + (printer.lost.get() > 0 ? ", " + printer.lost.get() + " lost" : ""));
            err.flush();
            return exit;
        }
        catch (final GyreClientException | IllegalArgumentException ex)
        {
            err.println("gyre watch: " + ex.getMessage());
            err.flush();
            return ReplayCommand.EXIT_ERROR;
        }
    }

    private EventFilter filter()
    {
        if (count < 0)
        {
            throw new ParameterException(spec.commandLine(), "--count=" + count + " must not be negative (0: until interrupted)");
        }
        if (type != null && type.isEmpty())
        {
            throw new ParameterException(spec.commandLine(), "--type must name a task type");
        }
        if (keyPrefix != null && keyPrefix.isEmpty())
        {
            throw new ParameterException(spec.commandLine(), "--key-prefix must not be empty (leave it out for every key)");
        }
        return EventFilter.all().withType(type).withTenant(tenant).withKeyPrefix(keyPrefix);
    }

    private static void unsubscribe(final Subscription subscription)
    {
        try
        {
            subscription.unsubscribe().get(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final ExecutionException | java.util.concurrent.TimeoutException | GyreClientException ex)
        {
            // the connection closes next: the server ends the subscription then
        }
    }

    private static String cause(final CompletableFuture<Void> ended)
    {
        try
        {
            ended.join();
            return "ended";
        }
        catch (final java.util.concurrent.CompletionException ex)
        {
            return ex.getCause() != null ? ex.getCause().getMessage() : ex.getMessage();
        }
    }

    /**
     * One line per event, on the client's I/O thread, flushed at once (it is a live view).
     */
    private final class Printer implements TaskEventListener
    {
        private final PrintWriter out;
        final AtomicLong events = new AtomicLong();
        final AtomicLong lost = new AtomicLong();

        Printer(final PrintWriter out)
        {
            this.out = out;
        }

        @Override
        public void onEvent(final TaskEvent event)
        {
            if (done.isDone())
            {
                return;
            }
            out.println(json ? Json.write(Json.of(event)) : text(event));
            out.flush();
            if (count > 0 && events.incrementAndGet() >= count)
            {
                done.complete(0);
            }
            else if (count == 0)
            {
                events.incrementAndGet();
            }
        }

        @Override
        public void onEventsLost(final long missed, final boolean upperBound)
        {
            if (done.isDone())
            {
                return;
            }
            lost.addAndGet(missed);
            out.println(json ? Json.write(Json.lost(missed, upperBound)) : "LOST " + missed + " events" +
                (upperBound ? " at most (the server's own event buffer overflowed: some may not have matched the filter)" :
                    " (this watcher did not keep up: the server dropped them)"));
            out.flush();
        }
    }

    /**
     * {@code 2026-11-23T10:00:00.120345678Z RETRY_SCHEDULED key=order-9 task=7 type=http tenant=acme RUNNING->RETRY_WAIT attempt=1
     * reason=AFTER_FAILURE due=... error="HTTP 503" event=123}: the fields that apply, quoted when they hold spaces.
     */
    static String text(final TaskEvent event)
    {
        final StringBuilder line = new StringBuilder(160)
            .append(Instant.ofEpochSecond(0, event.timestamp()))
            .append(' ').append(event.kind())
            .append(" key=").append(quoted(event.keyAsString()))
            .append(" task=").append(event.taskId())
            .append(" type=").append(event.type());
        if (event.tenant().length > 0)
        {
            line.append(" tenant=").append(quoted(event.tenantAsString()));
        }
        line.append(' ').append(event.from() == null ? "none" : event.from()).append("->").append(event.state())
            .append(" attempt=").append(event.attempt());
        if (event.reasonName() != null)
        {
            line.append(" reason=").append(event.reasonName());
        }
        if (event.dueAt() != 0)
        {
            line.append(" due=").append(Instant.ofEpochSecond(0, event.dueAt()));
        }
        if (event.error() != null)
        {
            line.append(" error=").append(Json.write(Json.MAPPER.getNodeFactory().textNode(event.error())));
        }
        return line.append(" event=").append(event.eventId()).toString();
    }

    private static String quoted(final String text)
    {
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (Character.isWhitespace(c) || c == '"' || Character.isISOControl(c))
            {
                return Json.write(Json.MAPPER.getNodeFactory().textNode(text));
            }
        }
        return text.isEmpty() ? "\"\"" : text;
    }
}
