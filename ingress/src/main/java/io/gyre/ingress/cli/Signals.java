package io.gyre.ingress.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Handles a process signal (TERM, INT) with an action of ours instead of the JVM's default (which starts the
 * JVM's shutdown at once and exits 128 + the signal's number): {@code gyre serve} stops gracefully, then
 * exits as it chooses.
 * <p>
 * Through {@code sun.misc.Signal} (module jdk.unsupported, exported to everyone), called reflectively: the
 * build compiles with {@code -Werror}, and javac's warning on that class cannot be suppressed.
 */
final class Signals
{
    private Signals()
    {
    }

    /**
     * Run {@code action} (on a thread the JVM starts for the signal; it should return quickly) each time
     * this process receives the signal.
     *
     * @param name the signal's name without SIG: "TERM", "INT".
     * @return false when the signal cannot be handled here (no such API, or the JVM or the OS keeps the
     *     signal, e.g. under {@code -Xrs}): the JVM's default then applies, and shutdown hooks still run.
     */
    static boolean handle(final String name, final Runnable action)
    {
        try
        {
            final Class<?> signal = Class.forName("sun.misc.Signal");
            final Class<?> handler = Class.forName("sun.misc.SignalHandler");
            final Object proxy = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler},
                (self, method, args) -> invoke(self, method, args, name, action));
            signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
            return true;
        }
        catch (final ReflectiveOperationException | RuntimeException | LinkageError ex)
        {
            return false;
        }
    }

    private static Object invoke(final Object self, final Method method, final Object[] args, final String name, final Runnable action)
    {
        switch (method.getName())
        {
            case "handle" ->
            {
                action.run();
                return null;
            }
            case "hashCode" ->
            {
                return System.identityHashCode(self);
            }
            case "equals" ->
            {
                return self == args[0];
            }
            default ->
            {
                return "gyre SIG" + name + " handler";
            }
        }
    }
}
