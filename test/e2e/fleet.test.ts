import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, daemonJsonChangedAt, inventory, onHost, pulumi, pulumiOk, removeStack } from "./support";
import { dockerdPid } from "./docker";
import { WARNED_PREFIX, warnedFolder } from "../../components/plan/warnedRuns";

// HardenedDockerFleet end to end on 6 fleet hosts, through the real `pulumi` CLI: rollout batches (the first
// host alone, then 25% at a time: [h1] [h2 h3] [h4 h5] [h6]), a failure halting later batches, an unreachable
// host skipped and converged once back, and one ID range on hosts whose /etc/subuid differ.
const fleet = inventory();
const hosts = fleet.hosts.map((h) => h.name).slice(0, 6);
const stack = `fleet-${process.pid}`;
const run = (args: string[]) => pulumiOk(ROOT, [...args, "--stack", stack]);
const fleetScript = (...args: string[]) =>
    require("node:child_process").execFileSync("bash", [path.join(ROOT, "scripts/fleet.sh"), ...args]);
const daemonJson = (h: string) => JSON.parse(onHost(h, "cat /etc/docker/daemon.json")) as Record<string, unknown>;
const remapLine = (h: string, file: string) => onHost(h, `grep '^dockremap:' ${file} || true`).trim();
const FAULT = "/etc/default/docker";

/**
 * Writes `message` as already warned by a run that is over, under each of the next 2000 PIDs the kernel hands out
 * (the next CLI gets one of them), in the folder of such files; returns them.
 */
function seedWarnedFiles(message: string): string[] {
    const dir = warnedFolder(os.tmpdir(), process.getuid!());
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const last = Number(fs.readFileSync("/proc/sys/kernel/ns_last_pid", "utf8"));
    const pidMax = Number(fs.readFileSync("/proc/sys/kernel/pid_max", "utf8"));
    const files: string[] = [];
    for (let n = 1; n <= 2000; n++) {
        const pid = last + n < pidMax ? last + n : last + n - pidMax + 300; // the kernel wraps to 300
        const file = path.join(dir, `${WARNED_PREFIX}${pid}`);
        if (fs.existsSync(`/proc/${pid}`) || fs.existsSync(file)) continue;
        fs.writeFileSync(file, `${message}\n`);
        files.push(file);
    }
    return files;
}

beforeAll(() => {
    expect(hosts).toHaveLength(6);
    removeStack(ROOT, stack);
    run(["stack", "init"]);
    const subset = `.fleet/inventory-fleet-suite.json`;
    fs.writeFileSync(
        path.join(ROOT, subset),
        JSON.stringify({ ...fleet, hosts: fleet.hosts.filter((h) => hosts.includes(h.name)) }),
    );
    run(["config", "set", "inventory", subset]);
    run(["config", "set", "--path", "users.h2", "deploy"]);
    run(["config", "set", "--path", "daemonConfig.insecure-registries[0]", fleet.registry]);
});

afterAll(() => {
    onHost("h2", `rm -f ${FAULT}`);
    fleetScript("sshd", "h4", "start");
    pulumi(ROOT, ["destroy", "--yes", "--stack", stack]);
    removeStack(ROOT, stack);
});

