import { hostScript } from "./scripts";
import { shq } from "./shell";

const DOCKER_SH = hostScript("docker.sh");

/** Where we keep our record and backups on each host. */
export const RECORD_DIR = "/var/lib/hardened-docker-host";
export const DAEMON_JSON = "/etc/docker/daemon.json";

/**
 * Shell functions every step script starts with (`sh/docker.sh`): restart and reload Docker through the host's own
 * init system (or the user's command), wait until it answers, and install a daemon.json atomically with a backup.
 * Values reach them as the variables set here, never spliced into their code.
 */
export function dockerFunctions(restartCommand?: string): string {
    return [
        "set -e",
        `HDH_REC=${shq(RECORD_DIR)}`,
        `HDH_DAEMON_JSON=${shq(DAEMON_JSON)}`,
        `HDH_RESTART_COMMAND=${shq(restartCommand ?? "")}`,
        'mkdir -p "$HDH_REC/backups"',
        DOCKER_SH,
    ].join("\n");
}

/** Base64 of a text, for embedding in a script. */
export function b64(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
}

/** A script line that records what a step applied (one JSON file per step). */
export function recordScript(step: string, record: object): string {
    const file = shq(`${RECORD_DIR}/${step}.json`);
    const tmp = shq(`${RECORD_DIR}/${step}.json.tmp`);
    const data = shq(b64(JSON.stringify(record, null, 2) + "\n"));
    return `mkdir -p ${shq(RECORD_DIR)} && printf '%s' ${data} | base64 -d > ${tmp} && mv -f ${tmp} ${file}`;
}

/** A script line that removes files (our records, notes), each path quoted. */
export function removeFilesScript(...paths: string[]): string {
    return `rm -f ${paths.map(shq).join(" ")}`;
}

/**
 * Where the policy step writes a new policy: not the folder the plugin reads. The Authorization step checks it
 * there, then copies it into the live folder (policy.hostDirectory).
 */
export const STAGED_POLICY_DIR = `${RECORD_DIR}/policy-staged`;
