package io.gyre.engine;

import io.gyre.journal.EngineStartedRecord;

/**
 * The settings the sequence stage decides with. Journaled in every ENGINE_STARTED record, and taken from
 * there on replay, so a journal rebuilds the same state whatever the configuration of the engine that
 * replays it.
 */
record Settings(
    int maxLiveTasks,
    int maxRetainedOutcomes,
    long outcomeRetentionNanos,
    int blockingSlots,
    int maxWaitersPerTask,
    int timerFiresPerTick)
{
    static Settings of(final EngineConfig config)
    {
        return new Settings(config.maxLiveTasks(), config.maxRetainedOutcomes(), config.outcomeRetention().toNanos(),
            config.blockingPoolThreads(), config.maxWaitersPerTask(), config.timerFiresPerTick());
    }

    void writeTo(final EngineStartedRecord.Encoder encoder)
    {
        encoder.setting("maxLiveTasks", maxLiveTasks)
            .setting("maxRetainedOutcomes", maxRetainedOutcomes)
            .setting("outcomeRetentionNanos", outcomeRetentionNanos)
            .setting("blockingSlots", blockingSlots)
            .setting("maxWaitersPerTask", maxWaitersPerTask)
            .setting("timerFiresPerTick", timerFiresPerTick);
    }

    /**
     * @param record an ENGINE_STARTED record.
     * @param fallback settings for any the record does not carry.
     */
    static Settings readFrom(final EngineStartedRecord.Decoder record, final Settings fallback)
    {
        return new Settings(
            (int)record.setting("maxLiveTasks", fallback.maxLiveTasks),
            (int)record.setting("maxRetainedOutcomes", fallback.maxRetainedOutcomes),
            record.setting("outcomeRetentionNanos", fallback.outcomeRetentionNanos),
            (int)record.setting("blockingSlots", fallback.blockingSlots),
            (int)record.setting("maxWaitersPerTask", fallback.maxWaitersPerTask),
            (int)record.setting("timerFiresPerTick", fallback.timerFiresPerTick));
    }
}
