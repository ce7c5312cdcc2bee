import { parseProbe } from "../../components/host/probe";
import { probeOutput } from "./probeOutput";
import { CIS_DAEMON_CHECKS, CisDaemonFacts, CisStatus, evaluateCisDaemon } from "../../components/plan/cis";

// A host as this project leaves it, and the same host with Docker's defaults (Debian's 20.10).
const hardened: CisDaemonFacts = {
    dockerVersion: "20.10.24+dfsg1",
    daemonJson: {
        "userns-remap": "default",
        "authorization-plugins": ["hdh-authz"],
        icc: false,
        "live-restore": true,
        "userland-proxy": false,
        "no-new-privileges": true,
        "log-opts": { "max-size": "50m" },
    },
    info: {
        Driver: "overlay2",
        LoggingDriver: "json-file",
        Debug: false,
        ExperimentalBuild: false,
        LiveRestoreEnabled: true,
        SecurityOptions: ["name=apparmor", "name=seccomp,profile=default", "name=userns"],
        Plugins: { Volume: ["local"], Authorization: ["hdh-authz"] },
        RegistryConfig: { InsecureRegistryCIDRs: ["127.0.0.0/8"], IndexConfigs: { "docker.io": { Secure: true } } },
        Swarm: { LocalNodeState: "inactive" },
    },
    socket: { mode: "660", owner: "root", group: "docker" },
};
const plain: CisDaemonFacts = {
    ...hardened,
    daemonJson: {},
    info: {
        ...hardened.info,
        LiveRestoreEnabled: false,
        SecurityOptions: ["name=apparmor", "name=seccomp,profile=default"],
        Plugins: { Volume: ["local"], Authorization: null },
    },
};

const rowOf = (facts: CisDaemonFacts, id: string) => {
    const row = evaluateCisDaemon(facts).find((r) => r.id === id);
    if (row === undefined) throw new Error(`no row ${id}`);
    return row;
};
const withJson = (daemonJson: Record<string, unknown>): CisDaemonFacts => ({ ...plain, daemonJson });
const withInfo = (info: Record<string, unknown>): CisDaemonFacts => ({ ...plain, info: { ...plain.info, ...info } });
const withoutInfo = (daemonJson: Record<string, unknown>, dockerVersion = "20.10.24+dfsg1"): CisDaemonFacts => ({
    dockerVersion,
    daemonJson,
});

