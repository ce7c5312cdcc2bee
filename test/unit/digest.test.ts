import { DIGEST_MAX_LENGTH, fleetDigest } from "../../components/plan/digest";
import type { PreviewStep } from "../../components/plan/previewJson";
import { SCRUBBED } from "../../components/plan/secrets";
import { HostPlan, count, fixture, name, preview } from "./previewFixtures";

describe("fleetDigest on the 6-host fixture", () => {
    const digest = fleetDigest(fixture());
    const md = digest.markdown;

    test("groups the daemon.json change across hosts once: key, value, reload, no per-host repetition", () => {
        expect(md).toContain(
            "- **5 hosts** (h1, h2, h3, h4, h6): daemon.json `max-concurrent-downloads`: added `5`" +
                " — reload (SIGHUP), no restart",
        );
        expect(count(md, "max-concurrent-downloads")).toBe(1);
        expect(md).not.toMatch(/h\d-(daemon|policy|authz)/);
    });

    test("policy data.json as JSON-path changes with old → new values", () => {
        expect(md).toMatch(/policy data\.json `docker\.authz_config\.bind_mounts\[0\]\.path`/);
        expect(md).toContain("  - `docker.authz_config.bind_mounts[0].path`: `/etc/localtime` → `/srv/shared`");
        expect(md).toContain(
            "  - `docker.authz_config.bind_mounts[1]`: removed (was" +
                ' `{"path":"/usr/share/zoneinfo","read_only":true}`)',
        );
        expect(count(md, "bind_mounts[0].path")).toBe(2); // the group's header and its line, not per host
    });

    test("the changed Rego line as one unified diff, not one per host", () => {
        expect(md).toContain("- **5 hosts** (h1, h2, h3, h4, h6): policy containers.rego: 1 line changed");
        expect(count(md, "```diff")).toBe(1);
        expect(md).toContain('  -\tmsg := denial("privileged", "privileged containers are not allowed")');
        expect(md).toContain(
            '  +\tmsg := denial("privileged", "privileged containers are not allowed; ask the' +
                ' platform team for an exception")',
        );
        expect(md).toMatch(/ {2}@@ -\d+,7 \+\d+,7 @@/);
        // Unchanged policy files are not mentioned.
        expect(md).not.toMatch(/authz\.rego|mounts\.rego|exec\.rego|endpoints\.rego/);
    });

    test("h3 differs from its group: the drift repair, and a Docker restart instead of a reload", () => {
        const section = md.split("### Hosts that differ from their group")[1].split("###")[0];
        expect(section).toContain(
            "- **h3**: daemon.json: also `icc`: `true` → `false`; restarts Docker (the group:" +
                " reload (SIGHUP), no restart)",
        );
        expect(section.match(/^- /gm)).toHaveLength(1);
    });

    test("drifted hosts: what refresh found against the state, key by key", () => {
        const section = md.split("### Drifted hosts")[1].split("###")[0];
        expect(section).toContain(
            "- **h3**: daemon.json `icc`: `false` in the state, `true` on the host (this plan" + " puts it back)",
        );
        expect(section.match(/^- /gm)).toHaveLength(1);
        expect(digest.changes.drifted).toEqual([
            expect.objectContaining({ host: "h3", path: "settings.icc", state: false, found: true }),
        ]);
    });

    test("unreachable hosts from the warnings, with the cause, and left out of the groups", () => {
        const section = md.split("### Unreachable hosts")[1].split("###")[0];
        expect(section).toContain(
            "- **h5**: connection.host: cannot connect to 127.0.0.1:2225 (connect ECONNREFUSED" +
                " 127.0.0.1:2225) after 3 attempts." +
                " Fix: check connection.host, connection.port and that sshd is running",
        );
        expect(section).not.toContain("this host is skipped");
        expect(digest.changes.unreachable.map((u) => u.host)).toEqual(["h5"]);
    });

    test("the rollout batches from the gates, and which hosts restart or reload Docker", () => {
        const section = md.split("### Rollout")[1];
        expect(section).toContain("4 batches, failure budget `maxFailures: 0`");
        expect(section).toContain(
            [
                "1. reload: h1",
                "2. reload: h2 · **restart**: h3",
                "3. reload: h4 · unreachable: h5",
                "4. reload: h6",
            ].join("\n"),
        );
        expect(section).toContain(
            "**Restart Docker:** h3 · **reload (SIGHUP):** h1, h2, h4, h6" + " · **unreachable:** h5",
        );
    });

    test("the summary: counts, drifted, unreachable, fingerprint", () => {
        expect(md).toMatch(/^## Fleet digest: stack `digest-fixture`$/m);
        expect(md).toContain(
            "**Plan:** 19 to update, 24 unchanged; changes on 5 of 6 hosts. **Drifted:** h3." + " **Unreachable:** h5.",
        );
        expect(md).toContain(`**Fingerprint:** \`${digest.fingerprint}\``);
        expect(digest.fingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(digest.changes.planned).toHaveLength(19);
    });

    test("nothing secret or internal: no connection, no [secret], no provider, short", () => {
        expect(md).not.toMatch(/connection\b(?!\.)|\[secret\]|__provider|serialized provider/);
        expect(md.length).toBeLessThan(DIGEST_MAX_LENGTH);
        expect(JSON.stringify(digest.changes)).not.toMatch(/\[secret\]|__provider|"connection"/);
    });
});

describe("fleetDigest on hand-made fleets", () => {
    test("a host without the group's change is named; a per-host value is shown instead of the group's", () => {
        const md = fleetDigest(
            preview({
                a1: { planned: { x: 1 }, action: "reload dockerd (SIGHUP)" },
                a2: { planned: { x: 1 }, action: "reload dockerd (SIGHUP)" },
                a3: { planned: { x: 1 }, action: "reload dockerd (SIGHUP)" },
                a4: { planned: { x: 7 }, action: "reload dockerd (SIGHUP)" },
                a5: { read: {} },
            }),
        ).markdown;
        expect(md).toContain("- **3 hosts** (a1, a2, a3): daemon.json `x`: added `1` — reload (SIGHUP), no restart");
        expect(md).toContain("- **a4**: daemon.json: `x`: added `7` (instead of the group's change)");
        expect(md).toContain("- **a5**: daemon.json: no change (the group changes `x`)");
    });

    test("keys added, changed and removed, with old and new values; odd keys quoted in the path", () => {
        const md = fleetDigest(
            preview({
                b1: {
                    stored: { a: 1, gone: true, "log-opts": { "max-size": "10m" } },
                    planned: { a: 2, "log-opts": { "max-size": "20m", "max.file": "3" } },
                    action: "restart dockerd",
                },
            }),
        ).markdown;
        expect(md).toContain(
            "- **1 host** (b1): daemon.json `a`, `gone`, `log-opts.max-size`," +
                ' `log-opts["max.file"]` — restarts Docker',
        );
        expect(md).toContain("  - `a`: `1` → `2`");
        expect(md).toContain("  - `gone`: removed (was `true`)");
        expect(md).toContain("  - `log-opts.max-size`: `10m` → `20m`");
        expect(md).toContain('  - `log-opts["max.file"]`: added `"3"`'); // a string, not the number
    });

    test("drift found by a refresh step the engine rewrote into an update (before the program's steps)", () => {
        const p = preview({ c1: { stored: { icc: false } }, c2: { stored: { icc: false } } });
        const steps = p.steps as PreviewStep[];
        const i = steps.findIndex((s) => name(s) === "c2-daemon");
        const read = JSON.parse(JSON.stringify(steps[i].oldState));
        read.inputs.settings.icc = true;
        steps[i] = { ...steps[i], op: "update", newState: read };
        const d = fleetDigest(p);
        expect(d.changes.drifted).toEqual([
            expect.objectContaining({ host: "c2", path: "settings.icc", state: false, found: true }),
        ]);
        expect(d.markdown).toContain("- **c2**: daemon.json `icc`: `false` in the state, `true` on the host");
        expect(d.changes.planned).toEqual([]);
    });

    test("policy files: a file added, a line changed, JSON compared as JSON (formatting aside)", () => {
        const before = { "a.rego": "x\ny\nz\n", "data.json": '{"k": [1, 2]}' };
        const after = { "a.rego": "x\nY\nz\n", "data.json": '{\n  "k": [1, 3]\n}', "b.rego": "p\nq\n" };
        const md = fleetDigest(
            preview({
                d1: { files: [before, after] },
                d2: { files: [before, after] },
            }),
        ).markdown;
        expect(md).toContain("- **2 hosts** (d1, d2): policy data.json `k[1]`: `2` → `3`");
        expect(md).toContain(
            "- **2 hosts** (d1, d2): policy a.rego: 1 line changed\n  ```diff\n  @@ -1,3 +1,3 @@\n " +
                "  x\n  -y\n  +Y\n   z\n  ```",
        );
        expect(md).toContain("- **2 hosts** (d1, d2): policy b.rego: added (2 lines)");
        expect(md.indexOf("data.json")).toBeLessThan(md.indexOf("a.rego"));
    });

    test("values marked secret, private keys and secret-looking keys are never shown", () => {
        const key =
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END" +
            " OPENSSH PRIVATE KEY-----\n";
        const planned = { tlskey: key, "registry-password": "hunter2hunter2", token: "[secret]" };
        const d = fleetDigest(preview({ e1: { planned } }));
        expect(d.markdown).toContain("`tlskey`: added (secret)");
        expect(d.markdown).toContain("`registry-password`: added (secret)");
        expect(d.markdown).not.toMatch(/b3BlbnNzaC1rZXkt|hunter2/);
        expect(JSON.stringify(d.changes)).not.toMatch(/b3BlbnNzaC1rZXkt|hunter2/);
    });

    test("the scrub guard removes listed secrets from everything the digest says", () => {
        const passphrase = "correct horse battery staple";
        const d = fleetDigest(
            preview(
                { f1: { planned: { labels: [`note=${passphrase}`] } } },
                {
                    diagnostics: [
                        {
                            severity: "warning",
                            message: `warning: host f1: connection.host: cannot connect` + ` (${passphrase}). Fix: x`,
                        },
                    ],
                },
            ),
            { secrets: [passphrase] },
        );
        expect(d.markdown).not.toContain(passphrase);
        expect(d.markdown).toContain(SCRUBBED);
        expect(JSON.stringify(d.changes)).not.toContain(passphrase);
    });

    test("stays under 60,000 characters on a large fleet that disagrees everywhere", () => {
        const hosts: Record<string, HostPlan> = {};
        const bigRego = Array.from({ length: 400 }, (_, i) => `line ${i}`).join("\n");
        for (let i = 1; i <= 500; i++) {
            hosts[`n${i}`] = {
                planned: { shared: 1, [`own-${i}`]: "x".repeat(50), labels: [`host=n${i}`] },
                action: i % 7 === 0 ? "restart dockerd" : "reload dockerd (SIGHUP)",
                // Every host changes 40 lines of its own: the per-host diffs alone would be megabytes.
                files: [{ "a.rego": bigRego }, { "a.rego": bigRego.replace(/^line (\d*0)$/gm, `host ${i} line $1`) }],
            };
        }
        const names = Object.keys(hosts);
        const batches = [["n1"], ...Array.from({ length: 4 }, (_, b) => names.slice(1 + b * 125, 1 + (b + 1) * 125))];
        const d = fleetDigest(preview(hosts, { batches }));
        expect(d.markdown.length).toBeLessThanOrEqual(DIGEST_MAX_LENGTH);
        expect(d.markdown).toMatch(/… and \d+ more/);
        // Less detail rather than a cut: every section is still there.
        const sections = [
            "### Changes across hosts",
            "### Hosts that differ",
            "### Drifted",
            "### Unreachable",
            "### Rollout",
        ];
        for (const section of sections) {
            expect(d.markdown).toContain(section);
        }
        expect(d.markdown).not.toContain("digest cut here");
        expect(d.markdown).toMatch(
            /^- \*\*500 hosts\*\* \(n1, n2, n3, .*, … and \d+ more\): daemon\.json `shared`: added `1`/m,
        );
        expect(d.markdown).toMatch(/^- \*\*500 hosts\*\* \(n1, .*\): policy a\.rego: a different change on each host/m);
        expect(fleetDigest(preview(hosts, { batches }), { maxLength: 5000 }).markdown.length).toBeLessThanOrEqual(5000);
    });

    test("many hosts with the same change: one line, however many hosts", () => {
        const hosts: Record<string, HostPlan> = {};
        for (let i = 1; i <= 2000; i++) hosts[`m${i}`] = { planned: { k: true }, action: "reload dockerd (SIGHUP)" };
        const md = fleetDigest(preview(hosts)).markdown;
        expect(md.length).toBeLessThan(5000);
        expect(md).toContain("**2000 hosts** (m1, m2,");
    });
});
