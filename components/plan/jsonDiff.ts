/** Leaf-level differences between two JSON values, at JSON paths (`docker.authz_config.bind_mounts[0].path`). */
import { JsonObject, JsonValue, hasOwnKey, isJsonObject, jsonEquals } from "./json";

/** One changed value, at a JSON path (`settings.icc`, `files["data.json"]`); an absent side has no value. */
export interface InputChange {
    path: string;
    /** The value before (now, after refresh); absent when the value is added. */
    from?: JsonValue;
    /** The value after (planned); absent when the value is removed. */
    to?: JsonValue;
}

/** An object's own value for a key (never one inherited from Object.prototype). */
export function ownValue(object: JsonObject, key: string): JsonValue | undefined {
    return hasOwnKey(object, key) ? object[key] : undefined;
}

/** `base.key`, `base[0]`, `base["odd.key"]`. */
function joinPath(base: string, key: string | number): string {
    if (typeof key === "number") return `${base}[${key}]`;
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return base === "" ? key : `${base}.${key}`;
    return `${base}[${JSON.stringify(key)}]`;
}

/**
 * The leaf-level differences between two JSON values: objects key by key, arrays element by element, anything
 * else as a whole. Paths are JSON paths from `base` (`docker.authz_config.bind_mounts[0].path`).
 */
export function diffJson(from: JsonValue | undefined, to: JsonValue | undefined, base = ""): InputChange[] {
    const out: InputChange[] = [];
    const walk = (a: JsonValue | undefined, b: JsonValue | undefined, path: string) => {
        if (jsonEquals(a, b)) return;
        if (isJsonObject(a) && isJsonObject(b)) {
            const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
            for (const k of keys) walk(ownValue(a, k), ownValue(b, k), joinPath(path, k));
            return;
        }
        if (Array.isArray(a) && Array.isArray(b)) {
            for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], joinPath(path, i));
            return;
        }
        const change: InputChange = { path };
        if (a !== undefined) change.from = a;
        if (b !== undefined) change.to = b;
        out.push(change);
    };
    walk(from, to, base);
    return out;
}
