/**
 * The daemon.json keys dockerd 20.10 accepts on Linux, with their JSON types, and the check that refuses
 * anything else before a host is touched (dockerd refuses to start on an unknown key or a wrong type).
 *
 * Source: dockerd 20.10's flags (daemon.json keys are flag names; flags that repeat use the plural, `labels`
 * for `--label`), plus `features` and `builder`, which have no flag. Hidden 20.10 flags that are still valid
 * keys (`network-diagnostic-port`, the deprecated `cluster-*`) are included; the deprecated `graph` is refused
 * in favour of `data-root`.
 */
import { closestName } from "./closestName";
import { HostInputError } from "./errors";
import { JsonObject, JsonValue, compactJson, isJsonObject } from "./json";

/** The JSON shape a daemon.json key takes. */
export type DaemonValueType =
    | "string"
    | "boolean"
    | "integer"
    /** A byte size: a string such as "64M" (go-units RAMInBytes), or a number of bytes. */
    | "size"
    | "string[]"
    /** An array of objects (`default-address-pools`). */
    | "object[]"
    /** An object of strings (`log-opts`). */
    | "string-map"
    /** An object of booleans (`features`). */
    | "boolean-map"
    /** An object of objects (`runtimes`, `default-ulimits`). */
    | "object-map"
    /** Any object (`builder`). */
    | "object";

/** Every daemon.json key of dockerd 20.10 on Linux and its type. */
export const DAEMON_CONFIG_SCHEMA: Readonly<Record<string, DaemonValueType>> = {
    "allow-nondistributable-artifacts": "string[]",
    "api-cors-header": "string",
    "authorization-plugins": "string[]",
    bip: "string",
    bridge: "string",
    builder: "object",
    "cgroup-parent": "string",
    "cluster-advertise": "string",
    "cluster-store": "string",
    "cluster-store-opts": "string-map",
    containerd: "string",
    "containerd-namespace": "string",
    "containerd-plugins-namespace": "string",
    "cpu-rt-period": "integer",
    "cpu-rt-runtime": "integer",
    "cri-containerd": "boolean",
    "data-root": "string",
    debug: "boolean",
    "default-address-pools": "object[]",
    "default-cgroupns-mode": "string",
    "default-gateway": "string",
    "default-gateway-v6": "string",
    "default-ipc-mode": "string",
    "default-runtime": "string",
    "default-shm-size": "size",
    "default-ulimits": "object-map",
    dns: "string[]",
    "dns-opts": "string[]",
    "dns-search": "string[]",
    "exec-opts": "string[]",
    "exec-root": "string",
    experimental: "boolean",
    features: "boolean-map",
    "fixed-cidr": "string",
    "fixed-cidr-v6": "string",
    group: "string",
    "host-gateway-ip": "string",
    hosts: "string[]",
    icc: "boolean",
    init: "boolean",
    "init-path": "string",
    "insecure-registries": "string[]",
    ip: "string",
    "ip-forward": "boolean",
    "ip-masq": "boolean",
    ip6tables: "boolean",
    iptables: "boolean",
    ipv6: "boolean",
    labels: "string[]",
    "live-restore": "boolean",
    "log-driver": "string",
    "log-level": "string",
    "log-opts": "string-map",
    "max-concurrent-downloads": "integer",
    "max-concurrent-uploads": "integer",
    "max-download-attempts": "integer",
    "metrics-addr": "string",
    mtu: "integer",
    "network-control-plane-mtu": "integer",
    "network-diagnostic-port": "integer",
    "no-new-privileges": "boolean",
    "node-generic-resources": "string[]",
    "oom-score-adjust": "integer",
    pidfile: "string",
    "raw-logs": "boolean",
    "registry-mirrors": "string[]",
    rootless: "boolean",
    runtimes: "object-map",
    "seccomp-profile": "string",
    "selinux-enabled": "boolean",
    "shutdown-timeout": "integer",
    "storage-driver": "string",
    "storage-opts": "string[]",
    "swarm-default-advertise-addr": "string",
    tls: "boolean",
    tlscacert: "string",
    tlscert: "string",
    tlskey: "string",
    tlsverify: "boolean",
    "userland-proxy": "boolean",
    "userland-proxy-path": "string",
    "userns-remap": "string",
};

