package io.gyre.journal.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a class's main method in a child JVM with this JVM's class path and the flags Chronicle Queue
 * needs, so tests can crash a writer for real (halt or SIGKILL) and look at what it left behind.
 */
public final class ChildJvm
{
    private ChildJvm()
    {
    }

    /**
     * @param mainClass the class whose main method to run.
     * @param log where the child's standard output and error go.
     * @param jvmArgs extra JVM arguments (heap size, system properties).
     * @param args the main method's arguments.
     * @return the started process.
     */
    public static Process start(final Class<?> mainClass, final Path log, final List<String> jvmArgs, final String... args)
        throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(io.gyre.journal.JvmFlags.REQUIRED);
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        final File logFile = log.toFile();
        return new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile))
            .start();
    }
}
