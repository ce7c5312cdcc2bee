import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, pulumiEnv } from "./support";

// State on a team backend: our private PostgreSQL (Debian's package, scripts/backend/postgres.sh) as the Pulumi
// CLI's self-managed postgres:// backend, stack locks under two concurrent applies (scripts/backend/lock.sh), a
// stale lock left by a killed run, and the policy pack run by our language host's RunPlugin. Local programs only:
// no fleet host is touched.

jest.setTimeout(240_000);

const POSTGRES = path.join(ROOT, "scripts/backend/postgres.sh");
const LOCK = path.join(ROOT, "scripts/backend/lock.sh");
const POLICY = path.join(ROOT, "scripts/pipeline/policy-pack.sh");
const HOST = os.hostname();
const EX_HELD = 75;
const EX_STALE = 76;

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    ms: number;
    pid: number;
}

/** Starts a command; the promise settles when it exits. */
function start(
    cmd: string,
    args: string[],
    opts: { cwd: string; env: NodeJS.ProcessEnv },
): { pid: number; done: Promise<Run> } {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    const done = new Promise<Run>((resolve) =>
        child.on("close", (code, signal) => {
            const r = { code: code ?? (signal ? 128 : -1), stdout, stderr, ms: Date.now() - t0, pid: child.pid ?? -1 };
            if (process.env.HDH_TEST_VERBOSE)
                console.log(`$ ${cmd} ${args.join(" ")} -> ${r.code}\n${stdout}${stderr}`);
            resolve(r);
        }),
    );
    return { pid: child.pid ?? -1, done };
}