/** dockerd flag names whose daemon.json key differs (repeatable flags take the plural). */
const FLAG_TO_KEY: Readonly<Record<string, string>> = {
    "add-runtime": "runtimes",
    "allow-nondistributable-artifact": "allow-nondistributable-artifacts",
    "authorization-plugin": "authorization-plugins",
    "cluster-store-opt": "cluster-store-opts",
    "default-address-pool": "default-address-pools",
    "default-ulimit": "default-ulimits",
    "dns-opt": "dns-opts",
    "exec-opt": "exec-opts",
    host: "hosts",
    "insecure-registry": "insecure-registries",
    label: "labels",
    "log-opt": "log-opts",
    "node-generic-resource": "node-generic-resources",
    "registry-mirror": "registry-mirrors",
    "storage-opt": "storage-opts",
    graph: "data-root",
    "containerd-plugin-namespace": "containerd-plugins-namespace",
};

/** Keys of later Docker releases that dockerd 20.10 does not know. */
const LATER_RELEASE_KEYS: ReadonlySet<string> = new Set([
    "proxies",
    "default-network-opts",
    "cdi-spec-dirs",
    "log-format",
    "firewall-backend",
    "allow-direct-routing",
    "min-api-version",
]);

const TYPE_DESCRIPTIONS: Readonly<Record<DaemonValueType, string>> = {
    string: "a string",
    boolean: "true or false",
    integer: "a whole number",
    size: 'a size (a string like "64M", or a number of bytes)',
    "string[]": "an array of strings",
    "object[]": "an array of objects",
    "string-map": "an object whose values are strings",
    "boolean-map": "an object whose values are true or false",
    "object-map": "an object whose values are objects",
    object: "an object",
};

/** What one entry of a container type must be. */
const ENTRY_DESCRIPTIONS: Readonly<Partial<Record<DaemonValueType, string>>> = {
    "string[]": "a string",
    "object[]": "an object",
    "string-map": "a string",
    "boolean-map": "true or false",
    "object-map": "an object",
};

/** go-units RAMInBytes: a number, an optional space, an optional unit letter, optional i and b. */
const SIZE_TEXT = /^\d+(\.\d+)* ?[kmgtp]?i?b?$/i;

function kindOf(value: JsonValue): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "object") return "an object";
    if (typeof value === "number") return `the number ${value}`;
    return typeof value === "string" ? "a string" : typeof value;
}

