import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { STAGED_POLICY_DIR } from "../../components/host/dockerd";
import { dockerCallsScript, findPlugin, parseProbe, probeScript } from "../../components/host/probe";
import { tarFiles } from "../../components/host/tar";
import { splitPreflightAfter, withPreflightAfter } from "../../components/providers/preflight";
import { probeOutput } from "./probeOutput";

let tmp: string;

/** What a host whose authorization refuses our requests reads as. */
const REFUSED = {
    apiRefused: true,
    dockerVersion: "",
    dataRoot: "",
    dockerInfo: undefined,
    plugins: [],
    runningContainers: [],
};
beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-probe-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The archive in the `files=` line of {@link probeOutput}. */
const archiveOf = (files: Record<string, string>, tarArgs: string[] = []) =>
    Buffer.from(probeOutput(files, [], tarArgs).slice("files=".length), "base64");

describe("tar archives", () => {
    test("regular files by path; long names (GNU) and name prefixes (ustar); directories left out", () => {
        const long = `${"d".repeat(60)}/${"e".repeat(60)}/f.rego`;
        const files = { "etc/subuid": "a:1:2\n", [long]: "package long\n", empty: "" };
        for (const format of [[], ["--format=ustar"]]) {
            const read = tarFiles(archiveOf(files, format));
            expect(Object.fromEntries([...read].map(([p, b]) => [p, b.toString()]))).toEqual({
                "docker/codes": "",
                ...files,
            });
        }
    });

    test("an archive cut short is an error, not fewer files", () => {
        const archive = archiveOf({ a: "x".repeat(2000) });
        expect(() => tarFiles(archive.subarray(0, 1024))).toThrow(/cut short/);
        expect(tarFiles(Buffer.alloc(0)).size).toBe(0);
    });
});

