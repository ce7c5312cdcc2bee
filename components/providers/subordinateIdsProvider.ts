import * as pulumi from "@pulumi/pulumi";
import { diffSubordinateIds } from "../plan/stepDiffs";
import {
    SubordinateLineRecord,
    checkRemapRequest,
    legacyLineRecord,
    parseLoginDefs,
    parseSubordinateIds,
    planSubordinateRange,
    planSubordinateRangeKeeping,
    releaseOwnedLine,
    trackSubordinateLines,
} from "../plan/subordinateIds";
import { MachineIdentity, machineIdentity } from "../plan/machineIdentity";
import { checkRemapRemoval } from "../plan/authorization";
import { RECORD_DIR, b64, recordScript, removeFilesScript } from "../host/dockerd";
import { hostScript } from "../host/scripts";
import { shq } from "../host/shell";
import { sha256Hex } from "../plan/sha256";
import { change, preflight } from "./preflight";
import { SshTarget, targetLabel } from "../ssh/target";

/** Inputs and state of SubordinateIds (the resource class is in hostResources.ts). */
export interface SubordinateIdsState {
    connection: SshTarget;
    owner: string;
    count: number;
    /** Requested fixed start; none = first fit. */
    requestedStart?: number;
    /** The fleet-wide start, used when the owner has no valid entry here (see planSubordinateRange). */
    preferredStart?: number;
    /** The range planned at preview (`owner:start:count`), shown by `pulumi preview --diff`. */
    range?: string;
    /** The range in /etc/subuid and /etc/subgid (0 when missing on the host). */
    start: number;
    gidStart: number;
    /** Whether this resource wrote the line in either file (see `lines` for which, and what it replaced). */
    addedByUs: boolean;
    /** Per file: the owner's line, whether we wrote it, and the operator lines it replaced (restored on destroy). */
    lines?: { subuid: SubordinateLineRecord; subgid: SubordinateLineRecord };
    /** Whether this resource created the remap user. */
    userCreatedByUs: boolean;
    /** Allow releasing the range while containers run under it (see checkRemapRemoval). */
    allowDataRootMove?: boolean;
    /** The machine this state describes (see plan/machineIdentity.ts). */
    machine?: MachineIdentity;
}

/** The owner's line in each file, who wrote it and what it replaced. */
type LineRecords = { subuid: SubordinateLineRecord; subgid: SubordinateLineRecord };

/** What the host's record says (written before each change, so a run killed half-way is not forgotten). */
interface HostRecord {
    owner?: string;
    lines?: LineRecords;
    userCreatedByUs?: boolean;
}

const RECORD = "subordinate-ids.json";

