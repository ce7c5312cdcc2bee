import { CisRow, evaluateCisDaemon } from "../../components/plan/cis";
import {
    FleetReport,
    HostReport,
    buildFleetReport,
    renderJUnit,
    renderMarkdown,
    renderTable,
    summarizeFleet,
} from "../../components/plan/fleetReport";

const DAEMON_HASH = "0123456789abcdef".repeat(4);
const POLICY_HASH = "fedcba9876543210".repeat(4);
const cisRows = (...statuses: CisRow["status"][]): CisRow[] =>
    statuses.map((status, i) => ({ id: `2.${i + 1}`, title: `check ${i + 1}`, status, detail: `detail ${i + 1}` }));

/** A converged host sharing every compared value, with overrides. */
const host = (name: string, overrides: Partial<HostReport> = {}): HostReport => ({
    name,
    status: "converged",
    dockerVersion: "20.10.24",
    daemonJsonSha256: DAEMON_HASH,
    policySha256: POLICY_HASH,
    pluginReference: "localhost:5000/hdh/opa-authz:0.1.0",
    idRange: "296608:65536",
    cis: cisRows("pass", "warn"),
    ...overrides,
});
const NOW = new Date("2025-01-02T03:04:05.000Z");

describe("summarizeFleet", () => {
    test("a fleet that agrees and converged is consistent", () => {
        const summary = summarizeFleet([host("h1"), host("h2"), host("h3")]);
        expect(summary).toEqual({
            consistent: true,
            hosts: 3,
            oddOnesOut: [],
            byStatus: { converged: 3, drifted: 0, failed: 0, unreachable: 0 },
        });
    });

    test("names the odd ones out per field, hosts without a value included", () => {
        const summary = summarizeFleet([
            host("h1"),
            host("h2", { dockerVersion: "20.10.5", status: "drifted", cause: "daemon.json edited" }),
            host("h3", { policySha256: undefined, idRange: "" }),
            host("h4", {
                status: "unreachable",
                cause: "timeout",
                dockerVersion: undefined,
                daemonJsonSha256: undefined,
                policySha256: undefined,
                pluginReference: undefined,
                idRange: undefined,
                cis: [],
            }),
        ]);
        expect(summary.consistent).toBe(false);
        expect(summary.byStatus).toEqual({ converged: 2, drifted: 1, failed: 0, unreachable: 1 });
        expect(summary.oddOnesOut).toEqual([
            { field: "dockerVersion", majority: "20.10.24", hosts: ["h2", "h4"] },
            { field: "daemonJsonSha256", majority: DAEMON_HASH, hosts: ["h4"] },
            { field: "policySha256", majority: POLICY_HASH, hosts: ["h3", "h4"] },
            { field: "pluginReference", majority: "localhost:5000/hdh/opa-authz:0.1.0", hosts: ["h4"] },
            { field: "idRange", majority: "296608:65536", hosts: ["h3", "h4"] },
        ]);
    });

    test.each([
        ["two against two", ["b", "a", "b", "a"], "a", ["h1", "h3"]],
        ["one each", ["zz", "z", "y1"], "y1", ["h1", "h2"]],
        ["by code unit, not locale (uppercase first)", ["a", "B"], "B", ["h1"]],
        ["a clear majority beats a smaller value", ["b", "b", "a"], "b", ["h3"]],
    ])("ties go to the lexically smallest value: %s", (_, versions, majority, differing) => {
        const hosts = versions.map((dockerVersion, i) => host(`h${i + 1}`, { dockerVersion }));
        expect(summarizeFleet(hosts).oddOnesOut).toEqual([{ field: "dockerVersion", majority, hosts: differing }]);
    });

    test("a field no host has is not compared; an empty fleet is consistent", () => {
        const hosts = [host("h1", { pluginReference: undefined }), host("h2", { pluginReference: "" })];
        expect(summarizeFleet(hosts).oddOnesOut).toEqual([]);
        expect(summarizeFleet([])).toMatchObject({ consistent: true, hosts: 0, oddOnesOut: [] });
    });

    test("a host not converged makes the fleet inconsistent even when every value agrees", () => {
        const summary = summarizeFleet([host("h1"), host("h2", { status: "failed", cause: "boom" })]);
        expect(summary).toMatchObject({ consistent: false, oddOnesOut: [] });
    });
});

describe("buildFleetReport", () => {
    test("stamps the time and summarizes", () => {
        const hosts = [host("h1")];
        expect(buildFleetReport("dev", hosts, NOW)).toEqual({
            stack: "dev",
            generatedAt: "2025-01-02T03:04:05.000Z",
            hosts,
            summary: summarizeFleet(hosts),
        });
    });
});

