import { JsonObject, parseDaemonJson } from "../plan/daemonConfig";
import { HostFacts, parseProbe, probeScript } from "../host/probe";
import { SshError, runScript } from "../ssh/session";
import { warnOnce } from "./engineLog";
import { SshTarget, targetKey, targetLabel } from "../ssh/target";
import { shq } from "../host/shell";

/** What the preflight gives every step: the host's facts and its daemon.json. */
export interface Preflight {
    facts: HostFacts;
    current: JsonObject;
}

// Checks and reads of one run share one preflight per host (the steps of a host all read the same state), so a
// no-op run costs one round trip per host and phase. A change reads the host again in its own round trip, so the
// next step of the host needs none: the engine runs checks one at a time, so a check that waits on a host holds
// back every other host.
interface Cached {
    preflight: Promise<Preflight>;
    /** Read at the end of a change made by this process: as fresh as a step about to change the host needs. */
    afterChange: boolean;
}
const cache = new Map<string, Cached>();

function parsed(connection: SshTarget, out: string): Preflight {
    let facts: HostFacts;
    try {
        facts = parseProbe(out);
    } catch (e) {
        throw new Error(
            `host ${targetLabel(connection)}: preflight: ${(e as Error).message}. ` +
                "Fix: check that /tmp has room and that tar and base64 work there, then run again",
        );
    }
    return { facts, current: parseDaemonJson(targetLabel(connection), facts.daemonJson) };
}

/**
 * The preflight, in one round trip. `fresh` (for steps about to change the host) reads the host unless this
 * process changed it last (the change read it back); otherwise the run's cached preflight is used.
 */
export function preflight(connection: SshTarget, opts: { fresh?: boolean; what?: string } = {}): Promise<Preflight> {
    const key = targetKey(connection);
    const hit = cache.get(key);
    if (hit && (!opts.fresh || hit.afterChange)) return hit.preflight;
    const p = runScript(connection, probeScript, opts.what ?? "preflight").then((out) => parsed(connection, out));
    p.catch(() => cache.delete(key));
    cache.set(key, { preflight: p, afterChange: false });
    return p;
}

/** A policy folder as the run's preflight read it; undefined when it did not (or the preflight failed). */
export async function folderFromPreflight(
    connection: SshTarget,
    dir: string,
): Promise<Record<string, string> | undefined> {
    return preflight(connection).then(
        (p) => p.facts.folders[dir],
        () => undefined,
    );
}

/** Printed between a change's own output and the preflight that follows it, and after the preflight. */
const PREFLIGHT_MARK = "--- hdh preflight after the change ---";
const PREFLIGHT_END = "--- hdh preflight end ---";

/**
 * A change script followed by the preflight, in one script. The change runs in a subshell of its own (its `exit`
 * ends only it), as a plain command: in `( ... ) || exit` its `set -e` would be ignored. Once the change
 * succeeded the script does too: a preflight that fails (say /tmp is full) only leaves no reading behind.
 */
export function withPreflightAfter(script: string): string {
    return (
        `(\n${script}\n)\nhdh_change_status=$?\n[ "$hdh_change_status" = 0 ] || exit "$hdh_change_status"\n` +
        `echo\necho ${shq(PREFLIGHT_MARK)}\n(\n${probeScript}\n) && echo ${shq(PREFLIGHT_END)}\nexit 0\n`
    );
}

/** The change's own output, and the preflight's when it ran to its end. */
export function splitPreflightAfter(out: string): { own: string; probe?: string } {
    const i = out.lastIndexOf(`\n${PREFLIGHT_MARK}\n`);
    if (i < 0) return { own: out };
    const rest = out.slice(i + PREFLIGHT_MARK.length + 2);
    const complete = rest.endsWith(`${PREFLIGHT_END}\n`);
    return { own: out.slice(0, i), probe: complete ? rest.slice(0, -PREFLIGHT_END.length - 1) : undefined };
}

/**
 * Runs a script that changes the host, then reads the host again in the same round trip: the run's preflight
 * of this host is the state after the change (or forgotten, when the change failed). Returns the change's output.
 */
export async function change(connection: SshTarget, script: string, what: string): Promise<string> {
    const key = targetKey(connection);
    cache.delete(key);
    const { own, probe } = splitPreflightAfter(await runScript(connection, withPreflightAfter(script), what));
    try {
        if (probe !== undefined) {
            cache.set(key, { preflight: Promise.resolve(parsed(connection, probe)), afterChange: true });
        }
    } catch {
        // a daemon.json that is not an object: the next step reads the host itself and says so
    }
    return own;
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