const sh = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) => {
    const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 180_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The slow local program: `count` dynamic resources whose create/update sleep, journaling when they work. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const config = new pulumi.Config();
const count = config.getNumber("count") ?? 2;
const sleepMs = config.getNumber("sleepMs") ?? 5000;
const journal = config.require("journal");
const run = process.env.HDH_RUN_ID ?? "none";
const work = async (kind, inputs) => {
    const fs = require("fs");
    const note = (phase) => fs.appendFileSync(inputs.journal, \
JSON.stringify({ kind, phase, run: inputs.run, name: inputs.name, t: Date.now() }) + "\\n");
    note("start");
    await new Promise((r) => setTimeout(r, inputs.sleepMs));
    note("end");
};
const provider = {
    async create(inputs) { await work("create", inputs); return { id: inputs.name, outs: inputs }; },
    async update(_id, _olds, news) { await work("update", news); return { outs: news }; },
};
class Slow extends pulumi.dynamic.Resource {
    constructor(name, props, opts) { super(provider, name, props, opts); }
}
const made = [];
for (let i = 0; i < count; i++) made.push(new Slow("slow-" + i, { name: "slow-" + i, sleepMs, journal, run }));
module.exports = { names: made.map((r) => r.id) };
`;

/** A stack's resources of our slow program, from `pulumi stack export`. */
interface Exported {
    resources: { urn: string; type: string; inputs?: Record<string, unknown> }[];
    pending: unknown[];
}

describe("team backend: PostgreSQL (scripts/backend/postgres.sh)", () => {
    let url: string;
    let project: string;
    let env: NodeJS.ProcessEnv;
    const stacks: string[] = [];
    const journalOf = (stack: string) => path.join(project, `journal-${stack}.jsonl`);

    const pulumiIn = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
        sh("pulumi", args, project, { ...env, ...extra });
    const ok = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
        const r = pulumiIn(args, extra);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
        return r.stdout;
    };
    const lock = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
        sh("bash", [LOCK, ...args], project, { ...env, ...extra });
    const lockedRun = (stack: string, runId: string, extra: NodeJS.ProcessEnv = {}) =>
        start("bash", [LOCK, "run", "pulumi", "up", "--yes", "--non-interactive", "--stack", stack], {
            cwd: project,
            env: { ...env, HDH_RUN_ID: runId, ...extra },
        });

    function newStack(name: string, config: Record<string, string> = {}): string {
        const stack = `${name}-${process.pid}`;
        pulumiIn(["stack", "rm", "--yes", "--force", "--stack", stack]);
        ok(["stack", "init", stack]);
        for (const [k, v] of Object.entries({ journal: journalOf(stack), ...config }))
            ok(["config", "set", "--stack", stack, k, v]);
        stacks.push(stack);
        return stack;
    }

    function exported(stack: string): Exported {
        const d = JSON.parse(ok(["stack", "export", "--stack", stack])).deployment;
        return {
            resources: (d.resources ?? []).filter((r: { type: string }) => r.type === "pulumi-nodejs:dynamic:Resource"),
            pending: d.pending_operations ?? [],
        };
    }

    function journal(stack: string): { kind: string; phase: string; run: string; name: string; t: number }[] {
        const file = journalOf(stack);
        return fs.existsSync(file)
            ? fs
                  .readFileSync(file, "utf8")
                  .trim()
                  .split("\n")
                  .filter(Boolean)
                  .map((l) => JSON.parse(l))
            : [];
    }

    /** Each run's span of provider work [first start, last end]; spans of different runs must not overlap. */
    function spans(stack: string): Map<string, [number, number]> {
        const out = new Map<string, [number, number]>();
        for (const e of journal(stack)) {
            const s = out.get(e.run) ?? [Infinity, -Infinity];
            out.set(e.run, [Math.min(s[0], e.t), Math.max(s[1], e.t)]);
        }
        return out;
    }
    function expectNoInterleaving(stack: string): void {
        const list = [...spans(stack).entries()].sort((a, b) => a[1][0] - b[1][0]);
        for (let i = 1; i < list.length; i++) expect(list[i][1][0]).toBeGreaterThanOrEqual(list[i - 1][1][1]);
    }

    /** Waits until lock.sh status reports the stack held (exit 75); returns what it printed. */
    async function heldLock(stack: string): Promise<string> {
        for (let i = 0; i < 150; i++) {
            const r = lock(["status", "--stack", stack]);
            if (r.code === EX_HELD) return r.stdout;
            await sleep(200);
        }
        throw new Error(`stack ${stack} never got locked`);
    }

    beforeAll(() => {
        execFileSync("bash", [POSTGRES, "start"], { stdio: "inherit" });
        url = execFileSync("bash", [POSTGRES, "url"], { encoding: "utf8" }).trim();
        project = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-backend-"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
        fs.writeFileSync(
            path.join(project, "Pulumi.yaml"),
            "name: hdh-backend-e2e\nruntime:\n  name: nodejs\nmain: index.js\n",
        );
        fs.writeFileSync(path.join(project, "index.js"), PROGRAM);
        env = { ...pulumiEnv(), PULUMI_BACKEND_URL: url };
    });

    afterAll(() => {
        if (!project) return;
        for (const s of stacks) {
            pulumiIn(["cancel", "--yes", "--stack", s]);
            pulumiIn(["stack", "rm", "--yes", "--force", "--stack", s]);
        }
        fs.rmSync(project, { recursive: true, force: true });
    });

    test("the URL names the database and a 0600 password file, never the password; status says where it runs", () => {
        expect(url).toMatch(/^postgres:\/\/hdh@127\.0\.0\.1:\d+\/hdh_pulumi\?sslmode=disable&passfile=\/\S+\/pgpass$/);
        const passfile = url.split("passfile=")[1];
        expect(fs.statSync(passfile).mode & 0o777).toBe(0o600);
        const password = fs.readFileSync(passfile, "utf8").trim().split(":").pop() as string;
        expect(password).toMatch(/^[0-9a-f]{64}$/);
        expect(url).not.toContain(password);
        expect(execFileSync("bash", [POSTGRES, "status"], { encoding: "utf8" })).toMatch(/running on 127\.0\.0\.1:\d+/);
        // A second start is a no-op, and fast.
        const t0 = Date.now();
        execFileSync("bash", [POSTGRES, "start"]);
        expect(Date.now() - t0).toBeLessThan(2000);
    });

    test("pulumi login <url>, stack init and up keep the state in PostgreSQL", () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-pulumi-home-"));
        try {
            const { PULUMI_BACKEND_URL: _unused, ...noBackend } = env;
            const asUser = { ...noBackend, PULUMI_HOME: home };
            // A fresh Pulumi home gets our language host and dynamic-provider launcher as setup installs them.
            execFileSync("bash", [path.join(ROOT, "scripts/toolchain.sh"), "plugins"], {
                env: asUser,
                stdio: "inherit",
            });
            const login = sh("pulumi", ["login", url], project, asUser);
            expect(login.code).toBe(0);
            expect(login.stdout + login.stderr).toContain("Logged in to");
            const whoami = sh("pulumi", ["whoami", "--verbose"], project, asUser).stdout;
            expect(whoami).toContain(`Backend URL: ${url}`);
            const stack = `login-${process.pid}`;
            stacks.push(stack);
            expect(sh("pulumi", ["stack", "init", stack], project, asUser).code).toBe(0);
            for (const [k, v] of Object.entries({ journal: journalOf(stack), count: "1", sleepMs: "0" }))
                sh("pulumi", ["config", "set", "--stack", stack, k, v], project, asUser);
            const up = sh("pulumi", ["up", "--yes", "--stack", stack], project, asUser);
            expect(up.code).toBe(0);
            expect(up.stdout).toMatch(/\+ 2 created/); // the stack and slow-0
            // The state is rows of table pulumi_state (created by the CLI at first use), keyed like the file layout.
            const keys = execFileSync(
                "bash",
                [POSTGRES, "psql", "-tAc", `select key from pulumi_state where key like '%/${stack}%' order by key`],
                { encoding: "utf8" },
            );
            expect(keys).toContain(`hdh_pulumi/.pulumi/stacks/hdh-backend-e2e/${stack}.json`);
            expect(keys).toMatch(
                new RegExp(`hdh_pulumi/\\.pulumi/history/hdh-backend-e2e/${stack}/${stack}-\\d+\\.history\\.json`),
            );
            // The login is remembered as the URL itself: with the passfile form, no password lands in credentials.json.
            expect(JSON.parse(fs.readFileSync(path.join(home, "credentials.json"), "utf8")).current).toBe(url);
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });

    test(
        "two applies on one stack: the second is refused at once naming the holder, " + "and they never interleave",
        async () => {
            const stack = newStack("race", { count: "2", sleepMs: "10000" }); // A outlasts B on a busy machine
            const a = lockedRun(stack, "A");
            const status = await heldLock(stack);
            const holder =
                /held by (\S+)@(\S+) \(pid (\d+)\), taken (\S+), \d+s ago: that pulumi is still running/.exec(status);
            expect(holder).not.toBeNull();
            const [, , host, pid] = holder as RegExpExecArray;
            expect(host).toBe(HOST);

            const b = await lockedRun(stack, "B").done;
            const aDone = await Promise.race([a.done.then(() => true), sleep(0).then(() => false)]);
            expect(aDone).toBe(false); // refused while A still applies
            expect(b.code).toBe(EX_HELD);
            expect(b.ms).toBeLessThan(10_000);
            // The CLI's own refusal names holder and time; ours adds the age and that the holder is alive.
            expect(b.stderr).toContain(
                "error: the stack is currently locked by 1 lock(s). " +
                    "Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
            );
            expect(b.stderr).toMatch(new RegExp(`created by \\S+@${HOST} \\(pid ${pid}\\) at \\d{4}-\\d\\d-\\d\\dT`));
            expect(b.stderr).toMatch(
                new RegExp(
                    `lock: stack '${stack}' is locked; refused:\\n  held by \\S+@${HOST} ` +
                        `\\(pid ${pid}\\), taken \\S+, \\d+s ago: that pulumi is still running`,
                ),
            );
            expect(b.stderr).not.toMatch(/postgres:\/\/hdh:[^*]/);

            const ra = await a.done;
            expect(ra.code).toBe(0);
            const state = exported(stack);
            expect(state.resources.map((r) => r.urn.split("::").pop()).sort()).toEqual(["slow-0", "slow-1"]);
            expect(state.resources.map((r) => r.inputs?.run)).toEqual(["A", "A"]);
            expect(state.pending).toEqual([]);
            expect([...spans(stack).keys()]).toEqual(["A"]); // B never reached a provider
            expect(JSON.parse(ok(["stack", "history", "--json", "--stack", stack]))).toHaveLength(1);
        },
    );

    test("two applies started in the same instant: exactly one applies, the other is refused", async () => {
        const stack = newStack("same-instant", { count: "2", sleepMs: "4000" });
        const [x, y] = await Promise.all([lockedRun(stack, "X").done, lockedRun(stack, "Y").done]);
        expect([x.code, y.code].sort()).toEqual([0, EX_HELD]);
        const [won, lost] = x.code === 0 ? ["X", y] : ["Y", x];
        expect(lost.stderr).toMatch(/held by \S+ \(pid \d+\), taken \S+, \d+s ago: that pulumi is still running/);
        const state = exported(stack);
        expect(state.resources.map((r) => r.inputs?.run)).toEqual([won, won]);
        expect([...spans(stack).keys()]).toEqual([won]);
        expect(state.pending).toEqual([]);
    });

    test("HDH_LOCK_WAIT: the second apply waits for the first, then applies after it", async () => {
        const stack = newStack("wait", { count: "2", sleepMs: "4000" });
        const a = lockedRun(stack, "A");
        await heldLock(stack);
        const b = await lockedRun(stack, "B", { HDH_LOCK_WAIT: "120", HDH_LOCK_POLL: "1" }).done;
        const ra = await a.done;
        expect(ra.code).toBe(0);
        expect(b.code).toBe(0);
        expect(b.stderr).toMatch(/lock: stack '\S+' is locked; waiting \(\d+s of 120s\):\n  held by/);
        expect(
            journal(stack)
                .filter((e) => e.phase === "start")
                .map((e) => e.run)
                .sort(),
        ).toEqual(["A", "A", "B", "B"]);
        expectNoInterleaving(stack);
        const history = JSON.parse(ok(["stack", "history", "--json", "--stack", stack])) as {
            startTime: string;
            endTime: string;
        }[];
        expect(history).toHaveLength(2);
        const [older, newer] = history.sort((p, q) => Date.parse(p.startTime) - Date.parse(q.startTime));
        expect(Date.parse(newer.startTime)).toBeGreaterThanOrEqual(Date.parse(older.endTime));
        expect(exported(stack).resources.map((r) => r.inputs?.run)).toEqual(["B", "B"]);
    });

    test("a killed run's stale lock is reported with its age and cleared by the documented command", async () => {
        const stack = newStack("stale", { count: "2", sleepMs: "6000" });
        ok(["up", "--yes", "--stack", stack], { HDH_RUN_ID: "first" });
        // A run killed mid-update (SIGKILL: nothing of it gets to clean up).
        const killed = start("pulumi", ["up", "--yes", "--non-interactive", "--stack", stack], {
            cwd: project,
            env: { ...env, HDH_RUN_ID: "killed" },
        });
        await heldLock(stack);
        for (let i = 0; i < 100 && !journal(stack).some((e) => e.run === "killed"); i++) await sleep(200);
        const children = sh("pgrep", ["-P", String(killed.pid)], project, env)
            .stdout.split("\n")
            .filter(Boolean)
            .map(Number);
        const langHosts = children.filter((p) => {
            try {
                return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("language-host.js");
            } catch {
                return false;
            }
        });
        process.kill(killed.pid, "SIGKILL");
        await killed.done;
        // Its dynamic-provider host is @pulumi/pulumi's and would sleep on as an orphan: ended here, by pid.
        for (const p of children.filter((c) => !langHosts.includes(c))) {
            try {
                process.kill(p, "SIGKILL");
            } catch {
                /* gone */
            }
        }
        // Exited: gone, or a zombie (an orphan waits for this machine's init, which reaps seconds late).
        const exited = (p: number) => {
            try {
                return fs
                    .readFileSync(`/proc/${p}/stat`, "utf8")
                    .replace(/^.*\) /s, "")
                    .startsWith("Z");
            } catch {
                return true;
            }
        };
        for (let i = 0; i < 50 && !langHosts.every(exited); i++) await sleep(200);

        try {
            // Our language host notices its CLI is gone and exits.
            expect(langHosts.length).toBeGreaterThan(0);
            for (const p of langHosts) expect(exited(p)).toBe(true);

            const next = await lockedRun(stack, "next").done;
            expect(next.code).toBe(EX_STALE);
            expect(next.stderr).toContain("error: the stack is currently locked by 1 lock(s).");
            const stale = new RegExp(
                `STALE: held by \\S+@${HOST} \\(pid ${killed.pid}\\), taken \\S+, (\\d+)s ago: ` +
                    `pid ${killed.pid} is no longer running on ${HOST}`,
            );
            expect(next.stderr).toMatch(stale);
            expect(Number((stale.exec(next.stderr) as RegExpExecArray)[1])).toBeGreaterThanOrEqual(2);
            expect(next.stderr).toContain(
                `lock.sh clear --stack ${stack}\` (it runs the CLI's own \`pulumi cancel --stack ${stack} --yes\``,
            );
            expect(next.ms).toBeLessThan(10_000); // no waiting on a stale lock, even if asked
            const waited = await lockedRun(stack, "next", { HDH_LOCK_WAIT: "60" }).done;
            expect(waited.code).toBe(EX_STALE);
            expect(waited.ms).toBeLessThan(10_000);

            const status = lock(["status", "--stack", stack]);
            expect(status.code).toBe(EX_STALE);
            expect(status.stdout).toMatch(stale);

            const clear = lock(["clear", "--stack", stack]);
            expect(clear.code).toBe(0);
            expect(clear.stderr).toContain(`The currently running update for '${stack}' has been canceled!`);
            expect(clear.stderr).toContain(`lock: stack '${stack}': lock removed (pulumi cancel)`);
            expect(lock(["status", "--stack", stack]).stdout).toContain(`lock: stack '${stack}' is not locked`);

            ok(["refresh", "--yes", "--clear-pending-creates", "--stack", stack]);
            const after = await lockedRun(stack, "after").done;
            expect(after.code).toBe(0);
            const state = exported(stack);
            expect(state.resources.map((r) => r.urn.split("::").pop()).sort()).toEqual(["slow-0", "slow-1"]);
            expect(state.resources.map((r) => r.inputs?.run)).toEqual(["after", "after"]);
            expect(state.pending).toEqual([]);
        } finally {
            for (const p of children) {
                try {
                    process.kill(p, "SIGKILL");
                } catch {
                    /* gone */
                }
            }
        }
    });

    test("clear refuses while the holder still runs", async () => {
        const stack = newStack("live", { count: "1", sleepMs: "5000" });
        const a = lockedRun(stack, "A");
        await heldLock(stack);
        const clear = lock(["clear", "--stack", stack]);
        expect(clear.code).toBe(EX_HELD);
        expect(clear.stderr).toMatch(/refusing: the holder may still be running/);
        expect((await a.done).code).toBe(0);
    });
});

