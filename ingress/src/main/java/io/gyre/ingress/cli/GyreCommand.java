package io.gyre.ingress.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code gyre} command line: one subcommand per job. Subcommands write results to the command line's
 * standard output and diagnostics to its standard error, so tests can run them in-process and capture both.
 * <p>
 * Exit codes: 0 success, 1 an error (the message says which), 2 a usage error, or, for
 * {@code gyre replay --verify}, a corrupted journal.
 */
@Command(
    name = "gyre",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = "Gyre: a durable, low-latency task engine.",
    subcommands = {ServeCommand.class, SubmitCommand.class, StatusCommand.class, StatusCommand.Cancel.class, DlqCommand.class,
        WatchCommand.class, ReplayCommand.class, CommandLine.HelpCommand.class})
public final class GyreCommand implements Runnable
{
    @Spec
    private CommandSpec spec;

    /**
     * Run the command line and exit with its exit code.
     */
    public static void main(final String[] args)
    {
        ServeCommand.ownsProcess = true;
        System.exit(execute(new CommandLine(new GyreCommand()), args));
    }

    /**
     * Run the command line on these arguments: {@code gyre serve --config FILE} first reads the file, whose
     * settings become the defaults of the options not given.
     *
     * @return the exit code.
     */
    static int execute(final CommandLine commandLine, final String... args)
    {
        commandLine.setParameterExceptionHandler(GyreCommand::usageError);
        // --priority low, --transport nio: as the docs write them, in any case
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        if (args.length > 0 && args[0].equals("serve"))
        {
            final CommandLine serve = commandLine.getSubcommands().get("serve");
            try
            {
                ServeCommand.applyConfigFile(serve, args);
            }
            catch (final ParameterException ex)
            {
                serve.getErr().println("gyre serve: " + ex.getMessage());
                serve.getErr().flush();
                return serve.getCommandSpec().exitCodeOnInvalidInput();
            }
            catch (final ServeCommand.ConfigFileException ex)
            {
                // it cannot start, as when its journal or port cannot be had: not a usage error
                serve.getErr().println("gyre serve: " + ex.getMessage());
                serve.getErr().flush();
                return ReplayCommand.EXIT_ERROR;
            }
        }
        return commandLine.execute(args);
    }

    /**
     * {@code gyre} with no subcommand is a usage error.
     */
    @Override
    public void run()
    {
        throw new ParameterException(spec.commandLine(), "Missing subcommand: one of " + spec.subcommands().keySet());
    }

    /**
     * A usage error: the message, a suggestion for a mistyped option, and where the options are listed, not the whole
     * usage text (over a hundred lines for {@code serve}, which buried the one line that mattered).
     */
    private static int usageError(final ParameterException ex, final String[] args)
    {
        final CommandLine command = ex.getCommandLine();
        final java.io.PrintWriter err = command.getErr();
        final String name = command.getCommandSpec().qualifiedName();
        err.println(name + ": " + (command.getCommand() instanceof ServeCommand serve ? serve.namingConfigFile(ex, args) : ex.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("(" + name + " --help lists the options)");
        err.flush();
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * The build's version, as the engine journals it ({@link io.gyre.engine.Engine#version()}): the version and the
     * commit built from.
     */
    public static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[] {"gyre " + io.gyre.engine.Engine.version()};
        }
    }
}
