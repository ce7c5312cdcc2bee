/**
 * Each fleet host's standing, read from one `pulumi preview --json` with refresh (the project's `refresh:
 * always`): a row per host for the fleet report (fleetReport.ts). The drift stage (scripts/pipeline/digest.ts)
 * and `npm run fleet:report` (components/cli/fleetReport.ts) both make their rows here.
 */
import { CIS_DAEMON_CHECKS, CisRow, CisStatus } from "./cis";
import { RESOURCE_SUBJECT, plainChange, plainValue } from "./changeWording";
import type { HostReport } from "./fleetReport";
import { DriftFinding, PlannedChange, fleetChangesOf } from "./previewChanges";
import { PreviewJson, parsePreview } from "./previewJson";
import {
    HOST_STEP_KINDS,
    PreviewAnalysis,
    PreviewResource,
    ResourceKind,
    analysePreview,
    compareNatural,
} from "./previewResources";
import { usableString } from "./previewValues";
import { isRecord } from "./record";
import { scrubJson } from "./secrets";

/** Options of {@link hostReportsFromPreview}; the defaults are `npm run fleet:report`'s. */
export interface HostReportOptions {
    /** Strings that must never appear in a row (passphrase, key material): replaced by `[scrubbed]`. */
    secrets?: string[];
    /**
     * What a change the stack config plans on a host makes it: `drifted` ("not converged to the stack config
     * (planned, not applied)", the drift stage's), or `ignored` (the default: only what refresh found counts).
     */
    plannedChanges?: "drifted" | "ignored";
    /**
     * Whether a drift cause gives the values (`daemon.json icc false in the state, true on the host`, the drift
     * stage's) or only the keys (`daemon.json icc`, the default).
     */
    driftValues?: boolean;
}

/** How many drift findings or planned paths a cause names before `and N more`. */
const CAUSE_ITEMS = 5;
const CIS_STATUSES: ReadonlySet<string> = new Set<CisStatus>(["pass", "warn", "info", "note"]);

function isCisStatus(value: unknown): value is CisStatus {
    return typeof value === "string" && CIS_STATUSES.has(value);
}

/**
 * CIS rows from DaemonConfig's `cis` output: a list of `{ id, status, detail }` as refresh evaluated it, or a
 * map of check id to status (sorted by id). Titles come from plan/cis.ts; rows with an unknown status are left out.
 */
function cisRows(value: unknown): CisRow[] {
    const titles = new Map(CIS_DAEMON_CHECKS.map((c) => [c.id, c.title]));
    const row = (id: string, status: CisStatus, detail: string): CisRow => ({
        id,
        title: titles.get(id) ?? id,
        status,
        detail,
    });
    if (Array.isArray(value)) {
        return value
            .filter(isRecord)
            .flatMap((r) =>
                typeof r.id === "string" && isCisStatus(r.status)
                    ? [row(r.id, r.status, typeof r.detail === "string" ? r.detail : "")]
                    : [],
            );
    }
    if (!isRecord(value)) return [];
    return Object.entries(value)
        .filter((e): e is [string, CisStatus] => isCisStatus(e[1]))
        .sort(([x], [y]) => x.localeCompare(y, "en", { numeric: true }))
        .map(([id, status]) => row(id, status, `${status} (as refresh read the host)`));
}

/** The remap user's subordinate ID range, `owner:start:count` (without the owner when the state lacks it). */
function idRangeOf(
    subids: Record<string, unknown> | null | undefined,
    component: Record<string, unknown>,
): string | undefined {
    if (typeof subids?.start === "number" && typeof subids?.count === "number") {
        const owner = usableString(subids.owner);
        return `${owner ? `${owner}:` : ""}${subids.start}:${subids.count}`;
    }
    return usableString(subids?.range ?? component.idRange);
}

