import { HostInputError } from "../plan/errors";
import { JsonObject, JsonValue } from "../plan/daemonConfig";
import { HostFacts, parseProbe, probeScript } from "../host/probe";
import { SshError, runScript } from "../ssh/session";
import { warnOnce } from "./engineLog";
import { SshTarget, targetKey, targetLabel } from "../ssh/target";

/** The host's daemon.json as an object ({} when there is none); refuses a file that is not a JSON object. */
export function parseDaemonJson(host: string, text: string | undefined): JsonObject {
    if (text === undefined || text.trim() === "") return {};
    try {
        const v = JSON.parse(text) as JsonValue;
        if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch {
        // fall through
    }
    throw new HostInputError(host, "/etc/docker/daemon.json", "the existing file is not a JSON object, so it cannot be merged",
        "repair or remove the file on the host, then run again");
}

/** What the preflight gives every step: the host's facts and its daemon.json. */
export interface Preflight {
    facts: HostFacts;
    current: JsonObject;
}

// Checks and reads of one run share one preflight per host (the steps of a host all read the same state), so a
// no-op run costs one round trip per host and phase; any change on the host drops it.
const cache = new Map<string, Promise<Preflight>>();

/**
 * The preflight, in one round trip. `fresh` (for steps about to change the host) always reads the host;
 * otherwise the run's cached preflight is used.
 */
export function preflight(connection: SshTarget, opts: { fresh?: boolean; what?: string } = {}): Promise<Preflight> {
    const key = targetKey(connection);
    const hit = cache.get(key);
    if (hit && !opts.fresh) return hit;
    const p = runScript(connection, probeScript, opts.what ?? "preflight").then((out) => {
        const facts = parseProbe(out);
        return { facts, current: parseDaemonJson(targetLabel(connection), facts.daemonJson) };
    });
    p.catch(() => cache.delete(key));
    cache.set(key, p);
    return p;
}

/** Runs a script that changes the host, and forgets the preflight (it no longer describes the host). */
export async function change(connection: SshTarget, script: string, what: string): Promise<string> {
    cache.delete(targetKey(connection));
    try {
        return await runScript(connection, script, what);
    } finally {
        cache.delete(targetKey(connection));
    }
}

// Hosts that could not be reached (or used) in this run, by label: a rollout gate counts them apart from
// failed hosts, and every step of such a host is skipped instead of stopping the whole run.
const unreachable = new Map<string, string>();

/** Why the host was unreachable in this run, if it was. */
export function unreachableCause(label: string): string | undefined {
    return unreachable.get(label);
}

/**
 * Whether an error means the host cannot be reached or used at all (refused, timeout, wrong host key,
 * authentication or sudo refused), as opposed to a failure of a step on a reachable host. Such a host is
 * recorded and a warning naming it and the cause is shown once.
 */
export function noteUnreachable(connection: SshTarget, err: unknown): string | undefined {
    if (!(err instanceof SshError) && (err as Error | undefined)?.name !== "SshError") return undefined;
    const cause = (err as Error).message;
    unreachable.set(targetLabel(connection), cause);
    void warnOnce(`${cause} (this host is skipped; the others go on)`);
    return cause;
}
