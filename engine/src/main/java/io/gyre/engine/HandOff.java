package io.gyre.engine;

import org.agrona.concurrent.EpochNanoClock;

/**
 * What the parts that run attempts off the ring (the pools, the async attempts) share: the handlers and
 * their output limit, and what bringing a result back into the ring needs.
 *
 * @param results the door results come into the ring through: closed at the stop's deadline, after which
 *     results are dropped (their attempts are still running in the journal's eyes, and run again after the
 *     next start).
 * @param keys    reads a task's key back from the journal for a log line about one of its attempts.
 */
record HandOff(
    HandlerRegistry registry,
    int maxOutputBytes,
    AdmissionGate gate,
    ByteBudget budget,
    EpochNanoClock clock,
    Intake results,
    SubmissionKeys keys)
{
}