describe("preflight parsing", () => {
    const json = (v: unknown) => JSON.stringify(v);
    const staged = STAGED_POLICY_DIR.slice(1);

    test("reads every fact from the files and the API's answers", () => {
        const facts = parseProbe(
            probeOutput(
                {
                    "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\nVERSION_ID="12"\n',
                    "etc/passwd": "root:x:0:0::/root:/bin/sh\ndockremap:x:999:999::/:/bin/false\n",
                    "etc/machine-id": "0123abcd\n",
                    "etc/subuid": "dockremap:100000:65536\n",
                    "etc/docker/daemon.json": '{"icc":false}',
                    "var/lib/hardened-docker-host/daemon-json.json": '{"keys":["icc"]}',
                    "var/lib/hardened-docker-host/plugin-settings.hdh-authz": "x",
                    "var/lib/hardened-docker-host/policy-live": "/etc/docker/policies\n",
                    [`${staged}/a.rego`]: "package a\n",
                    "etc/docker/policies/b.rego": "package b\n",
                    "etc/docker/policies/sub/c.rego": "not ours",
                    "docker/codes": "version 200\ninfo 200\nplugins 200\nauthz 403\nrunning 200\n",
                    "docker/version": json({ Version: "24.0.7" }),
                    "docker/info": json({
                        DockerRootDir: "/var/lib/docker/1.1",
                        Containers: 3,
                        Images: 2,
                        SecurityOptions: ["name=seccomp,profile=builtin", "name=userns"],
                    }),
                    "docker/plugins": json([
                        { Name: "hdh-authz:latest", Enabled: true, PluginReference: "r/opa:1" },
                        { Name: "other:1", Enabled: false, PluginReference: "x/other:1" },
                    ]),
                    "docker/authz": json({ message: "authorization denied by plugin hdh-authz:latest: no" }),
                    "docker/running": json([{ Names: ["/web"] }, { Names: ["/db"] }]),
                },
                ["init=sysv", "socket=660 root docker", "liveFolder=/etc/docker/policies"],
            ),
        );
        expect(facts).toMatchObject({
            os: "debian 12",
            initSystem: "sysv",
            dockerVersion: "24.0.7",
            apiRefused: false,
            dataRoot: "/var/lib/docker/1.1",
            containers: 3,
            images: 2,
            usernsActive: true,
            daemonJson: '{"icc":false}',
            subuid: "dockremap:100000:65536\n",
            subgid: "",
            loginDefs: "",
            users: ["root", "dockremap"],
            daemonJsonRecord: '{"keys":["icc"]}',
            machineId: "0123abcd",
            authzAnswer: "authorization denied by plugin hdh-authz:latest: no",
            runningContainers: ["web", "db"],
            socket: { mode: "660", owner: "root", group: "docker" },
            records: { "daemon-json.json": '{"keys":["icc"]}', "plugin-settings.hdh-authz": "x" },
            folders: {
                [STAGED_POLICY_DIR]: { "a.rego": "package a\n" },
                "/etc/docker/policies": { "b.rego": "package b\n" },
            },
        });
        expect(findPlugin(facts, "hdh-authz")).toEqual({
            name: "hdh-authz:latest",
            enabled: true,
            reference: "r/opa:1",
        });
        expect(findPlugin(facts, "other:1")?.enabled).toBe(false);
        expect(findPlugin(facts, "missing")).toBeUndefined();
    });

    test("the CLI's answers (no curl) read the same", () => {
        const facts = parseProbe(
            probeOutput({
                "docker/codes": "running cli:0\nversion cli:0\ninfo cli:0\nplugins cli:0\nauthz cli:1\n",
                "docker/version": json({ Version: "20.10.24" }),
                "docker/info": json({
                    DockerRootDir: "/var/lib/docker",
                    SecurityOptions: ["name=seccomp"],
                    ServerErrors: [],
                }),
                "docker/plugins": `${json({ Name: "hdh-authz:latest", Enabled: true, PluginReference: "r/opa:1" })}\n`,
                "docker/authz": "Error response from daemon: authorization denied by plugin hdh-authz: no\n",
                "docker/running": '"web"\n"db,alias"\n',
            }),
        );
        expect(facts).toMatchObject({
            dockerVersion: "20.10.24",
            dataRoot: "/var/lib/docker",
            usernsActive: false,
            apiRefused: false,
            plugins: [{ name: "hdh-authz:latest", enabled: true, reference: "r/opa:1" }],
            authzAnswer: "Error response from daemon: authorization denied by plugin hdh-authz: no",
            runningContainers: ["web", "db", "alias"],
            folders: { [STAGED_POLICY_DIR]: {} },
        });
    });

    test("a daemon whose authorization refuses us, one that does not answer, and a host without Docker", () => {
        const refused = json({ message: "authorization denied by plugin p: x" });
        expect(
            parseProbe(
                probeOutput({
                    "docker/codes": "version 403\ninfo 403\nplugins 403\nauthz 403\nrunning 403\n",
                    "docker/version": refused,
                    "docker/info": refused,
                    "docker/plugins": refused,
                    "docker/running": refused,
                }),
            ),
        ).toMatchObject(REFUSED);
        expect(parseProbe(probeOutput({ "docker/codes": "version 000\ninfo 000\n" }))).toMatchObject({
            apiRefused: false,
            dockerVersion: "",
            dockerInfo: undefined,
            plugins: [],
        });
        expect(parseProbe(probeOutput({}, ["init=none"]))).toMatchObject({
            os: " ",
            dockerVersion: "",
            daemonJson: undefined,
            users: [],
        });
    });

    test("compressed or not, the same facts; a reading cut short is an error, never a host without files", () => {
        const files = { "etc/subuid": "dockremap:100000:65536\n", "docker/codes": "version 200\n" };
        const [plain, zipped] = [[], ["-z"]].map((args) => probeOutput(files, ["init=sysv"], args));
        expect(zipped.length).not.toBe(plain.length);
        expect(parseProbe(zipped)).toEqual(parseProbe(plain));
        expect(parseProbe(zipped).subuid).toBe("dockremap:100000:65536\n");
        expect(() => parseProbe("init=none\n")).toThrow(/incomplete/);
        expect(() => parseProbe(zipped.slice(0, zipped.length - 40))).toThrow();
    });
});

