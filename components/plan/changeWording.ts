/**
 * How a change or a drift is named for people: the subject (daemon.json, policy data.json, plugin, ...), the
 * path within it and the values, in Markdown (digest, fingerprint explanations) or plain text (host reports).
 */
import type { InputChange } from "./jsonDiff";
import type { JsonValue } from "./json";
import { codeSpan, markdownText } from "./markdownText";
import type { ResourceKind } from "./previewResources";
import { SECRET, UNKNOWN } from "./previewValues";

/** What a resource of each kind is about, for people. */
export const RESOURCE_SUBJECT: Readonly<Record<ResourceKind, string>> = {
    daemon: "daemon.json",
    policy: "policy files",
    plugin: "plugin",
    subids: "subordinate IDs",
    authz: "authorization",
    host: "host",
    gate: "rollout gate",
    idRange: "fleet ID range",
    fleet: "fleet",
    stack: "stack",
    other: "resource",
};

/** How a secret value is shown. */
const SECRET_SHOWN = "(secret)";

/** Where an input path belongs: daemon settings are daemon.json keys, policy files are files. */
export function describePath(kind: ResourceKind, path: string): { subject: string; rel: string } {
    if (kind === "daemon") {
        if (path === "settings") return { subject: "daemon.json", rel: "" };
        if (path.startsWith("settings.") || path.startsWith("settings[")) {
            return { subject: "daemon.json", rel: path.slice("settings".length).replace(/^\./, "") };
        }
        return { subject: "daemon.json step", rel: path };
    }
    if (kind === "policy") {
        const m =
            /^files\[("(?:[^"\\]|\\.)*")\](.*)$/.exec(path) ?? /^files\.([A-Za-z_][A-Za-z0-9_-]*)(.*)$/.exec(path);
        if (m) {
            const file = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
            return { subject: `policy ${file}`, rel: m[2].replace(/^\./, "") };
        }
    }
    return { subject: RESOURCE_SUBJECT[kind], rel: path };
}

/** A value in at most 100 characters: hashes cut, strings bare unless that would mislead. */
export function shortValue(value: JsonValue): string {
    if (typeof value === "string") {
        if (/^[0-9a-f]{64}$/.test(value)) return `${value.slice(0, 12)}…`;
        const m = /^sha256:([0-9a-f]{64}) \((\d+) chars\)$/.exec(value);
        if (m) return `${m[2]} chars, sha256 ${m[1].slice(0, 12)}…`;
        // Quoted only where the bare text would mislead: empty, edged with spaces, control characters, or
        // looking like a number, boolean or null (daemon.json tells "5" from 5).
        const bare =
            value !== "" &&
            value.trim() === value &&
            !/[\u0000-\u001f]/.test(value) &&
            !/^(-?\d+(\.\d+)?|true|false|null)$/.test(value);
        const shown = bare ? value : JSON.stringify(value);
        return shown.length > 100 ? `${shown.slice(0, 99)}…` : shown;
    }
    const json = JSON.stringify(value);
    return json.length > 100 ? `${json.slice(0, 99)}…` : json;
}

/** A value in Markdown: secrets and unknowns as words, the rest in a code span. */
export function shownValue(value: JsonValue): string {
    if (value === SECRET) return SECRET_SHOWN;
    if (value === UNKNOWN) return UNKNOWN;
    return codeSpan(shortValue(value));
}

/** {@link shownValue}, or `absent`. */
export function valueOrAbsent(v: JsonValue | undefined): string {
    return v === undefined ? "absent" : shownValue(v);
}

/** What a path is about, in Markdown: `daemon.json` `` `icc` ``. */
export function describeChange(p: { kind: ResourceKind; path: string }): string {
    const { subject, rel } = describePath(p.kind, p.path);
    return rel === "" ? markdownText(subject) : `${markdownText(subject)} ${codeSpan(rel)}`;
}

/** A change in Markdown: `` `path`: added `v` ``, `removed (was …)` or `old → new`. */
export function changeText(c: InputChange): string {
    const at = c.path === "" ? "" : `${codeSpan(c.path)}: `;
    if (c.from === undefined) return `${at}added ${shownValue(c.to as JsonValue)}`;
    if (c.to === undefined) return `${at}removed (was ${shownValue(c.from)})`;
    return `${at}${shownValue(c.from)} → ${shownValue(c.to)}`;
}

/** What a path is about, in plain text: `daemon.json icc`. */
export function plainChange(kind: ResourceKind, path: string): string {
    const { subject, rel } = describePath(kind, path);
    return rel === "" ? subject : `${subject} ${rel}`;
}

/** A value in plain text: `absent`, `(secret)` or {@link shortValue}. */
export function plainValue(value: JsonValue | undefined): string {
    if (value === undefined) return "absent";
    if (value === SECRET) return SECRET_SHOWN;
    return shortValue(value);
}
