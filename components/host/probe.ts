/**
 * The preflight: everything the steps need to know about a host, read in one round trip.
 */
import { gunzipSync } from "node:zlib";
import { JsonObject, JsonValue, isJsonObject } from "../plan/json";
import { RECORD_DIR, STAGED_POLICY_DIR } from "./dockerd";
import { hostScript } from "./scripts";
import { shq } from "./shell";
import { tarFiles } from "./tar";

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

/** Where Docker's API answers when the host names no other (`DOCKER_HOST`). */
const DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * `hdh_docker_calls DIR SOCKET` (`sh/docker-calls.sh`): asks Docker what the preflight needs, each answer in
 * DIR/<name> (version, info, plugins, authz, running), and `<name> <status>` lines in DIR/codes: one curl process
 * over the socket, or the Docker CLI without curl or with `DOCKER_HOST` (status `cli:<exit status>`).
 */
export const dockerCallsScript = hostScript("docker-calls.sh");

/** Files the preflight reads besides our records and policy folders. */
const HOST_FILES = [
    "/etc/os-release",
    "/etc/passwd",
    "/etc/machine-id",
    "/etc/login.defs",
    "/etc/subuid",
    "/etc/subgid",
    "/etc/docker/daemon.json",
];

/**
 * The preflight script (`sh/probe.sh`): `init=`, `socket=` and `liveFolder=` lines, then `files=`, one archive of
 * the host's files, our records, both policy folders and Docker's answers, read in one round trip.
 */
export const probeScript = [
    `HDH_DOCKER_SOCKET=${shq(DOCKER_SOCKET)}`,
    `HDH_LIVE_NOTE=${shq(LIVE_FOLDER_NOTE)}`,
    `HDH_HOST_FILES=${shq(HOST_FILES.join(" "))}`,
    `HDH_REC=${shq(RECORD_DIR)}`,
    `HDH_STAGED=${shq(STAGED_POLICY_DIR)}`,
    dockerCallsScript,
    hostScript("probe.sh"),
].join("\n");

/** One Docker answer of the preflight: whether the call succeeded, its body, and its error message. */
interface DockerAnswer {
    ok: boolean;
    body: string;
    message: string;
}

function dockerAnswers(files: Map<string, Buffer>): (name: string) => DockerAnswer {
    const codes = new Map(
        (files.get("docker/codes")?.toString("utf8") ?? "")
            .split("\n")
            .map((l) => l.trim().split(" ") as [string, string])
            .filter(([name, code]) => name && code),
    );
    return (name) => {
        const code = codes.get(name);
        const body = files.get(`docker/${name}`)?.toString("utf8") ?? "";
        if (code === undefined || code === "000") return { ok: false, body: "", message: "" };
        const ok = code === "cli:0" || /^2\d\d$/.test(code);
        let message = body.trim();
        const json = parseJson(body);
        if (isJsonObject(json) && typeof json.message === "string") message = json.message;
        return { ok, body, message };
    };
}

function parseJson(text: string): JsonValue | undefined {
    try {
        return JSON.parse(text) as JsonValue;
    } catch {
        return undefined;
    }
}

/** A JSON array (the API), or one JSON value per line (the CLI's `--format '{{json .}}'`). */
function jsonList(text: string): JsonValue[] {
    const whole = parseJson(text);
    if (Array.isArray(whole)) return whole;
    return text
        .split("\n")
        .filter((l) => l.trim())
        .map(parseJson)
        .filter((v): v is JsonValue => v !== undefined);
}

/** `docker info` JSON when it is an object from a daemon that answered (no `ServerErrors`), else undefined. */
function parseDockerInfo(answer: DockerAnswer): JsonObject | undefined {
    if (!answer.ok) return undefined;
    const info = parseJson(answer.body);
    if (!isJsonObject(info)) return undefined;
    const serverErrors = info.ServerErrors;
    return Array.isArray(serverErrors) && serverErrors.length > 0 ? undefined : info;
}

function parsePlugins(answer: DockerAnswer): InstalledPlugin[] {
    if (!answer.ok) return [];
    return jsonList(answer.body)
        .filter(isJsonObject)
        .map((p) => ({
            name: String(p.Name ?? ""),
            enabled: p.Enabled === true,
            reference: String(p.PluginReference ?? ""),
        }))
        .filter((p) => p.name !== "");
}

