/** A JSON value, as `JSON.parse` returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Whether a value is a JSON object (not null, not an array). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `object` has `key` as its own property (so `"constructor"` or `"__proto__"` never match by accident). */
export function hasOwnKey(object: JsonObject, key: string): boolean {
    return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * Sets `object[key]` as an own, enumerable property. Unlike `object[key] = value`, a key named `__proto__`
 * (possible in a host's JSON file) is stored as data instead of replacing the object's prototype.
 */
export function setOwnKey(object: JsonObject, key: string, value: JsonValue): void {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A shallow copy of a JSON object that keeps every own key, `__proto__` included. */
export function copyJsonObject(object: JsonObject): JsonObject {
    const copy: JsonObject = {};
    for (const key of Object.keys(object)) setOwnKey(copy, key, object[key]);
    return copy;
}

function withSortedKeys(value: JsonValue): JsonValue {
    if (Array.isArray(value)) return value.map(withSortedKeys);
    if (isJsonObject(value)) {
        const sorted: JsonObject = {};
        for (const key of Object.keys(value).sort()) setOwnKey(sorted, key, withSortedKeys(value[key]));
        return sorted;
    }
    return value;
}

/**
 * The text we write on hosts: object keys sorted at every depth, 2-space indent, trailing newline. Equal
 * values give equal bytes, so hashes and "unchanged" checks do not depend on key order.
 */
export function canonicalJson(value: JsonValue): string {
    return `${JSON.stringify(withSortedKeys(value), null, 2)}\n`;
}

/** One-line JSON with object keys sorted at every depth, for comparisons and messages. */
export function compactJson(value: JsonValue): string {
    return JSON.stringify(withSortedKeys(value));
}

/** Whether two JSON values are equal regardless of key order; `undefined` (absent) equals only `undefined`. */
export function jsonEquals(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
    if (a === undefined || b === undefined) return a === b;
    return compactJson(a) === compactJson(b);
}
