package io.gyre.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * Finds task types: {@link ServiceLoader} on the class path and in plugin jars (one class loader per jar),
 * merges them with the built-in and explicitly added ones, and hands each its settings.
 */
final class HandlerDiscovery
{
    private static final Logger LOG = LoggerFactory.getLogger(HandlerDiscovery.class);

    private HandlerDiscovery()
    {
    }

    /**
     * @return the task types on the engine's class path.
     * @throws IllegalArgumentException naming a provider that cannot be loaded or instantiated.
     */
    static List<TaskHandler> fromClassPath()
    {
        return load(ServiceLoader.load(TaskHandler.class, HandlerDiscovery.class.getClassLoader()), "the class path");
    }

    /**
     * @return the task types in the jars of this directory (none when it does not exist), each jar loaded by
     *     its own class loader whose parent is the engine's.
     * @throws IllegalArgumentException when the directory cannot be read or a plugin cannot be loaded.
     */
    static List<TaskHandler> fromPlugins(final Path directory)
    {
        if (!Files.isDirectory(directory))
        {
            if (Files.exists(directory))
            {
                throw new IllegalArgumentException("pluginsDirectory=" + directory + " is not a directory");
            }
            return List.of();
        }
        final List<Path> jars;
        try (Stream<Path> files = Files.list(directory))
        {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p)).sorted().toList();
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("pluginsDirectory=" + directory + " cannot be read: " + ex.getMessage(), ex);
        }
        final List<TaskHandler> found = new ArrayList<>();
        for (final Path jar : jars)
        {
            try
            {
                new java.util.jar.JarFile(jar.toFile()).close(); // readable: a zip with a central directory
            }
            catch (final IOException ex)
            {
                throw new IllegalArgumentException("plugin " + jar + " is not a readable jar: " + ex.getMessage(), ex);
            }
            final URL url;
            try
            {
                url = jar.toUri().toURL();
            }
            catch (final MalformedURLException ex)
            {
                throw new IllegalArgumentException("plugin " + jar + ": " + ex.getMessage(), ex);
            }
            final URLClassLoader loader = new URLClassLoader("gyre-plugin:" + jar.getFileName(), new URL[] {url},
                HandlerDiscovery.class.getClassLoader());
            final List<TaskHandler> fromJar = new ArrayList<>();
            for (final TaskHandler handler : load(ServiceLoader.load(TaskHandler.class, loader), "plugin " + jar))
            {
                // ServiceLoader also sees the parent's providers: keep only the jar's own
                if (handler.getClass().getClassLoader() == loader)
                {
                    try
                    {
                        handler.type();
                    }
                    catch (final RuntimeException | LinkageError ex)
                    {
                        throw new IllegalArgumentException("plugin " + jar + ": " + handler.getClass().getName() + ".type() threw " + ex, ex);
                    }
                    fromJar.add(handler);
                }
            }
            if (fromJar.isEmpty())
            {
                LOG.warn("plugin {} declares no task type (META-INF/services/{})", jar, TaskHandler.class.getName());
            }
            else
            {
                LOG.info("plugin {}: task types {}", jar.getFileName(), fromJar.stream().map(TaskHandler::type).toList());
            }
            found.addAll(fromJar);
        }
        return found;
    }

    /**
     * @return " (" the innermost cause of {@code ex} ")" (a static initializer's own exception, under the
     *     ExceptionInInitializerError under the ServiceConfigurationError), or nothing when it has none.
     */
    private static String rootCause(final Throwable ex)
    {
        Throwable root = ex.getCause();
        if (root == null)
        {
            return "";
        }
        while (root.getCause() != null && root.getCause() != root)
        {
            root = root.getCause();
        }
        return " (" + root + ")";
    }

    private static List<TaskHandler> load(final ServiceLoader<TaskHandler> loader, final String where)
    {
        final List<TaskHandler> found = new ArrayList<>();
        try
        {
            for (final TaskHandler handler : loader)
            {
                found.add(handler);
            }
        }
        catch (final ServiceConfigurationError ex)
        {
            throw new IllegalArgumentException("a task type in " + where + " cannot be loaded: " + ex.getMessage() + rootCause(ex), ex);
        }
        return found;
    }

    /**
     * Merge the sources in rising precedence: a later source's type replaces an earlier source's type of the
     * same name (logged). The same name twice within one source (two plugin jars, two jars on the class path, two
     * handlers added to the builder), equally specific, is refused naming both handlers and where each came from.
     *
     * @throws IllegalArgumentException for a type offered twice by one source.
     */
    @SafeVarargs
    static List<TaskHandler> assemble(final List<TaskHandler>... sources)
    {
        final Map<String, TaskHandler> byType = new LinkedHashMap<>();
        for (final List<TaskHandler> source : sources)
        {
            final Map<String, TaskHandler> thisSource = new HashMap<>();
            for (final TaskHandler handler : source)
            {
                final String type = handler.type();
                final TaskHandler first = thisSource.put(type, handler);
                if (first != null)
                {
                    throw new IllegalArgumentException("handler type=" + type + " is registered twice, equally specific " +
                        "(two plugin jars, two class path entries, or two handlers added to the builder): " + origin(first) +
                        " and " + origin(handler) + "; remove one");
                }
                final TaskHandler replaced = byType.put(type, handler);
                if (replaced != null && replaced.getClass() != handler.getClass())
                {
                    LOG.warn("task type {}: {} replaces {}", type, handler.getClass().getName(), replaced.getClass().getName());
                }
            }
        }
        return new ArrayList<>(byType.values());
    }

    /**
     * @return the handler's class and where it was loaded from (a plugin jar, a class path entry), for messages.
     */
    static String origin(final TaskHandler handler)
    {
        final Class<?> type = handler.getClass();
        String where = null;
        try
        {
            final java.security.CodeSource source = type.getProtectionDomain().getCodeSource();
            if (source != null && source.getLocation() != null)
            {
                where = Path.of(source.getLocation().toURI()).toString();
            }
        }
        catch (final RuntimeException | java.net.URISyntaxException ex)
        {
            // not a file: the class loader's name, if any, is the best there is
        }
        if (where == null && type.getClassLoader() != null && type.getClassLoader().getName() != null)
        {
            where = type.getClassLoader().getName();
        }
        return type.getName() + (where != null ? " (" + where + ")" : "");
    }

    /**
     * Hand each handler the settings under its type's name.
     *
     * @throws IllegalArgumentException for a setting naming no registered type, or one a handler refuses.
     */
    static void configure(final List<TaskHandler> handlers, final Map<String, String> settings)
    {
        final Map<String, Map<String, String>> byType = new HashMap<>();
        for (final Map.Entry<String, String> e : settings.entrySet())
        {
            final String name = e.getKey();
            final int dot = name.indexOf('.');
            if (dot <= 0 || dot == name.length() - 1)
            {
                throw new IllegalArgumentException("handler setting " + name + "=" + e.getValue() +
                    ": the name must be a task type, a dot and the setting (http.allowed-hosts)");
            }
            byType.computeIfAbsent(name.substring(0, dot), t -> new LinkedHashMap<>()).put(name.substring(dot + 1), e.getValue());
        }
        for (final String type : byType.keySet())
        {
            if (handlers.stream().noneMatch(h -> h.type().equals(type)))
            {
                throw new IllegalArgumentException("handler settings " + type + ".* name no registered task type (" +
                    String.join(", ", handlers.stream().map(TaskHandler::type).sorted().toList()) + ")");
            }
        }
        for (final TaskHandler handler : handlers)
        {
            final Map<String, String> own = byType.getOrDefault(handler.type(), Map.of());
            try
            {
                handler.configure(Map.copyOf(own));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("task type " + handler.type() + ": " + ex.getMessage(), ex);
            }
            catch (final RuntimeException | LinkageError ex)
            {
                // a bug in the handler rather than a setting it refuses: still a start refused with its reason, not a stack trace
                throw new IllegalArgumentException("task type " + handler.type() + ": configure threw " + ex, ex);
            }
        }
    }
}
