/** Plain objects of unknown content (parsed JSON, Pulumi states), told apart from arrays and null. */

/** Whether a value is a plain object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value if it is a plain object, else an empty one (for optional nested settings). */
export function asRecord(value: unknown): Record<string, unknown> {
    return isRecord(value) ? value : {};
}
