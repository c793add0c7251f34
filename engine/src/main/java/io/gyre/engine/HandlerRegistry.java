package io.gyre.engine;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Task type name to handler. Immutable once built; safe to read from any thread.
 * <p>
 * Except the one a journal's replay uses ({@link #forReplay}): it has no handlers, runs nothing, and names each
 * type the first time a record (or a journaled setting) mentions it, so the types' concurrency limits apply
 * in the replay as they did in the engine that wrote the journal. Read and grown by the replaying thread only.
 */
final class HandlerRegistry
{
    static final int UNKNOWN = -1;
    /** The most attempts a handler may give its tasks by default: what a submission may ask for. */
    static final int MAX_DEFAULT_ATTEMPTS = 1000;
    /** The types a replay tells apart; more share the unknown type's counters. */
    static final int REPLAY_TYPES = 1024;

    private final TaskHandler[] handlers;
    private final String[] types;
    private final byte[][] names;
    private final ExecutionMode[] modes;
    /**
     * Each handler's defaults, read once when it is registered (and checked then): a submission resolves them from
     * here, never calling the handler's code on the way into the ring, where a throw would leave a half-filled event.
     */
    private final int[] defaultTimeouts;
    private final int[] defaultAttempts;
    private final Backoff[] defaultBackoffs;
    private final Map<String, Integer> byName = new HashMap<>();
    private final boolean open;
    private int count;
    /** The id {@link #idOf(DirectBuffer, int, int)} found last (only the sequence stage's thread reads names from bytes). */
    private int lastFound;
    private static final java.util.concurrent.atomic.AtomicLong IDENTITIES = new java.util.concurrent.atomic.AtomicLong();
    /** This registry among all of the JVM's, from 1: what a {@link TaskRequest} remembers its type's id against. */
    final long identity = IDENTITIES.incrementAndGet();

    HandlerRegistry(final List<TaskHandler> list)
    {
        validate(list);
        handlers = list.toArray(new TaskHandler[0]);
        types = new String[handlers.length];
        names = new byte[handlers.length][];
        modes = new ExecutionMode[handlers.length];
        defaultTimeouts = new int[handlers.length];
        defaultAttempts = new int[handlers.length];
        defaultBackoffs = new Backoff[handlers.length];
        open = false;
        count = handlers.length;
        for (int i = 0; i < handlers.length; i++)
        {
            types[i] = handlers[i].type();
            names[i] = types[i].getBytes(StandardCharsets.UTF_8);
            modes[i] = handlers[i].executionMode();
            defaultTimeouts[i] = handlers[i].defaultTimeoutMillis();
            defaultAttempts[i] = handlers[i].defaultMaxAttempts();
            defaultBackoffs[i] = handlers[i].defaultBackoff();
            byName.put(handlers[i].type(), i);
        }
    }

    private HandlerRegistry(final int capacity)
    {
        handlers = new TaskHandler[capacity];
        types = new String[capacity];
        names = new byte[capacity][];
        modes = new ExecutionMode[capacity];
        defaultTimeouts = new int[capacity];
        defaultAttempts = new int[capacity];
        defaultBackoffs = new Backoff[capacity];
        open = true;
    }

    /**
     * @return an empty registry that names types as a replay meets them (see the class comment).
     */
    static HandlerRegistry forReplay()
    {
        return new HandlerRegistry(REPLAY_TYPES);
    }

    /** @return the id a replay's registry gives a type it meets, or {@link #UNKNOWN} when it is full. */
    private int name(final String type)
    {
        if (count == handlers.length)
        {
            return UNKNOWN;
        }
        final int id = count++;
        // a name and nothing else: a replay runs no handler (handlers[id] stays null)
        types[id] = type;
        names[id] = type.getBytes(StandardCharsets.UTF_8);
        modes[id] = ExecutionMode.BLOCKING;
        byName.put(type, id);
        return id;
    }

