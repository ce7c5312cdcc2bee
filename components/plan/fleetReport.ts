/**
 * The fleet consistency report: each host's state (converged, drifted, failed, unreachable), the values every
 * host should share (Docker version, daemon.json and policy hashes, plugin, ID range) with the hosts that differ
 * from the majority, and CIS Docker Benchmark section 2 rows per host; rendered for a terminal, as Markdown and
 * as JUnit XML for CI.
 */
import type { CisRow, CisStatus } from "./cis";

/** Where a host stands against the stack. */
export type HostStatus = "converged" | "drifted" | "failed" | "unreachable";

/** Every {@link HostStatus}, in report order. */
export const HOST_STATUSES: readonly HostStatus[] = ["converged", "drifted", "failed", "unreachable"];

/** One host's line in the report. Optional values are missing when the host could not tell them. */
export interface HostReport {
    /** Host label, as in the stack. */
    name: string;
    status: HostStatus;
    /** Why the host is not converged (drift found, error, connection failure). */
    cause?: string;
    /** Docker server version. */
    dockerVersion?: string;
    /** SHA-256 (hex) of /etc/docker/daemon.json. */
    daemonJsonSha256?: string;
    /** SHA-256 (hex) of the policy file set. */
    policySha256?: string;
    /** The authorization plugin's installed reference. */
    pluginReference?: string;
    /** The remap user's subordinate ID range, e.g. `296608:65536`. */
    idRange?: string;
    /** CIS Docker Benchmark section 2 rows (empty when the host could not be read). */
    cis: CisRow[];
}

/** The {@link HostReport} fields every host of a fleet should share, in report order. */
export const COMPARED_FIELDS = [
    "dockerVersion",
    "daemonJsonSha256",
    "policySha256",
    "pluginReference",
    "idRange",
] as const;

/** One of {@link COMPARED_FIELDS}. */
export type ComparedField = (typeof COMPARED_FIELDS)[number];

/** The fleet at a glance. */
export interface FleetSummary {
    /** Every host converged and no compared field differs. */
    consistent: boolean;
    /** Number of hosts. */
    hosts: number;
    /** Hosts per status (every status present, 0 when none). */
    byStatus: Record<HostStatus, number>;
    /**
     * Per compared field (dockerVersion, daemonJsonSha256, policySha256, pluginReference, idRange) where some host
     * differs: the majority value and the hosts that differ (those without a value included), in host order.
     */
    oddOnesOut: { field: string; majority: string; hosts: string[] }[];
}

/** The whole report. */
export interface FleetReport {
    /** Pulumi stack name. */
    stack: string;
    /** When the report was made (ISO 8601, UTC). */
    generatedAt: string;
    hosts: HostReport[];
    summary: FleetSummary;
}

function isComparedField(field: string): field is ComparedField {
    return (COMPARED_FIELDS as readonly string[]).includes(field);
}

/** A host's value for a compared field; an empty string counts as missing. */
function valueOf(host: HostReport, field: ComparedField): string | undefined {
    const value = host[field];
    return value === undefined || value === "" ? undefined : value;
}

/** The most frequent value; a tie goes to the lexically smallest (code unit order, so it is locale-proof). */
function majorityValue(values: string[]): string | undefined {
    const counts = new Map<string, number>();
    for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
    let best: [string, number] | undefined;
    for (const [value, count] of counts) {
        if (best === undefined || count > best[1] || (count === best[1] && value < best[0])) best = [value, count];
    }
    return best?.[0];
}

/**
 * Counts hosts per status and finds, per compared field, the hosts that differ from the majority.
 *
 * A field no host has a value for is not compared; otherwise a host without a value differs.
 */
export function summarizeFleet(hosts: HostReport[]): FleetSummary {
    const byStatus = Object.fromEntries(HOST_STATUSES.map((status) => [status, 0])) as Record<HostStatus, number>;
    for (const host of hosts) byStatus[host.status] += 1;
    const oddOnesOut: FleetSummary["oddOnesOut"] = [];
    for (const field of COMPARED_FIELDS) {
        const majority = majorityValue(hosts.flatMap((host) => valueOf(host, field) ?? []));
        if (majority === undefined) continue;
        const differing = hosts.filter((host) => valueOf(host, field) !== majority).map((host) => host.name);
        if (differing.length > 0) oddOnesOut.push({ field, majority, hosts: differing });
    }
    const consistent = byStatus.converged === hosts.length && oddOnesOut.length === 0;
    return { consistent, hosts: hosts.length, byStatus, oddOnesOut };
}

/**
 * Assembles the report.
 *
 * @param stack - Pulumi stack name.
 * @param hosts - One entry per host, in the order to show them.
 * @param now - The report's time (a parameter, so reports are reproducible in tests).
 */