function hostRecord(records: Record<string, string>, owner: string): HostRecord | undefined {
    try {
        const r = JSON.parse(records[RECORD] ?? "") as HostRecord;
        return r.owner === owner && r.lines?.subuid && r.lines?.subgid ? r : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The line ownership: the host's record (written before every change, so never older than the state, and right
 * after a run that died before the state was saved), else the state's, else what an older state's flag implies.
 */
function ownership(props: SubordinateIdsState, records: Record<string, string>): LineRecords {
    return (
        hostRecord(records, props.owner)?.lines ??
        props.lines ?? {
            subuid: legacyLineRecord(props.addedByUs, props.owner, { start: props.start, count: props.count }),
            subgid: legacyLineRecord(props.addedByUs, props.owner, { start: props.gidStart, count: props.count }),
        }
    );
}

const FILES = ["/etc/subuid", "/etc/subgid"] as const;

interface IdFiles {
    subuid: string;
    subgid: string;
    loginDefs: string;
    userExists: boolean;
    records: Record<string, string>;
    machineId: string;
}

/** The ID files from the preflight (fresh when about to change them). */
async function readIdFiles(connection: SshTarget, owner: string, fresh = false): Promise<IdFiles> {
    const { facts } = await preflight(connection, { fresh });
    return {
        subuid: facts.subuid,
        subgid: facts.subgid,
        loginDefs: facts.loginDefs,
        userExists: facts.users.includes(owner),
        records: facts.records ?? {},
        machineId: facts.machineId ?? "",
    };
}

const IDS_SH = hostScript("ids.sh");

/**
 * Writes the planned files under shadow's own lock, and only if each file is still what we planned from
 * (`hdh_ids_write` of `sh/ids.sh`): a concurrent edit fails the step instead of being lost.
 */
function writeScript(
    before: IdFiles,
    after: { subuid: string; subgid: string },
    owner: string,
    createUser: boolean,
): string {
    const lines = ["set -e", IDS_SH, createUser ? `hdh_ids_user ${shq(owner)}` : ""];
    for (const file of FILES) {
        const key = file === "/etc/subuid" ? "subuid" : "subgid";
        if (before[key] === after[key]) continue;
        lines.push(`hdh_ids_write ${[file, sha256Hex(before[key]), b64(after[key])].map(shq).join(" ")}`);
    }
    return lines.filter(Boolean).join("\n");
}

/** A number input, or undefined while it is not known yet (at preview, before the fleet range is planned). */
const known = (n: unknown): number | undefined => (typeof n === "number" ? n : undefined);

function findEntry(content: string, owner: string): { start: number; count: number } | undefined {
    return parseSubordinateIds(content).find((e) => e.owner === owner);
}

async function reserve(news: SubordinateIdsState, olds?: SubordinateIdsState): Promise<SubordinateIdsState> {
    const host = targetLabel(news.connection);
    const files = await readIdFiles(news.connection, news.owner, true);
    const bounds = parseLoginDefs(files.loginDefs);
    // A repair puts a removed entry back where it was (the data root <uid>.<gid> depends on it), if still free.
    const plan = (
        file: "/etc/subuid" | "/etc/subgid",
        content: string,
        min: number,
        max: number,
        previous?: number,
    ) => {
        const request = {
            host,
            file,
            content,
            owner: news.owner,
            count: news.count,
            min,
            max,
            preferredStart: known(news.preferredStart),
        };
        return planSubordinateRangeKeeping(request, news.requestedStart, previous);
    };
    const uid = plan("/etc/subuid", files.subuid, bounds.subUidMin, bounds.subUidMax, olds?.start);
    const gid = plan("/etc/subgid", files.subgid, bounds.subGidMin, bounds.subGidMax, olds?.gidStart);
    const createUser = !files.userExists;
    // What we owned before (on a create too: a run that died before the state was saved left its record).
    const record = olds ? ownership(olds, files.records) : hostRecord(files.records, news.owner)?.lines;
    const lines = {
        subuid: trackSubordinateLines(record?.subuid, files.subuid, uid.content, news.owner),
        subgid: trackSubordinateLines(record?.subgid, files.subgid, gid.content, news.owner),
    };
    const found = hostRecord(files.records, news.owner);
    const userCreatedByUs = found?.userCreatedByUs ?? olds?.userCreatedByUs ?? createUser;
    if (uid.action !== "keep" || gid.action !== "keep" || createUser) {
        await change(
            news.connection,
            [
                // The record first: whatever happens next, destroy knows which lines are ours and what they replaced.
                recordScript("subordinate-ids", {
                    owner: news.owner,
                    lines,
                    userCreatedByUs,
                    subuid: uid.range,
                    subgid: gid.range,
                    at: new Date().toISOString(),
                }),
                writeScript(files, { subuid: uid.content, subgid: gid.content }, news.owner, createUser),
            ].join("\n"),
            `reserving subordinate IDs for ${news.owner}`,
        );
    }
    return {
        ...news,
        start: uid.range.start,
        gidStart: gid.range.start,
        lines,
        addedByUs: lines.subuid.ours || lines.subgid.ours,
        userCreatedByUs,
        machine: machineIdentity(files.machineId, news.connection.hostKey),
    };
}

/** Implementation of SubordinateIds (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<SubordinateIdsState, SubordinateIdsState> = {
    async check(_olds, news) {
        const host = targetLabel(news.connection);
        checkRemapRequest(host, news.owner, news.count);
        // Plan at preview, so `pulumi preview --diff` shows the range a host will get.
        const files = await readIdFiles(news.connection, news.owner);
        const bounds = parseLoginDefs(files.loginDefs);
        const plan = planSubordinateRange({
            host,
            file: "/etc/subuid",
            content: files.subuid,
            owner: news.owner,
            count: news.count,
            start: news.requestedStart,
            preferredStart: known(news.preferredStart),
            min: bounds.subUidMin,
            max: bounds.subUidMax,
        });
        return { inputs: { ...news, range: `${news.owner}:${plan.range.start}:${plan.range.count}` } };
    },
    async diff(_id, olds, news) {
        return diffSubordinateIds(olds, news);
    },
    async create(inputs) {
        const outs = await reserve(inputs);
        return { id: `${targetLabel(inputs.connection)}:${inputs.owner}`, outs };
    },
    async update(_id, olds, news) {
        return { outs: await reserve(news, olds) };
    },
    async read(id, props) {
        if (!props) throw new Error(`SubordinateIds ${id}: cannot import without its connection`);
        const files = await readIdFiles(props.connection, props.owner);
        const uid = findEntry(files.subuid, props.owner);
        const gid = findEntry(files.subgid, props.owner);
        // A removed entry reads back as start 0, so the next `up` reserves it again.
        const state = { ...props, start: uid?.start ?? 0, gidStart: gid?.start ?? 0, count: uid?.count ?? props.count };
        return { id, props: state };
    },
    async delete(_id, props) {
        const files = await readIdFiles(props.connection, props.owner, true);
        // Still remapped (a destroy that went on past a refusal): containers may run as these IDs.
        const { facts } = await preflight(props.connection);
        checkRemapRemoval(targetLabel(props.connection), facts, props.allowDataRootMove ?? false);
        const owned = ownership(props, files.records);
        const userCreatedByUs = hostRecord(files.records, props.owner)?.userCreatedByUs ?? props.userCreatedByUs;
        if (!owned.subuid.ours && !owned.subgid.ours && !userCreatedByUs) return;
        // Per file and per line: our line goes, or gives way to the lines it replaced; any other line stays.
        const after = {
            subuid: releaseOwnedLine(files.subuid, owned.subuid),
            subgid: releaseOwnedLine(files.subgid, owned.subgid),
        };
        // shadow's userdel also drops every subuid/subgid line of the user: while an operator's line names it
        // (found in place, or given back now), the user stays.
        const stillNamed = [after.subuid, after.subgid].some((c) =>
            parseSubordinateIds(c).some((e) => e.owner === props.owner),
        );
        const removeUser = userCreatedByUs && !stillNamed ? `userdel ${shq(props.owner)} 2>/dev/null || true` : "";
        await change(
            props.connection,
            [
                writeScript(files, after, props.owner, false),
                removeUser,
                removeFilesScript(`${RECORD_DIR}/subordinate-ids.json`),
            ].join("\n"),
            `releasing subordinate IDs of ${props.owner}`,
        );
    },
};