/** Names of running containers: the API's `Names` ("/web"), or the CLI's comma-joined names per line. */
function parseRunning(answer: DockerAnswer): string[] {
    if (!answer.ok) return [];
    return jsonList(answer.body)
        .flatMap((c) => {
            if (typeof c === "string") return c.split(",");
            const names = isJsonObject(c) && Array.isArray(c.Names) ? c.Names : [];
            return names.filter((n): n is string => typeof n === "string").map((n) => n.replace(/^\//, ""));
        })
        .map((n) => n.trim())
        .filter(Boolean);
}

/** `MODE OWNER GROUP` from stat, or undefined when absent or malformed. */
function parseSocket(line: string | undefined): DockerSocketFacts | undefined {
    const [mode, owner, group, ...rest] = (line ?? "").split(/\s+/).filter(Boolean);
    if (group === undefined || rest.length > 0 || !/^[0-7]{3,4}$/.test(mode)) return undefined;
    return { mode, owner, group };
}

/** `ID VERSION_ID` of an os-release file (shell assignments, values maybe quoted). */
function osName(osRelease: string): string {
    const field = (key: string) => {
        const m = new RegExp(`^${key}=(.*)$`, "m").exec(osRelease);
        return (m?.[1] ?? "").trim().replace(/^(["'])(.*)\1$/, "$2");
    };
    return `${field("ID")} ${field("VERSION_ID")}`;
}

/** The regular files directly in `dir`, by name (none: an empty folder, as for one that does not exist). */
function folderOf(files: Map<string, string>, dir: string): Record<string, string> {
    const prefix = `${dir.replace(/^\/+/, "").replace(/\/+$/, "")}/`;
    const out: Record<string, string> = {};
    for (const [p, content] of files) {
        if (p.startsWith(prefix) && !p.slice(prefix.length).includes("/")) out[p.slice(prefix.length)] = content;
    }
    return out;
}

/**
 * The files of the preflight's archive (gzip-compressed where the host has gzip). An archive without Docker's
 * answers is a reading cut short: planning from it would see a host without files, so it is an error.
 */
function readArchive(base64: string): Map<string, Buffer> {
    const raw = Buffer.from(base64, "base64");
    const files = tarFiles(raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw);
    if (!files.has("docker/codes"))
        throw new Error("the host's reading is incomplete (no answers from Docker's calls)");
    return files;
}

/** Parses the preflight's output. */
export function parseProbe(out: string): HostFacts {
    const kv = new Map<string, string>();
    for (const line of out.split("\n")) {
        const i = line.indexOf("=");
        if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim());
    }
    const archive = readArchive(kv.get("files") ?? "");
    const text = new Map([...archive].map(([p, b]) => [p, b.toString("utf8")]));
    const file = (p: string) => text.get(p.replace(/^\//, ""));
    const answer = dockerAnswers(archive);
    const version = answer("version");
    const info = parseDockerInfo(answer("info"));
    const securityOptions = Array.isArray(info?.SecurityOptions) ? info.SecurityOptions : [];
    const authz = answer("authz");
    const staged = STAGED_POLICY_DIR;
    const live = kv.get("liveFolder") ?? "";
    const init = kv.get("init");
    return {
        os: osName(file("/etc/os-release") ?? ""),
        initSystem: init === "systemd" || init === "sysv" ? init : "none",
        dockerVersion: version.ok ? String(dockerField(version.body, "Version") ?? "") : "",
        apiRefused: !version.ok && version.message.includes("authorization denied"),
        dataRoot: typeof info?.DockerRootDir === "string" ? info.DockerRootDir : "",
        containers: Number(info?.Containers) || 0,
        images: Number(info?.Images) || 0,
        usernsActive: securityOptions.some((o) => typeof o === "string" && o.includes("name=userns")),
        plugins: parsePlugins(answer("plugins")),
        daemonJson: file("/etc/docker/daemon.json"),
        subuid: file("/etc/subuid") ?? "",
        subgid: file("/etc/subgid") ?? "",
        loginDefs: file("/etc/login.defs") ?? "",
        users: (file("/etc/passwd") ?? "")
            .split("\n")
            .map((l) => l.split(":")[0].trim())
            .filter(Boolean),
        daemonJsonRecord: file(`${RECORD_DIR}/daemon-json.json`),
        authzAnswer: authz.ok ? authz.body : authz.message,
        dockerInfo: info,
        socket: parseSocket(kv.get("socket")),
        machineId: (file("/etc/machine-id") ?? "").slice(0, 64).replace(/[^0-9a-zA-Z]/g, ""),
        runningContainers: parseRunning(answer("running")),
        records: Object.fromEntries(
            Object.entries(folderOf(text, RECORD_DIR)).filter(
                ([name]) => name.endsWith(".json") || name.startsWith("plugin-settings."),
            ),
        ),
        folders: { [staged]: folderOf(text, staged), ...(live ? { [live]: folderOf(text, live) } : {}) },
    };
}

function dockerField(body: string, key: string): JsonValue | undefined {
    const v = parseJson(body);
    return isJsonObject(v) ? v[key] : undefined;
}

/** The installed plugin Docker knows by this alias (`alias` or `alias:latest`). */
export function findPlugin(facts: HostFacts, alias: string): InstalledPlugin | undefined {
    return facts.plugins.find((p) => p.name === alias || p.name === `${alias}:latest`);
}
