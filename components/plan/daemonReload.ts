/**
 * Whether a daemon.json change needs a dockerd restart or a SIGHUP reload is enough, per dockerd 20.10.
 *
 * Source: moby 20.10 `daemon/reload.go` and `daemon/reload_unix.go` (what `Daemon.Reload` applies) and
 * `cmd/dockerd/daemon.go` (`reloadConfig`: authorization plugins and debug), matching the "Configuration
 * reload behavior" list of the dockerd reference. Two details matter beyond that list:
 * - Most reloaders only act when the key is set (`conf.IsValueSet`): removing such a key leaves the running
 *   value in place until a restart. Only the keys marked `reset-when-removed` go back to their default.
 * - `default-runtime` and `default-ipc-mode` are applied only when non-empty: `""` counts as removed.
 * The deprecated `cluster-*` keys are reloadable in 20.10 but with flag-dependent rules; they are treated as
 * needing a restart. Note for callers: on reload, dockerd 20.10 exits (logrus.Fatal) if an
 * `authorization-plugins` entry is not an enabled plugin, so enable the plugin before reloading with it.
 */
import { JsonObject, JsonValue, hasOwnKey, jsonEquals } from "./json";

/** What removing a reloadable key from daemon.json does on SIGHUP. */
export type RemovalOnReload = "reset-when-removed" | "kept-when-removed";

/** The keys dockerd 20.10 applies on SIGHUP, and what a reload does when the key is removed. */
export const SIGHUP_RELOADABLE_KEYS: Readonly<Record<string, RemovalOnReload>> = {
    "allow-nondistributable-artifacts": "kept-when-removed",
    "authorization-plugins": "reset-when-removed",
    debug: "kept-when-removed",
    "default-ipc-mode": "kept-when-removed",
    "default-runtime": "kept-when-removed",
    "default-shm-size": "kept-when-removed",
    features: "reset-when-removed",
    "insecure-registries": "kept-when-removed",
    labels: "kept-when-removed",
    "live-restore": "kept-when-removed",
    "max-concurrent-downloads": "reset-when-removed",
    "max-concurrent-uploads": "reset-when-removed",
    "max-download-attempts": "reset-when-removed",
    "network-diagnostic-port": "reset-when-removed",
    "registry-mirrors": "kept-when-removed",
    runtimes: "kept-when-removed",
    "shutdown-timeout": "kept-when-removed",
};

/** Keys whose empty string dockerd treats as unset on reload. */
const EMPTY_MEANS_UNSET: ReadonlySet<string> = new Set(["default-runtime", "default-ipc-mode"]);

/** What a daemon.json change does to Docker: nothing, a SIGHUP reload, or a restart. */
export type DockerConfigAction = "none" | "reload" | "restart";

/** The effect of going from one daemon.json to another. */
export interface DaemonConfigChangeEffect {
    /** What Docker needs so that the running daemon matches the new file. */
    action: DockerConfigAction;
    /** Keys added, removed or changed, sorted. */
    changedKeys: string[];
    /** The changed keys that a reload would not apply, sorted (empty unless `action` is `restart`). */
    restartKeys: string[];
}

function isUnset(key: string, value: JsonValue | undefined): boolean {
    return value === undefined || value === null || (EMPTY_MEANS_UNSET.has(key) && value === "");
}

/** Whether a SIGHUP applies this one key's change. */
function reloadApplies(key: string, after: JsonValue | undefined): boolean {
    if (!Object.prototype.hasOwnProperty.call(SIGHUP_RELOADABLE_KEYS, key)) return false;
    return !isUnset(key, after) || SIGHUP_RELOADABLE_KEYS[key] === "reset-when-removed";
}

/** Which keys change between two daemon.json objects, and whether Docker must restart or a reload is enough. */
export function daemonConfigChangeEffect(before: JsonObject, after: JsonObject): DaemonConfigChangeEffect {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const valueIn = (config: JsonObject, key: string): JsonValue | undefined =>
        hasOwnKey(config, key) ? config[key] : undefined;
    const changedKeys = keys.filter((key) => !jsonEquals(valueIn(before, key), valueIn(after, key)));
    const restartKeys = changedKeys.filter((key) => !reloadApplies(key, valueIn(after, key)));
    const action: DockerConfigAction =
        changedKeys.length === 0 ? "none" : restartKeys.length > 0 ? "restart" : "reload";
    return { action, changedKeys, restartKeys };
}

/**
 * True unless every key that changes between `before` and `after` is applied by a SIGHUP reload (false when nothing
 * changes).
 */
export function restartNeeded(before: JsonObject, after: JsonObject): boolean {
    return daemonConfigChangeEffect(before, after).action === "restart";
}
