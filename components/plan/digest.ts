/**
 * The fleet digest: `pulumi preview --json` of a HardenedDockerFleet stack turned into what a reviewer reads in a
 * minute (changes grouped across hosts, the hosts that differ from their group, drifted and unreachable hosts,
 * the rollout), in Markdown for a pull-request comment, with the fingerprint of the planned changes that the
 * apply stage compares with a fresh preview.
 *
 * Pure: no I/O. Secrets never reach the output: connections, values the engine shows as `[secret]`, private keys
 * and values of secret-looking keys are left out or shown as `(secret)`, and every output is scrubbed of the
 * strings given in {@link DigestOptions.secrets} (see secretsFromEnvironment in secrets.ts).
 */
import { RESOURCE_SUBJECT, describePath, valueOrAbsent } from "./changeWording";
import { DOCKER_ACTION_TEXT, DigestItem, DockerAction } from "./digestItems";
import { DigestModel, buildDigestModel } from "./digestModel";
import { fingerprintOf } from "./fingerprint";
import { jsonEquals } from "./json";
import { codeSpan, fenceFor, hostCount, markdownText, nameList } from "./markdownText";
import { FleetChanges, fleetChangesOf } from "./previewChanges";
import { PreviewJson, parsePreview } from "./previewJson";
import { analysePreview } from "./previewResources";
import { scrubJson, scrubText } from "./secrets";

/** What {@link fleetDigest} makes of a preview. */
export interface FleetDigest {
    /** The digest for a pull-request comment (Markdown, at most {@link DigestOptions.maxLength} characters). */
    markdown: string;
    /** SHA-256 (64 hex digits) of the planned changes, see {@link fingerprintOf}. */
    fingerprint: string;
    changes: FleetChanges;
}

/** Options of {@link fleetDigest}. */
export interface DigestOptions {
    /** Strings that must never appear in the output (passphrase, key material): replaced by `[scrubbed]`. */
    secrets?: string[];
    /** Longest Markdown produced. Default 60,000 characters (a GitHub comment holds 65,536). */
    maxLength?: number;
}

/** Longest digest by default: under GitHub's 65,536-character limit for a comment, with room to spare. */
export const DIGEST_MAX_LENGTH = 60_000;

/** How much detail: list lengths, diff lines, host names per list. */
interface Detail {
    entries: number;
    items: number;
    diffLines: number;
    names: number;
}

/** Tried in order until the digest fits. */
const DETAIL_LEVELS: readonly Detail[] = [
    { entries: 30, items: 40, diffLines: 150, names: 12 },
    { entries: 10, items: 15, diffLines: 40, names: 8 },
    { entries: 3, items: 5, diffLines: 10, names: 5 },
];

/** A unified diff in a fenced block, cut to the detail level's length. */
function blockLines(lines: string[], indent: string, detail: Detail): string[] {
    const max = detail.diffLines;
    const cut = lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more lines`] : lines;
    const fence = fenceFor(cut);
    return [`${indent}${fence}diff`, ...cut.map((l) => `${indent}${l}`), `${indent}${fence}`];
}

/** A group's items: one on the header line, or the labels there and each item below. */
function itemLines(head: string, items: DigestItem[], suffix: string, detail: Detail): string[] {
    if (items.length === 1) {
        const [item] = items;
        const out = [`${head}${item.text.startsWith("`") ? " " : ": "}${item.text}${suffix}`];
        if (item.block) out.push(...blockLines(item.block, "  ", detail));
        return out;
    }
    const labels = items.map((i) => codeSpan(i.label));
    const listed =
        labels.length > 6 ? `${labels.slice(0, 6).join(", ")} + ${labels.length - 6} more` : labels.join(", ");
    const out = [`${head} ${listed}${suffix}`];
    for (const item of items.slice(0, detail.items)) {
        out.push(`  - ${item.text}`);
        if (item.block) out.push(...blockLines(item.block, "    ", detail));
    }
    if (items.length > detail.items) out.push(`  - … and ${items.length - detail.items} more`);
    return out;
}

function summarySection(m: DigestModel, d: Detail): string[] {
    const { a } = m;
    const summary = Object.entries(a.changeSummary)
        .filter(([, n]) => n > 0)
        .sort(([x], [y]) => Number(x === "same") - Number(y === "same") || (x < y ? -1 : 1))
        .map(([op, n]) => (op === "same" ? `${n} unchanged` : `${n} to ${op}`));
    if (summary.length === 0 && m.changes.planned.length > 0) summary.push(`${m.changes.planned.length} to change`);
    const unreachable = a.unreachable.map((u) => u.host);
    const restart = a.hosts.filter((h) => m.actions.get(h) === "restart");
    const reload = a.hosts.filter((h) => m.actions.get(h) === "reload");
    const docker = [
        ...(restart.length > 0 ? [`restart on ${nameList(restart, d.names)}`] : []),
        ...(reload.length > 0 ? [`reload (SIGHUP), no restart, on ${nameList(reload, d.names)}`] : []),
    ];
    return [
        `## Fleet digest: stack ${codeSpan(a.stack || "?")}`,
        "",
        `**Plan:** ${summary.length > 0 ? summary.join(", ") : "no changes"};` +
            ` changes on ${m.changedHosts.size} of ${hostCount(a.hosts.length)}.` +
            ` **Drifted:** ${m.drifted.length > 0 ? nameList(m.drifted, d.names) : "none"}.` +
            ` **Unreachable:** ${unreachable.length > 0 ? nameList(unreachable, d.names) : "none"}.`,
        `**Docker:** ${docker.length > 0 ? docker.join("; ") : "no restart or reload"}.`,
        "",
        `**Fingerprint:** ${codeSpan(m.fingerprint)} (apply runs only if a fresh preview plans exactly this)`,
        "",
    ];
}