describe("HardenedDockerFleet on 6 hosts", () => {
    test("a config mistake fails at preview in one line naming the host and the key, nothing changes", () => {
        run(["config", "set", "--path", "hostDefaults.prot", "22"]);
        const r = pulumi(ROOT, ["preview", "--stack", stack]);
        run(["config", "rm", "--path", "hostDefaults.prot"]);
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/host h1: prot: unknown key\. Fix: did you mean port\?/);
        expect(r.stdout + r.stderr).not.toMatch(/^\s+at .*\.(ts|js):\d+/m);
    });

    test("first up: every host hardened with the same ID range, though h2's /etc/subuid started with alice's", () => {
        expect(onHost("h2", "cat /etc/subuid")).toMatch(/^alice:/m);
        run(["up", "--yes", "--skip-preview"]);
        const ranges = new Set(hosts.flatMap((h) => [remapLine(h, "/etc/subuid"), remapLine(h, "/etc/subgid")]));
        expect(ranges.size).toBe(1);
        const [range] = [...ranges];
        expect(range).toMatch(/^dockremap:\d+:65536$/);
        const start = Number(range.split(":")[1]);
        expect(JSON.parse(run(["stack", "output", "idRangeStart"]))).toBe(start);
        for (const h of hosts) expect(daemonJson(h)["authorization-plugins"]).toEqual(["hdh-authz"]);
    });

    test("a second up changes nothing and restarts no Docker", () => {
        const pids = hosts.map(dockerdPid);
        const out = run(["up", "--yes", "--skip-preview"]);
        expect(out).toMatch(/\d+ unchanged/);
        expect(out).not.toMatch(/ (created|updated|deleted|replaced)/);
        expect(hosts.map(dockerdPid)).toEqual(pids);
    });

    test(
        "a daemonConfig change rolls in batches: " +
            "each batch starts after the one before ended (hosts' own records)",
        () => {
            run(["config", "set", "--path", "daemonConfig.max-concurrent-uploads", "3"]);
            run(["up", "--yes", "--skip-preview"]);
            const at = Object.fromEntries(hosts.map((h) => [h, daemonJsonChangedAt(h)]));
            const batches = JSON.parse(run(["stack", "output", "batches"])) as string[][];
            expect(batches).toEqual([["h1"], ["h2", "h3"], ["h4", "h5"], ["h6"]]);
            for (let i = 1; i < batches.length; i++) {
                expect(Math.min(...batches[i].map((h) => at[h]))).toBeGreaterThan(
                    Math.max(...batches[i - 1].map((h) => at[h])),
                );
            }
            for (const h of hosts) expect(daemonJson(h)["max-concurrent-uploads"]).toBe(3);
        },
    );

    test(
        "a host whose dockerd fails to restart halts later batches: " + "earlier hosts hardened, later ones untouched",
        () => {
            // The fault, on h2 only: dockerd refuses to start while daemon.json sets log-level
            // (a key that needs a restart).
            onHost(
                "h2",
                `cat > ${FAULT} <<'EOS'
if grep -q log-level /etc/docker/daemon.json 2>/dev/null; then DOCKER_OPTS="--hdh-injected-fault"; fi
EOS`,
            );
            const untouched = Object.fromEntries(
                ["h4", "h5", "h6"].map((h) => [h, onHost(h, "cat /etc/docker/daemon.json")]),
            );
            run(["config", "set", "--path", "daemonConfig.log-level", "info"]);
            const r = pulumi(ROOT, ["up", "--yes", "--skip-preview", "--stack", stack], {
                PULUMI_CONTINUE_ON_ERROR: "true",
            });
            const out = r.stdout + r.stderr;
            expect(r.code).not.toBe(0);
            expect(out).toMatch(/host h2: .*(Docker|dockerd)/);
            expect(out).toMatch(
                new RegExp(
                    /rollout batch 2 of 4: 1 host\(s\) failed,/.source +
                        / more than rollout\.maxFailures \(0\): later batches halted\./.source +
                        / Done: h1, h3\. Failed: h2\. .*Not started: h4, h5, h6/.source,
                ),
            );
            expect(daemonJson("h1")["log-level"]).toBe("info");
            expect(daemonJson("h3")["log-level"]).toBe("info");
            expect(daemonJson("h2")["log-level"]).toBeUndefined(); // rolled back
            expect(onHost("h2", "docker version -f '{{.Server.Version}}'").trim()).not.toBe(""); // and healthy
            for (const h of ["h4", "h5", "h6"]) expect(onHost(h, "cat /etc/docker/daemon.json")).toBe(untouched[h]);

            onHost("h2", `rm -f ${FAULT}`);
            run(["up", "--yes", "--skip-preview"]);
            for (const h of hosts) expect(daemonJson(h)["log-level"]).toBe("info");
        },
    );

    test(
        "an unreachable host: preview warns once and shows the others; " +
            "up converges the others and names it; it converges once back",
        () => {
            fleetScript("sshd", "h4", "stop");
            run(["config", "set", "--path", "daemonConfig.max-concurrent-downloads", "5"]);
            const preview = pulumi(ROOT, ["preview", "--diff", "--stack", stack]);
            const shown = preview.stdout + preview.stderr;
            expect(preview.code).toBe(0);
            for (const h of hosts.filter((x) => x !== "h4"))
                expect(shown).toMatch(new RegExp(`~ .*DaemonConfig: \\(update\\)[\\s\\S]*\\[urn=.*::${h}-daemon\\]`));
            const warnings = shown
                .split("\n")
                .filter((l) => /warning: host h4: connection\.host: cannot connect/.test(l));
            expect(warnings.length).toBeGreaterThanOrEqual(1);
            expect(new Set(warnings.map((l) => l.trim().replace(/^.*warning: /, ""))).size).toBe(1);
            expect(shown).not.toMatch(/^\s+at .*\.(ts|js):\d+/m);

            // PIDs are reused: an earlier run's memory of this warning, left under any PID the next CLI may get,
            // must not silence it.
            const seeded = seedWarnedFiles(warnings[0].trim().replace(/^.*warning: /, ""));
            try {
                const again = pulumi(ROOT, ["preview", "--stack", stack]);
                expect(again.stdout + again.stderr).toMatch(/warning: host h4: connection\.host: cannot connect/);
            } finally {
                for (const f of seeded) fs.rmSync(f, { force: true });
            }

            const up = pulumi(ROOT, ["up", "--yes", "--skip-preview", "--stack", stack]);
            expect(up.code).not.toBe(0);
            expect(up.stdout + up.stderr).toMatch(/fleet not converged: h4 .*unreachable: h4/);
            for (const h of hosts.filter((x) => x !== "h4")) expect(daemonJson(h)["max-concurrent-downloads"]).toBe(5);
            expect(daemonJson("h4")["max-concurrent-downloads"]).toBeUndefined();

            fleetScript("sshd", "h4", "start");
            run(["up", "--yes", "--skip-preview"]);
            expect(daemonJson("h4")["max-concurrent-downloads"]).toBe(5);
        },
    );

    test("the report names a host drifted by a hand edit and gives the CIS section 2 rows per host", () => {
        onHost("h6", `sed -i 's/"icc": false/"icc": true/' /etc/docker/daemon.json`);
        const out = path.join(ROOT, ".fleet-report", stack);
        const r = require("node:child_process").spawnSync(
            "bash",
            [path.join(ROOT, "scripts/fleet-report.sh"), "--stack", stack, "--out", out],
            { encoding: "utf8", env: { ...process.env } },
        );
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/^h6\s+drifted\b/m);
        expect(r.stdout).toMatch(/h6 drifted: changed on the host: daemon\.json icc/);
        const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
        expect(report.summary.consistent).toBe(false);
        expect(
            report.hosts
                .filter((h: { status: string }) => h.status === "converged")
                .map((h: { name: string }) => h.name),
        ).toEqual(["h1", "h2", "h3", "h4", "h5"]);
        for (const h of report.hosts) {
            expect(h.cis.map((c: { id: string }) => c.id)).toEqual(
                expect.arrayContaining(["2.1", "2.2", "2.9", "2.11", "2.15"]),
            );
            // User namespaces (2.9) and the authorization plugin (2.11) are on everywhere.
            expect(h.cis.find((c: { title: string }) => /user namespace/i.test(c.title)).status).toBe("pass");
            expect(h.cis.find((c: { title: string }) => /authorization/i.test(c.title)).status).toBe("pass");
        }
        expect(
            report.hosts.find((h: { name: string }) => h.name === "h6").cis.find((c: { id: string }) => c.id === "2.2")
                .status,
        ).toBe("warn");
        expect(fs.readFileSync(path.join(out, "report.xml"), "utf8")).toMatch(
            /<testcase [^>]*name="h6"[^>]*>\s*<failure/,
        );
        expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toMatch(/\| 2\.2 /);
        run(["up", "--yes", "--skip-preview"]);
        expect(daemonJson("h6").icc).toBe(false);
    });
});