export function buildFleetReport(stack: string, hosts: HostReport[], now: Date): FleetReport {
    return { stack, generatedAt: now.toISOString(), hosts, summary: summarizeFleet(hosts) };
}

/** How many checks a host passes and warns on. */
function cisCounts(host: HostReport): { pass: number; warn: number } {
    return {
        pass: host.cis.filter((row) => row.status === "pass").length,
        warn: host.cis.filter((row) => row.status === "warn").length,
    };
}

/** One printable line: host-supplied text (causes, versions) may hold newlines or terminal escape sequences. */
function oneLine(text: string): string {
    return text.replace(/\r\n|[\r\n\t]/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

const HASH_SHOWN = 12;

/** The values a host row shows, as plain text (`-` when missing). */
function hostCells(host: HostReport): string[] {
    const text = (value: string | undefined) => (value === undefined || value === "" ? "-" : oneLine(value));
    const hash = (value: string | undefined) => text(value?.slice(0, HASH_SHOWN));
    return [
        host.name,
        host.status,
        text(host.dockerVersion),
        hash(host.daemonJsonSha256),
        hash(host.policySha256),
        text(host.pluginReference),
        text(host.idRange),
    ].map(oneLine);
}

function statusLine(report: FleetReport): string {
    const { summary } = report;
    const counts = HOST_STATUSES.map((status) => `${summary.byStatus[status]} ${status}`).join(", ");
    const verdict = summary.consistent ? "consistent" : "not consistent";
    return `${summary.hosts} host${summary.hosts === 1 ? "" : "s"}: ${counts}; ${verdict}`;
}

/** `h3 (20.10.5), h2 (none)`: the differing hosts with their values. */
function differingHosts(report: FleetReport, odd: FleetSummary["oddOnesOut"][number]): string {
    const byName = new Map(report.hosts.map((host) => [host.name, host]));
    return odd.hosts
        .map((name) => {
            const host = byName.get(name);
            const value = host === undefined || !isComparedField(odd.field) ? undefined : valueOf(host, odd.field);
            return `${name} (${value ?? "none"})`;
        })
        .join(", ");
}

/**
 * Plain fixed-width text for a terminal: one row per host (hashes cut to 12 hex digits, CIS pass/warn counts),
 * then the summary, the causes of hosts not converged, and the odd ones out.
 */
export function renderTable(report: FleetReport): string {
    const header = ["HOST", "STATUS", "DOCKER", "DAEMON.JSON", "POLICY", "PLUGIN", "ID RANGE", "CIS"];
    const rows = report.hosts.map((host) => {
        const { pass, warn } = cisCounts(host);
        return [...hostCells(host), host.cis.length === 0 ? "-" : `${pass} pass, ${warn} warn`];
    });
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const format = (cells: string[]) =>
        cells
            .map((cell, column) => cell.padEnd(widths[column]))
            .join("  ")
            .trimEnd();
    const lines = [`Fleet ${oneLine(report.stack)} at ${report.generatedAt}`, "", format(header), ...rows.map(format)];
    lines.push("", statusLine(report));
    for (const host of report.hosts) {
        if (host.status === "converged") continue;
        lines.push(`${oneLine(host.name)} ${host.status}: ${oneLine(host.cause ?? "no cause given")}`);
    }
    for (const odd of report.summary.oddOnesOut) {
        const differing = oneLine(differingHosts(report, odd));
        lines.push(`odd one out in ${odd.field}: majority ${oneLine(odd.majority)}; differs on ${differing}`);
    }
    return `${lines.join("\n")}\n`;
}

/** Text safe in a Markdown table cell: one line, no pipe ending the cell, no HTML. */
function markdownCell(text: string): string {
    return oneLine(text)
        .replace(/\\/g, "\\\\")
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/\|/g, "\\|");
}

function markdownTable(header: string[], rows: string[][]): string[] {
    const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
    return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)];
}

const CIS_CELL: Record<CisStatus, string> = { pass: "pass", warn: "WARN", info: "info", note: "note" };