function changesSection(m: DigestModel, d: Detail): string[] {
    const lines = ["### Changes across hosts", ""];
    if (m.groups.length === 0 && m.fleetItems.length === 0) lines.push("No changes planned.");
    for (const g of m.groups) {
        const suffix = g.action ? ` — ${DOCKER_ACTION_TEXT[g.action]}` : "";
        const head = `- **${hostCount(g.hosts.length)}** (${nameList(g.hosts, d.names)}): ${markdownText(g.subject)}`;
        if (g.varied) {
            lines.push(`${head}: a different change on each host (listed with the hosts that differ)${suffix}`);
        } else lines.push(...itemLines(head, g.items, suffix, d));
    }
    for (const f of m.fleetItems) {
        if (f.items.length === 0) lines.push(`${f.head}: ${f.op}`);
        else lines.push(...itemLines(f.head, f.items, "", d));
    }
    return lines;
}

function deviationsSection(m: DigestModel, d: Detail): string[] {
    const lines = ["", "### Hosts that differ from their group", ""];
    if (m.deviations.length === 0) lines.push("None: every host with changes matches its group.");
    for (const e of m.deviations.slice(0, d.entries)) {
        lines.push(`- **${nameList(e.hosts, d.names)}**: ${e.fragments.join("; ")}`);
        for (const b of e.blocks) lines.push(`  ${markdownText(b.title)}:`, ...blockLines(b.lines, "  ", d));
    }
    if (m.deviations.length > d.entries) lines.push(`- … and ${m.deviations.length - d.entries} more`);
    return lines;
}

function driftSection(m: DigestModel, d: Detail): string[] {
    const lines = ["", "### Drifted hosts (refresh found the host differs from the stack's state)", ""];
    if (m.drifted.length === 0) lines.push("None.");
    const plannedByUrn = new Map(m.changes.planned.map((p) => [p.urn, p]));
    const perHost = Math.max(3, Math.min(12, d.items));
    for (const host of m.drifted.slice(0, d.entries)) {
        const findings = m.changes.drifted.filter((f) => f.host === host);
        const parts = findings.slice(0, perHost).map((f) => {
            if (f.path === "(resource)") return `${markdownText(RESOURCE_SUBJECT[f.kind])}: gone from the host`;
            const { subject, rel } = describePath(f.kind, f.path);
            const where = `${markdownText(subject)}${rel === "" ? "" : ` ${codeSpan(rel)}`}`;
            const back = plannedByUrn.get(f.urn)?.inputs.some((c) => c.path === f.path && jsonEquals(c.to, f.state));
            return (
                `${where}: ${valueOrAbsent(f.state)} in the state, ${valueOrAbsent(f.found)} on the host` +
                `${back ? " (this plan puts it back)" : ""}`
            );
        });
        if (findings.length > perHost) parts.push(`… and ${findings.length - perHost} more`);
        lines.push(`- **${host}**: ${parts.join("; ")}`);
    }
    if (m.drifted.length > d.entries) lines.push(`- … and ${m.drifted.length - d.entries} more hosts`);
    return lines;
}

function unreachableSection(m: DigestModel, d: Detail): string[] {
    const lines = ["", "### Unreachable hosts (not read; nothing is planned or applied there until they are back)", ""];
    const list = m.a.unreachable;
    if (list.length === 0) lines.push("None.");
    for (const u of list.slice(0, d.entries)) {
        lines.push(`- **${u.host}**: ${markdownText(u.cause.length > 400 ? `${u.cause.slice(0, 399)}…` : u.cause)}`);
    }
    if (list.length > d.entries) lines.push(`- … and ${list.length - d.entries} more`);
    return lines;
}