describe("evaluateCisDaemon", () => {
    test("covers docker-bench-security's section 2, 2.1 to 2.18, in order", () => {
        const ids = Array.from({ length: 18 }, (_, i) => `2.${i + 1}`);
        expect(CIS_DAEMON_CHECKS.map((c) => c.id)).toEqual(ids);
        expect(evaluateCisDaemon(plain).map((r) => r.id)).toEqual(ids);
        expect(CIS_DAEMON_CHECKS.find((c) => c.id === "2.12")?.title).toBe(
            "Ensure that authorization for Docker client commands is enabled (Scored)",
        );
        for (const row of evaluateCisDaemon(plain)) expect(row.detail).not.toBe("");
    });

    test.each<[string, CisStatus, CisStatus]>([
        ["2.1", "note", "note"],
        ["2.2", "pass", "warn"],
        ["2.3", "pass", "pass"],
        ["2.4", "pass", "pass"],
        ["2.5", "pass", "pass"],
        ["2.6", "pass", "pass"],
        ["2.7", "info", "info"],
        ["2.8", "info", "info"],
        ["2.9", "pass", "warn"],
        ["2.10", "pass", "pass"],
        ["2.11", "pass", "pass"],
        ["2.12", "pass", "warn"],
        ["2.13", "warn", "warn"],
        ["2.14", "pass", "warn"],
        ["2.15", "pass", "warn"],
        ["2.16", "pass", "warn"],
        ["2.17", "pass", "pass"],
        ["2.18", "pass", "pass"],
    ])("%s: hardened %s, plain %s", (id, hardenedStatus, plainStatus) => {
        expect(rowOf(hardened, id).status).toBe(hardenedStatus);
        expect(rowOf(plain, id).status).toBe(plainStatus);
    });

    test.each<[string, CisDaemonFacts, string, CisStatus, RegExp]>([
        [
            "rootless mode",
            withInfo({ SecurityOptions: ["name=seccomp,profile=default", "name=rootless"] }),
            "2.1",
            "pass",
            /rootless/,
        ],
        ["a root daemon names its socket", plain, "2.1", "note", /root:docker mode 660/],
        ["debug: true", withJson({ debug: true }), "2.3", "warn", /debug/],
        ["log-level debug", withJson({ "log-level": "debug" }), "2.3", "warn", /log-level debug/],
        ["log-level info", withJson({ "log-level": "info" }), "2.3", "pass", /info/],
        ["iptables: false", withJson({ iptables: false }), "2.4", "warn", /iptables/],
        [
            "a localhost registry in daemon.json (counted, as docker-bench does)",
            withJson({ "insecure-registries": ["localhost:5000"] }),
            "2.5",
            "warn",
            /localhost:5000/,
        ],
        [
            "an empty insecure-registries list",
            withJson({ "insecure-registries": [] }),
            "2.5",
            "pass",
            /implicit loopback/,
        ],
        [
            "an insecure CIDR from dockerd's flags",
            withInfo({ RegistryConfig: { InsecureRegistryCIDRs: ["127.0.0.0/8", "10.0.0.0/8"] } }),
            "2.5",
            "warn",
            /^insecure registries: 10\.0\.0\.0\/8$/,
        ],
        [
            "an insecure index from dockerd's flags",
            withInfo({ RegistryConfig: { IndexConfigs: { "reg.internal:5000": { Secure: false } } } }),
            "2.5",
            "warn",
            /reg\.internal:5000/,
        ],
        ["aufs", withInfo({ Driver: "aufs" }), "2.6", "warn", /aufs/],
        [
            "no docker info, dockerd down",
            withoutInfo({}, ""),
            "2.6",
            "info",
            /needs docker info \(Driver\); dockerd did not answer/,
        ],
        ["no docker info, Docker 24 has no aufs", withoutInfo({}, "24.0.7"), "2.6", "pass", /no aufs/],
        ["tcp without TLS", withJson({ hosts: ["tcp://0.0.0.0:2375"] }), "2.7", "warn", /without TLS/],
        [
            "tcp with TLS, no verification",
            withJson({ hosts: [":2376"], tls: true }),
            "2.7",
            "warn",
            /without client verification/,
        ],
        [
            "tcp with tlsverify",
            withJson({ hosts: ["unix:///var/run/docker.sock", "tcp://10.0.0.5:2376"], tlsverify: true }),
            "2.7",
            "pass",
            /^tcp:\/\/10\.0\.0\.5:2376 verifies TLS clients$/,
        ],
        [
            "local sockets only",
            withJson({ hosts: ["unix:///var/run/docker.sock", "fd://"] }),
            "2.7",
            "info",
            /not listening on TCP/,
        ],
        [
            "default-ulimits",
            withJson({ "default-ulimits": { nofile: { Name: "nofile", Soft: 1024, Hard: 2048 } } }),
            "2.8",
            "pass",
            /nofile/,
        ],
        [
            "userns-remap written but not applied",
            withJson({ "userns-remap": "default" }),
            "2.9",
            "warn",
            /dockerd runs without it/,
        ],
        [
            "userns-remap without docker info",
            withoutInfo({ "userns-remap": "default" }),
            "2.9",
            "pass",
            /not confirmed/,
        ],
        ["cgroup-parent", withJson({ "cgroup-parent": "/docker-tenants" }), "2.10", "warn", /confirm cgroup usage/],
        ["dm.basesize", withJson({ "storage-opts": ["dm.basesize=20G"] }), "2.11", "warn", /dm\.basesize=20G/],
        [
            "authorization plugin listed but not enabled",
            withJson({ "authorization-plugins": ["hdh-authz"] }),
            "2.12",
            "warn",
            /dockerd runs without it/,
        ],
        [
            "an empty authorization-plugins list",
            withoutInfo({ "authorization-plugins": [] }),
            "2.12",
            "warn",
            /no authorization plugin/,
        ],
        ["a remote log driver", withInfo({ LoggingDriver: "syslog" }), "2.13", "pass", /syslog/],
        [
            "json-file with rotation",
            hardened,
            "2.13",
            "warn",
            /json-file keeps logs on the host, rotated at max-size 50m/,
        ],
        ["the local log driver", withoutInfo({ "log-driver": "local" }), "2.13", "warn", /local/],
        ["swarm mode", withInfo({ Swarm: { LocalNodeState: "active" } }), "2.15", "pass", /swarm/],
        ["seccomp unconfined", withJson({ "seccomp-profile": "unconfined" }), "2.17", "warn", /without seccomp/],
        [
            "no seccomp in docker info",
            withInfo({ SecurityOptions: ["name=apparmor"] }),
            "2.17",
            "warn",
            /without seccomp/,
        ],
        [
            "a custom seccomp profile",
            {
                ...withInfo({ SecurityOptions: ["name=seccomp,profile=custom"] }),
                daemonJson: { "seccomp-profile": "/etc/docker/seccomp.json" },
            },
            "2.17",
            "info",
            /\/etc\/docker\/seccomp\.json/,
        ],
        [
            "Docker 23+'s builtin profile",
            withInfo({ SecurityOptions: ["name=seccomp,profile=builtin"] }),
            "2.17",
            "pass",
            /builtin/,
        ],
        ["seccomp without docker info", withoutInfo({}), "2.17", "info", /needs docker info/],
        ["experimental in daemon.json", withJson({ experimental: true }), "2.18", "warn", /experimental/],
        ["an experimental daemon", withInfo({ ExperimentalBuild: true }), "2.18", "warn", /experimental/],
    ])("%s", (_, facts, id, status, detail) => {
        const row = rowOf(facts, id);
        expect(row).toMatchObject({ status });
        expect(row.detail).toMatch(detail);
    });

    test("keys inherited from Object.prototype are not settings", () => {
        const daemonJson = JSON.parse('{"__proto__": {"icc": false}}') as Record<string, unknown>;
        expect(rowOf(withJson(daemonJson), "2.2").status).toBe("warn");
    });
});