/** `daemon.json icc` for `settings.icc`, `policy x.rego` for `files["x.rego"]`, else the input's own key. */
function driftedKeyName(path: string): string {
    const nested = /^(settings|files)(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[("(?:[^"\\]|\\.)*")\])/.exec(path);
    if (nested) {
        const key = nested[2] ?? (JSON.parse(nested[3]) as string);
        return `${nested[1] === "settings" ? "daemon.json" : "policy"} ${key}`;
    }
    const top = /^(?:([A-Za-z_][A-Za-z0-9_-]*)|\[("(?:[^"\\]|\\.)*")\])/.exec(path);
    if (!top) return path;
    return top[1] ?? (JSON.parse(top[2]) as string);
}

/** `changed on the host: ...`: the drift refresh found, by key or with the values. */
function driftCause(drift: DriftFinding[], withValues: boolean): string {
    const gone = (kind: ResourceKind) => `${RESOURCE_SUBJECT[kind]} gone`;
    if (!withValues) {
        const keys = drift.map((d) => (d.path === "(resource)" ? gone(d.kind) : driftedKeyName(d.path)));
        return `changed on the host: ${[...new Set(keys)].join(", ")}`;
    }
    const parts = drift
        .slice(0, CAUSE_ITEMS)
        .map((d) =>
            d.path === "(resource)"
                ? gone(d.kind)
                : `${plainChange(d.kind, d.path)} ${plainValue(d.state)} in the state, ` +
                  `${plainValue(d.found)} on the host`,
        );
    const more = drift.length > CAUSE_ITEMS ? `; and ${drift.length - CAUSE_ITEMS} more` : "";
    return `changed on the host: ${parts.join("; ")}${more}`;
}

/** `not converged to the stack config (planned, not applied): ...`: what the plan would change there. */
function pendingCause(pending: PlannedChange[]): string {
    // Whether Docker restarts is how a change applies, not a change of its own.
    const paths = [
        ...new Set(
            pending.flatMap((p) =>
                p.inputs
                    .filter((c) => !(p.kind === "daemon" && c.path === "dockerAction"))
                    .map((c) => plainChange(p.kind, c.path)),
            ),
        ),
    ];
    const more = paths.length > CAUSE_ITEMS ? ` and ${paths.length - CAUSE_ITEMS} more` : "";
    return `not converged to the stack config (planned, not applied): ${paths.slice(0, CAUSE_ITEMS).join(", ")}${more}`;
}

/**
 * A host's steps that the preview has but the state does not (never converged, or a create failed), in the
 * order the host applies them. A preview without refresh says nothing of the state: none.
 */
function stepsNotInState(a: PreviewAnalysis, host: string): PreviewResource[] {
    if (!a.refreshed) return [];
    return a.resources
        .filter((r) => r.host === host && HOST_STEP_KINDS.includes(r.kind) && !r.stored)
        .sort((x, y) => HOST_STEP_KINDS.indexOf(x.kind) - HOST_STEP_KINDS.indexOf(y.kind));
}

/** The values the report compares across hosts, and the CIS rows, from what refresh read (else the state). */
function hostFacts(a: PreviewAnalysis, host: string): Omit<HostReport, "name" | "status"> {
    const of = (kind: ResourceKind) => a.resources.find((r) => r.host === host && r.kind === kind);
    const state = (kind: ResourceKind) => of(kind)?.current ?? of(kind)?.stored;
    const component = state("host")?.outputs ?? {};
    const daemon = state("daemon");
    const plugin = state("plugin");
    return {
        dockerVersion: usableString(daemon?.outputs?.dockerVersion ?? component.dockerVersion),
        daemonJsonSha256: usableString(daemon?.outputs?.sha256 ?? component.daemonJsonSha256),
        policySha256: usableString(state("policy")?.outputs?.sha256 ?? component.policySha256),
        pluginReference: usableString(
            plugin?.outputs?.installedReference ?? plugin?.inputs?.reference ?? component.pluginReference,
        ),
        idRange: idRangeOf(state("subids")?.outputs, component),
        cis: cisRows(daemon?.outputs?.cis),
    };
}

/**
 * One fleet-report row per host (in natural order) from a preview with refresh, parsed or as text. A host is
 *
 * - `unreachable` when a warning says it could not be reached (or a step or gate marks it so), with the cause
 *   and no values (it could not tell them);
 * - `failed` when some of its steps are in the preview but not in the state (never converged, or a create
 *   failed);
 * - `drifted` when refresh found the host differs from the state (`changed on the host: ...`), or, with
 *   {@link HostReportOptions.plannedChanges} `drifted`, when the stack config plans a change there;
 * - `converged` otherwise.
 *
 * Docker version, daemon.json and policy hashes, plugin reference, ID range (`owner:start:count`) and CIS rows
 * come from the refreshed state, falling back to the host component's outputs.
 */
export function hostReportsFromPreview(preview: PreviewJson | string, options: HostReportOptions = {}): HostReport[] {
    const a = analysePreview(parsePreview(preview));
    const changes = fleetChangesOf(a);
    const unreachable = new Map(a.unreachable.map((u) => [u.host, u.cause]));
    const rows = [...a.hosts].sort(compareNatural).map((name): HostReport => {
        const cause = unreachable.get(name);
        if (cause !== undefined) return { name, status: "unreachable", cause, cis: [] };
        const report: HostReport = { name, status: "converged", ...hostFacts(a, name) };
        const missing = stepsNotInState(a, name);
        const drift = changes.drifted.filter((d) => d.host === name);
        const pending = changes.planned.filter((p) => p.host === name && p.kind !== "gate");
        if (missing.length > 0) {
            const names = missing.map((r) => r.name).join(", ");
            return { ...report, status: "failed", cause: `never converged: ${names} not in the state` };
        }
        if (drift.length > 0) return { ...report, status: "drifted", cause: driftCause(drift, !!options.driftValues) };
        if (pending.length > 0 && options.plannedChanges === "drifted") {
            return { ...report, status: "drifted", cause: pendingCause(pending) };
        }
        return report;
    });
    return scrubJson(rows, options.secrets ?? []) as HostReport[];
}
