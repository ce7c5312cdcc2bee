import { createHash } from "node:crypto";
import { HostInputError } from "./errors";

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

type JsonType = "string" | "boolean" | "number" | "string[]" | "object" | "array";

/** daemon.json keys of Docker 20.10 and their JSON types (dockerd's documented configuration file). */
export const DAEMON_KEYS: Readonly<Record<string, JsonType>> = {
    "allow-nondistributable-artifacts": "string[]", "api-cors-header": "string", "authorization-plugins": "string[]",
    bip: "string", bridge: "string", "cgroup-parent": "string", "cluster-advertise": "string", "cluster-store": "string",
    "cluster-store-opts": "object", containerd: "string", "containerd-namespace": "string", "containerd-plugins-namespace": "string",
    "cpu-rt-period": "number", "cpu-rt-runtime": "number", "data-root": "string", debug: "boolean",
    "default-address-pools": "array", "default-cgroupns-mode": "string", "default-gateway": "string", "default-gateway-v6": "string",
    "default-ipc-mode": "string", "default-runtime": "string", "default-shm-size": "string", "default-ulimits": "object",
    dns: "string[]", "dns-opts": "string[]", "dns-search": "string[]", "exec-opts": "string[]", "exec-root": "string",
    experimental: "boolean", features: "object", "fixed-cidr": "string", "fixed-cidr-v6": "string", group: "string",
    hosts: "string[]", icc: "boolean", "init": "boolean", "init-path": "string", "insecure-registries": "string[]", ip: "string",
    "ip-forward": "boolean", "ip-masq": "boolean", iptables: "boolean", ip6tables: "boolean", ipv6: "boolean", labels: "string[]",
    "live-restore": "boolean", "log-driver": "string", "log-format": "string", "log-level": "string", "log-opts": "object",
    "max-concurrent-downloads": "number", "max-concurrent-uploads": "number", "max-download-attempts": "number", mtu: "number",
    "no-new-privileges": "boolean", "node-generic-resources": "string[]", "oom-score-adjust": "number", pidfile: "string",
    "raw-logs": "boolean", "registry-mirrors": "string[]", runtimes: "object", "seccomp-profile": "string", "selinux-enabled": "boolean",
    "shutdown-timeout": "number", "storage-driver": "string", "storage-opts": "string[]", "swarm-default-advertise-addr": "string",
    tls: "boolean", tlscacert: "string", tlscert: "string", tlskey: "string", tlsverify: "boolean", "userland-proxy": "boolean",
    "userland-proxy-path": "string", "userns-remap": "string",
};

/** Keys dockerd 20.10 applies on SIGHUP without a restart (daemon/reload.go). */
export const RELOADABLE_KEYS: ReadonlySet<string> = new Set([
    "debug", "labels", "live-restore", "max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts",
    "default-runtime", "runtimes", "authorization-plugins", "insecure-registries", "registry-mirrors",
    "allow-nondistributable-artifacts", "shutdown-timeout", "features", "cluster-store", "cluster-store-opts", "cluster-advertise",
]);

function typeOf(v: JsonValue): JsonType {
    if (Array.isArray(v)) return v.every((x) => typeof x === "string") ? "string[]" : "array";
    if (v === null) return "object";
    return typeof v as JsonType;
}

function closest(key: string): string | undefined {
    const distance = (a: string, b: string): number => {
        const d = Array.from({ length: b.length + 1 }, (_, i) => i);
        for (let i = 1; i <= a.length; i++) {
            let prev = d[0];
            d[0] = i;
            for (let j = 1; j <= b.length; j++) {
                const tmp = d[j];
                d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
                prev = tmp;
            }
        }
        return d[b.length];
    };
    let best: string | undefined;
    let bestD = Infinity;
    for (const k of Object.keys(DAEMON_KEYS)) {
        const dd = distance(key, k);
        if (dd < bestD) [best, bestD] = [k, dd];
    }
    return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Refuses unknown keys and wrong types, naming the key and the fix. */
export function validateDaemonConfig(host: string, config: JsonObject, field = "daemonConfig"): void {
    for (const [key, value] of Object.entries(config)) {
        const expected = DAEMON_KEYS[key];
        if (!expected) {
            const guess = closest(key);
            throw new HostInputError(host, `${field}.${key}`, "unknown daemon.json key (dockerd would refuse to start)",
                guess ? `did you mean "${guess}"?` : "remove it, or check the key against dockerd's documentation");
        }
        const actual = typeOf(value);
        const ok = actual === expected || (expected === "array" && actual === "string[]") || (expected === "object" && actual === "object" && value !== null);
        if (!ok) {
            throw new HostInputError(host, `${field}.${key}`, `expected ${expected}, got ${value === null ? "null" : actual} (${JSON.stringify(value)})`,
                `give "${key}" a ${expected} value`);
        }
    }
}

/** Our hardened defaults; each may be overridden (or left unmanaged with null) through daemonConfig. */
export function hardenedDefaults(opts: { remapUser: string }): JsonObject {
    return {
        "userns-remap": opts.remapUser,
        "no-new-privileges": true,
        icc: false,
        "live-restore": true,
        "userland-proxy": false,
        "log-driver": "json-file",
        "log-opts": { "max-size": "10m", "max-file": "3" },
    };
}

/** Whether going from `before` to `after` needs a restart (true) or a SIGHUP reload suffices (false). */
export function restartNeeded(before: JsonObject, after: JsonObject): boolean {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of keys) {
        if (canonicalJson(before[k] ?? null) !== canonicalJson(after[k] ?? null) && !RELOADABLE_KEYS.has(k)) return true;
    }
    return false;
}

function sortKeys(v: JsonValue): JsonValue {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
    return v;
}

/** The text we write: keys sorted, 2-space indent, trailing newline (so equal configs are equal bytes). */
export function canonicalJson(v: JsonValue): string {
    return JSON.stringify(sortKeys(v), null, 2) + "\n";
}

/** SHA-256 of a text, hex. */
export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}
