/**
 * Which machine a step's state describes. A step records what it found and changed on one machine ("previous"
 * daemon.json values, the subuid lines it added or replaced): when the connection is changed to reach another
 * machine, that record must be given back to the old machine and the new one hardened from scratch — a replace,
 * never an update. The identity is the host's /etc/machine-id plus the SHA-256 fingerprint of its pinned host key:
 * cloned images may share a machine-id, so the host key tells them apart.
 */
import { createHash } from "node:crypto";

/** A machine, as far as we can tell it apart from others. */
export interface MachineIdentity {
    /** /etc/machine-id ("" when the host has none or it was not read). */
    machineId: string;
    /** `SHA256:<base64>` of the pinned host key ("" when none is pinned). */
    hostKey: string;
}

/** The value Pulumi gives a dynamic provider for an input that is not known yet (at preview). */
export const UNKNOWN_INPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The fingerprint of a pinned host key (`ssh-ed25519 AAAA...` or `SHA256:...`), as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(hostKey: unknown): string {
    if (typeof hostKey !== "string" || hostKey.trim() === "") return "";
    const key = hostKey.trim();
    if (key.startsWith("SHA256:")) return key.replace(/=+$/, "");
    const blob = key.split(/\s+/).find((part) => part.startsWith("AAAA"));
    if (!blob) return "";
    return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** The identity of a machine from its machine-id and the host key pinned for it. */
export function machineIdentity(machineId: string, hostKey: unknown): MachineIdentity {
    return { machineId: machineId.trim(), hostKey: hostKeyFingerprint(hostKey) };
}

/** The parts of a connection that say where it leads (address, port, pinned key, and the same for jump hosts). */
interface TargetLike {
    host?: unknown;
    port?: unknown;
    hostKey?: unknown;
    proxy?: unknown;
    jumpHost?: unknown;
}

function hop(t: unknown): TargetLike | undefined {
    return t && typeof t === "object" ? (t as TargetLike) : undefined;
}

function route(t: TargetLike | undefined): string[] {
    const out: string[] = [];
    for (let h = t; h; h = hop(h.proxy ?? h.jumpHost)) {
        out.push(`${String(h.host)}:${String(h.port ?? 22)} ${hostKeyFingerprint(h.hostKey)}`);
    }
    return out;
}

function hasUnknown(v: unknown): boolean {
    if (v === UNKNOWN_INPUT) return true;
    const t = hop(v);
    if (t === undefined) return false;
    return [t.host, t.port, t.hostKey].includes(UNKNOWN_INPUT) || hasUnknown(t.proxy ?? t.jumpHost);
}

/**
 * What a connection change means:
 * - `same-target`: the same address, port, pinned key and jump hosts — nothing to decide;
 * - `unknown`: the new connection is not known yet (preview with values from other resources);
 * - `other-machine`: a different pinned host key, or a different machine-id — replace (old machine restored first);
 * - `same-machine`: the same machine reached another way (new address or jump host) — an update;
 * - `need-identity`: the new machine's identity must be read (`current`) to tell.
 */
export type MachineChange = "same-target" | "unknown" | "other-machine" | "same-machine" | "need-identity";

/** Decides whether a step whose connection changed now points at another machine (see {@link MachineChange}). */
export function planMachineChange(
    old: { connection: unknown; recorded?: MachineIdentity },
    next: { connection: unknown; current?: MachineIdentity },
): MachineChange {
    if (hasUnknown(next.connection)) return "unknown";
    const a = hop(old.connection);
    const b = hop(next.connection);
    if (!a || !b) return "same-target";
    if (route(a).join(" > ") === route(b).join(" > ")) return "same-target";
    const before = old.recorded?.hostKey || hostKeyFingerprint(a.hostKey);
    const after = hostKeyFingerprint(b.hostKey);
    if (before && after && before !== after) return "other-machine";
    if (!next.current) return "need-identity";
    const recordedId = old.recorded?.machineId ?? "";
    if (recordedId && next.current.machineId && recordedId !== next.current.machineId) return "other-machine";
    return "same-machine";
}
