import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RECORD_DIR, b64, dockerFunctions } from "../../components/host/dockerd";
import { runHostShell } from "./hostShell";

// docker.sh's daemon.json functions under a real sh: a fake dockerd validates (refusing files that hold "bad"), a
// fake docker answers while Docker is "up" (never while daemon.json holds "dies"), the restart command is a
// variable like any value, and `sleep` only records: a failed change must leave the previous file and say so.

const FAKE_DOCKERD = `#!/bin/sh
case "$1" in
  --help) echo "  --validate   Validate daemon configuration and exit" ;;
  --validate) if grep -q bad "$3"; then echo "unable to configure the Docker daemon: bad key" >&2; exit 1; fi ;;
esac
`;
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$T/docker-calls"
if [ -f "$T/down" ] || grep -q dies "$T/daemon.json" 2>/dev/null; then
  echo "Cannot connect to the Docker daemon" >&2; exit 1
fi
echo "Server: 20.10.24"
`;

let t: string;
beforeEach(() => {
    t = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-daemon-json-"));
    fs.mkdirSync(path.join(t, "bin"));
    fs.writeFileSync(path.join(t, "bin", "dockerd"), FAKE_DOCKERD, { mode: 0o755 });
    fs.writeFileSync(path.join(t, "bin", "docker"), FAKE_DOCKER, { mode: 0o755 });
});
afterEach(() => fs.rmSync(t, { recursive: true, force: true }));

const file = (name: string) => path.join(t, name);
const read = (name: string) => (fs.existsSync(file(name)) ? fs.readFileSync(file(name), "utf8") : undefined);
const restarts = () => (read("restarts.log") ?? "").split("\n").filter(Boolean).length;

function run(body: string, restartCommand = `echo restarted >> ${file("restart-calls")}`) {
    const script = [
        dockerFunctions(restartCommand).replace(RECORD_DIR, t),
        `HDH_DAEMON_JSON=${file("daemon.json")}`,
        'sleep() { echo "$1" >> "$T/sleeps"; }',
        body,
    ].join("\n");
    return runHostShell(script, t, {
        T: t,
        DOCKER_HOST: "unix:///fake.sock", // asked at every try (no socket file to wait for)
        HDH_HEALTH_TRIES: "5",
    });
}

describe("hdh_install_daemon_json", () => {
    test("writes the new file (0644) and keeps the previous one as a backup", () => {
        fs.writeFileSync(file("daemon.json"), '{"old": true}\n');
        expect(run(`hdh_install_daemon_json ${b64('{"new": true}\n')}`).status).toBe(0);
        expect(read("daemon.json")).toBe('{"new": true}\n');
        expect((fs.statSync(file("daemon.json")).mode & 0o777).toString(8)).toBe("644");
        const backups = fs.readdirSync(file("backups"));
        expect(backups).toHaveLength(1);
        expect(read(`backups/${backups[0]}`)).toBe('{"old": true}\n');
        expect(fs.readdirSync(t).filter((n) => n.includes(".hdh-"))).toEqual([]); // no temp file left
    });

    test("a file dockerd refuses is not installed: the old one stays, the step fails saying why", () => {
        fs.writeFileSync(file("daemon.json"), '{"old": true}\n');
        const r = run(`hdh_install_daemon_json ${b64('{"bad": true}\n')}`);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("dockerd --validate refused the new daemon.json");
        expect(read("daemon.json")).toBe('{"old": true}\n');
    });

    test("- removes the file, and a restore brings back the absence as well as a file", () => {
        expect(run(`hdh_install_daemon_json ${b64("{}\n")}; hdh_restore_daemon_json`).status).toBe(0);
        expect(read("daemon.json")).toBeUndefined(); // there was none before
        fs.writeFileSync(file("daemon.json"), '{"old": true}\n');
        expect(run("hdh_install_daemon_json -").status).toBe(0);
        expect(read("daemon.json")).toBeUndefined();
        expect(run("hdh_install_daemon_json -; hdh_restore_daemon_json").status).toBe(0);
    });

    test("keeps the newest 20 backups", () => {
        const body = Array.from({ length: 23 }, (_, i) => `hdh_install_daemon_json ${b64(`{"n": ${i}}\n`)}`);
        // Backups are named by the second and the process: one process per install.
        for (const line of body) expect(run(line).status).toBe(0);
        expect(fs.readdirSync(file("backups")).length).toBeLessThanOrEqual(20);
    });
});

describe("hdh_apply_daemon_json", () => {
    test("restart: installs, restarts once, and returns when Docker answers", () => {
        const r = run(`hdh_apply_daemon_json ${b64('{"icc": false}\n')} restart`);
        expect(r.status).toBe(0);
        expect(read("daemon.json")).toBe('{"icc": false}\n');
        expect(read("restart-calls")).toBe("restarted\n");
        expect(restarts()).toBe(1);
    });

    test("a daemon.json Docker does not come back with is rolled back and Docker restarted with the old one", () => {
        fs.writeFileSync(file("daemon.json"), '{"old": true}\n');
        const r = run(`hdh_apply_daemon_json ${b64('{"dies": true}\n')} restart`);
        expect(r.status).toBe(3);
        expect(read("daemon.json")).toBe('{"old": true}\n');
        expect(restarts()).toBe(2);
        expect(r.stderr).toContain("the previous one was restored and Docker restarted");
    });

    test("when Docker stays down even with the old file, the step says Docker is DOWN", () => {
        fs.writeFileSync(file("daemon.json"), '{"old": true}\n');
        fs.writeFileSync(file("down"), "");
        const r = run(`hdh_apply_daemon_json ${b64('{"icc": false}\n')} restart`);
        expect(r.status).toBe(3);
        expect(read("daemon.json")).toBe('{"old": true}\n');
        expect(r.stderr).toContain("and Docker is DOWN even with the previous one restored");
    });

    test("a restart command that fails is rolled back at once, without the health wait", () => {
        fs.writeFileSync(file("daemon.json"), '{"old": true}\n');
        const command = `grep -q old ${file("daemon.json")}`; // fails with the new file, works with the old one
        const r = run(`hdh_apply_daemon_json ${b64('{"icc": false}\n')} restart`, command);
        expect(r.status).toBe(3);
        expect(read("daemon.json")).toBe('{"old": true}\n');
        expect(r.stderr).toContain("the restart command failed");
        expect(r.stderr).toContain("the previous one was restored and Docker restarted");
        expect(read("sleeps")).toBeUndefined(); // Docker answered at once after the restore: nothing was waited
    });
});