function rolloutSection(m: DigestModel, d: Detail): string[] {
    const { a } = m;
    const lines = ["", "### Rollout", ""];
    const label = (h: string): string => {
        if (m.unreachable.has(h)) return "unreachable";
        const act = m.actions.get(h) ?? "none";
        if (act === "restart") return "**restart**";
        if (act === "reload") return "reload";
        return m.changedHosts.has(h) ? "changes, no Docker restart or reload" : "no change";
    };
    if (a.batches.length > 0) {
        const budget =
            a.maxFailures === undefined ? "" : `, failure budget ${codeSpan(`maxFailures: ${a.maxFailures}`)}`;
        const count = `${a.batches.length} batch${a.batches.length === 1 ? "" : "es"}`;
        lines.push(
            `${count}${budget}: a batch starts when the one before is done; more failed hosts than the` +
                " budget halt the later batches.",
            "",
        );
        a.batches.slice(0, d.entries).forEach((batch, i) => {
            const byLabel = new Map<string, string[]>();
            for (const h of batch) byLabel.set(label(h), [...(byLabel.get(label(h)) ?? []), h]);
            lines.push(`${i + 1}. ${[...byLabel].map(([l, hs]) => `${l}: ${nameList(hs, d.names)}`).join(" · ")}`);
        });
        if (a.batches.length > d.entries) lines.push(`… and ${a.batches.length - d.entries} more batches`);
        lines.push("");
    }
    const pick = (act: DockerAction) => a.hosts.filter((h) => !m.unreachable.has(h) && m.actions.get(h) === act);
    const quiet = pick("none").filter((h) => m.changedHosts.has(h));
    const many = d.names * 2;
    const unreachable = a.unreachable.map((u) => u.host);
    lines.push(
        `**Restart Docker:** ${pick("restart").length > 0 ? nameList(pick("restart"), many) : "none"}` +
            ` · **reload (SIGHUP):** ${pick("reload").length > 0 ? nameList(pick("reload"), many) : "none"}` +
            `${quiet.length > 0 ? ` · **no restart or reload:** ${nameList(quiet, many)}` : ""}` +
            `${unreachable.length > 0 ? ` · **unreachable:** ${nameList(unreachable, many)}` : ""}`,
    );
    lines.push(
        "",
        "<sub>Fingerprint: SHA-256 over the sorted planned changes (per resource: operation and each changed" +
            " input's value now and planned) and the unreachable hosts; connections, secrets and provider" +
            " internals are left out. The full preview is the review's preview.json artifact.</sub>",
    );
    return lines;
}

/** The whole digest at one level of detail. */
function render(m: DigestModel, d: Detail): string {
    return `${[
        ...summarySection(m, d),
        ...changesSection(m, d),
        ...deviationsSection(m, d),
        ...driftSection(m, d),
        ...unreachableSection(m, d),
        ...rolloutSection(m, d),
    ].join("\n")}\n`;
}

/** Cuts Markdown at a line boundary so it holds at most `max` characters, saying so. */
function limit(markdown: string, max: number): string {
    if (markdown.length <= max) return markdown;
    const note =
        "\n\n… digest cut here to fit a pull-request comment; the full plan is in the preview.json" + " artifact.\n";
    let cut = markdown.slice(0, Math.max(0, max - note.length - 8));
    cut = cut.slice(0, Math.max(0, cut.lastIndexOf("\n")));
    // An open code fence would swallow the note.
    const open = cut.split("\n").filter((l) => /^\s*```/.test(l)).length % 2 === 1;
    return `${cut}${open ? "\n```" : ""}${note}`;
}

/**
 * The fleet digest of a `pulumi preview --json` document (parsed or as text).
 *
 * Markdown sections: a summary (plan counts, drifted and unreachable hosts, Docker restarts and reloads, the
 * fingerprint); changes grouped across hosts (per daemon.json, policy file, plugin, ...: the largest set of hosts
 * sharing the same changes, keys added/changed/removed with old → new values, JSON-path diffs of JSON policy
 * files, one unified diff per changed Rego file); hosts that differ from their group; drifted hosts (key by key,
 * what refresh found against the state); unreachable hosts (from the warnings); the rollout batches with which
 * hosts restart or reload Docker. Lists are cut ("… and N more"), less detail is shown when the digest would be
 * too long, and the whole stays under `maxLength`.
 */
export function fleetDigest(previewJson: PreviewJson | string, options: DigestOptions = {}): FleetDigest {
    const analysis = analysePreview(parsePreview(previewJson));
    const changes = fleetChangesOf(analysis);
    const fingerprint = fingerprintOf(changes);
    const secrets = options.secrets ?? [];
    const max = options.maxLength ?? DIGEST_MAX_LENGTH;
    const m = buildDigestModel(analysis, changes, fingerprint);
    let markdown = "";
    for (const detail of DETAIL_LEVELS) {
        markdown = scrubText(render(m, detail), secrets);
        if (markdown.length <= max) break;
    }
    return { markdown: limit(markdown, max), fingerprint, changes: scrubJson(changes, secrets) as FleetChanges };
}