/** Numeric order of dotted ids: 2.2 before 2.10. */
function compareCheckIds(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Markdown: the summary, the host table, the odd ones out, then one CIS table with a row per check id (every
 * id any host reported) and a column per host (`pass`, `WARN`, `info`, `note`; `-` when the host has no row).
 */
export function renderMarkdown(report: FleetReport): string {
    const { summary } = report;
    const lines = [
        `# Fleet report: ${markdownCell(report.stack)}`,
        "",
        `Generated ${report.generatedAt}. ${statusLine(report)}.`,
        "",
        "## Hosts",
        "",
    ];
    const hostRows = report.hosts.map((host) => {
        const { pass, warn } = cisCounts(host);
        const counts = host.cis.length === 0 ? ["-", "-"] : [String(pass), String(warn)];
        return [...hostCells(host), ...counts, host.cause ?? ""];
    });
    lines.push(
        ...markdownTable(
            [
                "host",
                "status",
                "docker",
                "daemon.json",
                "policy",
                "plugin",
                "id range",
                "CIS pass",
                "CIS warn",
                "cause",
            ],
            hostRows,
        ),
    );
    lines.push("", "## Odd ones out", "");
    if (summary.oddOnesOut.length === 0) {
        lines.push(`None: every host agrees on ${COMPARED_FIELDS.join(", ")}.`);
    } else {
        lines.push(
            ...markdownTable(
                ["field", "majority", "differing hosts"],
                summary.oddOnesOut.map((odd) => [odd.field, odd.majority, differingHosts(report, odd)]),
            ),
        );
    }
    const titles = new Map<string, string>();
    for (const row of report.hosts.flatMap((host) => host.cis)) {
        if (!titles.has(row.id)) titles.set(row.id, row.title);
    }
    const ids = [...titles.keys()].sort(compareCheckIds);
    const cell = (host: HostReport, id: string) => {
        const row = host.cis.find((r) => r.id === id);
        return row === undefined ? "-" : CIS_CELL[row.status];
    };
    lines.push("", "## CIS Docker Benchmark, section 2", "");
    lines.push(
        ...markdownTable(
            ["check", "title", ...report.hosts.map((host) => host.name)],
            ids.map((id) => [id, titles.get(id) ?? "", ...report.hosts.map((host) => cell(host, id))]),
        ),
    );
    return `${lines.join("\n")}\n`;
}

const XML_ENTITIES: Record<string, string> = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&apos;",
};

/** Text for XML 1.0 content: the five specials escaped, characters XML cannot carry replaced by U+FFFD. */
function xmlText(text: string): string {
    return text
        .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
        .replace(/[&<>"']/g, (special) => XML_ENTITIES[special]);
}

/** Text for an XML attribute: as {@link xmlText}, with line breaks and tabs kept as references (not normalized). */
function xmlAttribute(text: string): string {
    return xmlText(text).replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;");
}

function attributes(values: Record<string, string | number>): string {
    return Object.entries(values)
        .map(([name, value]) => ` ${name}="${xmlAttribute(String(value))}"`)
        .join("");
}

/**
 * JUnit XML for CI: a testsuite `fleet` with one testcase per host (a failure, with the cause, when not
 * converged), and a testsuite `cis` with one testcase per host and check (a failure on `warn`; every row's
 * detail in system-out).
 */
export function renderJUnit(report: FleetReport): string {
    const fleetFailures = report.hosts.filter((host) => host.status !== "converged").length;
    const fleetCases = report.hosts.map((host) => {
        const open = `    <testcase${attributes({ classname: "fleet", name: host.name })}`;
        if (host.status === "converged") return `${open}/>`;
        const cause = host.cause ?? "no cause given";
        return (
            `${open}>\n      <failure${attributes({ type: host.status, message: `${host.status}: ${cause}` })}>` +
            `${xmlText(cause)}</failure>\n    </testcase>`
        );
    });
    const cisRows = report.hosts.flatMap((host) => host.cis.map((row) => ({ host, row })));
    const cisFailures = cisRows.filter(({ row }) => row.status === "warn").length;
    const cisCases = cisRows.map(({ host, row }) => {
        const warned = attributes({ type: "warn", message: row.detail });
        const failure = row.status === "warn" ? `\n      <failure${warned}>${xmlText(row.detail)}</failure>` : "";
        return (
            `    <testcase${attributes({ classname: host.name, name: `${row.id} ${row.title}` })}>${failure}\n` +
            `      <system-out>${xmlText(`${row.status}: ${row.detail}`)}</system-out>\n    </testcase>`
        );
    });
    const suite = (name: string, tests: number, failures: number, cases: string[]) => [
        `  <testsuite${attributes({ name, tests, failures, errors: 0, skipped: 0, timestamp: report.generatedAt })}>`,
        ...cases,
        "  </testsuite>",
    ];
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites${attributes({
            name: `fleet report ${report.stack}`,
            tests: report.hosts.length + cisRows.length,
            failures: fleetFailures + cisFailures,
        })}>`,
        ...suite("fleet", report.hosts.length, fleetFailures, fleetCases),
        ...suite("cis", cisRows.length, cisFailures, cisCases),
        "</testsuites>",
        "",
    ].join("\n");
}
