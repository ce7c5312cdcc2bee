/**
 * Section 2 of the CIS Docker Benchmark (Docker daemon configuration), evaluated from what the preflight reads:
 * the host's daemon.json, `docker info` and the Docker socket's permissions.
 *
 * Ids, titles and the pass/warn rules follow docker-bench-security's current section 2 (CIS Docker Benchmark
 * v1.6.0: checks 2.1 to 2.18). Where we part from it, and why:
 * - docker-bench also reads dockerd's command line, which we do not see. Where `docker info` shows the effective
 *   value (user namespaces, authorization plugins, live restore, storage and log drivers, seccomp) it decides, so
 *   a key written but not yet applied is a warning; elsewhere daemon.json decides.
 * - 2.3 also warns on `debug: true`, which puts dockerd at debug level whatever `log-level` says.
 * - 2.13 warns on every driver that keeps logs on the host (`json-file`, `local`, `none`), not only `json-file`.
 * - 2.17 warns when containers get no seccomp filter at all (`unconfined`, or none in `docker info`).
 * - 2.18 is evaluated on every Docker version (docker-bench calls it deprecated after 19.03, yet experimental
 *   mode still exists).
 */
import type { DockerSocketFacts } from "../host/probe";
import { isRecord } from "./record";

/** `pass` and `warn` are verdicts; `info` means the facts cannot decide; `note` is a manual check to review. */
export type CisStatus = "pass" | "warn" | "info" | "note";

/** One check's outcome on one host. */
export interface CisRow {
    /** docker-bench-security's id, e.g. `2.9`. */
    id: string;
    /** docker-bench-security's title, with its `(Scored)` / `(Manual)` suffix. */
    title: string;
    status: CisStatus;
    /** What the verdict rests on, or what is missing to reach one. */
    detail: string;
}

/** What {@link evaluateCisDaemon} reads about one host. */
export interface CisDaemonFacts {
    /** Docker server version; empty when dockerd does not answer. */
    dockerVersion: string;
    /** `docker info --format '{{json .}}'`; undefined when dockerd does not answer. */
    info?: Record<string, unknown>;
    /** /etc/docker/daemon.json, parsed (`{}` when there is none). */
    daemonJson: Record<string, unknown>;
    /** /var/run/docker.sock's mode and ownership, when it exists. */
    socket?: DockerSocketFacts;
}

type Verdict = Omit<CisRow, "id" | "title">;

interface CisCheck {
    id: string;
    title: string;
    evaluate(facts: CisDaemonFacts): Verdict;
}

// Docker always treats loopback registries as insecure, so these show in `docker info` without anyone asking.
const IMPLICIT_INSECURE_CIDRS: ReadonlySet<string> = new Set(["127.0.0.0/8", "::1/128"]);
// Log drivers that leave container logs on the host only: none of them is centralized and remote.
const HOST_ONLY_LOG_DRIVERS: ReadonlySet<string> = new Set(["json-file", "local", "none"]);
// Docker's own seccomp profile: `default` in 20.10's docker info, `builtin` in later versions.
const DEFAULT_SECCOMP_PROFILES: ReadonlySet<string> = new Set(["default", "builtin"]);

const pass = (detail: string): Verdict => ({ status: "pass", detail });
const warn = (detail: string): Verdict => ({ status: "warn", detail });
const info = (detail: string): Verdict => ({ status: "info", detail });
const note = (detail: string): Verdict => ({ status: "note", detail });

/** An own property of a parsed JSON object (never one inherited from Object.prototype); undefined for non-objects. */
function field(object: unknown, key: string): unknown {
    return isRecord(object) && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function stringList(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v.trim() !== "") : [];
}

function securityOptions(facts: CisDaemonFacts): string[] {
    return stringList(field(facts.info, "SecurityOptions"));
}

/** The `profile=` of docker info's seccomp option, or undefined when seccomp is not listed. */
function seccompProfile(facts: CisDaemonFacts): string | undefined {
    const option = securityOptions(facts).find((o) => o.split(",").includes("name=seccomp"));
    if (option === undefined) return undefined;
    return (
        option
            .split(",")
            .find((part) => part.startsWith("profile="))
            ?.slice("profile=".length) ?? "default"
    );
}

