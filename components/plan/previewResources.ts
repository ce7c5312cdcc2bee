/**
 * A `pulumi preview --json` (with refresh) of a HardenedDockerFleet stack read resource by resource: what the
 * state had, what refresh read on the host, what the program plans, the host each resource belongs to, the
 * fleet's hosts in rollout order, the rollout batches and the hosts that could not be reached.
 */
import type { PreviewDiagnostic, PreviewJson, PreviewState, PreviewStep } from "./previewJson";
import { isRecord } from "./record";
import { UnreachableHost, unreachableFromDiagnostic } from "./unreachableHosts";

/** What a resource of the stack is, from its type. */
export type ResourceKind =
    "daemon" | "policy" | "plugin" | "subids" | "authz" | "host" | "gate" | "idRange" | "fleet" | "stack" | "other";

/** The kinds of the steps a HardenedDockerHost applies, in the order it applies them. */
export const HOST_STEP_KINDS: readonly ResourceKind[] = ["subids", "daemon", "policy", "plugin", "authz"];

/** One resource of the preview, with its states from the refresh and the program. */
export interface PreviewResource {
    urn: string;
    /** Resource name (`h1-daemon`). */
    name: string;
    kind: ResourceKind;
    /** The type's last part (`DaemonConfig`). */
    typeName: string;
    /** The host the resource belongs to, if any. */
    host?: string;
    /** The planned operation; undefined when nothing changes. */
    op?: string;
    /** The state before refresh (what the stack had). */
    stored?: PreviewState;
    /** The state after refresh (what the host has, as far as the engine knows). */
    current?: PreviewState;
    /** The planned state (undefined for a delete). */
    planned?: PreviewState;
}

/** A preview read resource by resource. */
export interface PreviewAnalysis {
    /** Stack name (from the URNs). */
    stack: string;
    /** The fleet's hosts, in rollout order (hosts in no batch last, in natural order). */
    hosts: string[];
    resources: PreviewResource[];
    /** Sorted by host. */
    unreachable: UnreachableHost[];
    /** The rollout gates' batches of host names. */
    batches: string[][];
    /** The rollout's failure budget, when a gate says it. */
    maxFailures?: number;
    /** The engine's count of resources per operation. */
    changeSummary: Record<string, number>;
    /** Whether the preview refreshed first: without it, nothing is known of the state. */
    refreshed: boolean;
}

const KIND_BY_TYPE: Readonly<Record<string, ResourceKind>> = {
    DaemonConfig: "daemon",
    RemoteFiles: "policy",
    DockerPlugin: "plugin",
    SubordinateIds: "subids",
    Authorization: "authz",
    RolloutGate: "gate",
    FleetIdRange: "idRange",
    HardenedDockerHost: "host",
    HardenedDockerFleet: "fleet",
    Stack: "stack",
};
const HOST_STEP_SUFFIX = /-(subids|daemon|policy|plugin|authz)$/;

/** Natural order of host names: h2 before h10. */
export function compareNatural(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);
}

function urnParts(urn: string): { stack: string; typeName: string; name: string } {
    const parts = urn.split("::");
    const stack = (parts[0] ?? "").replace(/^urn:pulumi:/, "");
    const chain = parts[2] ?? "";
    const last = chain.split("$").pop() ?? "";
    return { stack, typeName: last.split(":").pop() ?? last, name: parts.slice(3).join("::") };
}

function planOp(ops: string[]): string | undefined {
    if (ops.some((o) => o === "replace" || o === "create-replacement" || o === "delete-replaced")) return "replace";
    return ["create", "update", "delete", "import", "discard", "remove-pending-replace"].find((o) => ops.includes(o));
}

/**
 * Steps of the refresh that `refresh: always` (or `--refresh`) runs first, and steps of the program. The engine
 * rewrites a refresh step that found a change into an `update` (or `delete`), so the refresh phase is everything
 * before the program's first step on the root stack.
 */
function splitPhases(steps: PreviewStep[]): { refresh: PreviewStep[]; program: PreviewStep[] } {
    if (!steps.some((s) => s.op === "refresh")) return { refresh: [], program: steps };
    const start = steps.findIndex((s) => s.op !== "refresh" && urnParts(s.urn).typeName === "Stack");
    if (start < 0) {
        return { refresh: steps.filter((s) => s.op === "refresh"), program: steps.filter((s) => s.op !== "refresh") };
    }
    return { refresh: steps.slice(0, start), program: steps.slice(start) };
}

function hostOf(kind: ResourceKind, name: string, states: (PreviewState | undefined | null)[]): string | undefined {
    if (kind === "host") return name;
    for (const state of states) {
        const parent = state?.parent ? urnParts(state.parent) : undefined;
        if (parent?.typeName === "HardenedDockerHost") return parent.name;
    }
    if (HOST_STEP_SUFFIX.test(name)) return name.replace(HOST_STEP_SUFFIX, "");
    return undefined;
}

