package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.DeadLetterDetails;
import io.gyre.engine.DeadLetterPage;
import io.gyre.engine.PurgeResult;
import io.gyre.engine.RedriveResult;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code gyre dlq}: the dead-letter list of a running server. {@code list} pages through it, {@code show}
 * prints one entry with its original request, {@code redrive} runs a dead-lettered task again (same key and
 * task id, a fresh budget of attempts), {@code purge} removes entries. Each prints one JSON object.
 */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"The dead-letter list of a running server: list, show, redrive, purge. Each prints JSON."},
    subcommands = {DlqCommand.ListCommand.class, DlqCommand.Show.class, DlqCommand.Redrive.class, DlqCommand.Purge.class})
public final class DlqCommand implements Runnable
{
    /** Exit code when the key has no dead letter (show, purge) or the task was not redriven (redrive). */
    static final int EXIT_NOT_DONE = 3;

    @Spec
    private CommandSpec spec;

    /** {@code gyre dlq} with no subcommand is a usage error. */
    @Override
    public void run()
    {
        throw new ParameterException(spec.commandLine(), "Missing subcommand: one of " + spec.subcommands().keySet());
    }

    /** Connects, asks, prints the answer as JSON; an answer that never came is exit code 1 with the reason. */
    abstract static class ClientCommand implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions server;

        /** What came back, as JSON, and the exit code it means. */
        record Answer(ObjectNode json, int exit)
        {
        }

        abstract Answer ask(GyreClient client);

        /** Check the options before connecting. */
        void validate()
        {
        }

        @Override
        public Integer call()
        {
            validate();
            try (GyreClient client = server.connect(spec))
            {
                final Answer answer = ask(client);
                spec.commandLine().getOut().println(Json.write(answer.json()));
                spec.commandLine().getOut().flush();
                return answer.exit();
            }
            catch (final GyreClientException | IllegalArgumentException ex)
            {
                spec.commandLine().getErr().println("gyre dlq " + spec.name() + ": " + ex.getMessage());
                return ReplayCommand.EXIT_ERROR;
            }
        }
    }

    /** {@code gyre dlq list}. */
    @Command(
        name = "list",
        mixinStandardHelpOptions = true,
        versionProvider = GyreCommand.Version.class,
        description = {"Print a page of the dead-letter list, oldest first, as JSON; \"nextCursor\" is the --after of the next page."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:listed (maybe nothing)", "1:no answer (cannot connect, timeout) or refused", "2:usage error"})
    static final class ListCommand extends ClientCommand
    {
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
            description = "Entries at most, 1 to 1000 (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--after", paramLabel = "CURSOR", defaultValue = "0",
            description = "List the entries after this cursor (default: ${DEFAULT-VALUE}, from the first).")
        long after;

        @Override
        void validate()
        {
            if (limit < 1 || limit > 1000)
            {
                throw new ParameterException(spec.commandLine(), "--limit must be in [1, 1000], not " + limit);
            }
            if (after < 0)
            {
                throw new ParameterException(spec.commandLine(), "--after must not be negative, not " + after);
            }
        }

        @Override
        Answer ask(final GyreClient client)
        {
            final DeadLetterPage page = client.blocking().deadLetters(after, limit);
            return new Answer(Json.of(page), 0);
        }
    }

    /** {@code gyre dlq show}. */
    @Command(
        name = "show",
        mixinStandardHelpOptions = true,
        versionProvider = GyreCommand.Version.class,
        description = {"Print the dead letter of a key as JSON: reason, attempts, last error and the original request."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:found", "1:no answer (cannot connect, timeout) or refused", "2:usage error", "3:the key has no dead letter"})
    static final class Show extends ClientCommand
    {
        @Option(names = "--key", required = true, description = "The task's idempotency key.")
        String key;

        @Override
        void validate()
        {
            ClientOptions.checkKey(spec, key);
        }

        @Override
        Answer ask(final GyreClient client)
        {
            final DeadLetterDetails details = client.blocking().deadLetter(key).orElse(null);
            return new Answer(Json.of(key, details), details != null ? 0 : EXIT_NOT_DONE);
        }
    }

    /** {@code gyre dlq redrive}. */
    @Command(
        name = "redrive",
        mixinStandardHelpOptions = true,
        versionProvider = GyreCommand.Version.class,
        description = {"Run the dead-lettered task of a key again (same key and task id, a fresh budget of attempts) and print "
            + "what happened as JSON. It does not wait for the outcome: submit the key again, or ask its status."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:redriven", "1:no answer (cannot connect, timeout) or refused", "2:usage error",
            "3:not redriven (\"outcome\" says why: NOT_DEAD_LETTERED, SUPERSEDED, CAPACITY, ...)"})
    static final class Redrive extends ClientCommand
    {
        @Option(names = "--key", required = true, description = "The task's idempotency key.")
        String key;

        @Override
        void validate()
        {
            ClientOptions.checkKey(spec, key);
        }

        @Override
        Answer ask(final GyreClient client)
        {
            final RedriveResult result = client.blocking().redrive(key);
            return new Answer(Json.of(result), result.redriven() ? 0 : EXIT_NOT_DONE);
        }
    }

    /** {@code gyre dlq purge}. */
    @Command(
        name = "purge",
        mixinStandardHelpOptions = true,
        versionProvider = GyreCommand.Version.class,
        description = {"Remove the dead letter of a key, or every one, and print what was removed as JSON. The tasks' outcomes "
            + "stay remembered for deduplication."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:purged (with --all, maybe nothing)", "1:no answer (cannot connect, timeout) or refused", "2:usage error",
            "3:the key had no dead letter"})
    static final class Purge extends ClientCommand
    {
        @ArgGroup(exclusive = true, multiplicity = "1")
        Which which;

        static final class Which
        {
            @Option(names = "--key", required = true, description = "The task's idempotency key.")
            String key;

            @Option(names = "--all", required = true, description = "Every dead letter.")
            boolean all;
        }

        @Override
        void validate()
        {
            if (!which.all)
            {
                ClientOptions.checkKey(spec, which.key);
            }
        }

        @Override
        Answer ask(final GyreClient client)
        {
            if (which.all)
            {
                return new Answer(Json.of(null, client.blocking().purgeDeadLetters()), 0);
            }
            final PurgeResult result = client.blocking().purgeDeadLetter(which.key);
            return new Answer(Json.of(which.key, result), result.purged() > 0 ? 0 : EXIT_NOT_DONE);
        }
    }
}
