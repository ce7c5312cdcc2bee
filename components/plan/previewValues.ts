/**
 * Values of a preview's states as the plan compares them: secrets and values not known before apply replaced
 * by markers, object keys in canonical order, connections and provider internals left out, long strings (file
 * contents) as their hash.
 */
import { JsonObject, JsonValue, isJsonObject, setOwnKey } from "./json";
import { isRecord } from "./record";
import { sha256Hex } from "./sha256";

/** What a secret value becomes (the engine's own display of one). */
export const SECRET = "[secret]";
/** What a value not known before apply becomes. */
export const UNKNOWN = "(known after apply)";

/** The engine's placeholder for an output not known before apply (sdk/go/common/resource/plugin UnknownStringValue). */
const UNKNOWN_VALUES: ReadonlySet<string> = new Set(["04da6b54-80e4-46f7-96ec-b56ff0331ba9"]);
/** The engine's marker of a secret value in serialized properties. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const PRIVATE_KEY_TEXT = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const SECRET_KEY_NAME = /passw|passphrase|private.?key|secret|token|credential/i;
/** Never compared, shown or fingerprinted: provider internals, connections (they hold the key), markers. */
const IGNORED_INPUTS: ReadonlySet<string> = new Set(["__provider", "connection", "connections", "unreachable"]);
/** Longer strings are kept as their hash. */
const LONG_STRING = 200;

/** A value as the plan handles it: secrets and unknowns replaced by markers, key order canonical. */
export function normalizeValue(value: unknown, key = ""): JsonValue | undefined {
    if (value === undefined) return undefined;
    if (key !== "" && SECRET_KEY_NAME.test(key) && value !== null && value !== "") return SECRET;
    if (typeof value === "string") {
        if (value === SECRET || PRIVATE_KEY_TEXT.test(value)) return SECRET;
        return UNKNOWN_VALUES.has(value) ? UNKNOWN : value;
    }
    if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => normalizeValue(v) ?? null);
    if (isRecord(value)) {
        if (SECRET_SIG in value) return SECRET;
        const out: JsonObject = {};
        for (const k of Object.keys(value).sort()) {
            const v = normalizeValue(value[k], k);
            if (v !== undefined) setOwnKey(out, k, v);
        }
        return out;
    }
    return String(value);
}

/** A state's inputs (or outputs) to compare: normalized, without connections, internals and `leaveOut`. */
export function comparableInputs(
    inputs: Record<string, unknown> | null | undefined,
    leaveOut: readonly string[] = [],
): JsonObject {
    const out: JsonObject = {};
    for (const key of Object.keys(inputs ?? {}).sort()) {
        if (IGNORED_INPUTS.has(key) || leaveOut.includes(key)) continue;
        const v = normalizeValue((inputs as Record<string, unknown>)[key], key);
        if (v !== undefined) setOwnKey(out, key, v);
    }
    return out;
}

/** Long strings (file contents) as their hash: the fingerprint and plan.json stay small and exact. */
export function hashLongStrings(value: JsonValue | undefined): JsonValue | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "string") {
        return value.length > LONG_STRING ? `sha256:${sha256Hex(value)} (${value.length} chars)` : value;
    }
    if (Array.isArray(value)) return value.map((v) => hashLongStrings(v) ?? null);
    if (isJsonObject(value)) {
        const out: JsonObject = {};
        for (const k of Object.keys(value)) setOwnKey(out, k, hashLongStrings(value[k]) ?? null);
        return out;
    }
    return value;
}

/** A string worth reporting: not empty, not a secret, not a value known only after apply. */
export function usableString(value: unknown): string | undefined {
    const usable = typeof value === "string" && value !== "" && value !== SECRET && !UNKNOWN_VALUES.has(value);
    return usable ? value : undefined;
}
