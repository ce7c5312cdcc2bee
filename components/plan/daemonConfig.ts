/**
 * The daemon.json we want on a host: our hardened defaults, the user's overrides, and the keys already on the
 * host, merged; and, for destroy, the host's file with our keys taken back out.
 *
 * Merging rule, used throughout: a key we manage replaces the host's value, except that when both values are
 * objects (`log-opts`, `runtimes`, `default-ulimits`, `features`, ...) only our entries are set and the host's
 * other entries stay. Keys we do not manage are never touched.
 *
 * This module also re-exports the JSON helpers, the schema check and the reload rules, so callers can keep
 * importing them from here.
 */
import { daemonConfigChangeEffect } from "./daemonReload";
import { HostInputError } from "./errors";
import {
    JsonObject,
    JsonValue,
    canonicalJson,
    copyJsonObject,
    hasOwnKey,
    isJsonObject,
    jsonEquals,
    setOwnKey,
} from "./json";

export type { JsonObject, JsonValue } from "./json";
export { canonicalJson, compactJson, jsonEquals } from "./json";
export { sha256Hex } from "./sha256";
export { DAEMON_CONFIG_SCHEMA, validateDaemonConfig } from "./daemonConfigSchema";
export type { DaemonValueType } from "./daemonConfigSchema";
export { SIGHUP_RELOADABLE_KEYS, daemonConfigChangeEffect, restartNeeded } from "./daemonReload";
export type { DaemonConfigChangeEffect, DockerConfigAction } from "./daemonReload";

/** Input of {@link hardenedDefaults}. */
export interface HardenedDefaultsOptions {
    /** The user Docker remaps container root to (`userns-remap`). */
    remapUser: string;
    /** An authorization plugin to list in `authorization-plugins`; none = the key is left out. */
    authorizationPlugin?: string;
}

/**
 * The daemon.json keys that harden a host: user-namespace remapping, no-new-privileges, no inter-container
 * traffic on the default bridge, live-restore, no userland proxy, and bounded json-file logs.
 */
export function hardenedDefaults(options: HardenedDefaultsOptions): JsonObject {
    const defaults: JsonObject = {
        "userns-remap": options.remapUser,
        "no-new-privileges": true,
        icc: false,
        "live-restore": true,
        "userland-proxy": false,
        "log-driver": "json-file",
        "log-opts": { "max-size": "10m", "max-file": "3" },
    };
    if (options.authorizationPlugin !== undefined) defaults["authorization-plugins"] = [options.authorizationPlugin];
    return defaults;
}

function withoutNullEntries(object: JsonObject): JsonObject {
    const out: JsonObject = {};
    for (const key of Object.keys(object)) if (object[key] !== null) setOwnKey(out, key, object[key]);
    return out;
}

/**
 * The daemon.json keys we manage, with their values: `defaults` with `overrides` on top. An override wins; an
 * override of `null` leaves that default unmanaged (the host keeps whatever it has). When a default and its
 * override are both objects they merge entry by entry, and a `null` entry drops that default entry, so
 * `{ "log-opts": { "max-size": "50m" } }` keeps the default `max-file`. An object left empty is not managed.
 */
export function managedDaemonSettings(defaults: JsonObject, overrides: JsonObject): JsonObject {
    const managed: JsonObject = {};
    for (const key of [...new Set([...Object.keys(defaults), ...Object.keys(overrides)])]) {
        const base = hasOwnKey(defaults, key) ? defaults[key] : undefined;
        const override = hasOwnKey(overrides, key) ? overrides[key] : undefined;
        let value: JsonValue | undefined = override === undefined ? base : override;
        if (isJsonObject(override))
            value = withoutNullEntries(
                isJsonObject(base) ? { ...copyJsonObject(base), ...copyJsonObject(override) } : override,
            );
        if (value === null || value === undefined || (isJsonObject(value) && Object.keys(value).length === 0)) continue;
        setOwnKey(managed, key, value);
    }
    return managed;
}

/** `current` with the managed keys set (object values merged entry by entry). */
function applyManaged(current: JsonObject, managed: JsonObject): JsonObject {
    const out = copyJsonObject(current);
    for (const key of Object.keys(managed)) {
        const ours = managed[key];
        const theirs = hasOwnKey(current, key) ? current[key] : undefined;
        setOwnKey(
            out,
            key,
            isJsonObject(ours) && isJsonObject(theirs) ? { ...copyJsonObject(theirs), ...copyJsonObject(ours) } : ours,
        );
    }
    return out;
}

/**
 * The daemon.json to write: the host's file (`current`), with the keys we no longer manage given back
 * (`restore`: their previous value, `null` = remove the key) and the keys we manage set ({@link
 * managedDaemonSettings}); for object values only our entries are set, the host's other entries stay.
 */
export function desiredDaemonConfig(
    current: JsonObject,
    managed: JsonObject,
    restore: Record<string, JsonValue> = {},
): JsonObject {
    const base = copyJsonObject(current);
    for (const key of Object.keys(restore)) {
        if (restore[key] === null) delete base[key];
        else setOwnKey(base, key, restore[key]);
    }
    return applyManaged(base, managed);
}

