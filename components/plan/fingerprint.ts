/**
 * The fingerprint of a plan, which the apply stage compares with a fresh preview's, and what differs between the
 * plan a review saw and a fresh one, said so a person can act on it.
 */
import { describeChange, RESOURCE_SUBJECT, valueOrAbsent } from "./changeWording";
import { JsonValue, compactJson, jsonEquals } from "./json";
import { markdownText, nameList } from "./markdownText";
import type { DriftFinding, FleetChanges, PlannedChange } from "./previewChanges";
import { sha256Hex } from "./sha256";

/**
 * The fingerprint of a plan: SHA-256 (hex) of the canonical JSON (keys sorted) of
 * `{ version, planned: [{ urn, op, inputs: [{ path, from, to }] }], unreachable: [host names] }`, resources sorted by
 * URN and inputs by path. `from` is the value now (after refresh), `to` the planned value, long strings as their
 * SHA-256. Left out: connections and provider internals, values shown as `[secret]`, inputs derived from others
 * (a gate's outcomes, the policy summary) and anything not in the step's inputs (timestamps, outputs).
 *
 * Two previews of the same plan give the same fingerprint; a host drifted (its `from` changes, or a new change
 * appears), a config change (`to` changes) or a host that became unreachable (or reachable) gives another.
 */
export function fingerprintOf(changes: FleetChanges): string {
    const canonical = {
        version: changes.version,
        planned: changes.planned.map((p) => ({ urn: p.urn, op: p.op, inputs: p.inputs })),
        unreachable: changes.unreachable.map((u) => u.host).sort(),
    };
    return sha256Hex(compactJson(canonical as unknown as JsonValue));
}

/** Hosts that became unreachable since the review, and hosts that are reachable again. */
function reachabilityLines(
    wasUnreachable: ReadonlyMap<string, string>,
    isUnreachable: ReadonlyMap<string, string>,
): string[] {
    const out: string[] = [];
    for (const [host, cause] of isUnreachable) {
        if (!wasUnreachable.has(host)) out.push(`${host} became unreachable since the review: ${cause}`);
    }
    for (const host of wasUnreachable.keys()) {
        if (!isUnreachable.has(host)) {
            out.push(`${host} was unreachable at the review and is reachable now: its changes were not reviewed`);
        }
    }
    return out;
}

/** `urn\0path`: a drift finding or a planned input, told apart from the others. */
const pathKey = (urn: string, path: string): string => `${urn}\0${path}`;

/** Drift refresh found since the review, per host; `explained` holds its paths (not said again as changes). */
function newDriftLines(reviewed: FleetChanges, fresh: FleetChanges): { lines: string[]; explained: Set<string> } {
    const seenDrift = new Map(reviewed.drifted.map((d) => [pathKey(d.urn, d.path), d]));
    const newDrift = fresh.drifted.filter(
        (d) =>
            !seenDrift.has(pathKey(d.urn, d.path)) ||
            !jsonEquals(seenDrift.get(pathKey(d.urn, d.path))?.found, d.found),
    );
    const driftByHost = new Map<string, DriftFinding[]>();
    for (const d of newDrift) driftByHost.set(d.host, [...(driftByHost.get(d.host) ?? []), d]);
    const lines = [...driftByHost].map(([host, findings]) => {
        const parts = findings
            .slice(0, 8)
            .map((d) =>
                d.path === "(resource)"
                    ? `${markdownText(RESOURCE_SUBJECT[d.kind])} gone from the host`
                    : `${describeChange(d)} ${valueOrAbsent(d.state)} → ${valueOrAbsent(d.found)}`,
            );
        if (findings.length > 8) parts.push(`… and ${findings.length - 8} more`);
        return `${host} drifted since the review (changed on the host, found by refresh): ${parts.join("; ")}`;
    });
    return { lines, explained: new Set(newDrift.map((d) => pathKey(d.urn, d.path))) };
}

/** Hosts that left or joined the fleet since the review. */
function membershipLines(reviewed: FleetChanges, fresh: FleetChanges): string[] {
    const freshHosts = new Set(fresh.hosts);
    const reviewedHosts = new Set(reviewed.hosts);
    const left = reviewed.hosts.filter((host) => !freshHosts.has(host));
    const joined = fresh.hosts.filter((host) => !reviewedHosts.has(host));
    return [
        ...left.map((host) => `${host} left the fleet since the review`),
        ...joined.map((host) => `${host} joined the fleet since the review`),
    ];
}

/** Planned changes that differ: config changes grouped across hosts (`config`), the rest host by host. */
interface PlanDifferences {
    /** A config change, and the hosts (or resources) it concerns. */
    config: Map<string, string[]>;
    hostLines: string[];
}

/** A resource planned in one plan only. */
function plannedInOneLine(
    urn: string,
    b: PlannedChange | undefined,
    f: PlannedChange | undefined,
    explained: ReadonlySet<string>,
): string | undefined {
    const p = (f ?? b) as PlannedChange;
    const paths = p.inputs.filter(
        (c) => !explained.has(pathKey(urn, c.path)) && !(p.kind === "daemon" && c.path === "dockerAction"),
    );
    if (paths.length === 0 && p.inputs.length) return undefined; // all of it explained by the drift
    const what = paths
        .slice(0, 4)
        .map((c) => describeChange({ kind: p.kind, path: c.path }))
        .join(", ");
    const detail = what ? ` (${what})` : "";
    const subject = markdownText(RESOURCE_SUBJECT[p.kind]);
    const who = p.host ?? p.name;
    if (f) {
        const verb = f.op === "update" ? "changes" : `${f.op}s`;
        return `${who}: ${subject} now ${verb}${detail}; the review planned nothing there`;
    }
    return `${who}: ${subject} no longer changes; the review planned ${b?.op}${detail}`;
}

