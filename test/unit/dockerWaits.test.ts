import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { RECORD_DIR, dockerFunctions } from "../../components/host/dockerd";
import { authzFunctions } from "../../components/providers/authzScripts";
import { runHostShell } from "./hostShell";

// How the host shell waits for Docker: after a restart (until it answers) and after a reload (until the expected
// plugin answers). Run under a real sh with a fake docker on PATH; `sleep` is a shell function that records how
// long the script would have slept, so the tests see the waits without taking them.

const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$T/calls"
n=$(wc -l < "$T/calls")
answer=$(cat "$T/answer" 2>/dev/null || echo up)
if [ -f "$T/up-after" ] && [ "$n" -le "$(cat "$T/up-after")" ]; then answer=down; fi
case "$answer" in
  up) echo "Server: 20.10.24"; exit 0 ;;
  down) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1 ;;
  *) echo "Error response from daemon: $answer" >&2; exit 1 ;;
esac
`;

let t: string;
beforeEach(() => {
    t = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-waits-"));
    fs.mkdirSync(path.join(t, "bin"));
    fs.writeFileSync(path.join(t, "bin", "docker"), FAKE_DOCKER, { mode: 0o755 });
});
afterEach(() => fs.rmSync(t, { recursive: true, force: true }));

function run(body: string, env: Record<string, string> = {}): number {
    const script = [
        dockerFunctions().replace(RECORD_DIR, t),
        authzFunctions,
        'sleep() { echo "$1" >> "$T/sleeps"; }',
        body,
    ].join("\n");
    return runHostShell(script, t, { DOCKER_HOST: "", T: t, ...env }).status;
}

const lines = (name: string) =>
    fs.existsSync(path.join(t, name)) ? fs.readFileSync(path.join(t, name), "utf8").split("\n").filter(Boolean) : [];

describe("hdh_wait_healthy", () => {
    const sock = () => path.join(t, "docker.sock");
    const servers: net.Server[] = [];
    afterEach(() => servers.splice(0).forEach((s) => s.close()));
    /** A socket file where the script looks for Docker's (made by a listening server). */
    async function makeSocket(): Promise<void> {
        const server = net.createServer();
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(sock(), resolve));
    }

    test("polls every 0.1 s until Docker answers, once its socket is there", async () => {
        await makeSocket();
        fs.writeFileSync(path.join(t, "up-after"), "3");
        expect(run("hdh_wait_healthy", { HDH_DOCKER_SOCK: sock() })).toBe(0);
        expect(lines("calls")).toEqual(Array(4).fill("version"));
        expect(lines("sleeps")).toEqual(["0.1", "0.1", "0.1"]);
    });

    test("without the socket (dockerd stopped or starting), asks Docker once a second only", () => {
        fs.writeFileSync(path.join(t, "answer"), "down");
        expect(run("hdh_wait_healthy", { HDH_DOCKER_SOCK: sock(), HDH_HEALTH_TRIES: "25" })).toBe(1);
        expect(lines("calls")).toHaveLength(2); // tries 10 and 20: Docker may listen elsewhere
        expect(lines("sleeps")).toHaveLength(25);
    });

    test("with DOCKER_HOST set, asks Docker on every try", () => {
        fs.writeFileSync(path.join(t, "up-after"), "2");
        const env = { HDH_DOCKER_SOCK: sock(), DOCKER_HOST: "tcp://127.0.0.1:2376" };
        expect(run("hdh_wait_healthy", env)).toBe(0);
        expect(lines("calls")).toHaveLength(3);
    });

    test("a refusal by a fail-closed authorization plugin is an answer", async () => {
        await makeSocket();
        fs.writeFileSync(path.join(t, "answer"), "authorization denied by plugin hdh-authz: policy broken");
        expect(run("hdh_wait_healthy", { HDH_DOCKER_SOCK: sock() })).toBe(0);
        expect(lines("calls")).toHaveLength(1);
    });

    test("gives up after its tries", async () => {
        await makeSocket();
        fs.writeFileSync(path.join(t, "answer"), "down");
        expect(run("hdh_wait_healthy", { HDH_DOCKER_SOCK: sock(), HDH_HEALTH_TRIES: "5" })).toBe(1);
        expect(lines("calls")).toHaveLength(5);
    });
});

describe("hdh_reload_for", () => {
    const denied = (plugin: string) => `authorization denied by plugin ${plugin}: plugins are not allowed`;
    // The stub reload makes the next answer the one in reloaded (unless there is none: the reload never lands).
    const reload = 'hdh_reload() { [ ! -f "$T/reloaded" ] || mv "$T/reloaded" "$T/answer"; }';

    test("a reload that changes who answers is waited for, without a fixed pause", () => {
        fs.writeFileSync(path.join(t, "answer"), "plugin hdh-authorization-probe not found");
        fs.writeFileSync(path.join(t, "reloaded"), denied("hdh-authz"));
        expect(run(`${reload}\nhdh_reload_for hdh-authz ''`)).toBe(0);
        expect(lines("sleeps")).toEqual(["0"]);
        expect(lines("calls")).toHaveLength(2); // the answer before, then the new plugin's answer
    });

    test("when the awaited plugin answers already, the reload gets time to land", () => {
        fs.writeFileSync(path.join(t, "answer"), denied("hdh-authz"));
        expect(run(`${reload}\nhdh_reload_for hdh-authz ''`)).toBe(0);
        expect(lines("sleeps")).toEqual(["0.5"]);
    });

    test("taking the plugin out: waits until it no longer answers", () => {
        fs.writeFileSync(path.join(t, "answer"), denied("hdh-authz"));
        fs.writeFileSync(path.join(t, "reloaded"), "plugin hdh-authorization-probe not found");
        expect(run(`${reload}\nhdh_reload_for '' hdh-authz`)).toBe(0);
        expect(lines("sleeps")).toEqual(["0"]);
    });

    test("a reload that never lands fails after the wait's tries", () => {
        fs.writeFileSync(path.join(t, "answer"), "plugin hdh-authorization-probe not found");
        expect(run(`${reload}\nhdh_reload_for hdh-authz ''`, { HDH_WAIT_TRIES: "3" })).toBe(1);
        expect(lines("sleeps")).toEqual(["0", "0.2", "0.2", "0.2"]);
    });
});