describe("preflight script under sh, with a fake docker on PATH and no curl", () => {
    const bin = () => path.join(tmp, "bin");
    const fake = (name: string, body: string) => {
        fs.mkdirSync(bin(), { recursive: true });
        fs.writeFileSync(path.join(bin(), name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    };
    const env = () => ({ ...process.env, PATH: `${bin()}:${process.env.PATH}` });
    const probe = () => parseProbe(execFileSync("sh", ["-c", probeScript], { encoding: "utf8", env: env() }));
    beforeEach(() => fake("curl", "exit 7"));

    test("each Docker call fills its answer; this machine's files are read", () => {
        fake(
            "docker",
            `case "$1 $2" in
  "version -f") echo '{"Version":"24.0.7"}' ;;
  "info --format") echo '{"ServerVersion":"24.0.7","DockerRootDir":"/var/lib/docker/1.1","Containers":3}' ;;
  "plugin ls") echo '{"Name":"hdh-authz:latest","Enabled":true,"PluginReference":"r/opa:1"}' ;;
  "plugin disable") echo "Error response from daemon: authorization denied by plugin p: no" >&2; exit 1 ;;
  "ps --format") printf '"web"\\n"db"\\n' ;;
esac`,
        );
        const facts = probe();
        expect(facts).toMatchObject({
            dockerVersion: "24.0.7",
            dataRoot: "/var/lib/docker/1.1",
            containers: 3,
            apiRefused: false,
            dockerInfo: { ServerVersion: "24.0.7" },
            runningContainers: ["web", "db"],
            plugins: [{ name: "hdh-authz:latest", enabled: true, reference: "r/opa:1" }],
            authzAnswer: "Error response from daemon: authorization denied by plugin p: no",
        });
        expect(facts.users).toContain("root");
        expect(facts.os).toBe(
            execFileSync("sh", ["-c", '. /etc/os-release; echo "$ID $VERSION_ID"'], { encoding: "utf8" }).trim(),
        );
    });

    test("a change is followed by the preflight in the same script; a failed change is not", () => {
        fake("docker", `[ "$1" = version ] && echo '{"Version":"25.0.1"}'; exit 0`);
        const run = (script: string) =>
            execFileSync("sh", ["-c", withPreflightAfter(script)], { encoding: "utf8", env: env() });
        const done = splitPreflightAfter(run("echo changed\nexit 0\necho never"));
        expect(done.own).toBe("changed\n");
        expect(parseProbe(done.probe ?? "").dockerVersion).toBe("25.0.1");
        expect(splitPreflightAfter(run("printf no-newline")).own).toBe("no-newline");
        expect(() => run("echo half; exit 3")).toThrow(/failed/i);
        // The change's own `set -e` still stops it at the first failing command.
        expect(() => run("set -e\nfalse\necho went on")).toThrow(/failed/i);
        expect(splitPreflightAfter("output of an older script\n")).toEqual({ own: "output of an older script\n" });
        // A preflight cut short leaves no reading (the next step reads the host itself), and fails nothing.
        fake("mktemp", "echo 'mktemp: No space left on device' >&2; exit 1");
        const cut = splitPreflightAfter(run("echo changed"));
        expect(cut).toEqual({ own: "changed\n", probe: undefined });
    });

    test("a daemon whose authorization refuses us, and one that does not answer", () => {
        fake("docker", 'echo "Error response from daemon: authorization denied by plugin p: x" >&2; exit 1');
        expect(probe()).toMatchObject(REFUSED);
        fake("docker", 'echo "Cannot connect to the Docker daemon" >&2; exit 1');
        expect(probe()).toMatchObject({ apiRefused: false, dockerVersion: "", dockerInfo: undefined, plugins: [] });
    });
});

describe("Docker calls through the API, in one curl", () => {
    test("every call reaches the socket with its method; answers and statuses land in the folder", async () => {
        const seen: string[] = [];
        const server = http.createServer((req, res) => {
            seen.push(`${req.method} ${req.url}`);
            const refused = req.url === "/plugins/hdh-authorization-probe/disable";
            res.writeHead(refused ? 403 : 200, { "Content-Type": "application/json" });
            res.end(refused ? '{"message":"authorization denied by plugin p: no"}' : `{"url":"${req.url}"}`);
        });
        const socket = path.join(tmp, "docker.sock");
        await new Promise<void>((resolve) => server.listen(socket, resolve));
        try {
            const out = path.join(tmp, "answers");
            fs.mkdirSync(out);
            await promisify(execFile)("sh", [
                "-c",
                `${dockerCallsScript}\nhdh_docker_calls "$1" "$2"`,
                "sh",
                out,
                socket,
            ]);
            expect(seen).toEqual([
                "GET /version",
                "GET /info",
                "GET /plugins",
                "POST /plugins/hdh-authorization-probe/disable",
                "GET /containers/json",
            ]);
            expect(fs.readFileSync(path.join(out, "codes"), "utf8")).toBe(
                "version 200\ninfo 200\nplugins 200\nauthz 403\nrunning 200\n",
            );
            expect(fs.readFileSync(path.join(out, "info"), "utf8")).toBe('{"url":"/info"}');
        } finally {
            server.close();
        }
    });
});
