package io.gyre.engine;

import io.gyre.journal.EngineStartedRecord;

import java.util.HashMap;
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
    Map<String, Integer> typeLimits)
{
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
            config.blockingPoolThreads(), config.cpuPoolThreads(), config.maxAsyncInFlight(), config.maxWaitersPerTask(),
            config.lowPriorityAdmissionPercent(), config.normalPriorityAdmissionPercent(), config.timerFiresPerTick(),
            config.maxDeadLetters(), limits);
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

    void writeTo(final EngineStartedRecord.Encoder encoder)
    {
        encoder.setting("maxLiveTasks", maxLiveTasks)
            .setting("maxRetainedOutcomes", maxRetainedOutcomes)
            .setting("outcomeRetentionNanos", outcomeRetentionNanos)
            .setting("blockingSlots", blockingSlots)
            .setting("cpuSlots", cpuSlots)
            .setting("asyncSlots", asyncSlots)
            .setting("maxWaitersPerTask", maxWaitersPerTask)
            .setting("lowPriorityAdmissionPercent", lowPriorityAdmissionPercent)
            .setting("normalPriorityAdmissionPercent", normalPriorityAdmissionPercent)
            .setting("timerFiresPerTick", timerFiresPerTick)
            .setting("maxDeadLetters", maxDeadLetters)
            .setting(TYPE_LIMITS, typeLimits.size());
        for (final Map.Entry<String, Integer> limit : new TreeMap<>(typeLimits).entrySet())
        {
            encoder.setting(LIMIT_PREFIX + limit.getKey(), limit.getValue());
        }
    }

    /**
     * @param record an ENGINE_STARTED record.
     * @param fallback settings for any the record does not carry.
     */
    static Settings readFrom(final EngineStartedRecord.Decoder record, final Settings fallback)
    {
        final Map<String, Integer> limits = new HashMap<>();
        final boolean hasLimits = record.setting(TYPE_LIMITS, -1) >= 0;
        if (hasLimits)
        {
            record.forEachSetting((name, value) ->
            {
                if (name.startsWith(LIMIT_PREFIX))
                {
                    limits.put(name.substring(LIMIT_PREFIX.length()), (int)value);
                }
            });
        }
        return new Settings(
            (int)record.setting("maxLiveTasks", fallback.maxLiveTasks),
            (int)record.setting("maxRetainedOutcomes", fallback.maxRetainedOutcomes),
            record.setting("outcomeRetentionNanos", fallback.outcomeRetentionNanos),
            (int)record.setting("blockingSlots", fallback.blockingSlots),
            (int)record.setting("cpuSlots", fallback.cpuSlots),
            (int)record.setting("asyncSlots", fallback.asyncSlots),
            (int)record.setting("maxWaitersPerTask", fallback.maxWaitersPerTask),
            // journals written before load shedding existed shed nothing
            (int)record.setting("lowPriorityAdmissionPercent", 100),
            (int)record.setting("normalPriorityAdmissionPercent", 100),
            (int)record.setting("timerFiresPerTick", fallback.timerFiresPerTick),
            // journals written before the dead-letter list existed dead-lettered without a bound
            (int)record.setting("maxDeadLetters", UNBOUNDED_DEAD_LETTERS),
            hasLimits ? limits : Map.of());
    }
}