describe("renderers", () => {
    const report: FleetReport = buildFleetReport(
        "dev",
        [
            host("h1"),
            host("h2", { status: "drifted", cause: "policy file authz.rego changed", dockerVersion: "20.10.5" }),
            host("h3", { status: "unreachable", cause: "connect ECONNREFUSED", dockerVersion: undefined, cis: [] }),
        ],
        NOW,
    );

    test("renderTable: fixed-width host rows, short hashes, CIS counts, then summary and odd ones out", () => {
        const text = renderTable(report);
        const lines = text.split("\n");
        const header = lines.find((l) => l.startsWith("HOST"));
        const rows = ["h1 ", "h2 ", "h3 "].map((name) => lines.find((l) => l.startsWith(name)) ?? "");
        expect(header).toBeDefined();
        for (const column of ["STATUS", "DOCKER", "DAEMON.JSON", "POLICY", "PLUGIN", "ID RANGE", "CIS"]) {
            const at = header!.indexOf(column);
            for (const row of rows) expect(row[at - 1]).toBe(" ");
            expect(rows.every((row) => row[at] !== " ")).toBe(true);
        }
        expect(rows[0]).toContain(DAEMON_HASH.slice(0, 12));
        expect(text).not.toContain(DAEMON_HASH.slice(0, 13));
        expect(rows[0]).toMatch(/1 pass, 1 warn$/);
        expect(rows[2]).toMatch(/ -$/);
        expect(text).toContain("3 hosts: 1 converged, 1 drifted, 0 failed, 1 unreachable; not consistent");
        expect(text).toContain("h2 drifted: policy file authz.rego changed");
        expect(text).toContain("h3 unreachable: connect ECONNREFUSED");
        expect(text).toContain("odd one out in dockerVersion: majority 20.10.24; differs on h2 (20.10.5), h3 (none)");
    });

    test("renderTable keeps host-supplied text on one line, without terminal escapes", () => {
        const failed = host("h1", { status: "failed", cause: "a\nb\u001b[31mred" });
        const text = renderTable(buildFleetReport("dev", [failed], NOW));
        expect(text).toContain("h1 failed: a b?[31mred");
        expect(text).not.toContain("\u001b");
    });

    test("renderMarkdown: summary, host table, odd ones out, one CIS row per check and a column per host", () => {
        const remapped = evaluateCisDaemon({ dockerVersion: "20.10.24", daemonJson: { "userns-remap": "default" } });
        const plain = evaluateCisDaemon({ dockerVersion: "20.10.24", daemonJson: {} });
        const markdown = renderMarkdown(
            buildFleetReport(
                "dev",
                [host("h1", { cis: remapped }), host("h2", { cis: plain, idRange: "100000:65536" })],
                NOW,
            ),
        );
        expect(markdown).toContain("# Fleet report: dev");
        expect(markdown).toContain("2 hosts: 2 converged, 0 drifted, 0 failed, 0 unreachable; not consistent");
        expect(markdown).toContain(
            "| host | status | docker | daemon.json | policy | plugin | id range | CIS pass | CIS warn | cause |",
        );
        expect(markdown).toContain(
            `| h1 | converged | 20.10.24 | ${DAEMON_HASH.slice(0, 12)} | ${POLICY_HASH.slice(0, 12)} | ` +
                "localhost:5000/hdh/opa-authz:0.1.0 | 296608:65536 |",
        );
        expect(markdown).toContain("| idRange | 100000:65536 | h1 (296608:65536) |");
        expect(markdown).toContain("| check | title | h1 | h2 |");
        expect(markdown).toContain("| 2.9 | Enable user namespace support (Scored) | pass | WARN |");
        expect(markdown).toContain(
            "| 2.7 | Ensure TLS authentication for Docker daemon is configured (Scored) | info | info |",
        );
        const checkRows = markdown
            .split("\n")
            .filter((l) => /^\| 2\.\d+ \|/.test(l))
            .map((l) => l.split(" | ")[0]);
        expect(checkRows).toEqual(Array.from({ length: 18 }, (_, i) => `| 2.${i + 1}`));
    });

    test("renderMarkdown: no odd ones out, hosts without a row, and cells that cannot break the table", () => {
        const markdown = renderMarkdown(
            buildFleetReport(
                "dev",
                [host("h1"), host("h2", { status: "failed", cause: "a | b <script>\nnext", cis: [] })],
                NOW,
            ),
        );
        expect(markdown).toContain("None: every host agrees on dockerVersion, daemonJsonSha256, policySha256");
        expect(markdown).toContain("| 2.2 | check 2 | WARN | - |");
        expect(markdown).toMatch(/\| h2 \| failed \|.* \| - \| - \| a /);
        expect(markdown).toContain("| a \\| b &lt;script&gt; next |");
    });

    test("renderJUnit: a fleet suite per host and a cis suite per host and check", () => {
        const xml = renderJUnit(report);
        expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
        expect(xml).toContain('<testsuite name="fleet" tests="3" failures="2" errors="0" skipped="0"');
        expect(xml).toContain('<testsuite name="cis" tests="4" failures="2" errors="0" skipped="0"');
        expect(xml).toContain('<testcase classname="fleet" name="h1"/>');
        expect(xml).toContain(
            '<failure type="drifted" message="drifted: policy file authz.rego changed">' +
                "policy file authz.rego changed</failure>",
        );
        expect(xml).toContain(
            '<testcase classname="h2" name="2.2 check 2">\n      <failure type="warn" message="detail 2">',
        );
        expect(xml).toContain(
            '<testcase classname="h1" name="2.1 check 1">\n      <system-out>pass: detail 1</system-out>',
        );
        expect(xml.match(/<testcase /g)).toHaveLength(7);
        expect(xml.match(/<failure /g)).toHaveLength(4);
    });

    test("renderJUnit escapes <&\"' in names, causes and details, and what XML cannot carry", () => {
        const nasty = `a<b & "c" 'd'>`;
        const xml = renderJUnit(
            buildFleetReport(
                `st"ack`,
                [
                    host(nasty, {
                        status: "failed",
                        cause: `${nasty}\nline2\u0007`,
                        cis: [{ ...cisRows("warn")[0], detail: nasty }],
                    }),
                ],
                NOW,
            ),
        );
        const escaped = "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;";
        expect(xml).toContain(`<testcase classname="fleet" name="${escaped}">`);
        expect(xml).toContain(`message="failed: ${escaped}&#10;line2\uFFFD">${escaped}\nline2\uFFFD</failure>`);
        expect(xml).toContain(`<testcase classname="${escaped}" name="2.1 check 1">`);
        expect(xml).toContain(`<system-out>warn: ${escaped}</system-out>`);
        expect(xml).toContain('name="fleet report st&quot;ack"');
        expect(xml).not.toMatch(/<b|& |"c"|'d'|\u0007/);
    });
});