    /**
     * @throws IllegalArgumentException naming a handler whose type name is malformed or taken twice.
     */
    static void validate(final List<TaskHandler> list)
    {
        final Set<String> seen = new HashSet<>();
        for (final TaskHandler handler : list)
        {
            final String type = handler.type();
            if (type == null || type.isEmpty() || type.getBytes(StandardCharsets.UTF_8).length > EngineConfig.MAX_TYPE_BYTES ||
                !type.chars().allMatch(c -> c > 0x20 && c < 0x7F))
            {
                throw new IllegalArgumentException("handler type=" + type + " must be 1 to " + EngineConfig.MAX_TYPE_BYTES +
                    " printable ASCII characters without spaces (" + handler.getClass().getName() + ")");
            }
            if (!seen.add(type))
            {
                throw new IllegalArgumentException("handler type=" + type + " is registered twice");
            }
            if (handler.executionMode() == null)
            {
                throw new IllegalArgumentException("handler type=" + type + " has no execution mode");
            }
            if (handler.defaultTimeoutMillis() < 0)
            {
                throw new IllegalArgumentException("handler type=" + type + " defaultTimeoutMillis=" + handler.defaultTimeoutMillis() +
                    " must not be negative (0: the engine's default)");
            }
            if (handler.defaultMaxAttempts() < 0 || handler.defaultMaxAttempts() > MAX_DEFAULT_ATTEMPTS)
            {
                throw new IllegalArgumentException("handler type=" + type + " defaultMaxAttempts=" + handler.defaultMaxAttempts() +
                    " must be in [0, " + MAX_DEFAULT_ATTEMPTS + "] (0: the engine's default), as a submission's");
            }
            try
            {
                // a Backoff checks its values when made: asking for it is the check
                handler.defaultBackoff();
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("handler type=" + type + " defaultBackoff: " + ex.getMessage(), ex);
            }
            if (handler.maxConcurrency() < 0)
            {
                throw new IllegalArgumentException("handler type=" + type + " maxConcurrency=" + handler.maxConcurrency() +
                    " must not be negative (0: no limit of its own)");
            }
        }
    }

    /**
     * @return the handler's id, or {@link #UNKNOWN}.
     */
    int idOf(final String type)
    {
        final Integer id = type == null ? null : byName.get(type);
        return id != null ? id : open && type != null ? name(type) : UNKNOWN;
    }

    /**
     * @return the id of the handler whose name is these bytes, or {@link #UNKNOWN}.
     */
    int idOf(final DirectBuffer buffer, final int offset, final int length)
    {
        final int last = lastFound;
        if (last < count && names[last].length == length && equal(names[last], buffer, offset))
        {
            return last;   // a run of one type, the common case: one comparison
        }
        for (int i = 0; i < count; i++)
        {
            final byte[] name = names[i];
            if (name.length == length && equal(name, buffer, offset))
            {
                lastFound = i;
                return i;
            }
        }
        return open ? name(buffer.getStringWithoutLengthUtf8(offset, length)) : UNKNOWN;
    }

    private static boolean equal(final byte[] name, final DirectBuffer buffer, final int offset)
    {
        for (int j = 0; j < name.length; j++)
        {
            if (name[j] != buffer.getByte(offset + j))
            {
                return false;
            }
        }
        return true;
    }

    /** @return the types registered (ids 0 to size - 1). */
    int size()
    {
        return count;
    }

    /** @return the most types this registry can hold: its size, but for a replay's, which grows to it. */
    int capacity()
    {
        return handlers.length;
    }

    /** @return the handler of an id; null in a replay's registry, which holds names only ({@link #typeOf}). */
    TaskHandler handler(final int id)
    {
        return handlers[id];
    }

    /**
     * @return the type name of a handler id (no allocation: the handler's own string); null for
     *     {@link #UNKNOWN} or an id not registered here.
     */
    String typeOf(final int id)
    {
        return id >= 0 && id < count ? types[id] : null;
    }

    byte[] name(final int id)
    {
        return names[id];
    }

    ExecutionMode mode(final int id)
    {
        return modes[id];
    }

    /** @return the type's default timeout of an attempt, as its handler gave it when registered (0: the engine's). */
    int defaultTimeoutMillis(final int id)
    {
        return defaultTimeouts[id];
    }

    /** @return the type's default attempts, as its handler gave them when registered (0: the engine's). */
    int defaultMaxAttempts(final int id)
    {
        return defaultAttempts[id];
    }

    /** @return the type's default retry backoff, as its handler gave it when registered (null: the engine's). */
    Backoff defaultBackoff(final int id)
    {
        return defaultBackoffs[id];
    }

    /**
     * @return where a task of this type with this payload runs ({@link TaskHandler#executionMode(DirectBuffer, int,
     *     int)}): the type's mode when either is ASYNC (an ASYNC type always runs as one), or when the handler says
     *     nothing.
     */
    ExecutionMode mode(final int id, final DirectBuffer payload, final int offset, final int length)
    {
        final ExecutionMode type = modes[id];
        final TaskHandler handler = handlers[id];
        final ExecutionMode task = handler == null ? null : handler.executionMode(payload, offset, length);
        return task == null || type == ExecutionMode.ASYNC || task == ExecutionMode.ASYNC ? type : task;
    }

    /**
     * @return the type names by handler id.
     */
    java.util.List<String> typesById()
    {
        return java.util.List.of(java.util.Arrays.copyOf(types, count));
    }

    String names()
    {
        return String.join(", ", new java.util.TreeSet<>(byName.keySet()));
    }
}
