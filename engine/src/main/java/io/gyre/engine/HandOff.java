package io.gyre.engine;

import org.agrona.concurrent.EpochNanoClock;

import java.util.function.BooleanSupplier;

/**
 * What the parts that run attempts off the ring (the pools, the async attempts) share: the handlers and
 * their output limit, and what bringing a result back into the ring needs.
 *
 * @param open whether the engine still takes results (false once it is stopping).
 */
record HandOff(
    HandlerRegistry registry,
    int maxOutputBytes,
    AdmissionGate gate,
    ByteBudget budget,
    EpochNanoClock clock,
    BooleanSupplier open)
{
}
