import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, inventory, onHost, pulumi, pulumiEnv } from "./support";

// The GitOps pipeline end to end on 6 fleet hosts, through its own scripts (scripts/pipeline/*.sh) as a CI runs
// them, with the stack's state on the team backend: PULUMI_BACKEND_URL from the environment if set, else the
// project's PostgreSQL (scripts/backend/postgres.sh) when there is one, else a file backend of its own.
// review -> a digest grouped across hosts; apply -> only the reviewed plan (refused after a hand edit or when a
// host became unreachable); drift -> the hand edit caught, named and written as JUnit; no secret in any output.
const fleet = inventory();
const hosts = fleet.hosts.map((h) => h.name).slice(0, 6);
const stack = `pipeline-${process.pid}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-pipeline-e2e-"));
const out = (name: string) => path.join(work, "out", name);
const subset = ".fleet/inventory-pipeline-suite.json";
// A passphrase of this run only, so finding it anywhere in the outputs is meaningful.
const passphrase = `e2e-${randomBytes(24).toString("base64url")}`;
const passphraseFile = path.join(work, "passphrase");

/** The backend: the environment's, the project's PostgreSQL, or a file backend in the scratch folder. */
function backendUrl(): { url: string; password?: string } {
    if (process.env.PULUMI_BACKEND_URL) return { url: process.env.PULUMI_BACKEND_URL };
    const postgres = path.join(ROOT, "scripts/backend/postgres.sh");
    if (fs.existsSync(postgres)) {
        const started = execFileSync("bash", [postgres, "start"], { encoding: "utf8" });
        const printed = started
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.startsWith("postgres://"))
            .pop();
        const url = printed ?? execFileSync("bash", [postgres, "url"], { encoding: "utf8" }).trim();
        // The password is in the pgpass file the URL names (passfile=): it must not show up anywhere either.
        const passfile = /[?&]passfile=([^&]+)/.exec(url)?.[1];
        const password =
            passfile && fs.existsSync(decodeURIComponent(passfile))
                ? fs.readFileSync(decodeURIComponent(passfile), "utf8").trim().split(":").slice(4).join(":")
                : undefined;
        return { url, password };
    }
    fs.mkdirSync(path.join(work, "backend"), { recursive: true });
    return { url: `file://${path.join(work, "backend")}` };
}
const backend = backendUrl();

/** The stages' environment, as a CI gives it: no demo passphrase to fall back on. */
function stageEnv(passphraseFrom: "variable" | "file"): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...pulumiEnv(), PULUMI_BACKEND_URL: backend.url, CI: "true" };
    delete env.PULUMI_CONFIG_PASSPHRASE;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (passphraseFrom === "variable") env.PULUMI_CONFIG_PASSPHRASE = passphrase;
    else env.PULUMI_CONFIG_PASSPHRASE_FILE = passphraseFile;
    return env;
}

const pulumiExtra = () => ({ PULUMI_BACKEND_URL: backend.url, PULUMI_CONFIG_PASSPHRASE: passphrase });
const cli = (args: string[]) => {
    const r = pulumi(ROOT, [...args, "--stack", stack], pulumiExtra());
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
};

interface StageRun {
    code: number;
    stdout: string;
    stderr: string;
}

/** Everything the stages printed, for the secret check. */
const printed: { what: string; text: string }[] = [];

function stage(name: "review" | "apply" | "drift", args: string[], passphraseFrom: "variable" | "file"): StageRun {
    const r = spawnSync("bash", [path.join(ROOT, "scripts/pipeline", `${name}.sh`), stack, ...args], {
        cwd: ROOT,
        env: stageEnv(passphraseFrom),
        encoding: "utf8",
        timeout: 20 * 60_000,
        maxBuffer: 256 * 1024 * 1024,
    });
    const run = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    const call = `${name}.sh ${stack} ${args.join(" ")}`;
    printed.push({ what: `${call} (stdout)`, text: run.stdout }, { what: `${call} (stderr)`, text: run.stderr });
    if (process.env.HDH_TEST_VERBOSE) console.log(`$ ${call} -> ${run.code}\n${run.stdout}${run.stderr}`);
    return run;
}

