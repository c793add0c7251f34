package io.gyre.engine;

import java.util.List;

/**
 * The task types every engine has unless told otherwise.
 */
final class BuiltInHandlers
{
    private BuiltInHandlers()
    {
    }

    static List<TaskHandler> all()
    {
        return List.of(new Noop(), new Echo());
    }

    /**
     * {@code noop}: succeeds at once with an empty output. The cheapest task there is: what benchmarks use
     * to measure the engine itself.
     */
    static final class Noop implements TaskHandler
    {
        @Override
        public String type()
        {
            return "noop";
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.succeed(0);
        }
    }

    /**
     * {@code echo}: succeeds with its payload as its output.
     */
    static final class Echo implements TaskHandler
    {
        @Override
        public String type()
        {
            return "echo";
        }

        @Override
        public void execute(final TaskContext context)
        {
            context.succeed(context.payload(), 0, context.payloadLength());
        }
    }
}
