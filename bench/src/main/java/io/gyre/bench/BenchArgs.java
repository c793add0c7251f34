package io.gyre.bench;

import java.util.Arrays;

/**
 * The positional arguments of a load runner ({@code gyre bench NAME ...}), read so that a bad one is a usage error
 * naming it and its value (exit 2) rather than a stack trace, {@code -h}/{@code --help} prints the usage (exit 0),
 * and an argument too many is refused instead of ignored.
 * <pre>
 * final BenchArgs in = BenchArgs.of("engine-ab", "A B [tasks per round, default 3000000] [rounds, default 10]", 4, args);
 * final long tasks = in.positiveLong(2, "tasks per round", 3_000_000L);
 * </pre>
 */
public final class BenchArgs
{
    /**
     * Exit code of a usage error, as {@code gyre}'s other commands use.
     */
    public static final int USAGE = 2;

    private final String name;
    private final String usage;
    private final String[] args;

    private BenchArgs(final String name, final String usage, final String[] args)
    {
        this.name = name;
        this.usage = usage;
        this.args = args;
    }

    /**
     * What a runner does with its arguments.
     */
    @FunctionalInterface
    public interface Body
    {
        /**
         * @param in the runner's arguments, whose readers end the run with a usage error when one is bad.
         */
        void run(BenchArgs in) throws Exception;
    }

    /**
     * A bad argument: the message names it and its value.
     */
    public static final class UsageException extends IllegalArgumentException
    {
        private static final long serialVersionUID = 1L;

        UsageException(final String message)
        {
            super(message);
        }
    }

    /**
     * Runs a runner's main: {@code -h}/{@code --help} prints its usage (exit 0); a bad argument, found by
     * {@link #parse} or by any of the readers while {@code body} runs, prints what is wrong and the usage to
     * standard error and exits with {@link #USAGE}.
     *
     * @param name the runner's name after {@code gyre bench}.
     * @param usage its arguments as the usage line shows them.
     * @param max how many positional arguments it takes at most.
     * @param args the command line.
     * @param body the runner.
     */
    public static void run(final String name, final String usage, final int max, final String[] args, final Body body) throws Exception
    {
        final BenchArgs in = new BenchArgs(name, usage, args);
        if (Arrays.asList(args).contains("-h") || Arrays.asList(args).contains("--help"))
        {
            System.out.println(in.usageLine());
            return;
        }
        try
        {
            in.checkCount(max);
            body.run(in);
        }
        catch (final UsageException ex)
        {
            System.err.println("gyre bench " + name + ": " + ex.getMessage());
            System.err.println(in.usageLine());
            System.exit(USAGE);
        }
    }

    /**
     * @param name the runner's name after {@code gyre bench}.
     * @param usage its arguments as the usage line shows them.
     * @param max how many positional arguments it takes at most.
     * @param args the command line.
     * @return the arguments, their number checked.
     * @throws UsageException when there are more than {@code max}.
     */
    public static BenchArgs parse(final String name, final String usage, final int max, final String[] args)
    {
        final BenchArgs in = new BenchArgs(name, usage, args);
        in.checkCount(max);
        return in;
    }

    private void checkCount(final int max)
    {
        if (args.length > max)
        {
            fail("expected at most " + max + " argument(s), got " + args.length + " ('" + args[max] + "' is one too many)");
        }
    }

    /**
     * @return how many arguments were given.
     */
    public int count()
    {
        return args.length;
    }

    /**
     * @param index the argument's position.
     * @param what what it is, as an error names it.
     * @return the argument; a usage error when it is missing.
     */
    public String required(final int index, final String what)
    {
        if (index >= args.length)
        {
            fail("missing " + what);
        }
        return args[index];
    }

    /**
     * @param index the argument's position.
     * @param defaultValue the value when it is not given.
     * @return the argument, or the default.
     */
    public String string(final int index, final String defaultValue)
    {
        return index < args.length ? args[index] : defaultValue;
    }

    /**
     * @param index the argument's position.
     * @param what what it is, as an error names it.
     * @param defaultValue the value when it is not given.
     * @return the argument as a whole number of at least 1; a usage error naming it when it is not one.
     */
    public long positiveLong(final int index, final String what, final long defaultValue)
    {
        return index < args.length ? positiveLong(args[index], what) : defaultValue;
    }

    /**
     * @param index the argument's position.
     * @param what what it is, as an error names it.
     * @param defaultValue the value when it is not given.
     * @return the argument as a whole number from 1 to {@link Integer#MAX_VALUE}; a usage error naming it otherwise.
     */
    public int positiveInt(final int index, final String what, final int defaultValue)
    {
        return index < args.length ? positiveInt(args[index], what) : defaultValue;
    }

    /**
     * @param index the argument's position.
     * @param what what it is, as an error names it.
     * @param defaultValue the value when it is not given.
     * @return the argument as a whole number from 0 to {@link Integer#MAX_VALUE}; a usage error naming it otherwise.
     */
    public int nonNegativeInt(final int index, final String what, final int defaultValue)
    {
        return index < args.length ? nonNegativeInt(args[index], what) : defaultValue;
    }

    /**
     * @param text a value that is not one of the positional arguments as such (an element of a list, say).
     * @param what what it is, as an error names it.
     * @return the value as a whole number from 0 to {@link Integer#MAX_VALUE}; a usage error naming it otherwise.
     */
    public int nonNegativeInt(final String text, final String what)
    {
        final long value = wholeNumber(text, what);
        if (value < 0 || value > Integer.MAX_VALUE)
        {
            fail(what + " '" + text + "' must be from 0 to " + Integer.MAX_VALUE);
        }
        return (int)value;
    }

    /**
     * @param text a value that is not one of the positional arguments as such (an element of a list, say).
     * @param what what it is, as an error names it.
     * @return the value as a whole number of at least 1; a usage error naming it when it is not one.
     */
    public long positiveLong(final String text, final String what)
    {
        final long value = wholeNumber(text, what);
        if (value < 1)
        {
            fail(what + " '" + text + "' must be at least 1");
        }
        return value;
    }

    private int positiveInt(final String text, final String what)
    {
        final long value = positiveLong(text, what);
        if (value > Integer.MAX_VALUE)
        {
            fail(what + " '" + text + "' must be at most " + Integer.MAX_VALUE);
        }
        return (int)value;
    }

    private long wholeNumber(final String text, final String what)
    {
        try
        {
            return Long.parseLong(text.replace("_", ""));
        }
        catch (final NumberFormatException ex)
        {
            throw new UsageException(what + " '" + text + "' is not a whole number");
        }
    }

    /**
     * Ends the run with a usage error.
     *
     * @param message what is wrong, naming the argument and its value.
     * @throws UsageException always.
     */
    public void fail(final String message)
    {
        throw new UsageException(message);
    }

    private String usageLine()
    {
        return "usage: gyre bench " + name + " " + usage;
    }
}
