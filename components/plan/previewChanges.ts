/**
 * The planned changes of a preview in canonical form (per resource: the operation and each changed input's value
 * now and planned) and the drift refresh found (per host: what the state says against what the host has).
 */
import { InputChange, diffJson } from "./jsonDiff";
import type { JsonObject, JsonValue } from "./json";
import { PreviewAnalysis, PreviewResource, ResourceKind, compareNatural } from "./previewResources";
import { comparableInputs, hashLongStrings } from "./previewValues";
import type { UnreachableHost } from "./unreachableHosts";

/** The planned change of one resource. */
export interface PlannedChange {
    urn: string;
    /** `create`, `update`, `delete`, `replace`, ... */
    op: string;
    /** Resource name (`h1-daemon`). */
    name: string;
    kind: ResourceKind;
    /** The host the resource belongs to, if any. */
    host?: string;
    /** Changed inputs, sorted by path; long strings are replaced by their SHA-256. */
    inputs: InputChange[];
}

/** One difference refresh found between the stack's state and the host. */
export interface DriftFinding {
    host: string;
    urn: string;
    kind: ResourceKind;
    /** Input or output path (`settings.icc`, `enabled`), or `(resource)` when it is gone from the host. */
    path: string;
    /** What the state says; absent when the state has no value. */
    state?: JsonValue;
    /** What refresh read on the host; absent when the host has no value. */
    found?: JsonValue;
}

/**
 * The planned changes of a preview in canonical form: what the fingerprint is computed over (`planned`, and the
 * names of `unreachable` hosts), with the drift found and the fleet's hosts to explain a difference later.
 * Serializable as JSON (the review stage keeps it as `plan.json`).
 */
export interface FleetChanges {
    version: 1;
    /** Stack name (from the URNs). */
    stack: string;
    /** The fleet's hosts, in rollout order. */
    hosts: string[];
    /** Sorted by URN. */
    planned: PlannedChange[];
    /** Sorted by host. */
    unreachable: UnreachableHost[];
    /** Sorted by host, URN, path. */
    drifted: DriftFinding[];
}

/** Inputs that are planning hints, not read from the host: never drift, never shown as a change. */
export const PLANNING_HINTS: Partial<Record<ResourceKind, string[]>> = {
    daemon: ["dockerAction"],
    policy: ["summary"],
    gate: ["outcomes"],
    plugin: ["changeProcedure"],
};
/**
 * Inputs that are not the host's state, whatever the resource: the planning hints, a range planned at preview
 * (SubordinateIds' `range`) and how the program treats the host (`onUnreachable`). They never drift.
 */
const NOT_HOST_STATE: ReadonlySet<string> = new Set([
    ...Object.values(PLANNING_HINTS).flatMap((keys) => keys ?? []),
    "range",
    "onUnreachable",
]);
/** Inputs derived from others, left out of the fingerprint (their sources are in it). */
const DERIVED_FOR_FINGERPRINT: Partial<Record<ResourceKind, string[]>> = { policy: ["summary"], gate: ["outcomes"] };
/** Outputs that are bookkeeping rather than host state: never drift. */
const BOOKKEEPING_OUTPUTS: ReadonlySet<string> = new Set([
    "sha256",
    "restarts",
    "previous",
    "original",
    "cis",
    "dockerVersion",
    "message",
    "outcomes",
    "dockerAction",
    "initSystem",
    "addedByUs",
    "userCreatedByUs",
    "machine",
    "lines",
    "liveSha256",
    "livePolicy",
]);
/** Kinds that are bookkeeping of the program, not something on a host. */
const NOT_ON_A_HOST: readonly ResourceKind[] = ["gate", "host", "fleet", "stack"];

/**
 * A resource's comparable inputs on one side of its change: `from` is what the host has now (nothing for a
 * create), `to` what the program plans (nothing for a delete).
 */
export function resourceInputs(r: PreviewResource, side: "from" | "to", leaveOut: readonly string[]): JsonObject {
    if (side === "from") {
        return r.op === "create" ? {} : comparableInputs(r.current?.inputs ?? r.stored?.inputs, leaveOut);
    }
    return r.op === "delete" ? {} : comparableInputs(r.planned?.inputs, leaveOut);
}

function plannedChange(r: PreviewResource): PlannedChange {
    const leaveOut = DERIVED_FOR_FINGERPRINT[r.kind] ?? [];
    const inputs = diffJson(resourceInputs(r, "from", leaveOut), resourceInputs(r, "to", leaveOut)).map((c) => {
        const out: InputChange = { path: c.path };
        if (c.from !== undefined) out.from = hashLongStrings(c.from);
        if (c.to !== undefined) out.to = hashLongStrings(c.to);
        return out;
    });
    const change: PlannedChange = { urn: r.urn, op: r.op as string, name: r.name, kind: r.kind, inputs };
    if (r.host) change.host = r.host;
    return change;
}

function driftOf(r: PreviewResource, unreachable: ReadonlySet<string>): DriftFinding[] {
    if (!r.host || unreachable.has(r.host) || !r.stored) return [];
    if (NOT_ON_A_HOST.includes(r.kind)) return [];
    const base = { host: r.host, urn: r.urn, kind: r.kind };
    if (!r.current) return [{ ...base, path: "(resource)", state: "present" }];
    const leaveOut = [...NOT_HOST_STATE];
    const stored = comparableInputs(r.stored.inputs, leaveOut);
    const found = comparableInputs(r.current.inputs, leaveOut);
    const findings = diffJson(stored, found).map((c) => ({ ...base, path: c.path, state: c.from, found: c.to }));
    const inputKeys = new Set([...Object.keys(stored), ...Object.keys(found)]);
    const outputsOnly = (o: Record<string, unknown> | null | undefined) =>
        comparableInputs(o, [...[...inputKeys], ...BOOKKEEPING_OUTPUTS, ...leaveOut]);
    findings.push(
        ...diffJson(outputsOnly(r.stored.outputs), outputsOnly(r.current.outputs)).map((c) => ({
            ...base,
            path: c.path,
            state: c.from,
            found: c.to,
        })),
    );
    return findings.map((f) => {
        const out: DriftFinding = { host: f.host, urn: f.urn, kind: f.kind, path: f.path };
        if (f.state !== undefined) out.state = hashLongStrings(f.state);
        if (f.found !== undefined) out.found = hashLongStrings(f.found);
        return out;
    });
}

const byCodeUnits = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** The planned changes and the drift of an analysed preview (see {@link FleetChanges}). */
export function fleetChangesOf(a: PreviewAnalysis): FleetChanges {
    const unreachable = new Set(a.unreachable.map((u) => u.host));
    const planned = a.resources
        .filter((r) => r.op !== undefined)
        .map(plannedChange)
        .sort((x, y) => byCodeUnits(x.urn, y.urn));
    const drifted = a.resources
        .flatMap((r) => driftOf(r, unreachable))
        .sort((x, y) => compareNatural(x.host, y.host) || byCodeUnits(x.urn, y.urn) || (x.path < y.path ? -1 : 1));
    return { version: 1, stack: a.stack, hosts: a.hosts, planned, unreachable: a.unreachable, drifted };
}
