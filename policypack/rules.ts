/**
 * The policy pack's rules as pure functions over resource properties (no @pulumi/policy here, so the unit
 * tests and the root `tsc` use them directly). `index.ts` wires them into @pulumi/policy.
 *
 * The host steps are dynamic resources of type `pulumi-nodejs:dynamic/hardened-docker-host:<Step>`, children of
 * a `HardenedDockerHost` component, itself a child of a `HardenedDockerFleet` when it belongs to a fleet.
 * @pulumi/policy hands policies secret values in the clear (the connection is secret): messages name fields and
 * resources, never values taken from a connection but its label.
 */
import { createHash } from "node:crypto";

export const STEP_TYPE_PREFIX = "pulumi-nodejs:dynamic/hardened-docker-host:";
export const stepType = (step: string): string => STEP_TYPE_PREFIX + step;
export const TYPES = {
    subordinateIds: stepType("SubordinateIds"),
    daemonConfig: stepType("DaemonConfig"),
    remoteFiles: stepType("RemoteFiles"),
    dockerPlugin: stepType("DockerPlugin"),
    authorization: stepType("Authorization"),
    fleetIdRange: stepType("FleetIdRange"),
    host: "hardened-docker-host:index:HardenedDockerHost",
    fleet: "hardened-docker-host:index:HardenedDockerFleet",
} as const;

/** The host steps, in the order the component applies them. */
export const HOST_STEP_TYPES: readonly string[] = [
    TYPES.subordinateIds,
    TYPES.daemonConfig,
    TYPES.remoteFiles,
    TYPES.dockerPlugin,
    TYPES.authorization,
];

/**
 * A value the engine does not know yet (a computed input at preview) reaches policies as this sentinel string
 * (@pulumi/policy passes strings through as they are); rules judge such a value at the next run.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const known = <T>(v: T | undefined | null): v is T =>
    v !== undefined && v !== null && (v as unknown) !== UNKNOWN;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

// ---- pinned host key -----------------------------------------------------------------------------------

/**
 * Every hop of a connection (the host, then `proxy` / `jumpHost` hops) must pin the host key: `hostKey` set
 * and `insecureSkipHostKeyCheck` not true. Returns one reason per bad hop, naming the field.
 */
export function hostKeyProblems(connection: unknown): string[] {
    const problems: string[] = [];
    let hop: unknown = connection;
    let field = "connection";
    for (let depth = 0; isObject(hop) && depth < 8; depth++) {
        if (hop.insecureSkipHostKeyCheck === true) {
            problems.push(
                `${field}.insecureSkipHostKeyCheck is set: ` +
                    `the host's identity is not verified (pin ${field}.hostKey instead)`,
            );
        } else if (hop.hostKey === undefined || hop.hostKey === null) {
            problems.push(`${field}.hostKey is missing: pin the host's public key or SHA256 fingerprint`);
        } else if (known(hop.hostKey) && String(hop.hostKey).trim() === "") {
            problems.push(`${field}.hostKey is empty: pin the host's public key or SHA256 fingerprint`);
        }
        const next: unknown = hop.proxy ?? hop.jumpHost;
        field += hop.proxy !== undefined ? ".proxy" : ".jumpHost";
        hop = next;
    }
    return problems;
}

/** The connections a resource carries: `connection`, or `connections` (FleetIdRange). */
export function connectionsOf(props: Json): unknown[] {
    if (isObject(props.connection)) return [props.connection];
    if (Array.isArray(props.connections)) return props.connections.filter(isObject);
    return [];
}

/** The label a connection gives its host in messages (never a secret: the component sets it to the host's name). */
export function connectionLabel(connection: unknown): string | undefined {
    return isObject(connection) && typeof connection.label === "string" && connection.label
        ? connection.label
        : undefined;
}

// ---- userns-remap ---------------------------------------------------------------------------------------

