import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RECORD_DIR, dockerFunctions } from "../../components/host/dockerd";
import { canaryScript, socketFunctions } from "../../components/providers/authzScripts";
import { runHostShell } from "./hostShell";

// The host scripts of components/host/sh take their values as variables set by the step's script: run under a
// real sh with a fake docker on PATH, values with quotes and spaces must reach the commands unchanged.

let t: string;
beforeEach(() => {
    t = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-scripts-"));
    fs.mkdirSync(path.join(t, "bin"));
});
afterEach(() => fs.rmSync(t, { recursive: true, force: true }));

function run(script: string): { status: number; stderr: string } {
    return runHostShell(script, t, { DOCKER_HOST: "", T: t });
}

/** A fake docker that logs its arguments and answers `create --privileged` with `privileged` (an error text). */
function fakeDocker(privileged: string): void {
    const script = `#!/bin/sh
printf '%s\\n' "$*" >> "$T/calls"
case "$*" in
  "create --privileged"*) echo ${JSON.stringify(privileged)} >&2; exit 1 ;;
esac
exit 0
`;
    fs.writeFileSync(path.join(t, "bin", "docker"), script, { mode: 0o755 });
}

const calls = () => fs.readFileSync(path.join(t, "calls"), "utf8").trim().split("\n");

describe("hdh_restart", () => {
    test("runs the user's restart command as given, and counts the restart", () => {
        const command = `echo "it's restarted" > ${path.join(t, "out")}`;
        const r = run(`${dockerFunctions(command).replace(RECORD_DIR, t)}\nhdh_restart`);
        expect(r.status).toBe(0);
        expect(fs.readFileSync(path.join(t, "out"), "utf8")).toBe("it's restarted\n");
        expect(fs.readFileSync(path.join(t, "restarts.log"), "utf8")).toBe("restart\n");
    });
});

describe("hdh_canary", () => {
    const image = "registry.example:5000/team/busy box's:1";
    const script = (alias: string) => `${canaryScript(image, alias)}\nhdh_canary`;

    test("passes when a compliant container runs and our plugin refuses the privileged one", () => {
        fakeDocker(
            "Error response from daemon: authorization denied by plugin hdh-authz: privileged (rule privileged)",
        );
        expect(run(script("hdh-authz")).status).toBe(0);
        expect(calls()).toEqual([
            `image inspect ${image}`,
            `run --rm --user 65534:65534 --network none ${image} true`,
            `create --privileged ${image} true`,
        ]);
    });

    test("fails when the privileged container fails for another reason than our plugin", () => {
        fakeDocker("Error response from daemon: authorization denied by plugin other-authz: no");
        const r = run(script("hdh-authz"));
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("canary: the privileged container failed, but not by the plugin:");
    });
});

describe("hdh_close_socket / hdh_reopen_socket", () => {
    test("close leaves the socket to root and notes its mode once; reopen restores it", () => {
        const sock = path.join(t, "docker.sock");
        fs.writeFileSync(sock, "");
        fs.chmodSync(sock, 0o660);
        const prelude = `${dockerFunctions().replace(RECORD_DIR, t)}\nHDH_SOCK=${sock}\n${socketFunctions}`;
        const mode = () => (fs.statSync(sock).mode & 0o777).toString(8);
        expect(run(`${prelude}\nhdh_close_socket; hdh_close_socket`).status).toBe(0);
        expect(mode()).toBe("600");
        expect(fs.readFileSync(path.join(t, "socket-mode"), "utf8")).toMatch(/^660 /); // the first close's
        expect(run(`${prelude}\nhdh_reopen_socket`).status).toBe(0);
        expect(mode()).toBe("660");
        expect(fs.existsSync(path.join(t, "socket-mode"))).toBe(false);
    });
});
