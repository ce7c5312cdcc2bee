/**
 * The preflight: everything the steps need to know about a host, read in one round trip.
 */
import { JsonObject, JsonValue, isJsonObject } from "../plan/json";
import { RECORD_DIR, STAGED_POLICY_DIR } from "./dockerd";
import { parseReadFiles } from "./files";

/** A plugin as `docker plugin ls` shows it. */
export interface InstalledPlugin {
    /** Name with tag, e.g. `hdh-authz:latest`. */
    name: string;
    enabled: boolean;
    reference: string;
}

/** The Docker unix socket's permissions, as `stat -c '%a %U %G'` prints them. */
export interface DockerSocketFacts {
    /** Octal permission bits without a leading zero, e.g. `660`. */
    mode: string;
    /** Owner user name. */
    owner: string;
    /** Owner group name. */
    group: string;
}

/** What the preflight found on a host. */
export interface HostFacts {
    /** `ID VERSION_ID` from /etc/os-release. */
    os: string;
    /** How Docker is restarted here. */
    initSystem: "systemd" | "sysv" | "none";
    /** Docker server version; empty when dockerd does not answer. */
    dockerVersion: string;
    /** dockerd answers, but its authorization plugin refuses our requests (e.g. the policy was removed). */
    apiRefused: boolean;
    /** Docker's data root as the daemon reports it (with the `<uid>.<gid>` suffix under userns-remap). */
    dataRoot: string;
    /** Containers (all states) and images in the current data root. */
    containers: number;
    images: number;
    /** Whether the daemon runs with user-namespace remapping now. */
    usernsActive: boolean;
    /** Installed plugins (empty when the API refuses us). */
    plugins: InstalledPlugin[];
    /** /etc/docker/daemon.json text, or undefined when there is none. */
    daemonJson?: string;
    subuid: string;
    subgid: string;
    loginDefs: string;
    /** User names in /etc/passwd. */
    users: string[];
    /** Our record of the last daemon.json change on this host (JSON text), if any. */
    daemonJsonRecord?: string;
    /** Docker's answer to a request every policy refuses (`authorization denied by plugin X: ...` when enforced). */
    authzAnswer: string;
    /** `docker info` as JSON (effective daemon settings); undefined when dockerd does not answer it. */
    dockerInfo?: JsonObject;
    /** /var/run/docker.sock's mode and ownership; undefined when there is no such socket. */
    socket?: DockerSocketFacts;
    /** /etc/machine-id ("" when missing): with the pinned host key, which machine this is. */
    machineId: string;
    /** Names of the running containers (empty when the API refuses us). */
    runningContainers: string[];
    /** Our records in /var/lib/hardened-docker-host (`*.json`, `plugin-settings.*`), by file name. */
    records: Record<string, string>;
    /**
     * Our policy folders, file name to content: the staged folder, and the live folder the Authorization step
     * noted in /var/lib/hardened-docker-host/policy-live. A folder that does not exist reads as empty.
     */
    folders: Record<string, Record<string, string>>;
}

/** Where the Authorization step notes the live policy folder (one line), for the preflight to read it. */
export const LIVE_FOLDER_NOTE = `${RECORD_DIR}/policy-live`;

/**
 * Prints our policy folders for the preflight: `@ <base64 path>` then `<name> <base64 content>` per file.
 * The staged folder always; the live folder when the note names one.
 */
export function foldersScript(staged = STAGED_POLICY_DIR, note = LIVE_FOLDER_NOTE): string {
    return `hdh_folder() {
  printf '@ %s\\n' "$(printf %s "$1" | base64 -w0)"
  for f in "$1"/*; do [ -f "$f" ] && printf '%s %s\\n' "\${f##*/}" "$(base64 -w0 < "$f")"; done; true
}
hdh_folder '${staged}'
if [ -f '${note}' ]; then hdh_folder "$(cat '${note}')"; fi`;
}

/** Parses what {@link foldersScript} printed. */
export function parseFolders(text: string): Record<string, Record<string, string>> {
    // Each folder: its `@ <base64 path>` line, then its files as readFilesScript prints them.
    const sections = text.split(/^@ /m).slice(1);
    return Object.fromEntries(sections.map((s) => {
        const end = s.indexOf("\n");
        const [path, files] = end < 0 ? [s, ""] : [s.slice(0, end), s.slice(end + 1)];
        return [Buffer.from(path.trim(), "base64").toString("utf8"), parseReadFiles(files)];
    }));
}

/**
 * The preflight script: prints `key=value` lines, file contents in base64. Its Docker calls run at once (each
 * `docker` start costs more than the call itself, and a fleet probes every host in the same second); one
 * `docker info` gives the summary line and the JSON.
 */
