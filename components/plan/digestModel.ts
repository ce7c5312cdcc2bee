/**
 * What the fleet digest shows, computed once: changes grouped across hosts (the largest set of hosts sharing the
 * same changes of each subject), the hosts that differ from their group, what each host does to Docker, and the
 * drifted and unreachable hosts. The digest renders it at decreasing levels of detail.
 */
import { RESOURCE_SUBJECT } from "./changeWording";
import { DOCKER_ACTION_TEXT, DigestItem, DockerAction, digestItemsOf, dockerActionOf } from "./digestItems";
import { codeSpan, markdownText } from "./markdownText";
import type { FleetChanges } from "./previewChanges";
import type { PreviewAnalysis, PreviewResource, ResourceKind } from "./previewResources";

/** Order of subjects in the digest: host steps in the order they apply, JSON files before others. */
const KIND_ORDER: ResourceKind[] = ["subids", "daemon", "policy", "plugin", "authz", "host", "other"];

/** The largest set of hosts sharing the same changes of one subject (daemon.json, a policy file, ...). */
export interface Group {
    subject: string;
    hosts: string[];
    items: DigestItem[];
    /** For daemon.json: what the group's hosts do to Docker (the most frequent). */
    action?: DockerAction;
    /** No two hosts share a change of this subject: each host's is listed with the hosts that differ. */
    varied?: boolean;
}

/** Hosts that differ from their groups in the same way. */
export interface Deviation {
    hosts: string[];
    fragments: string[];
    blocks: DiffBlock[];
}

/** Everything the Markdown shows, computed once and rendered at decreasing levels of detail. */
export interface DigestModel {
    a: PreviewAnalysis;
    changes: FleetChanges;
    fingerprint: string;
    unreachable: ReadonlySet<string>;
    changedHosts: ReadonlySet<string>;
    actions: ReadonlyMap<string, DockerAction>;
    groups: Group[];
    fleetItems: { head: string; items: DigestItem[]; op: string }[];
    deviations: Deviation[];
    drifted: string[];
}

/** A diff shown under a deviation. */
interface DiffBlock {
    title: string;
    lines: string[];
}

/** What makes each host differ from its groups, per host. */
type Deviations = Map<string, { fragments: string[]; blocks: DiffBlock[] }>;

/** One subject's items, each with the hosts that have it. */
interface Topic {
    kind: ResourceKind;
    items: Map<string, { item: DigestItem; hosts: Set<string> }>;
}

/** The fleet's hosts as the groups see them. */
interface Fleet {
    /** Hosts in rollout order. */
    inOrder: (hosts: Iterable<string>) => string[];
    reachable: string[];
    actions: ReadonlyMap<string, DockerAction>;
}

function deviate(map: Deviations, host: string, fragment?: string, block?: DiffBlock): void {
    const d = map.get(host) ?? { fragments: [], blocks: [] };
    if (fragment) d.fragments.push(fragment);
    if (block) d.blocks.push(block);
    map.set(host, d);
}

function subjectOrder(kind: ResourceKind, subject: string): [number, number, string] {
    const k = KIND_ORDER.indexOf(kind);
    return [k < 0 ? KIND_ORDER.length : k, /\.json$/.test(subject) ? 0 : 1, subject];
}

function byOrder(a: [number, number, string], b: [number, number, string]): number {
    return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

function mostFrequent<T>(values: T[]): T | undefined {
    const counts = new Map<T, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].sort((x, y) => y[1] - x[1])[0]?.[0];
}

/** Items per subject, with the hosts that have each, in digest order. */
function topicsOf(hostChanges: PreviewResource[]): [string, Topic][] {
    const topics = new Map<string, Topic>();
    for (const r of hostChanges) {
        for (const item of digestItemsOf(r)) {
            const topic = topics.get(item.subject) ?? { kind: item.kind, items: new Map() };
            topics.set(item.subject, topic);
            const entry = topic.items.get(item.key) ?? { item, hosts: new Set<string>() };
            entry.hosts.add(r.host as string);
            topic.items.set(item.key, entry);
        }
    }
    return [...topics.entries()].sort(([sa, ta], [sb, tb]) =>
        byOrder(subjectOrder(ta.kind, sa), subjectOrder(tb.kind, sb)),
    );
}

