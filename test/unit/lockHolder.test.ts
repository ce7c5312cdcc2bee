import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// scripts/backend/lock.sh status on a file:// backend: whether a lock's holder on this machine still runs. A
// real process named `pulumi` (a shell script) stands for a CLI that holds the PID the lock names.
const LOCK = path.join(__dirname, "..", "..", "scripts", "backend", "lock.sh");
let dir: string;
let pulumi: ChildProcess;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-lock-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: proj\nruntime: nodejs\n");
    // A script's process is named after the script (and sleep may be a multi-call binary, busybox's).
    fs.writeFileSync(`${dir}/pulumi`, "#!/bin/sh\nsleep 60\n", { mode: 0o755 });
    pulumi = spawn(`${dir}/pulumi`, [], { stdio: "ignore", detached: true });
});

afterAll(() => {
    process.kill(-pulumi.pid!); // its group: the script and its sleep
    fs.rmSync(dir, { recursive: true, force: true });
});

/** `lock.sh status` with one lock on stack dev, taken at `timestamp` by `pid` on this machine. */
function statusWithLock(pid: number, timestamp: string) {
    const locks = path.join(dir, "backend", ".pulumi", "locks", "organization", "proj", "dev");
    fs.rmSync(locks, { recursive: true, force: true });
    fs.mkdirSync(locks, { recursive: true });
    const hostname = os.hostname();
    fs.writeFileSync(path.join(locks, "0f9e.json"), JSON.stringify({ pid, username: "ci", hostname, timestamp }));
    const r = spawnSync("bash", [LOCK, "status", "--stack", "dev", "--cwd", dir], {
        encoding: "utf8",
        env: { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(dir, "backend")}` },
    });
    return { status: r.status, out: r.stdout + r.stderr };
}

const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();

describe("lock.sh status: the holder of a lock on this machine", () => {
    test("a running pulumi that started before the lock was taken holds it", () => {
        const r = statusWithLock(pulumi.pid!, iso(60_000));
        expect(r.out).toMatch(/held by ci@\S+ \(pid \d+\).*that pulumi is still running/);
        expect(r.status).toBe(75);
    });

    test("a pulumi that reuses the PID of a lock taken before it started is another run: the lock is stale", () => {
        const r = statusWithLock(pulumi.pid!, iso(-3_600_000));
        expect(r.out).toMatch(/STALE: held by ci@\S+ \(pid \d+\).*is no longer running/);
        expect(r.out).toContain("lock.sh clear --stack dev");
        expect(r.status).toBe(76);
    });

    test("a PID that no longer runs left a stale lock", () => {
        const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
        const r = statusWithLock(Number(gone), iso(-1_000));
        expect(r.out).toMatch(/STALE/);
        expect(r.status).toBe(76);
    });
});
