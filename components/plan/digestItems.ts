/**
 * What changes on a host, as items that can be grouped across hosts: daemon.json keys, policy files (JSON as
 * JSON paths, other files as a unified diff), operations on whole resources, and what the host does to Docker.
 */
import { RESOURCE_SUBJECT, changeText, describePath } from "./changeWording";
import { JsonObject, JsonValue, compactJson, isJsonObject, jsonEquals } from "./json";
import { InputChange, diffJson, ownValue } from "./jsonDiff";
import { splitLines } from "./lines";
import { PLANNING_HINTS, resourceInputs } from "./previewChanges";
import type { PreviewResource, ResourceKind } from "./previewResources";
import { normalizeValue } from "./previewValues";
import { sha256Hex } from "./sha256";
import { unifiedDiff } from "./unifiedDiff";

/** One change on a host, in a form that can be grouped across hosts. */
export interface DigestItem {
    /** What it is about: `daemon.json`, `policy data.json`, `plugin`, ... */
    subject: string;
    kind: ResourceKind;
    /** Equal keys mean the same change. */
    key: string;
    /** Short name for a header (the path, or the file). */
    label: string;
    /** The change, as Markdown. */
    text: string;
    /** Lines of a unified diff, shown in a fenced block. */
    block?: string[];
}

/** What a whole-resource operation did, for people. */
const OP_DONE: Readonly<Record<string, string>> = {
    create: "created",
    delete: "deleted",
    replace: "replaced",
    import: "imported",
    discard: "discarded",
};

/** Equal keys: the same change (absent and null told apart). */
function changeKey(subject: string, c: InputChange): string {
    const side = (v: JsonValue | undefined) => (v === undefined ? "-" : compactJson(v));
    return `${subject}\0${c.path}\0${side(c.from)}\0${side(c.to)}`;
}

/** Lines of a file's content. */
function lineCount(content: string): number {
    return splitLines(content).length;
}

/** A policy file's changes: JSON files as JSON-path changes, other files as a unified diff. */
function policyFileItems(name: string, before: JsonValue | undefined, after: JsonValue | undefined): DigestItem[] {
    const subject = `policy ${name}`;
    const base = { subject, kind: "policy" as const, label: name };
    const digest = (v: JsonValue | undefined) =>
        v === undefined ? "-" : sha256Hex(typeof v === "string" ? v : compactJson(v));
    if (typeof before !== "string" || typeof after !== "string") {
        if (before === undefined && typeof after === "string") {
            return [{ ...base, key: `${subject}\0add\0${digest(after)}`, text: `added (${lineCount(after)} lines)` }];
        }
        if (after === undefined && typeof before === "string") {
            const removed = `removed (${lineCount(before)} lines)`;
            return [{ ...base, key: `${subject}\0remove\0${digest(before)}`, text: removed }];
        }
        const changed = changeText({ path: "", from: before, to: after });
        return [{ ...base, key: `${subject}\0${digest(before)}\0${digest(after)}`, text: changed }];
    }
    if (/\.json$/i.test(name)) {
        try {
            const changes = diffJson(normalizeValue(JSON.parse(before)), normalizeValue(JSON.parse(after)));
            if (changes.length === 0) {
                return [{ ...base, key: `${subject}\0format\0${digest(after)}`, text: "reformatted (same JSON)" }];
            }
            return changes.map((c) => ({
                ...base,
                label: c.path,
                key: changeKey(subject, c),
                text: changeText(c),
            }));
        } catch {
            // Not JSON on one side: a line diff says what changed.
        }
    }
    const block = unifiedDiff(before, after);
    const removed = block.filter((l) => l.startsWith("-")).length;
    const added = block.filter((l) => l.startsWith("+")).length;
    const summary =
        removed === added ? `${removed} line${removed === 1 ? "" : "s"} changed` : `+${added} −${removed} lines`;
    return [{ ...base, key: `${subject}\0${digest(before)}\0${digest(after)}`, text: summary, block }];
}

/** A resource's changes as items: the operation (unless an update), policy files, then each changed input. */
export function digestItemsOf(r: PreviewResource): DigestItem[] {
    const items: DigestItem[] = [];
    // Resources that are not a host step are named themselves (`HardenedDockerHost h1`).
    const named = r.kind === "other" || r.kind === "host" ? `${r.typeName} ${r.name}` : undefined;
    const leaveOut = [...(PLANNING_HINTS[r.kind] ?? [])];
    const from = resourceInputs(r, "from", leaveOut);
    const to = resourceInputs(r, "to", leaveOut);
    if (r.op && r.op !== "update") {
        const subject = named ?? RESOURCE_SUBJECT[r.kind];
        const done = OP_DONE[r.op] ?? r.op;
        items.push({ subject, kind: r.kind, key: `${subject}\0op\0${r.op}`, label: done, text: done });
    }
    if (r.kind === "policy") {
        const files = (v: JsonObject): JsonObject => {
            const value = ownValue(v, "files");
            return isJsonObject(value) ? value : {};
        };
        const before = files(from);
        const after = files(to);
        const fileNames = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        for (const name of fileNames) {
            const [x, y] = [ownValue(before, name), ownValue(after, name)];
            if (!jsonEquals(x, y)) items.push(...policyFileItems(name, x, y));
        }
        delete from.files;
        delete to.files;
    }
    for (const c of diffJson(from, to)) {
        const { subject, rel } = describePath(r.kind, c.path);
        const label = rel === "" ? subject : rel;
        const shownChange = { ...c, path: rel };
        items.push({
            subject: named ?? subject,
            kind: r.kind,
            label,
            key: changeKey(subject, { ...c, path: rel }),
            text: changeText(shownChange),
        });
    }
    return items;
}

/** What a host's daemon.json change does to Docker. */
export type DockerAction = "restart" | "reload" | "none";

/** What a resource's planned change does to Docker (from its `dockerAction` hint); `none` for no change. */
export function dockerActionOf(r: PreviewResource | undefined): DockerAction {
    const action = r?.op ? r.planned?.inputs?.dockerAction : undefined;
    if (typeof action !== "string") return "none";
    if (/restart/i.test(action)) return "restart";
    return /reload|SIGHUP/i.test(action) ? "reload" : "none";
}

/** Each {@link DockerAction} for people. */
export const DOCKER_ACTION_TEXT: Record<DockerAction, string> = {
    restart: "restarts Docker",
    reload: "reload (SIGHUP), no restart",
    none: "no Docker restart or reload",
};