/**
 * What the host holds for the keys we manage, in the shape we set them: for an object key only our entries
 * (those still there), for any other key its value or `null` when it is gone. Drift shows as a difference
 * between this and `managed`.
 */
export function ownedDaemonSettings(current: JsonObject, managed: JsonObject): JsonObject {
    const view: JsonObject = {};
    for (const key of Object.keys(managed)) {
        const ours = managed[key];
        const theirs = hasOwnKey(current, key) ? current[key] : null;
        if (isJsonObject(ours) && isJsonObject(theirs)) {
            const entries: JsonObject = {};
            for (const entry of Object.keys(ours))
                if (hasOwnKey(theirs, entry)) setOwnKey(entries, entry, theirs[entry]);
            setOwnKey(view, key, entries);
        } else {
            setOwnKey(view, key, theirs);
        }
    }
    return view;
}

/** Input of {@link planDaemonConfigRemoval}. */
export interface DaemonConfigRemovalInput {
    /** The host's daemon.json now. */
    current: JsonObject;
    /** The keys we manage with the values we set (`DaemonConfigMerge.managed`). */
    applied: JsonObject;
    /** Each managed key's value before we first set it; `null` or absent = the key was not there. */
    previous: Record<string, JsonValue | undefined>;
}

/** The host's daemon.json after destroy, and what happened to each key we managed. */
export interface DaemonConfigRemoval {
    /** The daemon.json to write. */
    config: JsonObject;
    /** Keys given back their previous value (for object keys: our entries restored or removed), sorted. */
    restored: string[];
    /** Keys removed because they were not there before us, sorted. */
    removed: string[];
    /**
     * Keys left as they are because the host no longer holds what we set (changed or removed by hand since):
     * that edit is newer than ours, so it wins. Sorted.
     */
    changedByHand: string[];
}

/**
 * Plans destroy: each key we set goes back to its previous value, or away if it was not there before us. For
 * object keys this is done entry by entry, so entries the host had besides ours stay. A key whose value on the
 * host is no longer what we set is left alone and reported in `changedByHand`. Keys we never managed are
 * untouched.
 */
export function planDaemonConfigRemoval(input: DaemonConfigRemovalInput): DaemonConfigRemoval {
    const { current, applied } = input;
    const config = copyJsonObject(current);
    const result: DaemonConfigRemoval = { config, restored: [], removed: [], changedByHand: [] };
    for (const key of Object.keys(applied).sort()) {
        const ours = applied[key];
        const theirs = hasOwnKey(current, key) ? current[key] : undefined;
        const before = Object.prototype.hasOwnProperty.call(input.previous, key) ? (input.previous[key] ?? null) : null;
        if (isJsonObject(ours)) {
            const stillOurs =
                isJsonObject(theirs) &&
                Object.keys(ours).every((entry) => hasOwnKey(theirs, entry) && jsonEquals(theirs[entry], ours[entry]));
            if (!stillOurs) {
                result.changedByHand.push(key);
                continue;
            }
            if (before !== null && !isJsonObject(before)) {
                // We replaced a non-object value: it comes back whole.
                setOwnKey(config, key, before);
                result.restored.push(key);
                continue;
            }
            const next = copyJsonObject(theirs);
            for (const entry of Object.keys(ours)) {
                if (isJsonObject(before) && hasOwnKey(before, entry)) setOwnKey(next, entry, before[entry]);
                else delete next[entry];
            }
            if (Object.keys(next).length === 0 && before === null) {
                delete config[key];
                result.removed.push(key);
            } else {
                setOwnKey(config, key, next);
                result.restored.push(key);
            }
            continue;
        }
        if (!jsonEquals(theirs, ours)) {
            result.changedByHand.push(key);
            continue;
        }
        if (before === null) {
            delete config[key];
            result.removed.push(key);
        } else {
            setOwnKey(config, key, before);
            result.restored.push(key);
        }
    }
    return result;
}

/** What {@link checkDataRootMove} needs to know of the host (from its preflight). */
export interface DataRootFacts {
    /** dockerd answers, but its authorization plugin refuses our requests. */
    apiRefused: boolean;
    /** Containers (all states) and images in the current data root. */
    containers: number;
    images: number;
}

/**
 * Refuses a daemon.json change that moves Docker's data root (userns-remap or data-root) when it would leave
 * Docker unable to start (a plugin enforces from the old root), or hide containers and images without
 * `allowDataRootMove` (also when they cannot be counted).
 */
