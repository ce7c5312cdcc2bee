import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { hostReportsFromPreview } from "../../components/plan/fleetStatus";
import type { PreviewDocument } from "../../components/plan/previewJson";
import { fixture as fixtureCopy, hostUrn, preview, stepUrn } from "./previewFixtures";

// A real `pulumi preview --json --diff` of 6 fleet hosts: h3 drifted by hand (icc), h5 unreachable.
const fixture = JSON.parse(
    zlib.gunzipSync(fs.readFileSync(path.join(__dirname, "../fixtures/preview-6-hosts.json.gz"))).toString("utf8"),
) as PreviewDocument;

describe("hostReportsFromPreview", () => {
    const reports = hostReportsFromPreview(fixture);
    const byName = Object.fromEntries(reports.map((r) => [r.name, r]));

    test("every host of the fleet, in natural order", () => {
        expect(reports.map((r) => r.name)).toEqual(["h1", "h2", "h3", "h4", "h5", "h6"]);
    });

    test("a hand edit on h3 makes it drifted, naming the key", () => {
        expect(byName.h3).toMatchObject({ status: "drifted", cause: "changed on the host: daemon.json icc" });
    });

    test("the host that could not be reached is unreachable, with the cause", () => {
        expect(byName.h5.status).toBe("unreachable");
        expect(byName.h5.cause).toMatch(/connection\.host: cannot connect to 127\.0\.0\.1:2225/);
    });

    test("the other hosts are converged and carry the compared values", () => {
        for (const h of ["h1", "h2", "h4", "h6"]) {
            expect(byName[h].status).toBe("converged");
            expect(byName[h].idRange).toBe("dockremap:296608:65536");
            expect(byName[h].pluginReference).toBe("localhost:5000/hdh/opa-authz:0.1.0");
            expect(byName[h].dockerVersion).toMatch(/^\d+\.\d+/);
        }
    });

    test("a host whose steps are not in the state (never converged) is failed", () => {
        const doc = {
            ...fixture,
            steps: fixture.steps.filter((s) => !(s.op === "refresh" && s.urn.endsWith("::h2-authz"))),
        };
        expect(hostReportsFromPreview(doc).find((r) => r.name === "h2")).toMatchObject({
            status: "failed",
            cause: expect.stringMatching(/h2-authz/),
        });
    });
});

describe("hostReportsFromPreview with the drift stage's options", () => {
    const driftStage = { plannedChanges: "drifted", driftValues: true } as const;

    test(
        "converged, drifted by hand, not converged to the config, unreachable; facts and CIS from the refreshed" +
            " state",
        () => {
            const cis = { "2.1": "pass", "2.10": "warn", "2.2": "info", bogus: 3 };
            const outputs = { dockerVersion: "20.10.24", sha256: "a".repeat(64), cis };
            const rows = hostReportsFromPreview(
                preview(
                    {
                        g1: { read: { icc: false }, outputs },
                        g2: {
                            stored: { icc: false },
                            read: { icc: true },
                            planned: { icc: false },
                            action: "restart dockerd",
                            outputs,
                        },
                        g3: { read: { icc: false }, planned: { icc: false, k: 1 }, outputs },
                        g4: { read: {}, outputs },
                    },
                    {
                        diagnostics: [
                            {
                                severity: "warning",
                                message: "warning: host g4: connection.host: refused. Fix: start" + " sshd\n",
                            },
                        ],
                    },
                ),
                driftStage,
            );
            expect(rows.map((r) => [r.name, r.status])).toEqual([
                ["g1", "converged"],
                ["g2", "drifted"],
                ["g3", "drifted"],
                ["g4", "unreachable"],
            ]);
            expect(rows[0]).toMatchObject({ dockerVersion: "20.10.24", daemonJsonSha256: "a".repeat(64) });
            expect(rows[0].cis.map((c) => [c.id, c.status])).toEqual([
                ["2.1", "pass"],
                ["2.2", "info"],
                ["2.10", "warn"],
            ]);
            expect(rows[0].cis[0].title).toBe("Run the Docker daemon as a non-root user, if possible (Manual)");
            expect(rows[1].cause).toBe("changed on the host: daemon.json icc false in the state, true on the host");
            expect(rows[2].cause).toBe("not converged to the stack config (planned, not applied): daemon.json k");
            expect(rows[3]).toEqual({
                name: "g4",
                status: "unreachable",
                cause: "connection.host: refused. Fix: start" + " sshd",
                cis: [],
            });
        },
    );

    test("the fixture: h3 drifted by hand, h5 unreachable, ID range with the owner (owner:start:count)", () => {
        const rows = hostReportsFromPreview(fixtureCopy(), driftStage);
        expect(rows.find((r) => r.name === "h3")?.cause).toBe(
            "changed on the host: daemon.json icc false in the" + " state, true on the host",
        );
        expect(rows.find((r) => r.name === "h5")?.status).toBe("unreachable");
        expect(rows.find((r) => r.name === "h1")?.idRange).toBe("dockremap:296608:65536");
        expect(rows.find((r) => r.name === "h1")?.cis).toEqual([]);
    });
});

