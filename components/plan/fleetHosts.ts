/**
 * The hosts of a fleet as stack config lists them: checked key by key before any host is touched, so a
 * mistake fails at preview with one line naming the host, the key and the fix.
 */
import { closestName } from "./closestName";
import { HostInputError } from "./errors";
import { isRecord } from "./record";

/** One host of a fleet in stack config (`hosts` entries, or `inventory` hosts with fleet-wide defaults). */
export interface FleetHostConfig {
    /** Name of the host in the stack (resource names, messages). */
    name: string;
    /** Address. */
    host: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** Login user. Default: root. */
    user?: string;
    /** The pinned host key (`ssh-ed25519 AAAA...`). Required unless insecureSkipHostKeyCheck. */
    hostKey?: string;
    /** Accept any host key (a warning says so). Default: false. */
    insecureSkipHostKeyCheck?: boolean;
    /** Path of the private key file on the controller. Either this or `agent`. */
    privateKeyPath?: string;
    /** An ssh-agent socket path (e.g. `$SSH_AUTH_SOCK`). */
    agent?: string;
    /** Run commands through `sudo -n`. Default: when the user is not root. */
    sudo?: boolean;
    /** A jump host (like `ssh -J`), with the same connection keys. */
    jumpHost?: Omit<FleetHostConfig, "name" | "jumpHost">;
    /** A fixed start of the remap range for this host (opts out of the fleet-wide range). */
    idStart?: number;
    /** false: this host takes the first free range of its own instead of the fleet-wide range. Default: true. */
    fleetIdRange?: boolean;
}

const HOST_KEYS = [
    "name",
    "host",
    "port",
    "user",
    "hostKey",
    "insecureSkipHostKeyCheck",
    "privateKeyPath",
    "agent",
    "sudo",
    "jumpHost",
    "idStart",
    "fleetIdRange",
];
const JUMP_KEYS = ["host", "port", "user", "hostKey", "insecureSkipHostKeyCheck", "privateKeyPath", "agent", "sudo"];

/** Values set with `pulumi config set --path` arrive as strings: numbers and booleans are read back. */
function coerce(v: unknown): unknown {
    if (typeof v !== "string") return v;
    if (/^\d+$/.test(v)) return Number(v);
    if (v === "true" || v === "false") return v === "true";
    return v;
}

function checkConnection(name: string, where: string, entry: Record<string, unknown>, keys: string[]): void {
    for (const key of Object.keys(entry)) {
        if (!keys.includes(key)) {
            const near = closestName(key, keys);
            throw new HostInputError(
                name,
                `${where}${key}`,
                "unknown key",
                near ? `did you mean ${where}${near}?` : `use one of ${keys.join(", ")}`,
            );
        }
    }
    if (typeof entry.host !== "string" || entry.host === "") {
        throw new HostInputError(name, `${where}host`, "missing", "set the host's address");
    }
    const port = entry.port;
    if (port !== undefined && (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)) {
        throw new HostInputError(
            name,
            `${where}port`,
            `${JSON.stringify(port)} is not a TCP port`,
            "use a whole number from 1 to 65535",
        );
    }
    if ((typeof entry.hostKey !== "string" || entry.hostKey.trim() === "") && entry.insecureSkipHostKeyCheck !== true) {
        throw new HostInputError(
            name,
            `${where}hostKey`,
            "no pinned host key",
            "set it to the host's public key (ssh-keyscan -t ed25519 HOST), " +
                "or, knowingly, insecureSkipHostKeyCheck: true",
        );
    }
    if (entry.privateKeyPath === undefined && entry.agent === undefined) {
        throw new HostInputError(
            name,
            `${where}privateKeyPath`,
            "no private key file and no ssh-agent",
            `set ${where}privateKeyPath, or ${where}agent to an ssh-agent socket`,
        );
    }
    for (const key of ["sudo", "insecureSkipHostKeyCheck"]) {
        if (entry[key] !== undefined && typeof entry[key] !== "boolean") {
            throw new HostInputError(
                name,
                `${where}${key}`,
                `${JSON.stringify(entry[key])} is not true or false`,
                "use true or false",
            );
        }
    }
}

