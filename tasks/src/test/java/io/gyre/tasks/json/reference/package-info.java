/**
 * The JSON task handlers as they were before the streaming fast path (commit b372dd5), kept verbatim but for
 * the package: the reference {@code JsonEditEquivalenceTest} compares the handlers with, output for output and
 * error for error.
 */
package io.gyre.tasks.json.reference;