describe("the preflight's daemon facts", () => {
    const answered = (info: string, code = "200") => ({ "docker/codes": `info ${code}\n`, "docker/info": info });

    test("docker info and the socket feed the evaluation", () => {
        const facts = parseProbe(
            probeOutput(
                {
                    "docker/codes": "version 200\ninfo 200\n",
                    "docker/version": '{"Version":"20.10.24+dfsg1"}',
                    "docker/info": JSON.stringify(hardened.info),
                    "etc/docker/daemon.json": '{"icc":false}',
                },
                ["socket=660 root docker"],
            ),
        );
        expect(facts.dockerInfo).toEqual(hardened.info);
        expect(facts.socket).toEqual({ mode: "660", owner: "root", group: "docker" });
        const rows = evaluateCisDaemon({
            dockerVersion: facts.dockerVersion,
            info: facts.dockerInfo,
            daemonJson: JSON.parse(facts.daemonJson ?? "{}"),
            socket: facts.socket,
        });
        expect(rows.find((r) => r.id === "2.9")?.status).toBe("pass");
    });

    test.each([
        ["absent", {}, ["socket=absent"]],
        ["missing", {}, []],
        ["not JSON, malformed stat", answered("Cannot connect"), ["socket=root docker"]],
        [
            "a daemon that did not answer",
            answered('{"ID":"","ServerErrors":["Cannot connect"]}', "cli:0"),
            ["socket=660 root"],
        ],
        ["refused", answered('{"message":"authorization denied by plugin p: no"}', "403"), ["socket="]],
        ["not an object", answered("[1]"), ["socket="]],
    ])("%s: undefined", (_, files: Record<string, string>, lines: string[]) => {
        const facts = parseProbe(probeOutput(files, lines));
        expect(facts.dockerInfo).toBeUndefined();
        expect(facts.socket).toBeUndefined();
    });
});
