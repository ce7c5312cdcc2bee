import type { ConnectionArgs, SshTarget } from "../ssh/target";
import { closestName } from "./closestName";
import { HostInputError } from "./errors";

/** What a field holds, and so how it is checked. */
type Kind =
    "host" | "text" | "hostKey" | "flag" | "port" | "dialErrorLimit" | "seconds" | "dialMs" | "commandMs" | "proxy";

/** Fields of every hop (target or jump host): `@pulumi/command`'s names, plus insecureSkipHostKeyCheck. */
const HOP_FIELDS: Record<string, Kind> = {
    host: "host",
    port: "port",
    user: "text",
    password: "text",
    privateKey: "text",
    privateKeyPassword: "text",
    agentSocketPath: "text",
    hostKey: "hostKey",
    proxy: "proxy",
    dialErrorLimit: "dialErrorLimit",
    perDialTimeout: "seconds",
    insecureSkipHostKeyCheck: "flag",
};

/** Our fields that only make sense on the target (nothing runs on a jump host, and errors name the target). */
const TARGET_FIELDS: Record<string, Kind> = { sudo: "flag", label: "text", commandTimeoutMs: "commandMs" };

/** Aliases (today's names, and ours in other units) and the canonical field each stands for. */
const ALIASES: Record<string, { canonical: string; kind: Kind }> = {
    agent: { canonical: "agentSocketPath", kind: "text" },
    privateKeyPassphrase: { canonical: "privateKeyPassword", kind: "text" },
    jumpHost: { canonical: "proxy", kind: "proxy" },
    connectTimeoutMs: { canonical: "perDialTimeout", kind: "dialMs" },
};

/** A plain value of a checked field (a nested hop for `proxy`). */
type Value = string | number | boolean | SshTarget;

/**
 * Checks one host's `connection` (plain: every Pulumi input resolved) and resolves it to the {@link SshTarget}
 * the SSH layer uses: aliases become the canonical names of `@pulumi/command` (`agent` → `agentSocketPath`,
 * `privateKeyPassphrase` → `privateKeyPassword`, `jumpHost` → `proxy`, `connectTimeoutMs` → `perDialTimeout` in
 * seconds), the same for `proxy`, hop by hop. Unset means undefined, null, or `""` for optional text.
 *
 * Refuses, with a {@link HostInputError} naming the field as the user wrote it (`connection.proxy.hostKey`):
 * unknown fields, an alias and its canonical name set to different values, a wrong type, a port outside
 * 1..65535, a dialErrorLimit that is not an integer from -1, a negative perDialTimeout, a malformed hostKey,
 * and a hop without `hostKey` unless its `insecureSkipHostKeyCheck` is true (unlike `@pulumi/command`, which
 * ignores a missing key). Idempotent: an `SshTarget` it returned passes unchanged.
 *
 * @param label - The host's name in errors (the resource name unless the connection sets `label`).
 * @param c - The resolved connection.
 */
export function normalizeConnection(label: string, c: unknown): SshTarget {
    return normalizeHop(label, c, "connection", true);
}

function normalizeHop(label: string, raw: unknown, path: string, isTarget: boolean): SshTarget {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new HostInputError(
            label,
            path,
            `must be an object, not ${describe(raw)}`,
            `give ${path} as { host, user, privateKey, hostKey, ... } (as @pulumi/command's remote.ConnectionArgs)`,
        );
    }
    const given = new Map<string, Value>();
    for (const [key, value] of Object.entries(raw)) {
        const field = `${path}.${key}`;
        const targetOnly = isTarget ? own(TARGET_FIELDS, key) : undefined;
        const kind = own(HOP_FIELDS, key) ?? own(ALIASES, key)?.kind ?? targetOnly;
        if (kind === undefined) refuseUnknown(label, path, key, isTarget);
        const checked = check(label, field, kind, value);
        if (checked !== undefined) given.set(key, checked);
    }
    for (const [alias, { canonical }] of Object.entries(ALIASES)) {
        if (!given.has(alias)) continue;
        const value = given.get(alias)!;
        if (given.has(canonical) && !same(given.get(canonical)!, value)) {
            throw new HostInputError(
                label,
                `${path}.${alias}`,
                `is an alias of ${canonical}, and both are set to different values`,
                `set only ${path}.${canonical}`,
            );
        }
        given.set(canonical, value);
    }
    if (!given.has("host")) {
        throw new HostInputError(label, `${path}.host`, "is not set", `set ${path}.host to the host's name or address`);
    }
    if (!given.has("hostKey") && given.get("insecureSkipHostKeyCheck") !== true) {
        throw new HostInputError(
            label,
            `${path}.hostKey`,
            "no pinned host key",
            `set ${path}.hostKey to the host's public key (ssh-keyscan) or, knowingly, ` +
                `${path}.insecureSkipHostKeyCheck: true`,
        );
    }
    // A fixed order, so that equal connections serialize (and compare) equal.
    const target: Record<string, Value> = {};
    for (const key of [...Object.keys(HOP_FIELDS), ...Object.keys(TARGET_FIELDS)]) {
        if (given.has(key)) target[key] = given.get(key)!;
    }
    return target as unknown as SshTarget;
}