export function checkDataRootMove(
    host: string,
    facts: DataRootFacts,
    current: JsonObject,
    desired: JsonObject,
    allowed: boolean,
): void {
    const moves = ["userns-remap", "data-root"].some((k) => (current[k] ?? null) !== (desired[k] ?? null));
    if (!moves) return;
    // Under enforcement the plugin lives in the data root: moving it would leave dockerd with a listed plugin
    // it cannot find, and dockerd refuses to start that way.
    if (Array.isArray(current["authorization-plugins"]) && current["authorization-plugins"].length > 0) {
        throw new HostInputError(
            host,
            "userns",
            "changing userns-remap or data-root while an authorization plugin is enforced " +
                "would leave Docker unable to start",
            "remove this host's hardening first (pulumi destroy --target the host's resources), " +
                "then apply the new remap settings",
        );
    }
    if (!allowed && facts.apiRefused) {
        throw new HostInputError(
            host,
            "userns",
            "Docker refuses our requests, so the containers and images a remap would hide cannot be counted",
            "repair the authorization plugin or its policy first, or set allowDataRootMove: true",
        );
    }
    if (!allowed && facts.containers + facts.images > 0) {
        throw new HostInputError(
            host,
            "userns",
            `changing userns-remap would hide ${facts.containers} container(s) and ${facts.images} image(s): ` +
                "Docker moves its data root to <root>/<uid>.<gid>",
            "remove them first, or set allowDataRootMove: true " +
                "to accept that they disappear from view (they stay on disk)",
        );
    }
}

/** The host's daemon.json as an object ({} when there is none); refuses a file that is not a JSON object. */
export function parseDaemonJson(host: string, text: string | undefined): JsonObject {
    if (text === undefined || text.trim() === "") return {};
    try {
        const v = JSON.parse(text) as JsonValue;
        if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch {
        // fall through
    }
    throw new HostInputError(
        host,
        "/etc/docker/daemon.json",
        "the existing file is not a JSON object, so it cannot be merged",
        "repair or remove the file on the host, then run again",
    );
}

/** What a DaemonConfig step recorded on the host before a run that failed half way (`daemon-json.json`). */
export interface DaemonJsonRecord {
    previous?: Record<string, JsonValue>;
    original?: string | null;
}

/** What {@link planDaemonConfigApply} works from. */
export interface DaemonConfigApplyInput {
    /** daemon.json on the host now (parsed), and its text (undefined: no file). */
    current: JsonObject;
    currentText?: string;
    /** The keys to own now, with their values. */
    settings: JsonObject;
    /** The step's last state (undefined on a first run). */
    last?: { settings: JsonObject; previous: Record<string, JsonValue>; original: string | null };
    /** Our record on the host, read on a first run: a run that failed after changing the host left it. */
    record?: DaemonJsonRecord;
}

/** What applying daemon.json settings writes, and what it must remember to give the host back. */
export interface DaemonConfigApplyPlan {
    /** daemon.json to write. */
    desired: JsonObject;
    /** The values our keys had before we first set them (null: absent), restored on destroy. */
    previous: Record<string, JsonValue>;
    /** The host's file before we first changed it (null: none), restored verbatim on destroy when it still fits. */
    original: string | null;
}

/**
 * The daemon.json a step writes: its keys set, keys it owned before and owns no more put back to what they were
 * before it (entry by entry for objects), every other key kept. What was there before us comes from the last
 * state, or, on a first run after a failed one, from our record on the host (the file no longer shows it).
 */
export function planDaemonConfigApply(input: DaemonConfigApplyInput): DaemonConfigApplyPlan {
    const { current, settings, last, record } = input;
    const previous: Record<string, JsonValue> = { ...(last?.previous ?? record?.previous ?? {}) };
    const restore: Record<string, JsonValue> = {};
    for (const k of Object.keys(last?.settings ?? {})) {
        if (!(k in settings)) {
            restore[k] = previous[k] ?? null;
            delete previous[k];
        }
    }
    for (const k of Object.keys(settings)) if (!(k in previous)) previous[k] = current[k] ?? null;
    const original = last
        ? last.original
        : record?.original !== undefined
          ? record.original
          : (input.currentText ?? null);
    return { desired: desiredDaemonConfig(current, settings, restore), previous, original };
}

/**
 * The daemon.json text giving a host back: the operator's own file byte for byte (or no file: null) when our
 * keys restored make exactly it again, else the restored settings.
 */
export function daemonJsonToRestore(host: string, original: string | null, restored: JsonObject): string | null {
    if (original === null) return Object.keys(restored).length === 0 ? null : canonicalJson(restored);
    return canonicalJson(parseDaemonJson(host, original)) === canonicalJson(restored)
        ? original
        : canonicalJson(restored);
}

/** How `pulumi preview --diff` words what a daemon.json change does to Docker (undefined: nothing). */
export function dockerActionWording(current: JsonObject, desired: JsonObject): string | undefined {
    const { action } = daemonConfigChangeEffect(current, desired);
    return action === "none" ? undefined : action === "restart" ? "restart dockerd" : "reload dockerd (SIGHUP)";
}

/** Refuses daemonConfig keys a user may not set: `authorization-plugins` is the Authorization step's alone. */
export function checkOwnedKeys(host: string, settings: JsonObject): void {
    if ("authorization-plugins" in settings) {
        throw new HostInputError(
            host,
            "daemonConfig.authorization-plugins",
            "this key is managed by the component (it enables the plugin last, after the policy)",
            "remove it from daemonConfig; set plugin.alias instead",
        );
    }
}