describe("hostReportsFromPreview: what either report did before, in one", () => {
    const cis = [
        { id: "2.2", status: "warn", detail: "icc is on" },
        { id: "2.1", status: "pass", detail: "ok" },
    ];

    test("CIS rows as DaemonConfig writes them (a list), in its order, with titles", () => {
        const [row] = hostReportsFromPreview(preview({ c1: { read: {}, outputs: { cis } } }));
        expect(row.cis).toEqual([
            { id: "2.2", title: expect.stringMatching(/network traffic/i), status: "warn", detail: "icc is on" },
            { id: "2.1", title: expect.stringMatching(/non-root/i), status: "pass", detail: "ok" },
        ]);
    });

    test("the ID range without the owner when the state has none", () => {
        const p = preview({ c1: { read: {} } });
        const urn = stepUrn("SubordinateIds", "c1-subids");
        const subids = { urn, parent: hostUrn("c1"), inputs: {}, outputs: { start: 100000, count: 65536 } };
        p.steps?.unshift({ op: "refresh", urn, oldState: subids, newState: subids });
        expect(hostReportsFromPreview(p)[0].idRange).toBe("100000:65536");
    });

    test("a host preflight skipped for any cause is unreachable; text is parsed; rows in natural order", () => {
        const skipped = "warning: host n2: sudo: refused (this host is skipped; the others go on)";
        const p = preview(
            { n10: { read: {} }, n2: { read: {} } },
            { batches: [["n10", "n2"]], diagnostics: [{ severity: "warning", message: skipped }] },
        );
        expect(hostReportsFromPreview(JSON.stringify(p)).map((r) => [r.name, r.status, r.cause])).toEqual([
            ["n2", "unreachable", "sudo: refused"],
            ["n10", "converged", undefined],
        ]);
    });

    test("without refresh nothing is known of the state: not failed", () => {
        const p = preview({ c1: { read: { a: 1 } } });
        const programOnly = { ...p, steps: (p.steps ?? []).filter((s) => s.op !== "refresh") };
        expect(hostReportsFromPreview(programOnly).map((r) => r.status)).toEqual(["converged"]);
    });

    test("by key: a step gone from the host; secrets scrubbed from every row", () => {
        const p = preview({ c1: { stored: { a: 1 }, read: { a: 1 } } });
        const daemon = (s: { urn: string }) => s.urn.endsWith("::c1-daemon");
        for (const step of p.steps ?? []) if (daemon(step) && step.op === "refresh") step.op = "delete";
        p.steps = (p.steps ?? []).filter((s) => !(daemon(s) && s.op === "same"));
        expect(hostReportsFromPreview(p)[0]).toMatchObject({
            status: "drifted",
            cause: "changed on the host: daemon.json gone",
        });
        const drifted = preview({ c1: { stored: { a: 1 }, read: { a: 2 } } });
        expect(hostReportsFromPreview(drifted, { secrets: ["daemon.json"] })[0].cause).toBe(
            "changed on the host: [scrubbed] a",
        );
    });
});