/** The inputs of a resource planned in both plans that differ. */
function changedInputs(
    urn: string,
    b: PlannedChange,
    f: PlannedChange,
    explained: ReadonlySet<string>,
    into: PlanDifferences,
): void {
    const who = f.host ?? f.name;
    const groupByConfig = (line: string) => into.config.set(line, [...(into.config.get(line) ?? []), who]);
    const bi = new Map(b.inputs.map((c) => [c.path, c]));
    const fi = new Map(f.inputs.map((c) => [c.path, c]));
    for (const path of [...new Set([...bi.keys(), ...fi.keys()])].sort()) {
        const rc = bi.get(path);
        const fc = fi.get(path);
        if (rc && fc && jsonEquals(rc.from, fc.from) && jsonEquals(rc.to, fc.to)) continue;
        if (explained.has(pathKey(urn, path))) continue;
        const where = describeChange({ kind: f.kind, path });
        if (f.kind === "daemon" && path === "dockerAction") {
            into.hostLines.push(`${who}: Docker ${valueOrAbsent(rc?.to)} at the review, now ${valueOrAbsent(fc?.to)}`);
        } else if (rc && fc && !jsonEquals(rc.to, fc.to)) {
            groupByConfig(`${where}: planned ${valueOrAbsent(rc.to)} at the review, now ${valueOrAbsent(fc.to)}`);
        } else if (rc && fc) {
            into.hostLines.push(
                `${who}: ${where} on the host was ${valueOrAbsent(rc.from)} at the review,` +
                    ` now ${valueOrAbsent(fc.from)}`,
            );
        } else if (fc) {
            groupByConfig(
                `${where}: now changes ${valueOrAbsent(fc.from)} → ${valueOrAbsent(fc.to)}` + " (not in the review)",
            );
        } else if (rc) {
            groupByConfig(
                `${where}: no longer changes (the review planned ${valueOrAbsent(rc.from)}` +
                    ` → ${valueOrAbsent(rc.to)})`,
            );
        }
    }
}

/** The planned changes that differ, leaving out hosts whose reachability changed and what drift explains. */
function planDifferences(
    reviewed: FleetChanges,
    fresh: FleetChanges,
    explained: ReadonlySet<string>,
    reachabilityChanged: (host: string) => boolean,
): PlanDifferences {
    const before = new Map(reviewed.planned.map((p) => [p.urn, p]));
    const after = new Map(fresh.planned.map((p) => [p.urn, p]));
    const differences: PlanDifferences = { config: new Map(), hostLines: [] };
    for (const urn of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const b = before.get(urn);
        const f = after.get(urn);
        const p = (f ?? b) as PlannedChange;
        if (p.kind === "gate" && (b?.inputs.length ?? 0) === 0 && (f?.inputs.length ?? 0) === 0) continue;
        // A host that became unreachable (or reachable) is said once, not change by change.
        if (p.host !== undefined && reachabilityChanged(p.host)) continue;
        if (!b || !f) {
            const line = plannedInOneLine(urn, b, f, explained);
            if (line !== undefined) differences.hostLines.push(line);
            continue;
        }
        if (b.op !== f.op) {
            differences.hostLines.push(
                `${f.host ?? f.name}: ${markdownText(RESOURCE_SUBJECT[f.kind])} is now a` +
                    ` ${f.op}, the review planned ${b.op}`,
            );
        }
        changedInputs(urn, b, f, explained, differences);
    }
    return differences;
}

/**
 * What differs between the plan a review saw and a fresh one, in lines a person can act on: hosts that became
 * unreachable or reachable, hosts that drifted since the review (what refresh found), config changes (planned
 * values that differ, grouped across hosts), changes on the hosts that moved a value the plan starts from,
 * resources planned in one and not the other. Empty when the plans are the same.
 */
export function explainFingerprintChange(reviewed: FleetChanges, fresh: FleetChanges): string[] {
    const wasUnreachable = new Map(reviewed.unreachable.map((u) => [u.host, u.cause]));
    const isUnreachable = new Map(fresh.unreachable.map((u) => [u.host, u.cause]));
    const drift = newDriftLines(reviewed, fresh);
    const { config, hostLines } = planDifferences(
        reviewed,
        fresh,
        drift.explained,
        (host) => isUnreachable.has(host) !== wasUnreachable.has(host),
    );
    const out = [
        ...reachabilityLines(wasUnreachable, isUnreachable),
        ...drift.lines,
        ...membershipLines(reviewed, fresh),
    ];
    for (const [line, hosts] of config) out.push(`config changed since the review on ${nameList(hosts)}: ${line}`);
    out.push(...hostLines.slice(0, 40));
    if (hostLines.length > 40) out.push(`… and ${hostLines.length - 40} more`);
    if (out.length === 0 && fingerprintOf(reviewed) !== fingerprintOf(fresh)) {
        out.push(
            `the plan differs from the review (fingerprint ${fingerprintOf(reviewed).slice(0, 12)}… then,` +
                ` ${fingerprintOf(fresh).slice(0, 12)}… now)`,
        );
    }
    return out;
}