/** DaemonConfig `settings` must turn userns-remap on (a user or `default`). Undefined when fine or unknown. */
export function usernsRemapProblem(settings: unknown): string | undefined {
    if (!known(settings)) return undefined; // computed at preview: judged at the next run
    if (!isObject(settings)) return "settings is not an object: userns-remap cannot be on";
    const v = settings["userns-remap"];
    if (v === UNKNOWN) return undefined;
    if (typeof v !== "string" || v.trim() === "") {
        return (
            `settings["userns-remap"] is ${v === undefined ? "not set" : JSON.stringify(v)}: ` +
            "root in a container would be root on the host"
        );
    }
    return undefined;
}

// ---- pinned plugin image -----------------------------------------------------------------------------

/** A Docker reference split: `registry/path`, its tag and digest. */
export function parseReference(ref: string): { name: string; tag?: string; digest?: string } {
    let rest = ref.trim();
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
    }
    const slash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
    return { name: rest, digest };
}

/** The plugin image must be pinned: a digest, or a tag other than `latest`. Undefined when pinned or unknown. */
export function pluginPinProblem(reference: unknown): string | undefined {
    if (!known(reference)) return undefined;
    if (typeof reference !== "string" || reference.trim() === "") return "reference is empty";
    const { tag, digest } = parseReference(reference);
    if (digest !== undefined) {
        return /^sha256:[0-9a-f]{64}$/.test(digest)
            ? undefined
            : `reference ${reference} has a malformed digest (expected @sha256:<64 hex>)`;
    }
    if (tag === undefined || tag === "")
        return `reference ${reference} has no tag, so Docker takes :latest: pin a version tag or a digest`;
    if (tag === "latest") return `reference ${reference} is :latest: pin a version tag or a digest`;
    return undefined;
}

// ---- Docker version floor --------------------------------------------------------------------------

