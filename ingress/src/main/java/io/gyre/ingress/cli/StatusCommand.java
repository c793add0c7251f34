package io.gyre.ingress.cli;

import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.TaskStatusReply;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code gyre status} and {@code gyre cancel}: ask a running server about the task with a key, or cancel
 * it, and print its status as JSON.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"Print the status of the task with a key, as JSON."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:found", "1:no answer (cannot connect, timeout) or refused (e.g. JOURNAL_UNAVAILABLE)", "2:usage error", "3:no task with this key"})
public class StatusCommand implements Callable<Integer>
{
    static final int EXIT_NOT_FOUND = 3;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions server;

    @Option(names = "--key", required = true, description = "The task's idempotency key.")
    private String key;

    @Override
    public Integer call()
    {
        ClientOptions.checkKey(spec, key);
        try (GyreClient client = server.connect(spec))
        {
            final TaskStatusReply status = ask(client, key);
            spec.commandLine().getOut().println(Json.write(Json.of(status)));
            spec.commandLine().getOut().flush();
            return status.found() ? 0 : EXIT_NOT_FOUND;
        }
        catch (final GyreClientException | IllegalArgumentException ex)
        {
            spec.commandLine().getErr().println("gyre " + spec.name() + ": " + ex.getMessage());
            return ReplayCommand.EXIT_ERROR;
        }
    }

    TaskStatusReply ask(final GyreClient client, final String k)
    {
        return client.blocking().status(k);
    }

    /** {@code gyre cancel}. */
    @Command(
        name = "cancel",
        mixinStandardHelpOptions = true,
        versionProvider = GyreCommand.Version.class,
        description = {"Cancel the task with a key (it ends CANCELLED at once, waiting or running: a running attempt is told to stop, "
            + "and its late result changes nothing) and print its status as JSON."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:found (the state says whether it was cancelled or had already ended)", "1:no answer (cannot connect, timeout) or refused (e.g. JOURNAL_UNAVAILABLE)",
            "2:usage error", "3:no task with this key"})
    public static final class Cancel extends StatusCommand
    {
        @Override
        TaskStatusReply ask(final GyreClient client, final String k)
        {
            return client.blocking().cancel(k);
        }
    }
}