function ok(r: StageRun, what: string): StageRun {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r;
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");
const count = (text: string, part: string) => text.split(part).length - 1;
const daemonJson = (h: string) => JSON.parse(onHost(h, "cat /etc/docker/daemon.json")) as Record<string, unknown>;
const fleetScript = (...args: string[]) => execFileSync("bash", [path.join(ROOT, "scripts/fleet.sh"), ...args]);

beforeAll(() => {
    expect(hosts).toEqual(["h1", "h2", "h3", "h4", "h5", "h6"]);
    fs.writeFileSync(passphraseFile, `${passphrase}\n`, { mode: 0o600 });
    const six = fleet.hosts.filter((h) => hosts.includes(h.name));
    fs.writeFileSync(path.join(ROOT, subset), JSON.stringify({ ...fleet, hosts: six }));
    pulumi(ROOT, ["stack", "rm", "--yes", "--force", "--stack", stack], pulumiExtra());
    cli(["stack", "init"]);
    cli(["config", "set", "inventory", subset]);
    cli(["config", "set", "--path", "users.h2", "deploy"]);
    cli(["config", "set", "--path", "daemonConfig.insecure-registries[0]", fleet.registry]);
    cli(["up", "--yes", "--skip-preview"]);
});

afterAll(() => {
    fleetScript("sshd", "h4", "start");
    pulumi(ROOT, ["destroy", "--yes", "--stack", stack], pulumiExtra());
    pulumi(ROOT, ["stack", "rm", "--yes", "--force", "--stack", stack], pulumiExtra());
    fs.rmSync(path.join(ROOT, subset), { force: true });
    fs.rmSync(work, { recursive: true, force: true });
});

describe("the GitOps pipeline on 6 hosts", () => {
    test("review: a daemonConfig and a policy change as one digest grouped across hosts, a stable fingerprint", () => {
        cli(["config", "set", "--path", "daemonConfig.max-concurrent-downloads", "5"]);
        cli(["config", "set", "--path", "policyData.docker.authz_config.bind_mounts[0].path", "/srv/shared"]);
        cli(["config", "set", "--path", "policyData.docker.authz_config.bind_mounts[0].read_only", "true"]);
        const r = ok(stage("review", [out("review-1")], "variable"), "review");
        expect(r.stdout).toMatch(/review: fingerprint [0-9a-f]{64}/);
        const md = read(out("review-1"), "digest.md");

        // One daemon.json group for the 6 hosts, naming the key, its value and what it does to Docker.
        const six = "- **6 hosts** (h1, h2, h3, h4, h5, h6): ";
        expect(md).toContain(
            `\n${six}daemon.json \`max-concurrent-downloads\`: added \`5\`` + " — reload (SIGHUP), no restart\n",
        );
        // The policy data change as a JSON path with old -> new, once for the 6 hosts.
        expect(md).toContain(`\n${six}policy data.json \`docker.authz_config.bind_mounts[0].path\``);
        expect(md).toContain("`docker.authz_config.bind_mounts[0].path`: `/etc/localtime` → `/srv/shared`");
        // No per-host repetition: each change is said once, no host's resources are listed one by one.
        expect(count(md, "max-concurrent-downloads")).toBe(1);
        expect(count(md, "`docker.authz_config.bind_mounts[0].path`: ")).toBe(1);
        expect(md).not.toMatch(/h\d-(daemon|policy|plugin|authz|subids)/);
        expect(md).toContain(
            "### Hosts that differ from their group\n\n" + "None: every host with changes matches its group.",
        );
        expect(md).toContain("### Drifted hosts (refresh found the host differs from the stack's state)\n\nNone.");
        expect(md).toMatch(/### Unreachable hosts[^\n]*\n\nNone\./);
        expect(md).toContain("1. reload: h1\n2. reload: h2, h3\n3. reload: h4, h5\n4. reload: h6");
        expect(md.length).toBeLessThan(60_000);
        expect(read(out("review-1"), "fingerprint")).toMatch(/^[0-9a-f]{64}\n$/);
        expect(JSON.parse(read(out("review-1"), "preview.json")).steps.length).toBeGreaterThan(0);

        // The same plan previewed again has the same fingerprint.
        ok(stage("review", [out("review-1-again")], "file"), "second review");
        expect(read(out("review-1-again"), "fingerprint")).toBe(read(out("review-1"), "fingerprint"));
    });

    test("apply with the reviewed fingerprint applies when nothing changed since the review", () => {
        const r = ok(stage("apply", [path.join(out("review-1"), "fingerprint"), out("apply-1")], "file"), "apply");
        const reviewed = read(out("review-1"), "fingerprint").trim();
        expect(r.stdout).toContain(`the fresh preview plans what was reviewed (fingerprint ${reviewed})`);
        for (const h of hosts) {
            expect(daemonJson(h)["max-concurrent-downloads"]).toBe(5);
            const data = JSON.parse(onHost(h, "cat /etc/docker/policies/data.json"));
            expect(data.docker.authz_config.bind_mounts).toEqual([{ path: "/srv/shared", read_only: true }]);
        }
    });

    test("drift on the converged fleet: exit 0, every host converged, JUnit without failures", () => {
        const r = ok(stage("drift", [out("drift-0")], "variable"), "drift");
        expect(r.stdout).toContain("drift: all 6 host(s) converged");
        const report = JSON.parse(read(out("drift-0"), "fleet-report.json"));
        expect(report.hosts.map((h: { name: string; status: string }) => [h.name, h.status])).toEqual(
            hosts.map((h) => [h, "converged"]),
        );
        expect(read(out("drift-0"), "fleet-report.xml")).toMatch(/<testsuite name="fleet" tests="6" failures="0"/);
    });

    test("a hand edit on h3 after the review: apply refuses, names h3 and the key, applies nothing", () => {
        cli(["config", "set", "--path", "daemonConfig.max-concurrent-uploads", "4"]);
        ok(stage("review", [out("review-2")], "variable"), "review");
        expect(read(out("review-2"), "digest.md")).toMatch(
            /^- \*\*6 hosts\*\* \([^)]*\): daemon\.json `max-concurrent-uploads`: added `4`/m,
        );

        onHost("h3", 'sed -i \'s/"icc": *false/"icc": true/\' /etc/docker/daemon.json');
        expect(daemonJson("h3").icc).toBe(true);
        const r = stage("apply", [path.join(out("review-2"), "fingerprint"), out("apply-2")], "file");
        expect(r.code).toBe(3);
        expect(r.stderr).toContain("apply: refused: the plan changed since the review");
        expect(r.stderr).toContain(
            "  - h3 drifted since the review (changed on the host, found by refresh):" +
                " daemon.json `icc` `false` → `true`",
        );
        expect(r.stderr).toContain("apply: nothing was applied.");
        for (const h of hosts) expect(daemonJson(h)["max-concurrent-uploads"]).toBeUndefined();
        expect(daemonJson("h3").icc).toBe(true);
    });

    test("the drift stage catches the hand edit, names h3 and the key, and writes JUnit", () => {
        cli(["config", "rm", "--path", "daemonConfig.max-concurrent-uploads"]); // back to what is applied
        const r = stage("drift", [out("drift-1")], "file");
        expect(r.code).toBe(4);
        expect(r.stderr).toContain(
            "drift: h3 drifted: changed on the host: daemon.json icc false in the state," + " true on the host",
        );
        expect(r.stderr).toMatch(/drift: not converged: h3 \(drifted\); report in /);
        const report = JSON.parse(read(out("drift-1"), "fleet-report.json"));
        expect(report.hosts.map((h: { name: string; status: string }) => [h.name, h.status])).toEqual(
            hosts.map((h) => [h, h === "h3" ? "drifted" : "converged"]),
        );
        const junit = read(out("drift-1"), "fleet-report.xml");
        expect(junit).toMatch(/<testsuite name="fleet" tests="6" failures="1"/);
        expect(junit).toMatch(/<testcase classname="fleet" name="h3">\s*<failure type="drifted"/);
        expect(junit).toContain(
            'message="drifted: changed on the host: daemon.json icc false in the state,' + ' true on the host"',
        );
        for (const h of hosts.filter((x) => x !== "h3")) {
            expect(junit).toContain(`<testcase classname="fleet" name="${h}"/>`);
        }
        expect(read(out("drift-1"), "fleet-report.md")).toMatch(/\| h3 \| drifted \|/);
        expect(read(out("drift-1"), "digest.md")).toContain(
            "- **h3**: daemon.json `icc`: `false` in the state, `true` on the host" + " (this plan puts it back)",
        );
    });

    test("a review that sees the drift, then apply: the repair restarts Docker on h3 only", () => {
        ok(stage("review", [out("review-3")], "variable"), "review");
        expect(read(out("review-3"), "digest.md")).toContain(
            "- **1 host** (h3): daemon.json `icc`: `true` → `false` — restarts Docker",
        );
        ok(stage("apply", [path.join(out("review-3"), "fingerprint"), out("apply-3")], "file"), "apply");
        expect(daemonJson("h3").icc).toBe(false);
    });

    test("a host unreachable after the review: apply refuses and names it", () => {
        ok(stage("review", [out("review-4")], "variable"), "review");
        expect(read(out("review-4"), "digest.md")).toContain("No changes planned.");
        fleetScript("sshd", "h4", "stop");
        let r: StageRun;
        try {
            r = stage("apply", [path.join(out("review-4"), "fingerprint"), out("apply-4")], "file");
        } finally {
            fleetScript("sshd", "h4", "start");
        }
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/ {2}- h4 became unreachable since the review: connection\.host: /);
    });

    test("no secret in any output: stdout, stderr and every artifact are free of the passphrase and the key", () => {
        const key = fs.readFileSync(fleet.keyPath, "utf8");
        const body = key
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "" && !l.startsWith("-----"));
        const needles: { name: string; value: string }[] = [
            { name: "the passphrase", value: passphrase },
            { name: "the private key's base64 body", value: body.join("") },
            ...body
                .filter((l) => l.length >= 16)
                .map((value, i) => ({ name: `line ${i + 1} of the private key's body`, value })),
            ...(backend.password ? [{ name: "the backend's password", value: backend.password }] : []),
        ];
        const artifacts: { what: string; text: string }[] = [];
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, entry.name);
                if (entry.isDirectory()) walk(p);
                else artifacts.push({ what: path.relative(work, p), text: fs.readFileSync(p, "utf8") });
            }
        };
        walk(path.join(work, "out"));
        expect(artifacts.map((a) => path.basename(a.what))).toEqual(
            expect.arrayContaining([
                "digest.md",
                "fingerprint",
                "plan.json",
                "preview.json",
                "fleet-report.json",
                "fleet-report.md",
                "fleet-report.xml",
            ]),
        );
        expect(printed.length).toBeGreaterThan(10);
        // Named, never printed: a failure must not leak the secret it found.
        const leaks = [...printed, ...artifacts].flatMap(({ what, text }) =>
            needles.filter((n) => text.includes(n.value)).map((n) => `${n.name} in ${what}`),
        );
        expect(leaks).toEqual([]);
    });
});
