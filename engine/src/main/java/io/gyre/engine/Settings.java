package io.gyre.engine;

import io.gyre.journal.EngineStartedRecord;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings the sequence stage decides with. Journaled in every ENGINE_STARTED record, and taken from
 * there on replay, so a journal rebuilds the same state whatever the configuration of the engine that
 * replays it.
 *
 * @param typeLimits the most attempts of a task type running at once, by type name, for the types that have
 *     a limit ({@link TaskHandler#maxConcurrency()}).
 */
record Settings(
    int maxLiveTasks,
    int maxRetainedOutcomes,
    long outcomeRetentionNanos,
    int blockingSlots,
    int cpuSlots,
    int asyncSlots,
    int maxWaitersPerTask,
    int lowPriorityAdmissionPercent,
    int normalPriorityAdmissionPercent,
    int timerFiresPerTick,
    int maxDeadLetters,
    Map<String, Integer> typeLimits,
    boolean forgottenOutcomesCount,
    boolean requeueFirst,
    boolean timersByPriority,
    boolean timersDroppedByLive)
{
    /**
     * Whether the timers that can no longer act (of finished tasks) are also dropped once they pass four times the live
     * tasks and 4096 (since this setting exists), besides when the timers pass twice those kept at the last drop: in
     * journals written before, only then, so that the timers of a burst of long waits all cancelled stayed until due
     * (they replay as decided: dead timers a tick looks at count against its looks). Journaled as
     * {@code timersDroppedByLive}, 0 or 1.
     */
    private static final String TIMERS_DROPPED_BY_LIVE = "timersDroppedByLive";

    /**
     * Whether timers are kept in a heap per priority of their task, so that of the timers due at a tick the high
     * priority ones fire first however many are due (since this setting exists); in journals written before, in one
     * heap from which at most eight times {@link #timerFiresPerTick} of the earliest due moved to per-priority queues
     * each tick, so that with more than that due at once priority held only among those moved (they replay as
     * decided). Journaled as {@code timersByPriority}, 0 or 1.
     */
    private static final String TIMERS_BY_PRIORITY = "timersByPriority";

    /**
     * Whether attempts interrupted by a stop or a crash go back to the front of their priority's pending queue, in task
     * order, ahead of tasks submitted after them (since this setting exists); in journals written before, to its back
     * (they replay as decided). Journaled as {@code requeueFirst}, 0 or 1.
     */
    private static final String REQUEUE_FIRST = "requeueFirst";

    /**
     * Whether a retained outcome forgotten before its turn (a redriven task's) still counted against
     * {@link #maxRetainedOutcomes} until evicted: in journals written before this setting existed it did (they replay
     * as decided); since, only the outcomes that answer a key count, so a redrive never shortens another key's
     * window. Journaled as {@code retainedCountsForgotten}, 0 or 1.
     */
    private static final String FORGOTTEN_COUNT = "retainedCountsForgotten";

    /** The dead-letter bound of journals written before the list existed: none (they replay as decided). */
    static final int UNBOUNDED_DEAD_LETTERS = Integer.MAX_VALUE;

    private static final String LIMIT_PREFIX = "limit.";
    /** Present, with the number of type limits, in records that carry them; absent in older journals (no limits). */
    private static final String TYPE_LIMITS = "typeLimits";

    Settings
    {
        typeLimits = Map.copyOf(typeLimits);
    }

    static Settings of(final EngineConfig config)
    {
        final Map<String, Integer> limits = new HashMap<>();
        for (final TaskHandler handler : config.handlers())
        {
            if (handler.maxConcurrency() > 0 && handler.executionMode().handedOff())
            {
                limits.put(handler.type(), handler.maxConcurrency());
            }
        }
        return new Settings(config.maxLiveTasks(), config.maxRetainedOutcomes(), config.outcomeRetention().toNanos(),
            config.blockingPoolThreads() + config.blockingPoolQueue(), config.cpuPoolThreads() + config.cpuPoolQueue(), config.maxAsyncInFlight(), config.maxWaitersPerTask(),
            config.lowPriorityAdmissionPercent(), config.normalPriorityAdmissionPercent(), config.timerFiresPerTick(),
            config.maxDeadLetters(), limits, false, true, true, true);
    }

    /**
     * @return the live tasks at which submissions of this priority code are refused (the percentage of the
     *     limit, rounded up).
     */
    int admissionLimit(final int priority)
    {
        final int percent = priority >= Priority.LOW.code() ? lowPriorityAdmissionPercent :
            priority == Priority.NORMAL.code() ? normalPriorityAdmissionPercent : 100;
        return percent >= 100 ? maxLiveTasks : Math.max(1, (int)(((long)maxLiveTasks * percent + 99) / 100));
    }

    /**
     * @return this type's limit, 0 for none.
     */
    int typeLimit(final String type)
    {
        final Integer limit = typeLimits.get(type);
        return limit == null ? 0 : limit;
    }

    /**
     * @return every setting by name, type limits as {@code limit.<type>} with their count under
     *     {@code typeLimits}: what ENGINE_STARTED records and snapshots carry.
     */
    Map<String, Long> asMap()
    {
        final Map<String, Long> values = new LinkedHashMap<>();
        values.put("maxLiveTasks", (long)maxLiveTasks);
        values.put("maxRetainedOutcomes", (long)maxRetainedOutcomes);
        values.put("outcomeRetentionNanos", outcomeRetentionNanos);
        values.put("blockingSlots", (long)blockingSlots);
        values.put("cpuSlots", (long)cpuSlots);
        values.put("asyncSlots", (long)asyncSlots);
        values.put("maxWaitersPerTask", (long)maxWaitersPerTask);
        values.put("lowPriorityAdmissionPercent", (long)lowPriorityAdmissionPercent);
        values.put("normalPriorityAdmissionPercent", (long)normalPriorityAdmissionPercent);
        values.put("timerFiresPerTick", (long)timerFiresPerTick);
        values.put("maxDeadLetters", (long)maxDeadLetters);
        values.put(FORGOTTEN_COUNT, forgottenOutcomesCount ? 1L : 0L);
        values.put(REQUEUE_FIRST, requeueFirst ? 1L : 0L);
        values.put(TIMERS_BY_PRIORITY, timersByPriority ? 1L : 0L);
        values.put(TIMERS_DROPPED_BY_LIVE, timersDroppedByLive ? 1L : 0L);
        values.put(TYPE_LIMITS, (long)typeLimits.size());
        for (final Map.Entry<String, Integer> limit : new TreeMap<>(typeLimits).entrySet())
        {
            values.put(LIMIT_PREFIX + limit.getKey(), (long)limit.getValue());
        }
        return values;
    }

    /**
     * @param values settings by name, as {@link #asMap()} gives them.
     * @param fallback settings for any not among the values.
     */
    static Settings fromMap(final Map<String, Long> values, final Settings fallback)
    {
        final Map<String, Integer> limits = new HashMap<>();
        final boolean hasLimits = values.containsKey(TYPE_LIMITS);
        if (hasLimits)
        {
            values.forEach((name, value) ->
            {
                if (name.startsWith(LIMIT_PREFIX))
                {
                    limits.put(name.substring(LIMIT_PREFIX.length()), (int)(long)value);
                }
            });
        }
        return new Settings(
            (int)(long)values.getOrDefault("maxLiveTasks", (long)fallback.maxLiveTasks),
            (int)(long)values.getOrDefault("maxRetainedOutcomes", (long)fallback.maxRetainedOutcomes),
            values.getOrDefault("outcomeRetentionNanos", fallback.outcomeRetentionNanos),
            (int)(long)values.getOrDefault("blockingSlots", (long)fallback.blockingSlots),
            (int)(long)values.getOrDefault("cpuSlots", (long)fallback.cpuSlots),
            (int)(long)values.getOrDefault("asyncSlots", (long)fallback.asyncSlots),
            (int)(long)values.getOrDefault("maxWaitersPerTask", (long)fallback.maxWaitersPerTask),
            // journals written before load shedding existed shed nothing
            (int)(long)values.getOrDefault("lowPriorityAdmissionPercent", 100L),
            (int)(long)values.getOrDefault("normalPriorityAdmissionPercent", 100L),
            (int)(long)values.getOrDefault("timerFiresPerTick", (long)fallback.timerFiresPerTick),
            // journals written before the dead-letter list existed dead-lettered without a bound
            (int)(long)values.getOrDefault("maxDeadLetters", (long)UNBOUNDED_DEAD_LETTERS),
            hasLimits ? limits : Map.of(),
            // journals written before the setting existed counted forgotten outcomes
            values.getOrDefault(FORGOTTEN_COUNT, 1L) != 0,
            // journals written before the setting existed queued interrupted attempts at the back
            values.getOrDefault(REQUEUE_FIRST, 0L) != 0,
            // journals written before the setting existed fired timers from one heap
            values.getOrDefault(TIMERS_BY_PRIORITY, 0L) != 0,
            // journals written before the setting existed dropped dead timers only past twice those kept
            values.getOrDefault(TIMERS_DROPPED_BY_LIVE, 0L) != 0);
    }

    void writeTo(final EngineStartedRecord.Encoder encoder)
    {
        asMap().forEach(encoder::setting);
    }

    /**
     * @param record an ENGINE_STARTED record.
     * @param fallback settings for any the record does not carry.
     */
    static Settings readFrom(final EngineStartedRecord.Decoder record, final Settings fallback)
    {
        final Map<String, Long> values = new LinkedHashMap<>();
        record.forEachSetting(values::put);
        return fromMap(values, fallback);
    }

    void writeTo(final StateWriter out)
    {
        final Map<String, Long> values = asMap();
        out.putInt(values.size());
        values.forEach((name, value) -> out.putString(name).putLong(value));
    }

    static Settings readFrom(final StateReader in, final Settings fallback)
    {
        final int n = in.count(12);
        final Map<String, Long> values = new LinkedHashMap<>();
        for (int i = 0; i < n; i++)
        {
            values.put(in.getString(), in.getLong());
        }
        return fromMap(values, fallback);
    }
}