/** Compares dotted versions numerically (`20.10.24+dfsg1` → 20.10.24). Negative when a < b. */
export function compareVersions(a: string, b: string): number {
    const parts = (v: string) => (v.match(/\d+/g) ?? []).slice(0, 3).map(Number);
    const pa = parts(a);
    const pb = parts(b);
    for (let i = 0; i < 3; i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

/** Advisory: Docker on the host older than the floor. Undefined when new enough or not known yet. */
export function dockerFloorProblem(dockerVersion: unknown, floor: string): string | undefined {
    if (!known(dockerVersion) || typeof dockerVersion !== "string" || !/\d/.test(dockerVersion)) return undefined;
    if (compareVersions(dockerVersion, floor) >= 0) return undefined;
    return (
        `Docker ${dockerVersion} is older than the floor ${floor} ` +
        "(policy pack config docker-version-floor.minimumVersion)"
    );
}

// ---- stack-wide: per host and per fleet ---------------------------------------------------------------

/** What stack rules need of a resource (@pulumi/policy's PolicyResource has these fields). */
export interface StackResource {
    urn: string;
    type: string;
    name: string;
    props: Json;
    parent?: StackResource;
}

/** The type of a URN's resource: the last of the `$`-joined type chain. */
export function typeOfUrn(urn: string): string {
    const parts = urn.split("::");
    const chain = parts.length >= 4 ? parts[2] : "";
    return chain.split("$").pop() ?? "";
}

const STEP_SUFFIX = /-(subids|daemon|policy|plugin|authz)$/;

/**
 * The host a step belongs to: its HardenedDockerHost parent (URN and name), or, for steps declared outside the
 * component, the name without the component's step suffix (`build-01-daemon` → `build-01`).
 */
export function hostOf(r: { urn: string; name: string; parentUrn?: string }): { key: string; name: string } {
    if (r.parentUrn && typeOfUrn(r.parentUrn) === TYPES.host)
        return { key: r.parentUrn, name: r.parentUrn.split("::").pop() ?? r.name };
    const name = r.name.replace(STEP_SUFFIX, "");
    return { key: `${r.parentUrn ?? ""}|${name}`, name };
}

/** A host of the stack: its steps by type, and the fleet it belongs to (the fleet's name, or undefined). */
export interface HostSteps {
    name: string;
    fleet?: string;
    steps: Map<string, StackResource>;
}

export function hostsOf(resources: StackResource[]): HostSteps[] {
    const hosts = new Map<string, HostSteps>();
    for (const r of resources) {
        if (!HOST_STEP_TYPES.includes(r.type)) continue;
        const { key, name } = hostOf({ urn: r.urn, name: r.name, parentUrn: r.parent?.urn });
        let h = hosts.get(key);
        if (!h) {
            const grand = r.parent?.type === TYPES.host ? r.parent.parent : undefined;
            h = { name, fleet: grand?.type === TYPES.fleet ? grand.name : undefined, steps: new Map() };
            hosts.set(key, h);
        }
        h.steps.set(r.type, r);
    }
    return [...hosts.values()];
}

/** Authorization must be on for every host that has a daemon.json step: an Authorization step beside it. */
export function authorizationProblems(hosts: HostSteps[]): { host: HostSteps; message: string }[] {
    return hosts
        .filter((h) => h.steps.has(TYPES.daemonConfig) && !h.steps.has(TYPES.authorization))
        .map((h) => ({
            host: h,
            message: `host ${h.name}: no Authorization step: Docker would not enforce the authorization plugin`,
        }));
}

/** SHA-256 of a file map (names and contents, sorted by name), the same for the same set of files. */
export function filesHash(files: Record<string, unknown>): string {
    const h = createHash("sha256");
    for (const name of Object.keys(files).sort()) h.update(`${name}\0${String(files[name])}\0`);
    return h.digest("hex");
}

const hostNames = (hosts: HostSteps[]): string =>
    hosts
        .map((h) => h.name)
        .sort()
        .join(", ");

/**
 * Every host of a fleet must get the same policy files (RemoteFiles `files`). Hosts outside any fleet are
 * compared with each other as the stack's own group. The largest group of identical sets is the reference (on a
 * tie, the one of the first host declared); each other set is reported with the files in which it differs. Hosts
 * whose files are not known are skipped.
 */
export function policyFileProblems(hosts: HostSteps[]): { hosts: HostSteps[]; message: string }[] {
    const groups = new Map<string, HostSteps[]>();
    for (const h of hosts) {
        const files = h.steps.get(TYPES.remoteFiles)?.props.files;
        if (!isObject(files) || Object.values(files).some((v) => !known(v))) continue;
        const g = h.fleet ?? "";
        groups.set(g, [...(groups.get(g) ?? []), h]);
    }
    const problems: { hosts: HostSteps[]; message: string }[] = [];
    for (const [fleet, members] of groups) {
        const bySet = new Map<string, HostSteps[]>();
        for (const h of members) {
            const sha = filesHash(h.steps.get(TYPES.remoteFiles)?.props.files as Json);
            bySet.set(sha, [...(bySet.get(sha) ?? []), h]);
        }
        if (bySet.size <= 1) continue;
        const sets = [...bySet.entries()].sort(
            (a, b) => b[1].length - a[1].length || members.indexOf(a[1][0]) - members.indexOf(b[1][0]),
        );
        const [refSha, refHosts] = sets[0];
        const refFiles = refHosts[0].steps.get(TYPES.remoteFiles)?.props.files as Json;
        const where = fleet ? `fleet ${fleet}` : "stack";
        for (const [sha, odd] of sets.slice(1)) {
            const files = odd[0].steps.get(TYPES.remoteFiles)?.props.files as Json;
            const names = [...new Set([...Object.keys(refFiles), ...Object.keys(files)])].sort();
            const differ = names
                .filter((n) => refFiles[n] !== files[n])
                .map((n) => (!(n in files) ? `${n} (missing)` : !(n in refFiles) ? `${n} (extra)` : n));
            problems.push({
                hosts: odd,
                message:
                    `${where}: ${odd.length > 1 ? "hosts" : "host"} ${hostNames(odd)} ` +
                    `${odd.length > 1 ? "get" : "gets"} policy files ` +
                    `${sha.slice(0, 12)}, not the ${refSha.slice(0, 12)} of ${hostNames(refHosts)}; ` +
                    `differing: ${differ.join(", ")}`,
            });
        }
    }
    return problems;
}