function stringList(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Every resource of the steps, with its stored, current (refreshed) and planned states. */
function readResources(refresh: PreviewStep[], program: PreviewStep[]): PreviewResource[] {
    const byUrn = new Map<string, PreviewResource>();
    const resource = (urn: string): PreviewResource => {
        let r = byUrn.get(urn);
        if (!r) {
            const { typeName, name } = urnParts(urn);
            r = { urn, name, typeName, kind: KIND_BY_TYPE[typeName] ?? "other" };
            byUrn.set(urn, r);
        }
        return r;
    };
    const refreshed = new Map<string, PreviewStep>();
    for (const step of refresh) {
        const r = resource(step.urn);
        r.stored = step.oldState ?? undefined;
        refreshed.set(step.urn, step);
    }
    const programSteps = new Map<string, PreviewStep[]>();
    for (const step of program) programSteps.set(step.urn, [...(programSteps.get(step.urn) ?? []), step]);
    for (const [urn, list] of programSteps) {
        const r = resource(urn);
        r.op = planOp(list.map((s) => s.op));
        const withOld = list.find((s) => s.oldState && s.op !== "create-replacement") ?? list.find((s) => s.oldState);
        const withNew = list.find((s) => s.newState && s.op !== "delete-replaced" && s.op !== "delete");
        // The program's step starts from the refreshed state: what the host has, as far as the engine knows.
        if (withOld?.oldState) r.current = withOld.oldState;
        if (r.op !== "delete") {
            r.planned = withNew?.newState ?? (r.op === undefined ? (withOld?.oldState ?? undefined) : undefined);
        }
    }
    for (const [urn, step] of refreshed) {
        const r = resource(urn);
        if (r.current) continue;
        if (step.op === "delete") continue; // gone from the host: nothing was read
        // A plain refresh step (nothing found, or nothing the engine could diff) or one the engine rewrote into an
        // update because it found a change: its new state is what was read.
        r.current = step.newState ?? step.oldState ?? undefined;
    }
    const resources = [...byUrn.values()];
    for (const r of resources) r.host = hostOf(r.kind, r.name, [r.planned, r.current, r.stored]);
    return resources;
}

/** The rollout as the gates say it: the longest batch list, the failure budget, each host's outcome. */
function rolloutOf(resources: PreviewResource[]): {
    batches: string[][];
    maxFailures?: number;
    outcomes: Map<string, string>;
} {
    let batches: string[][] = [];
    let maxFailures: number | undefined;
    const outcomes = new Map<string, string>();
    for (const gate of resources.filter((r) => r.kind === "gate")) {
        const inputs = gate.planned?.inputs ?? gate.current?.inputs ?? gate.stored?.inputs ?? {};
        const list = Array.isArray(inputs.batches) ? inputs.batches.map(stringList) : [];
        if (list.length > batches.length) batches = list;
        if (typeof inputs.maxFailures === "number") maxFailures = inputs.maxFailures;
        if (isRecord(inputs.outcomes)) {
            for (const [host, outcome] of Object.entries(inputs.outcomes)) {
                if (typeof outcome === "string") outcomes.set(host, outcome);
            }
        }
    }
    return { batches, maxFailures, outcomes };
}

/**
 * Unreachable hosts with their causes, the first found winning: the warnings, then a step's `unreachable` mark
 * (a skipped host's step plans no change and says why), then a gate that counted the host unreachable.
 */
function unreachableOf(
    diagnostics: PreviewDiagnostic[],
    resources: PreviewResource[],
    gateOutcomes: ReadonlyMap<string, string>,
): Map<string, string> {
    const unreachable = new Map<string, string>();
    for (const d of diagnostics) {
        const found = typeof d?.message === "string" ? unreachableFromDiagnostic(d.message) : undefined;
        if (found && !unreachable.has(found.host)) unreachable.set(found.host, found.cause);
    }
    for (const r of resources) {
        const mark = r.planned?.inputs?.unreachable;
        if (r.host && typeof mark === "string" && !unreachable.has(r.host)) unreachable.set(r.host, mark);
    }
    for (const [host, outcome] of gateOutcomes) {
        if (outcome === "unreachable" && !unreachable.has(host)) {
            unreachable.set(host, "the rollout gate counts it unreachable");
        }
    }
    return unreachable;
}

/** Reads a preview resource by resource (see {@link PreviewAnalysis}). */
export function analysePreview(preview: PreviewJson): PreviewAnalysis {
    const steps = (preview.steps ?? []).filter((s) => s && typeof s.urn === "string");
    const { refresh, program } = splitPhases(steps);
    const resources = readResources(refresh, program);
    const stack = resources.length > 0 ? urnParts(resources[0].urn).stack : "";
    const { batches, maxFailures, outcomes } = rolloutOf(resources);
    const unreachable = unreachableOf(preview.diagnostics ?? [], resources, outcomes);

    const inBatches = batches.flat();
    const others = new Set<string>();
    for (const r of resources) if (r.host && !inBatches.includes(r.host)) others.add(r.host);
    for (const host of unreachable.keys()) if (!inBatches.includes(host)) others.add(host);
    const hosts = [...inBatches, ...[...others].sort(compareNatural)];
    return {
        stack,
        hosts,
        resources,
        batches,
        maxFailures,
        changeSummary: { ...(preview.changeSummary ?? {}) },
        unreachable: [...unreachable]
            .map(([host, cause]) => ({ host, cause }))
            .sort((x, y) => compareNatural(x.host, y.host)),
        refreshed: refresh.length > 0,
    };
}