function swarmActive(facts: CisDaemonFacts): boolean {
    return field(field(facts.info, "Swarm"), "LocalNodeState") === "active";
}

/** What a check needs that the facts lack, saying why it is missing. */
function needsInfo(facts: CisDaemonFacts, what: string): Verdict {
    const why = facts.dockerVersion === "" ? "dockerd did not answer" : "docker info was not readable";
    return info(`needs docker info (${what}); ${why}`);
}

function majorVersion(version: string): number | undefined {
    const match = /^(\d+)\./.exec(version);
    return match ? Number(match[1]) : undefined;
}

/** `hosts` entries that listen beyond local sockets (`-H :2375` is tcp too). */
function networkListeners(daemonJson: Record<string, unknown>): string[] {
    return stringList(field(daemonJson, "hosts")).filter((h) => !/^(unix|fd|npipe):\/\//.test(h.trim()));
}

function describeSocket(socket: DockerSocketFacts | undefined): string {
    return socket ? `socket ${socket.owner}:${socket.group} mode ${socket.mode}` : "no /var/run/docker.sock";
}

/** A setting docker info reflects, and what to say when it is on or off. */
interface EffectiveSetting {
    /** The daemon.json key that turns it on. */
    key: string;
    /** Whether the running daemon has it; undefined without docker info. */
    active: boolean | undefined;
    whenOn: string;
    whenOff: string;
}

/** The running daemon decides; daemon.json explains a change not applied yet, or stands in without docker info. */
function evaluateEffective(setting: EffectiveSetting, daemonJson: Record<string, unknown>): Verdict {
    const { key, active, whenOn, whenOff } = setting;
    const configured = field(daemonJson, key);
    const isOn = configured === true || nonEmptyString(configured) !== undefined || stringList(configured).length > 0;
    const shown = typeof configured === "boolean" ? key : `${key} ${JSON.stringify(configured)}`;
    if (active === true) return pass(whenOn);
    if (active === false) return warn(isOn ? `${shown} is in daemon.json but dockerd runs without it` : whenOff);
    return isOn ? pass(`${shown} in daemon.json (not confirmed: no docker info)`) : warn(whenOff);
}

/** Insecure registries: every daemon.json entry (loopback ones too, as docker-bench), plus any docker info adds. */
function insecureRegistries(facts: CisDaemonFacts): string[] {
    const registryConfig = field(facts.info, "RegistryConfig");
    const indexConfigs = field(registryConfig, "IndexConfigs");
    const insecureIndexes = isRecord(indexConfigs)
        ? Object.keys(indexConfigs).filter((name) => field(field(indexConfigs, name), "Secure") === false)
        : [];
    const insecureCidrs = stringList(field(registryConfig, "InsecureRegistryCIDRs")).filter(
        (cidr) => !IMPLICIT_INSECURE_CIDRS.has(cidr),
    );
    const configured = stringList(field(facts.daemonJson, "insecure-registries"));
    return [...new Set([...configured, ...insecureCidrs, ...insecureIndexes])];
}

const CHECKS: readonly CisCheck[] = [
    {
        id: "2.1",
        title: "Run the Docker daemon as a non-root user, if possible (Manual)",
        evaluate: (facts) => {
            if (facts.info === undefined) return needsInfo(facts, "SecurityOptions name=rootless");
            if (securityOptions(facts).includes("name=rootless")) return pass("rootless mode");
            return note(`dockerd runs as root (${describeSocket(facts.socket)}); rootless mode is a manual decision`);
        },
    },
    {
        id: "2.2",
        title: "Ensure network traffic is restricted between containers on the default bridge (Scored)",
        evaluate: (facts) =>
            field(facts.daemonJson, "icc") === false
                ? pass("icc: false")
                : warn("containers on the default bridge talk freely: set icc: false"),
    },
    {
        id: "2.3",
        title: "Ensure the logging level is set to 'info' (Scored)",
        evaluate: (facts) => {
            const level = nonEmptyString(field(facts.daemonJson, "log-level"));
            if (level !== undefined && level !== "info") return warn(`log-level ${level}`);
            if (field(facts.daemonJson, "debug") === true || field(facts.info, "Debug") === true) {
                return warn("debug: true logs at debug level");
            }
            return pass(level === undefined ? "log-level unset (info by default)" : "log-level info");
        },
    },
    {
        id: "2.4",
        title: "Ensure Docker is allowed to make changes to iptables (Scored)",
        evaluate: (facts) =>
            field(facts.daemonJson, "iptables") === false
                ? warn("iptables: false leaves container traffic to hand-made firewall rules")
                : pass("Docker manages iptables"),
    },
    {
        id: "2.5",
        title: "Ensure insecure registries are not used (Scored)",
        evaluate: (facts) => {
            const insecure = insecureRegistries(facts);
            return insecure.length > 0
                ? warn(`insecure registries: ${insecure.join(", ")}`)
                : pass("no insecure registries beyond Docker's implicit loopback");
        },
    },
    {
        id: "2.6",
        title: "Ensure aufs storage driver is not used (Scored)",
        evaluate: (facts) => {
            const driver =
                nonEmptyString(field(facts.info, "Driver")) ??
                nonEmptyString(field(facts.daemonJson, "storage-driver"));
            if (driver === "aufs") return warn("storage driver aufs");
            if (driver !== undefined) return pass(`storage driver ${driver}`);
            const major = majorVersion(facts.dockerVersion);
            if (major !== undefined && major >= 24) return pass(`Docker ${facts.dockerVersion} has no aufs driver`);
            return needsInfo(facts, "Driver");
        },
    },
    {
        id: "2.7",
        title: "Ensure TLS authentication for Docker daemon is configured (Scored)",
        evaluate: (facts) => {
            const listeners = networkListeners(facts.daemonJson);
            if (listeners.length === 0) return info("not listening on TCP per daemon.json hosts (-H flags unseen)");
            const on = listeners.join(", ");
            if (field(facts.daemonJson, "tlsverify") === true) return pass(`${on} verifies TLS clients`);
            if (field(facts.daemonJson, "tls") === true) return warn(`${on} uses TLS without client verification`);
            return warn(`${on} listens without TLS`);
        },
    },
    {
        id: "2.8",
        title: "Ensure the default ulimit is configured appropriately (Manual)",
        evaluate: (facts) => {
            const ulimits = field(facts.daemonJson, "default-ulimits");
            return isRecord(ulimits) && Object.keys(ulimits).length > 0
                ? pass(`default-ulimits: ${Object.keys(ulimits).sort().join(", ")}`)
                : info("default ulimit doesn't appear to be set (default-ulimits)");
        },
    },
    {
        id: "2.9",
        title: "Enable user namespace support (Scored)",
        evaluate: (facts) =>
            evaluateEffective(
                {
                    key: "userns-remap",
                    active: facts.info === undefined ? undefined : securityOptions(facts).includes("name=userns"),
                    whenOn: "user namespaces remapped (SecurityOptions name=userns)",
                    whenOff: "no user namespace remapping: set userns-remap",
                },
                facts.daemonJson,
            ),
    },
    {
        id: "2.10",
        title: "Ensure the default cgroup usage has been confirmed (Scored)",
        evaluate: (facts) => {
            const parent = nonEmptyString(field(facts.daemonJson, "cgroup-parent"));
            return parent === undefined
                ? pass("default cgroup parent")
                : warn(`cgroup-parent ${parent}: confirm cgroup usage`);
        },
    },
    {
        id: "2.11",
        title: "Ensure base device size is not changed until needed (Scored)",
        evaluate: (facts) => {
            const baseSize = stringList(field(facts.daemonJson, "storage-opts")).find((option) =>
                option.trim().startsWith("dm.basesize"),
            );
            return baseSize === undefined ? pass("dm.basesize not set") : warn(`storage-opts ${baseSize}`);
        },
    },
    {
        id: "2.12",
        title: "Ensure that authorization for Docker client commands is enabled (Scored)",
        evaluate: (facts) => {
            const enabled = stringList(field(field(facts.info, "Plugins"), "Authorization"));
            return evaluateEffective(
                {
                    key: "authorization-plugins",
                    active: facts.info === undefined ? undefined : enabled.length > 0,
                    whenOn: `authorization plugins: ${enabled.join(", ")}`,
                    whenOff: "no authorization plugin: whoever reaches the socket commands Docker",
                },
                facts.daemonJson,
            );
        },
    },
    {
        id: "2.13",
        title: "Ensure centralized and remote logging is configured (Scored)",
        evaluate: (facts) => {
            const driver =
                nonEmptyString(field(facts.info, "LoggingDriver")) ??
                nonEmptyString(field(facts.daemonJson, "log-driver")) ??
                "json-file";
            if (!HOST_ONLY_LOG_DRIVERS.has(driver)) return pass(`log driver ${driver}`);
            const maxSize = nonEmptyString(field(field(facts.daemonJson, "log-opts"), "max-size"));
            const rotation = maxSize === undefined ? "" : `, rotated at max-size ${maxSize}`;
            return warn(`log driver ${driver} keeps logs on the host${rotation}`);
        },
    },
    {
        id: "2.14",
        title: "Ensure containers are restricted from acquiring new privileges (Scored)",
        evaluate: (facts) =>
            field(facts.daemonJson, "no-new-privileges") === true
                ? pass("no-new-privileges: true")
                : warn("containers may gain privileges (setuid binaries): set no-new-privileges: true"),
    },
    {
        id: "2.15",
        title: "Ensure live restore is enabled (Scored)",
        evaluate: (facts) => {
            if (swarmActive(facts)) return pass("swarm mode is active (live restore is incompatible with it)");
            return evaluateEffective(
                {
                    key: "live-restore",
                    active: facts.info === undefined ? undefined : field(facts.info, "LiveRestoreEnabled") === true,
                    whenOn: "live restore enabled",
                    whenOff: "containers stop whenever dockerd does: set live-restore: true",
                },
                facts.daemonJson,
            );
        },
    },
    {
        id: "2.16",
        title: "Ensure Userland Proxy is Disabled (Scored)",
        evaluate: (facts) =>
            field(facts.daemonJson, "userland-proxy") === false
                ? pass("userland-proxy: false")
                : warn("userland proxy on (the default): set userland-proxy: false"),
    },
    {
        id: "2.17",
        title: "Ensure that a daemon-wide custom seccomp profile is applied if appropriate (Manual)",
        evaluate: (facts) => {
            const configured = nonEmptyString(field(facts.daemonJson, "seccomp-profile"));
            if (configured === "unconfined") return warn("seccomp-profile unconfined: containers run without seccomp");
            if (facts.info === undefined) {
                return configured === undefined
                    ? needsInfo(facts, "SecurityOptions name=seccomp")
                    : info(`custom seccomp profile ${configured}: review it`);
            }
            const profile = seccompProfile(facts);
            if (profile === undefined) return warn("no seccomp in SecurityOptions: containers run without seccomp");
            if (DEFAULT_SECCOMP_PROFILES.has(profile)) return pass(`Docker's ${profile} seccomp profile`);
            return info(`custom seccomp profile ${configured ?? profile}: review it`);
        },
    },
    {
        id: "2.18",
        title: "Ensure that experimental features are not implemented in production (Scored)",
        evaluate: (facts) => {
            const experimental =
                field(facts.daemonJson, "experimental") === true || field(facts.info, "ExperimentalBuild") === true;
            return experimental ? warn("experimental features on") : pass("experimental features off");
        },
    },
];

/** docker-bench-security's section 2 checks, in order: id and title. */
export const CIS_DAEMON_CHECKS: readonly { id: string; title: string }[] = CHECKS.map(({ id, title }) => ({
    id,
    title,
}));

/**
 * Evaluates every section-2 check (2.1 to 2.18) on one host's facts.
 *
 * @returns One row per check, in id order; checks the facts cannot decide are `info`, naming what is missing.
 */
export function evaluateCisDaemon(facts: CisDaemonFacts): CisRow[] {
    return CHECKS.map(({ id, title, evaluate }) => ({ id, title, ...evaluate(facts) }));
}