/** Fake resources with the component's type names (nothing is touched), made bad on demand by stack config. */
const POLICY_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const config = new pulumi.Config();
const bad = new Set((config.get("bad") ?? "").split(",").filter(Boolean));
const provider = { async create(inputs) { return { id: inputs.label ?? "x", outs: inputs }; } };
const step = (type) => class extends pulumi.dynamic.Resource {
    constructor(name, props, opts) { super(provider, name, props, \
{ ...opts, additionalSecretOutputs: ["connection"] }, "hardened-docker-host", type); }
};
const [SubordinateIds, DaemonConfig, RemoteFiles, DockerPlugin, Authorization] =
    ["SubordinateIds", "DaemonConfig", "RemoteFiles", "DockerPlugin", "Authorization"].map(step);
const fleet = new pulumi.ComponentResource("hardened-docker-host:index:HardenedDockerFleet", "prod", {});
const policy = { "authz.rego": "package docker.authz\\n", "data.json": '{"bind_mounts":["/etc/localtime"]}' };
for (const name of ["h1", "h2", "h3"]) {
    const host = new pulumi.ComponentResource("hardened-docker-host:index:HardenedDockerHost", name, \
{}, { parent: fleet });
    const opts = { parent: host };
    const connection = pulumi.secret({ host: "127.0.0.1", port: 22, user: "root", label: name, \
privateKey: "PRIVATE-KEY-MATERIAL-" + name,
        ...(bad.has("insecure-" + name) ? { insecureSkipHostKeyCheck: true } : { hostKey: "ssh-ed25519 AAAAfake" }) });
    new SubordinateIds(name + "-subids", { connection, owner: "dockremap", count: 65536 }, opts);
    new DaemonConfig(name + "-daemon", { connection, \
settings: bad.has("noremap-" + name) ? { "log-level": "info" } : { "userns-remap": "dockremap" },
        dockerVersion: bad.has("old-" + name) ? "19.03.15" : "20.10.24+dfsg1" }, opts);
    new RemoteFiles(name + "-policy", { connection, directory: "/etc/docker/policies",
        files: bad.has("policy-" + name) ? { ...policy, "data.json": '{"bind_mounts":["/"]}' } : policy }, opts);
    new DockerPlugin(name + "-plugin", { connection, \
reference: "localhost:5000/hdh/opa-authz:" + (bad.has("latest-" + name) ? "latest" : "0.3.0") }, opts);
    if (!bad.has("noauthz-" + name)) new Authorization(name + "-authz", { connection, alias: "hdh-authz" }, opts);
}
`;

describe("policy pack (policypack/, started through our language host's RunPlugin)", () => {
    let project: string;
    let env: NodeJS.ProcessEnv;
    const stack = `policy-${process.pid}`;
    const pulumiIn = (args: string[]) => sh("pulumi", args, project, env);

    beforeAll(() => {
        execFileSync("bash", [POSTGRES, "start"], { stdio: "inherit" });
        project = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-policy-"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
        fs.writeFileSync(
            path.join(project, "Pulumi.yaml"),
            "name: hdh-policy-e2e\nruntime:\n  name: nodejs\nmain: index.js\n",
        );
        fs.writeFileSync(path.join(project, "index.js"), POLICY_PROGRAM);
        env = {
            ...pulumiEnv(),
            PULUMI_BACKEND_URL: execFileSync("bash", [POSTGRES, "url"], { encoding: "utf8" }).trim(),
            HDH_TEST_MARK: stack,
        };
        pulumiIn(["stack", "rm", "--yes", "--force", "--stack", stack]);
        expect(pulumiIn(["stack", "init", stack]).code).toBe(0);
    });
    afterAll(() => {
        if (!project) return;
        pulumiIn(["stack", "rm", "--yes", "--force", "--stack", stack]);
        fs.rmSync(project, { recursive: true, force: true });
    });

    const check = (bad: string, extra: string[] = []) => {
        expect(pulumiIn(["config", "set", "--stack", stack, "bad", bad]).code).toBe(0);
        return sh("bash", [POLICY, "--stack", stack, "--cwd", project, ...extra], project, env);
    };

    test("a compliant fleet passes", () => {
        const r = check("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/✅ hardened-docker-host@v0\.1\.0 \(local: .*policypack\)/);
        expect(r.stderr).toContain(`policy-pack: stack ${stack} complies`);
    });

    test("each mandatory rule blocks the preview with its message; the Docker floor only advises", () => {
        const r = check("insecure-h1,noremap-h2,noauthz-h2,policy-h3,latest-h1,old-h3");
        expect(r.code).toBe(1);
        const out = r.stdout + r.stderr;
        expect(out).toContain("policy-pack: 5 mandatory, 1 advisory violation(s)");
        expect(out).toContain(
            "[mandatory] pinned-host-key: host h1: connection.insecureSkipHostKeyCheck is set: " +
                "the host's identity is not verified (pin connection.hostKey instead)",
        );
        expect(out).toContain(
            '[mandatory] userns-remap-on: host h2: settings["userns-remap"] is not set: ' +
                "root in a container would be root on the host",
        );
        expect(out).toContain(
            "[mandatory] authorization-on: host h2: no Authorization step: " +
                "Docker would not enforce the authorization plugin",
        );
        expect(out).toMatch(
            new RegExp(
                /\[mandatory\] same-policy-per-fleet: fleet prod: host h3 gets policy files [0-9a-f]{12},/.source +
                    / not the [0-9a-f]{12} of h1, h2; differing: data\.json/.source,
            ),
        );
        expect(out).toContain(
            "[mandatory] plugin-image-pinned: host h1: " +
                "plugin reference localhost:5000/hdh/opa-authz:latest is :latest: pin a version tag or a digest",
        );
        expect(out).toContain(
            "[advisory] docker-version-floor: host h3: Docker 19.03.15 is older than the floor 20.10.0",
        );
        expect(out).toContain("policy-pack: blocked by mandatory policies");
        expect(out).not.toContain("PRIVATE-KEY-MATERIAL"); // the pack sees the secret connection, never prints it
    });

    test("the Docker floor comes from the pack's config and never blocks", () => {
        const cfg = path.join(project, "pack-config.json");
        fs.writeFileSync(cfg, JSON.stringify({ "docker-version-floor": { minimumVersion: "24.0.0" } }));
        const r = check("", ["--config", cfg]);
        expect(r.code).toBe(0);
        expect(r.stderr).toContain("policy-pack: 0 mandatory, 3 advisory violation(s)");
        expect(r.stderr).toContain(
            "[advisory] docker-version-floor: host h1: Docker 20.10.24+dfsg1 is older than the floor 24.0.0",
        );
    });

    test("no policy-pack process outlives the preview", async () => {
        // Ours only: the pack inherits the CLI's environment, which carries this suite's mark.
        const ours = () =>
            fs
                .readdirSync("/proc")
                .filter((p) => /^\d+$/.test(p))
                .filter((p) => {
                    try {
                        return (
                            fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("run-policy-pack") &&
                            fs.readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(`HDH_TEST_MARK=${stack}`)
                        );
                    } catch {
                        return false;
                    }
                });
        // A pack told to stop has up to 3 s before it is killed (language-host.js): wait a little longer.
        for (let i = 0; i < 25 && ours().length > 0; i++) await new Promise((r) => setTimeout(r, 200));
        expect(ours()).toEqual([]);
    });
});
