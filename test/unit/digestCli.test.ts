import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import type { PreviewJson } from "../../components/plan/previewJson";
import { SCRUBBED } from "../../components/plan/secrets";
import { EXIT, keyFiles, main, previewArtifact, scrubStream } from "../../scripts/pipeline/digest";
import { count, edited, fixture, fixtureText, settingsOf, stepsOf } from "./previewFixtures";

describe("scrubStream", () => {
    test("the stream scrubber holds back what could be the start of a secret", async () => {
        const secret = "stream-secret-value";
        const chunks = [
            "first line\nhalf of stream-sec",
            "ret-value here\n",
            "x".repeat(70_000),
            "stream-secret",
            "-value",
            "\nend",
        ];
        let out = "";
        await scrubStream(
            Readable.from(chunks.map((c) => Buffer.from(c))),
            (t) => {
                out += t;
            },
            [secret],
        );
        expect(out).not.toContain(secret);
        expect(count(out, SCRUBBED)).toBe(2);
        expect(out.endsWith("\nend")).toBe(true);
    });
});

describe("the pipeline CLI (scripts/pipeline/digest.ts)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-digest-"));
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
        let stdout = "";
        let stderr = "";
        const code = await main(argv, {
            env,
            stdout: (t) => {
                stdout += t;
            },
            stderr: (t) => {
                stderr += t;
            },
            now: () => new Date(0),
        });
        return { code, stdout, stderr };
    };
    const raw = path.join(tmp, "raw.json");
    fs.writeFileSync(raw, fixtureText);

    test("review writes the digest, fingerprint, plan and a scrubbed preview without provider internals", async () => {
        const secret = "h3-daemon"; // any string of the preview stands in for a secret that leaked into it
        const r = await run(["review", raw, path.join(tmp, "review")], { HDH_SECRETS_TO_SCRUB: secret });
        expect(r.code).toBe(EXIT.ok);
        expect(r.stdout).toMatch(/review: fingerprint [0-9a-f]{64}\n/);
        expect(r.stdout).toContain("review: 19 resource(s) change on 5 of 6 host(s); drifted: h3; unreachable: h5");
        const files = Object.fromEntries(
            ["digest.md", "fingerprint", "plan.json", "preview.json"].map((f) => [
                f,
                fs.readFileSync(path.join(tmp, "review", f), "utf8"),
            ]),
        );
        expect(files.fingerprint).toMatch(/^[0-9a-f]{64}\n$/);
        expect(files["digest.md"]).toContain("daemon.json `max-concurrent-downloads`");
        for (const content of Object.values(files)) expect(content).not.toContain(secret);
        expect(files["preview.json"]).not.toContain("<serialized provider>");
        expect(JSON.parse(files["preview.json"]).steps).toHaveLength((fixture().steps ?? []).length);
    });

    test("compare accepts the same plan and refuses a drifted one, saying what changed", async () => {
        await run(["review", raw, path.join(tmp, "r2")]);
        const fp = path.join(tmp, "r2", "fingerprint");
        expect((await run(["compare", fp, raw])).code).toBe(EXIT.ok);
        const drifted = path.join(tmp, "drifted.json");
        fs.writeFileSync(
            drifted,
            JSON.stringify(
                edited((p) => {
                    for (const s of stepsOf(p, "h2-daemon", "update")) settingsOf(s, "oldState").icc = true;
                }),
            ),
        );
        const r = await run(["compare", fp, drifted, path.join(tmp, "fresh")]);
        expect(r.code).toBe(EXIT.planChanged);
        expect(r.stderr).toMatch(/apply: refused: the plan changed since the review/);
        expect(r.stderr).toContain(
            "  - h2 drifted since the review (changed on the host, found by refresh):" +
                " daemon.json `icc` `false` → `true`",
        );
        expect(fs.existsSync(path.join(tmp, "fresh", "digest.md"))).toBe(true);
    });

    test("drift writes the report (JSON, Markdown, JUnit) and exits 4 naming the hosts", async () => {
        const r = await run(["drift", raw, path.join(tmp, "drift"), "digest-fixture"]);
        expect(r.code).toBe(EXIT.notConverged);
        expect(r.stderr).toContain(
            "drift: h3 drifted: changed on the host: daemon.json icc false in the state, true" + " on the host",
        );
        expect(r.stderr).toMatch(/drift: h5 unreachable: connection\.host: cannot connect/);
        const junit = fs.readFileSync(path.join(tmp, "drift", "fleet-report.xml"), "utf8");
        expect(junit).toMatch(/<testcase classname="fleet" name="h3">\s*<failure type="drifted"/);
        const report = JSON.parse(fs.readFileSync(path.join(tmp, "drift", "fleet-report.json"), "utf8"));
        expect(report.summary.byStatus).toEqual({ converged: 0, drifted: 5, failed: 0, unreachable: 1 });
    });

    test("keyfiles: the key paths of hostDefaults, hosts, jump hosts and the inventory", () => {
        const inventory = path.join(tmp, "inventory.json");
        fs.writeFileSync(inventory, JSON.stringify({ keyPath: "/keys/fleet", hosts: [] }));
        expect(
            keyFiles(
                {
                    "hardened-docker-host:hostDefaults": {
                        value: '{"privateKeyPath":".secrets/key"}',
                        objectValue: { privateKeyPath: ".secrets/key" },
                    },
                    "hardened-docker-host:hosts": {
                        value: JSON.stringify([
                            { name: "a", privateKeyPath: "/k/a", jumpHost: { privateKeyPath: "/k/j" } },
                        ]),
                    },
                    "hardened-docker-host:inventory": { value: "inventory.json" },
                    "hardened-docker-host:secretThing": { value: "[secret]", secret: true },
                },
                tmp,
            ),
        ).toEqual([path.join(tmp, ".secrets/key"), "/k/a", "/k/j", "/keys/fleet"]);
    });

    test("the preview artifact: secrets scrubbed in strings and keys", () => {
        const leaky = { steps: [], config: { "p:x": "pw-123456", "pw-123456": 1 } } as PreviewJson;
        const artifact = previewArtifact(leaky, ["pw-123456"]);
        expect(artifact).not.toContain("pw-123456");
    });

    test("usage errors exit 2; errors are scrubbed", async () => {
        expect((await run(["nope"])).code).toBe(EXIT.usage);
        const missing = path.join(tmp, "passphrase-is-missing-file.json");
        const r = await run(["review", missing, tmp], { PULUMI_CONFIG_PASSPHRASE: "passphrase-is" });
        expect(r.code).toBe(EXIT.error);
        expect(r.stderr).not.toContain("passphrase-is");
    });
});