function refuseUnknown(label: string, path: string, key: string, isTarget: boolean): never {
    if (!isTarget && own(TARGET_FIELDS, key)) {
        throw new HostInputError(
            label,
            `${path}.${key}`,
            "applies to the target host only, not to a jump host",
            `move it to connection.${key}, or remove it`,
        );
    }
    const names = [HOP_FIELDS, ALIASES, isTarget ? TARGET_FIELDS : {}].flatMap((fields) => Object.keys(fields));
    const near = closestName(key, names);
    throw new HostInputError(
        label,
        `${path}.${key}`,
        "unknown field",
        near
            ? `did you mean ${path}.${near}?`
            : "remove it (the fields are @pulumi/command's remote.ConnectionArgs, sudo, insecureSkipHostKeyCheck, " +
                  "label, commandTimeoutMs and the aliases agent, privateKeyPassphrase, jumpHost, connectTimeoutMs)",
    );
}

/** A table's entry for `key`, never one inherited from Object (`constructor`, `toString`). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
    return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The checked value of one field, or undefined when unset. */
function check(label: string, field: string, kind: Kind, value: unknown): Value | undefined {
    if (value === undefined || value === null) return undefined;
    if (kind === "proxy") return normalizeHop(label, value, field, false);
    const wrong = problemWith(field, kind, value);
    if (wrong) throw new HostInputError(label, field, wrong[0], wrong[1]);
    if (value === "") return undefined;
    // connectTimeoutMs is perDialTimeout in milliseconds.
    return kind === "dialMs" ? (value as number) / 1000 : (value as Value);
}

/** What is wrong with a value, and the fix; undefined if nothing. Text is never quoted (it may be a secret). */
function problemWith(field: string, kind: Kind, value: unknown): [string, string] | undefined {
    switch (kind) {
        case "flag":
            return typeof value === "boolean"
                ? undefined
                : [`must be true or false, not ${describe(value)}`, `set ${field} to a boolean`];
        case "host":
        case "text":
        case "hostKey":
            if (typeof value !== "string") {
                return [`must be a string, not ${describe(value)}`, `set ${field} to a string`];
            }
            if (kind === "host" && value === "") return ["is empty", `set ${field} to the host's name or address`];
            if (kind === "hostKey" && value !== "" && !isHostKey(value)) {
                return [
                    "is neither a public key (ssh-ed25519 AAAA...) nor a SHA-256 fingerprint (SHA256:...)",
                    `set ${field} to the host's key as ssh-keyscan prints it, or its fingerprint from ssh-keygen -lf`,
                ];
            }
            return undefined;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
        return [`must be a number, not ${describe(value)}`, `set ${field} to a number`];
    }
    if (kind === "port" && !(Number.isInteger(value) && value >= 1 && value <= 65535)) {
        return [`must be an integer from 1 to 65535, not ${value}`, `set ${field} to the port sshd listens on`];
    }
    if (kind === "dialErrorLimit" && !(Number.isInteger(value) && value >= -1)) {
        return [
            `must be an integer from -1 (no limit) up, not ${value}`,
            `set ${field} to the number of dial attempts, or -1 for no limit`,
        ];
    }
    if ((kind === "seconds" || kind === "dialMs") && value < 0) {
        return [`must be 0 (no limit) or more, not ${value}`, `set ${field} to a timeout, or 0 for none`];
    }
    if (kind === "commandMs" && value <= 0) {
        return [`must be more than 0, not ${value}`, `set ${field} to the longest one remote step may take, in ms`];
    }
    return undefined;
}

/** A known_hosts key (some part is a base64 key blob) or an OpenSSH SHA-256 fingerprint. */
function isHostKey(s: string): boolean {
    const t = s.trim();
    if (t.startsWith("SHA256:")) return /^SHA256:[A-Za-z0-9+/]{43}=?$/.test(t);
    return t.split(/\s+/).some((part) => /^AAAA[A-Za-z0-9+/]+={0,2}$/.test(part));
}

function same(a: Value, b: Value): boolean {
    return typeof a === "object" && typeof b === "object" ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

/** The type of a wrong value (its content may be a secret, so only numbers are shown). */
function describe(v: unknown): string {
    if (Array.isArray(v)) return "a list";
    if (v === null) return "null";
    if (typeof v === "number") return String(v);
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/**
 * The connection fields (`connection`, `connection.proxy`, ...) of the hops, the target and every jump host,
 * that skip the host key check: each is a host whose identity is not verified.
 */
export function unverifiedHops(c: ConnectionArgs): string[] {
    const fields: string[] = [];
    for (let hop: ConnectionArgs | undefined = c, field = "connection"; hop; field += ".proxy") {
        if (hop.insecureSkipHostKeyCheck) fields.push(field);
        hop = (hop.proxy ?? hop.jumpHost) as ConnectionArgs | undefined;
    }
    return fields;
}