/** Refuses a host name given twice (stack config, or a program's `HardenedDockerFleet` hosts). */
export function assertUniqueHostNames(names: string[]): void {
    const seen = new Set<string>();
    for (const name of names) {
        if (seen.has(name))
            throw new HostInputError(name, "name", "appears twice in the fleet", "give each host its own name");
        seen.add(name);
    }
}

/**
 * Checks and normalizes a fleet's host list: every key known, a name given once, a port in range, a pinned
 * host key (or an explicit opt-out), a key file or agent, and the same for a jump host.
 *
 * @param entries - Hosts as they come from config, with fleet-wide defaults already applied.
 * @throws HostInputError naming the host (or its position) and the key.
 */
export function validateFleetHosts(entries: unknown[]): FleetHostConfig[] {
    if (entries.length === 0)
        throw new HostInputError("fleet", "hosts", "no hosts", "set `hosts` or `inventory` in the stack config");
    const hosts = entries.map((raw, i) => {
        const position = `hosts[${i}]`;
        if (!isRecord(raw))
            throw new HostInputError(
                position,
                "hosts",
                "an entry is not an object",
                "give each host { name, host, hostKey, ... }",
            );
        const entry = Object.fromEntries(
            Object.entries(raw).map(([k, v]) => [
                k,
                isRecord(v) ? Object.fromEntries(Object.entries(v).map(([a, b]) => [a, coerce(b)])) : coerce(v),
            ]),
        );
        const name = typeof entry.name === "string" && entry.name !== "" ? entry.name : undefined;
        if (!name || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
            throw new HostInputError(
                name ?? position,
                `${position}.name`,
                name ? `"${name}" is not a usable name` : "missing",
                "name each host with letters, digits, dots, dashes or underscores",
            );
        }
        checkConnection(name, "", entry, HOST_KEYS);
        if (entry.jumpHost !== undefined) {
            if (!isRecord(entry.jumpHost))
                throw new HostInputError(
                    name,
                    "jumpHost",
                    "is not an object",
                    "give { host, port, user, hostKey, ... }",
                );
            checkConnection(name, "jumpHost.", entry.jumpHost, JUMP_KEYS);
        }
        if (entry.idStart !== undefined && !Number.isInteger(entry.idStart)) {
            throw new HostInputError(
                name,
                "idStart",
                `${JSON.stringify(entry.idStart)} is not a whole number`,
                "use a first ID such as 231072",
            );
        }
        return entry as unknown as FleetHostConfig;
    });
    assertUniqueHostNames(hosts.map((h) => h.name));
    return hosts;
}

/** The fields of a fleet's shared arguments that a host may override one by one. */
interface Nested {
    userns?: object;
    plugin?: object;
    policy?: { directory?: unknown; data?: unknown; opaPath?: unknown };
}

/**
 * A host's `userns`, `plugin` and `policy` over the fleet's: field by field (a host that sets
 * `policy.hostDirectory` keeps the fleet's policy folder and data).
 */
export function mergeNestedOverrides<T extends Nested>(shared: T, overrides: Partial<T>): Pick<T, keyof Nested> {
    const merge = <K extends keyof Nested>(key: K) =>
        (shared[key] || overrides[key] ? { ...shared[key], ...overrides[key] } : undefined) as T[K];
    return { userns: merge("userns"), plugin: merge("plugin"), policy: merge("policy") };
}

/** Whether a host's overrides keep the fleet's compiled policy (they change neither its folder, data nor check). */
export function keepsFleetPolicy(overrides: Nested): boolean {
    const p = overrides.policy;
    return p === undefined || (p.directory === undefined && p.data === undefined && p.opaPath === undefined);
}
