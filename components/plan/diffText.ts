/**
 * Human-readable change descriptions for `pulumi preview --diff` and logs: daemon.json key by key, and the
 * policy file by file (hash and line counts, never the policy text itself).
 */
import { JsonObject, JsonValue, hasOwnKey, isJsonObject, jsonEquals } from "./json";
import { countLineChanges, splitLines } from "./lineDiff";
import { shortSha256 } from "./sha256";

/** A JSON value on one line with sorted keys and a space after `:` and `,`, e.g. `{"max-file": "3", "max-size": "10m"}`. */
export function inlineJson(value: JsonValue): string {
    if (Array.isArray(value)) return `[${value.map(inlineJson).join(", ")}]`;
    if (isJsonObject(value)) {
        return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}: ${inlineJson(value[key])}`).join(", ")}}`;
    }
    return JSON.stringify(value);
}

/**
 * One line per daemon.json key that differs, sorted by key: `+ "icc": false` (added),
 * `~ "log-opts": {...} → {...}` (changed), `- "debug": true` (removed, with the value it had). Empty when equal.
 */
export function describeDaemonConfigChanges(before: JsonObject, after: JsonObject): string[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const lines: string[] = [];
    for (const key of keys) {
        const name = JSON.stringify(key);
        const had = hasOwnKey(before, key);
        const has = hasOwnKey(after, key);
        if (!had && has) lines.push(`+ ${name}: ${inlineJson(after[key])}`);
        else if (had && !has) lines.push(`- ${name}: ${inlineJson(before[key])}`);
        else if (!jsonEquals(before[key], after[key])) lines.push(`~ ${name}: ${inlineJson(before[key])} → ${inlineJson(after[key])}`);
    }
    return lines;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;

/**
 * One line per policy file that differs, sorted by name, with a short SHA-256 and line counts:
 * `+ authz.rego: added, 36 lines, sha256 0123456789ab`, `- old.rego: removed, 12 lines, sha256 ...`,
 * `~ authz.rego: sha256 0123456789ab → 89abcdef0123, +3 -1 lines`. Empty when the file sets are equal.
 */
export function describePolicyChange(oldFiles: Record<string, string>, newFiles: Record<string, string>): string[] {
    const names = [...new Set([...Object.keys(oldFiles), ...Object.keys(newFiles)])].sort();
    const lines: string[] = [];
    for (const name of names) {
        const had = Object.prototype.hasOwnProperty.call(oldFiles, name);
        const has = Object.prototype.hasOwnProperty.call(newFiles, name);
        if (!had && has) {
            lines.push(`+ ${name}: added, ${plural(splitLines(newFiles[name]).length, "line")}, sha256 ${shortSha256(newFiles[name])}`);
        } else if (had && !has) {
            lines.push(`- ${name}: removed, ${plural(splitLines(oldFiles[name]).length, "line")}, sha256 ${shortSha256(oldFiles[name])}`);
        } else if (oldFiles[name] !== newFiles[name]) {
            const { added, removed } = countLineChanges(oldFiles[name], newFiles[name]);
            lines.push(`~ ${name}: sha256 ${shortSha256(oldFiles[name])} → ${shortSha256(newFiles[name])}, +${added} -${removed} lines`);
        }
    }
    return lines;
}
