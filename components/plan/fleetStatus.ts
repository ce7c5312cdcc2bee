/**
 * Each fleet host's standing, read from one `pulumi preview --json --show-sames` (which refreshes first, as
 * the project's `refresh: always` does): what the state recorded (the refresh step's old state), what the host
 * has now (the main step's old state, i.e. the refreshed one), the warnings of hosts that could not be reached,
 * and the values the report compares across hosts.
 */
import { CIS_DAEMON_CHECKS, CisRow, CisStatus } from "./cis";
import type { HostReport } from "./fleetReport";

/** The parts of a Pulumi preview JSON document this module reads. */
export interface PreviewDocument {
    steps: { op: string; urn: string; oldState?: StateLike; newState?: StateLike }[];
    diagnostics?: { message: string; severity: string; urn?: string }[];
}

interface StateLike {
    type?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The step resources of a host and what each tells the report. */
const STEP_SUFFIXES = ["-subids", "-daemon", "-policy", "-plugin", "-authz"] as const;

/** Inputs that are not the host's state: volatile, planned at preview, or secret. */
const NOT_STATE = new Set(["__provider", "connection", "unreachable", "dockerAction", "range", "onUnreachable", "summary", "changeProcedure"]);

const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** Host names of the fleet: every `HardenedDockerHost` component in the preview. */
function hostNames(doc: PreviewDocument): string[] {
    const names = doc.steps.filter((s) => s.urn.includes("HardenedDockerHost::")).map((s) => nameOf(s.urn));
    return [...new Set(names)].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** Keys whose recorded and refreshed values differ (nested keys of `settings` and `files` by name). */
export function driftedKeys(recorded: Record<string, unknown> = {}, found: Record<string, unknown> = {}): string[] {
    const keys = new Set([...Object.keys(recorded), ...Object.keys(found)].filter((k) => !NOT_STATE.has(k)));
    const out: string[] = [];
    for (const k of [...keys].sort()) {
        const a = recorded[k];
        const b = found[k];
        if (JSON.stringify(a) === JSON.stringify(b)) continue;
        const nested = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
        const [na, nb] = [nested(a), nested(b)];
        if ((k === "settings" || k === "files") && na && nb) {
            for (const sub of [...new Set([...Object.keys(na), ...Object.keys(nb)])].sort()) {
                if (JSON.stringify(na[sub]) !== JSON.stringify(nb[sub])) out.push(`${k === "settings" ? "daemon.json" : "policy"} ${sub}`);
            }
        } else {
            out.push(k);
        }
    }
    return out;
}

/** The warning a fleet step gives for a host it could not reach (see providers/preflight.ts). */
const UNREACHABLE = /^(?:warning: )?host (\S+): (.*) \(this host is skipped; the others go on\)\s*$/;

function cisRows(value: unknown): CisRow[] {
    if (!Array.isArray(value)) return [];
    const titles = new Map(CIS_DAEMON_CHECKS.map((c) => [c.id, c.title]));
    return (value as { id: string; status: CisStatus; detail: string }[]).map((r) => ({ id: r.id, title: titles.get(r.id) ?? r.id, status: r.status, detail: r.detail }));
}

/**
 * One report line per host from a preview document. A host is unreachable when a step warned it was skipped,
 * failed when some of its steps are not in the state (never converged, or a create failed), drifted when what
 * the refresh read differs from what the state recorded, and converged otherwise.
 */
export function hostReportsFromPreview(doc: PreviewDocument): HostReport[] {
    const refreshed = new Map<string, StateLike | undefined>();
    const current = new Map<string, StateLike | undefined>();
    for (const step of doc.steps) {
        const name = nameOf(step.urn);
        if (step.op === "refresh") refreshed.set(name, step.oldState);
        else current.set(name, step.oldState);
    }
    const unreachable = new Map<string, string>();
    for (const d of doc.diagnostics ?? []) {
        const m = UNREACHABLE.exec(d.message.trim());
        if (m) unreachable.set(m[1], m[2]);
    }
    return hostNames(doc).map((name) => {
        const out = (suffix: string) => (current.get(name + suffix) ?? refreshed.get(name + suffix))?.outputs ?? {};
        const ids = out("-subids");
        const report: HostReport = {
            name,
            status: "converged",
            dockerVersion: (out("-daemon").dockerVersion as string) || undefined,
            daemonJsonSha256: (out("-daemon").sha256 as string) || undefined,
            policySha256: (out("-policy").sha256 as string) || undefined,
            pluginReference: (out("-plugin").installedReference as string) || undefined,
            idRange: ids.start ? `${ids.owner}:${ids.start}:${ids.count}` : undefined,
            cis: cisRows(out("-daemon").cis),
        };
        const missing = STEP_SUFFIXES.filter((s) => !refreshed.has(name + s));
        const drift = STEP_SUFFIXES.flatMap((s) => (refreshed.has(name + s) && current.has(name + s)
            ? driftedKeys(refreshed.get(name + s)?.inputs, current.get(name + s)?.inputs) : []));
        if (unreachable.has(name)) return { ...report, status: "unreachable", cause: unreachable.get(name) };
        if (missing.length > 0) return { ...report, status: "failed", cause: `never converged: ${missing.map((s) => name + s).join(", ")} not in the state` };
        if (drift.length > 0) return { ...report, status: "drifted", cause: `changed on the host: ${drift.join(", ")}` };
        return report;
    });
}
