import { HostInputError } from "../plan/errors";
import { JsonObject, JsonValue } from "../plan/daemonConfig";
import { HostFacts, parseProbe, probeScript } from "../host/probe";
import { runScript } from "../ssh/session";
import { SshTarget, targetLabel } from "../ssh/target";

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

/** The preflight, in one round trip: the host's facts and its daemon.json. */
export async function preflight(connection: SshTarget, what = "preflight"): Promise<{ facts: HostFacts; current: JsonObject }> {
    const facts = parseProbe(await runScript(connection, probeScript, what));
    return { facts, current: parseDaemonJson(targetLabel(connection), facts.daemonJson) };
}
