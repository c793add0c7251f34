package io.gyre.engine;

/**
 * The answer to a purge of dead letters.
 *
 * @param purged entries removed (0 when the key had none).
 * @param remaining entries left in the list.
 */
public record PurgeResult(int purged, int remaining)
{
}
