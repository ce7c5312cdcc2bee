/**
 * Previews the digest, fingerprint and host report tests share: the recorded 6-host fixture and small hand-made
 * fleets (a daemon step, optionally a policy step, per host, and one rollout gate per batch).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import type { PreviewJson, PreviewStep } from "../../components/plan/previewJson";

// The fixture: a real `pulumi preview --json --diff` of 6 hosts (refresh: always). Planned: daemonConfig
// max-concurrent-downloads 5 everywhere, policy data.json bind_mounts[0].path /etc/localtime -> /srv/shared, one
// line of containers.rego. h3 drifted by hand (daemon.json icc true), h5 unreachable.
export const FIXTURE = path.join(__dirname, "../fixtures/preview-6-hosts.json.gz");
export const fixtureText = zlib.gunzipSync(fs.readFileSync(FIXTURE)).toString("utf8");
export const fixture = (): PreviewJson => JSON.parse(fixtureText) as PreviewJson;
/** A step's resource name (`h1-daemon`). */
export const name = (s: PreviewStep) => s.urn.split("::").pop() as string;
/** How often `part` occurs in `text`. */
export const count = (text: string, part: string) => text.split(part).length - 1;

/** Applies `edit` to a deep copy of the fixture. */
export function edited(edit: (preview: PreviewJson) => void): PreviewJson {
    const copy = fixture();
    edit(copy);
    return copy;
}

/** The daemon settings of a step's old or new state, to edit. */
export const settingsOf = (s: PreviewStep, which: "oldState" | "newState") =>
    (s[which]?.inputs as Record<string, Record<string, unknown>>).settings;

export const stepsOf = (p: PreviewJson, resource: string, op?: string) =>
    (p.steps ?? []).filter((s) => name(s) === resource && (op === undefined || s.op === op));

// Small hand-made previews.
const STACK = "unit";
const PREFIX = `urn:pulumi:${STACK}::hardened-docker-host::`;
const FLEET = "hardened-docker-host:index:HardenedDockerFleet";
const HOST = `${FLEET}$hardened-docker-host:index:HardenedDockerHost`;
const stackUrn = `${PREFIX}pulumi:pulumi:Stack::hardened-docker-host-${STACK}`;
export const hostUrn = (h: string) => `${PREFIX}${HOST}::${h}`;
const DYNAMIC = "pulumi-nodejs:dynamic/hardened-docker-host";
export const stepUrn = (type: string, resource: string) => `${PREFIX}${HOST}$${DYNAMIC}:${type}::${resource}`;
const gateUrn = (i: number) => `${PREFIX}${FLEET}$${DYNAMIC}:RolloutGate::fleet-rollout-${i}`;

export interface HostPlan {
    /** daemon.json settings in the state, as read on the host, and planned (undefined: no change planned). */
    stored?: Record<string, unknown>;
    read?: Record<string, unknown>;
    planned?: Record<string, unknown>;
    action?: string;
    files?: [Record<string, string>, Record<string, string>];
    outputs?: Record<string, unknown>;
}

const state = (urn: string, inputs: Record<string, unknown>, outputs: Record<string, unknown> = {}, host?: string) => ({
    urn,
    inputs: { __provider: "p", connection: "[secret]", ...inputs },
    outputs: { ...inputs, ...outputs },
    ...(host ? { parent: hostUrn(host) } : {}),
});

/** A preview with refresh of a fleet: a daemon (and optionally a policy) step per host, and one rollout gate. */
export function preview(
    hosts: Record<string, HostPlan>,
    extra: { diagnostics?: PreviewJson["diagnostics"]; batches?: string[][] } = {},
): PreviewJson {
    const root = { urn: stackUrn, oldState: { urn: stackUrn }, newState: { urn: stackUrn } };
    const refresh: PreviewStep[] = [{ op: "refresh", ...root }];
    const program: PreviewStep[] = [{ op: "same", ...root }];
    for (const [h, plan] of Object.entries(hosts)) {
        const urn = stepUrn("DaemonConfig", `${h}-daemon`);
        const settings = plan.stored ?? plan.read ?? {};
        const stored = state(urn, { settings, dockerAction: "restart dockerd" }, plan.outputs, h);
        refresh.push({ op: "refresh", urn: hostUrn(h), oldState: { urn: hostUrn(h) }, newState: { urn: hostUrn(h) } });
        refresh.push({ op: "refresh", urn, oldState: stored, newState: stored });
        const read = state(urn, { settings: plan.read ?? plan.stored ?? {} }, plan.outputs, h);
        if (plan.planned) {
            const planned = state(urn, { settings: plan.planned, dockerAction: plan.action }, {}, h);
            program.push({ op: "update", urn, oldState: read, newState: planned });
        } else if (plan.read) {
            program.push({ op: "same", urn, oldState: read, newState: read });
        }
        if (plan.files) {
            const purn = stepUrn("RemoteFiles", `${h}-policy`);
            const old = state(purn, { files: plan.files[0], directory: "/etc/docker/policies" }, {}, h);
            refresh.push({ op: "refresh", urn: purn, oldState: old, newState: old });
            const planned = state(purn, { files: plan.files[1], directory: "/etc/docker/policies" }, {}, h);
            program.push({ op: "update", urn: purn, oldState: old, newState: planned });
        }
    }
    const batches = extra.batches ?? [Object.keys(hosts)];
    batches.forEach((_, i) => {
        const gate = state(gateUrn(i + 1), { batches, batch: i, maxFailures: 0, outcomes: {} });
        refresh.push({ op: "refresh", urn: gateUrn(i + 1), oldState: gate, newState: gate });
    });
    return { steps: [...refresh, ...program], diagnostics: extra.diagnostics ?? [], changeSummary: {} };
}