function shown(value: JsonValue): string {
    const text = compactJson(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Where a value breaks the type: `[path suffix, what was found]`, or undefined when it fits. Null always fits (see
 * below).
 */
function mismatch(type: DaemonValueType, value: JsonValue): [string, JsonValue] | undefined {
    if (value === null) return undefined;
    const eachEntry = (
        entries: [string, JsonValue][],
        fits: (v: JsonValue) => boolean,
    ): [string, JsonValue] | undefined => {
        const bad = entries.find(([, v]) => v !== null && !fits(v));
        return bad ? [`.${bad[0]}`, bad[1]] : undefined;
    };
    const whole: [string, JsonValue] = ["", value];
    switch (type) {
        case "string":
            return typeof value === "string" ? undefined : whole;
        case "boolean":
            return typeof value === "boolean" ? undefined : whole;
        case "integer":
            return Number.isInteger(value) ? undefined : whole;
        case "size":
            return (typeof value === "string" && SIZE_TEXT.test(value)) ||
                (Number.isInteger(value) && (value as number) >= 0)
                ? undefined
                : whole;
        case "string[]":
            if (!Array.isArray(value)) return whole;
            return eachEntry(
                value.map((v, i) => [`${i}`, v]),
                (v) => typeof v === "string",
            );
        case "object[]":
            if (!Array.isArray(value)) return whole;
            return eachEntry(
                value.map((v, i) => [`${i}`, v]),
                isJsonObject,
            );
        case "string-map":
            return isJsonObject(value) ? eachEntry(Object.entries(value), (v) => typeof v === "string") : whole;
        case "boolean-map":
            return isJsonObject(value) ? eachEntry(Object.entries(value), (v) => typeof v === "boolean") : whole;
        case "object-map":
            return isJsonObject(value) ? eachEntry(Object.entries(value), isJsonObject) : whole;
        case "object":
            return isJsonObject(value) ? undefined : whole;
    }
}

function normalizedKey(key: string): string {
    return key
        .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
        .replace(/[_\s.]+/g, "-")
        .toLowerCase();
}

/** The key the user most likely meant, or undefined. */
function suggestedKey(key: string): string | undefined {
    const normalized = normalizedKey(key);
    if (DAEMON_CONFIG_SCHEMA[normalized] !== undefined && normalized !== key) return normalized;
    if (FLAG_TO_KEY[normalized] !== undefined) return FLAG_TO_KEY[normalized];
    return closestName(normalized, Object.keys(DAEMON_CONFIG_SCHEMA));
}

function unknownKeyError(host: string, path: string, key: string): HostInputError {
    if (LATER_RELEASE_KEYS.has(key)) {
        return new HostInputError(
            host,
            path,
            "this key comes from a later Docker release; dockerd 20.10 does not know it and would refuse to start",
            "remove it, or upgrade Docker on this host first",
        );
    }
    const guess = suggestedKey(key);
    return new HostInputError(
        host,
        path,
        "unknown daemon.json key (dockerd 20.10 would refuse to start)",
        guess
            ? `did you mean "${guess}"?`
            : "remove it; the keys are listed in dockerd's documentation (daemon configuration file)",
    );
}

/**
 * Refuses what dockerd 20.10 would refuse: an unknown key (suggesting the closest known one, or the plural key
 * of a flag name) and a value of the wrong type (naming the key, or the entry inside it, and the type expected).
 * `null`, at the top level or as an entry of an object, is accepted: it is how callers mark a key as left
 * unmanaged, and is never written.
 *
 * @param host - Host label, for the error.
 * @param config - The daemon.json keys to check.
 * @param field - Name of the input being checked, prefixed to each key in errors. Default `daemonConfig`.
 * @throws HostInputError naming the first offending key.
 */
export function validateDaemonConfig(
    host: string,
    config: JsonValue,
    field = "daemonConfig",
): asserts config is JsonObject {
    if (!isJsonObject(config)) {
        throw new HostInputError(
            host,
            field,
            `expected an object of daemon.json keys, got ${kindOf(config)}`,
            `give ${field} as an object, e.g. { "debug": true }`,
        );
    }
    for (const key of Object.keys(config)) {
        const path = `${field}.${key}`;
        const type = Object.prototype.hasOwnProperty.call(DAEMON_CONFIG_SCHEMA, key)
            ? DAEMON_CONFIG_SCHEMA[key]
            : undefined;
        if (type === undefined) throw unknownKeyError(host, path, key);
        const bad = mismatch(type, config[key]);
        if (bad) {
            const [suffix, found] = bad;
            const expected =
                suffix === "" ? TYPE_DESCRIPTIONS[type] : (ENTRY_DESCRIPTIONS[type] ?? TYPE_DESCRIPTIONS[type]);
            throw new HostInputError(
                host,
                `${path}${suffix}`,
                `expected ${expected}, got ${kindOf(found)} (${shown(found)})`,
                `give "${key}" ${TYPE_DESCRIPTIONS[type]}`,
            );
        }
    }
}