export const probeScript = `
b64() { if [ -f "$1" ]; then base64 -w0 < "$1"; else printf absent; fi; }
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
{ docker version -f '{{.Server.Version}}' >"$t/version" 2>&1; echo $? >"$t/version.rc"; } &
{ docker info --format \\
    '{{.DockerRootDir}}|{{.Containers}}|{{.Images}}|{{join .SecurityOptions ","}}{{"\\n"}}{{json .}}' \\
    >"$t/info" 2>/dev/null; echo $? >"$t/info.rc"; } &
docker plugin ls --no-trunc --format '{{.Name}}|{{.Enabled}}|{{.PluginReference}}' >"$t/plugins" 2>/dev/null &
# Every policy refuses plugin changes, and this one changes nothing: who refuses it tells which plugin enforces.
docker plugin disable hdh-authorization-probe >"$t/authz" 2>&1 &
docker ps --format '{{.Names}}' >"$t/running" 2>/dev/null &
echo "os=$( . /etc/os-release 2>/dev/null; echo "$ID $VERSION_ID")"
if [ -d /run/systemd/system ]; then echo init=systemd; elif [ -x /etc/init.d/docker ]; then echo init=sysv; else echo init=none; fi
echo "daemonJson=$(b64 /etc/docker/daemon.json)"
echo "subuid=$(b64 /etc/subuid)"
echo "subgid=$(b64 /etc/subgid)"
echo "loginDefs=$(b64 /etc/login.defs)"
echo "users=$(cut -d: -f1 /etc/passwd | paste -sd, -)"
echo "daemonJsonRecord=$(b64 /var/lib/hardened-docker-host/daemon-json.json)"
echo "socket=$(stat -c '%a %U %G' /var/run/docker.sock 2>/dev/null || printf absent)"
echo "machineId=$(head -c 64 /etc/machine-id 2>/dev/null | tr -cd '0-9a-zA-Z')"
echo "folders=$( { ${foldersScript()}; } | base64 -w0)"
echo "records=$(for f in /var/lib/hardened-docker-host/*.json /var/lib/hardened-docker-host/plugin-settings.*; do
  [ -f "$f" ] && printf '%s %s\\n' "\${f##*/}" "$(base64 -w0 < "$f")"; done | base64 -w0)"
wait
if [ "$(cat "$t/version.rc")" = 0 ]; then echo "dockerVersion=$(cat "$t/version")"
elif grep -q "authorization denied" "$t/version"; then echo apiRefused=yes; fi
echo "info=$(sed -n 1p "$t/info")"
# On failure the CLI still prints its JSON (empty server fields), so only a zero exit status counts.
if [ "$(cat "$t/info.rc")" = 0 ]; then echo "dockerInfo=$(sed -n '2,$p' "$t/info" | base64 -w0)"
else echo dockerInfo=absent; fi
echo "plugins=$(base64 -w0 < "$t/plugins")"
echo "authzAnswer=$(head -n 1 "$t/authz" | base64 -w0)"
echo "running=$(paste -sd, - < "$t/running")"
`;

function decode(v: string | undefined): string | undefined {
    return v === undefined || v === "absent" ? undefined : Buffer.from(v, "base64").toString("utf8");
}

/** `docker info` JSON when it is an object from a daemon that answered (no `ServerErrors`), else undefined. */
function parseDockerInfo(text: string | undefined): JsonObject | undefined {
    if (text === undefined) return undefined;
    try {
        const info = JSON.parse(text) as JsonValue;
        if (!isJsonObject(info)) return undefined;
        const serverErrors = info.ServerErrors;
        return Array.isArray(serverErrors) && serverErrors.length > 0 ? undefined : info;
    } catch {
        return undefined;
    }
}

/** `MODE OWNER GROUP` from stat, or undefined when absent or malformed. */
function parseSocket(line: string | undefined): DockerSocketFacts | undefined {
    const [mode, owner, group, ...rest] = (line ?? "").split(/\s+/).filter(Boolean);
    if (group === undefined || rest.length > 0 || !/^[0-7]{3,4}$/.test(mode)) return undefined;
    return { mode, owner, group };
}

/** `<name> <base64>` lines, as the preflight prints our records. */
function parseRecords(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const [name, data] = line.trim().split(" ");
        if (name) out[name] = Buffer.from(data ?? "", "base64").toString("utf8");
    }
    return out;
}

/** Parses the preflight's output. */
export function parseProbe(out: string): HostFacts {
    const kv = new Map<string, string>();
    for (const line of out.split("\n")) {
        const i = line.indexOf("=");
        if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim());
    }
    const list = (v: string | undefined) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const init = kv.get("init");
    const [dataRoot = "", containers = "0", images = "0", securityOptions = ""] = (kv.get("info") ?? "").split("|");
    const plugins = (decode(kv.get("plugins")) ?? "").split("\n").filter(Boolean).map((l) => {
        const [name, enabled, reference = ""] = l.split("|");
        return { name, enabled: enabled === "true", reference };
    });
    return {
        os: kv.get("os") ?? "",
        initSystem: init === "systemd" || init === "sysv" ? init : "none",
        dockerVersion: kv.get("dockerVersion") ?? "",
        apiRefused: kv.get("apiRefused") === "yes",
        dataRoot,
        containers: Number(containers) || 0,
        images: Number(images) || 0,
        usernsActive: list(securityOptions).some((o) => o.includes("name=userns")),
        plugins,
        daemonJson: decode(kv.get("daemonJson")),
        subuid: decode(kv.get("subuid")) ?? "",
        subgid: decode(kv.get("subgid")) ?? "",
        loginDefs: decode(kv.get("loginDefs")) ?? "",
        users: list(kv.get("users")),
        daemonJsonRecord: decode(kv.get("daemonJsonRecord")),
        authzAnswer: decode(kv.get("authzAnswer")) ?? "",
        dockerInfo: parseDockerInfo(decode(kv.get("dockerInfo"))),
        socket: parseSocket(kv.get("socket")),
        machineId: kv.get("machineId") ?? "",
        runningContainers: list(kv.get("running")),
        records: parseRecords(decode(kv.get("records")) ?? ""),
        folders: parseFolders(decode(kv.get("folders")) ?? ""),
    };
}

/** The installed plugin Docker knows by this alias (`alias` or `alias:latest`). */
export function findPlugin(facts: HostFacts, alias: string): InstalledPlugin | undefined {
    return facts.plugins.find((p) => p.name === alias || p.name === `${alias}:latest`);
}
