/**
 * The JSON task types {@code set}, {@code inject} and {@code transform}: each takes a JSON object payload and
 * succeeds with a JSON document built from it, as UTF-8.
 * <ul>
 *   <li>{@link io.gyre.tasks.json.SetTaskHandler set}: {@code {"input", "values": {pointer: value}}}, the input
 *       with values put at pointers.</li>
 *   <li>{@link io.gyre.tasks.json.InjectTaskHandler inject}: {@code {"input", "template", "refs": {target:
 *       source}, "required"}}, the template with values copied from the input.</li>
 *   <li>{@link io.gyre.tasks.json.TransformTaskHandler transform}: {@code {"input", "ops": [...]}}, the input
 *       edited by set, copy, move, remove and merge operations, in order.</li>
 * </ul>
 * Pointers are JSON Pointers (RFC 6901). A payload that is not as described fails its task permanently, with
 * a message naming the field: {@code invalid input: ops[1].op: unknown operation "frobnicate" (set, copy,
 * move, remove, merge)}. Register them with {@link io.gyre.tasks.json.JsonTaskHandlers#all()}; the format is
 * documented in {@code docs/TASK-TYPES.md}.
 */
package io.gyre.tasks.json;