/** A subject's group, noting in `deviations` the hosts that differ from it. */
function groupOf(subject: string, topic: Topic, fleet: Fleet, deviations: Deviations): Group {
    // Items that the same hosts have form a bucket; the bucket with the most hosts is the group.
    const buckets = new Map<string, { hosts: string[]; items: DigestItem[] }>();
    for (const { item, hosts } of topic.items.values()) {
        const sorted = fleet.inOrder(hosts);
        const key = sorted.join("\0");
        const bucket = buckets.get(key) ?? { hosts: sorted, items: [] };
        bucket.items.push(item);
        buckets.set(key, bucket);
    }
    const withTopic = fleet.inOrder(new Set([...topic.items.values()].flatMap((e) => [...e.hosts])));
    let main = [...buckets.values()].sort(
        (x, y) => y.hosts.length - x.hosts.length || y.items.length - x.items.length,
    )[0];
    // No two hosts share a change: no group, each host's change is listed below.
    const varied = main.hosts.length === 1 && withTopic.length > 1;
    if (varied) main = { hosts: [], items: [] };
    const group: Group = { subject, hosts: varied ? withTopic : main.hosts, items: main.items, varied };
    const mainKeys = new Set(main.items.map((i) => i.key));
    const extrasOf = new Map<string, DigestItem[]>();
    for (const { item, hosts } of topic.items.values()) {
        if (mainKeys.has(item.key)) continue;
        for (const h of hosts) extrasOf.set(h, [...(extrasOf.get(h) ?? []), item]);
    }
    // A host without the group's change is worth naming only when most hosts have it.
    const expectAll = main.hosts.length >= 2 && main.hosts.length * 2 > fleet.reachable.length;
    const inMain = new Set(main.hosts);
    const groupLabels = main.items
        .map((i) => codeSpan(i.label))
        .slice(0, 4)
        .join(", ");
    for (const host of fleet.reachable) {
        const extras = extrasOf.get(host) ?? [];
        const listed = extras.map((i) => i.text).join("; ");
        if (inMain.has(host)) {
            if (extras.length > 0) deviate(deviations, host, `${markdownText(subject)}: also ${listed}`);
        } else if (extras.length > 0) {
            const instead = varied ? "" : " (instead of the group's change)";
            deviate(deviations, host, `${markdownText(subject)}: ${listed}${instead}`);
        } else if (expectAll) {
            deviate(deviations, host, `${markdownText(subject)}: no change (the group changes ${groupLabels})`);
        }
        for (const i of extras) {
            if (i.block) deviate(deviations, host, undefined, { title: subject, lines: i.block });
        }
    }
    if (subject === "daemon.json") {
        group.action = mostFrequent(group.hosts.map((h) => fleet.actions.get(h) ?? "none"));
        const groupAction = DOCKER_ACTION_TEXT[group.action ?? "none"];
        for (const h of group.hosts) {
            const own = fleet.actions.get(h) ?? "none";
            if (own !== group.action) deviate(deviations, h, `${DOCKER_ACTION_TEXT[own]} (the group: ${groupAction})`);
        }
    }
    return group;
}

/** Hosts that differ in the same way, listed together. */
function deviationsTogether(deviations: Deviations, fleet: Fleet): Deviation[] {
    const together = new Map<string, Deviation>();
    for (const host of fleet.inOrder(deviations.keys())) {
        const d = deviations.get(host) as { fragments: string[]; blocks: DiffBlock[] };
        const key = JSON.stringify([d.fragments, d.blocks]);
        const entry = together.get(key) ?? { hosts: [], fragments: d.fragments, blocks: d.blocks };
        entry.hosts.push(host);
        together.set(key, entry);
    }
    return [...together.values()];
}

/** What a change of the fleet's own resources is about (its type and name when it is none of ours). */
function fleetSubject(r: PreviewResource): string {
    return r.kind === "other" ? `${r.typeName} ${r.name}` : RESOURCE_SUBJECT[r.kind];
}

/** The digest's model of an analysed preview (see {@link DigestModel}). */
export function buildDigestModel(a: PreviewAnalysis, changes: FleetChanges, fingerprint: string): DigestModel {
    const unreachable = new Set(a.unreachable.map((u) => u.host));
    const changed = a.resources.filter((r) => r.op !== undefined);
    const hostChanges = changed.filter((r) => r.host && r.kind !== "gate");
    const daemonOf = new Map(changed.filter((r) => r.kind === "daemon" && r.host).map((r) => [r.host as string, r]));
    const actions = new Map(a.hosts.map((h) => [h, dockerActionOf(daemonOf.get(h))]));
    const position = new Map(a.hosts.map((h, i) => [h, i]));
    const fleet: Fleet = {
        inOrder: (hosts) => [...hosts].sort((x, y) => (position.get(x) ?? 0) - (position.get(y) ?? 0)),
        reachable: a.hosts.filter((h) => !unreachable.has(h)),
        actions,
    };
    const deviations: Deviations = new Map();
    const groups = topicsOf(hostChanges).map(([subject, topic]) => groupOf(subject, topic, fleet, deviations));
    const fleetItems = changed
        .filter((r) => !r.host && !["gate", "stack", "fleet"].includes(r.kind))
        .map((r) => ({
            head: `- **fleet**: ${markdownText(fleetSubject(r))}`,
            items: digestItemsOf(r),
            op: r.op as string,
        }));
    return {
        a,
        changes,
        fingerprint,
        unreachable,
        actions,
        groups,
        fleetItems,
        deviations: deviationsTogether(deviations, fleet),
        changedHosts: new Set(hostChanges.map((r) => r.host as string)),
        drifted: fleet.inOrder(new Set(changes.drifted.map((d) => d.host))),
    };
}
