package io.gyre.ingress.cli;

import io.gyre.engine.Priority;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * {@code gyre submit}: submit one task to a running server and print its outcome as JSON.
 */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"Submit a task to a running server, wait for its outcome and print it as JSON."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the task SUCCEEDED", "1:no answer (cannot connect, timeout)", "2:usage error",
        "3:the task ended otherwise (FAILED, DEAD_LETTERED, TIMED_OUT, CANCELLED)", "4:the server refused the submission"})
public final class SubmitCommand implements Callable<Integer>
{
    static final int EXIT_NOT_SUCCEEDED = 3;
    static final int EXIT_REJECTED = 4;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions server;

    @Option(names = "--type", required = true, description = "Task type (built in: noop, echo).")
    private String type;

    @Option(names = "--payload", defaultValue = "", description = "Payload, as text (UTF-8).")
    private String payload;

    @Option(names = "--key", description = "Idempotency key (default: a new random UUID). Submitting a key again returns its recorded outcome.")
    private String key;

    @Option(names = "--priority", defaultValue = "NORMAL", description = "HIGH, NORMAL or LOW (default: ${DEFAULT-VALUE}).")
    private Priority priority;

    @Option(names = "--task-timeout-ms", defaultValue = "0", description = "Timeout of each attempt; 0 for the type's default.")
    private int taskTimeoutMillis;

    @Option(names = "--max-attempts", defaultValue = "0", description = "Attempts in all; 0 for the type's default.")
    private int maxAttempts;

    @Option(names = "--tenant", defaultValue = "", description = "Who the task is for.")
    private String tenant;

    @Override
    public Integer call()
    {
        final String k = key != null ? key : UUID.randomUUID().toString();
        try (GyreClient client = server.connect())
        {
            final TaskResult result = client.blocking().submit(Submission.of(k, type)
                .payload(payload)
                .priority(priority)
                .timeoutMillis(taskTimeoutMillis)
                .maxAttempts(maxAttempts)
                .tenant(tenant));
            spec.commandLine().getOut().println(Json.write(Json.of(result)));
            spec.commandLine().getOut().flush();
            return result.rejected() ? EXIT_REJECTED : result.succeeded() ? 0 : EXIT_NOT_SUCCEEDED;
        }
        catch (final GyreClientException | IllegalArgumentException ex)
        {
            spec.commandLine().getErr().println("gyre submit: " + ex.getMessage());
            return ReplayCommand.EXIT_ERROR;
        }
    }
}
