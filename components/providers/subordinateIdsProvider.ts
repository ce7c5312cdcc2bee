import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { HostInputError } from "../plan/errors";
import { parseLoginDefs, parseSubordinateIds, planSubordinateRange, releaseSubordinateRange } from "../plan/subordinateIds";
import { RECORD_DIR, b64, recordScript } from "../host/dockerd";
import { shq } from "../host/shell";
import { change, preflight } from "./preflight";
import { SshTarget, targetLabel } from "../ssh/target";

/** Inputs and state of SubordinateIds (see subordinateIds.ts). */
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
    /** Whether this resource added the entries (and so removes them on destroy) or found them in place. */
    addedByUs: boolean;
    /** Whether this resource created the remap user. */
    userCreatedByUs: boolean;
}

const FILES = ["/etc/subuid", "/etc/subgid"] as const;

interface IdFiles {
    subuid: string;
    subgid: string;
    loginDefs: string;
    userExists: boolean;
}

/** The ID files from the preflight (fresh when about to change them). */
async function readIdFiles(connection: SshTarget, owner: string, fresh = false): Promise<IdFiles> {
    const { facts } = await preflight(connection, { fresh });
    return { subuid: facts.subuid, subgid: facts.subgid, loginDefs: facts.loginDefs, userExists: facts.users.includes(owner) };
}

/**
 * Writes the planned files under shadow's own lock (`<file>.lock`, taken with a hard link as shadow-utils does),
 * and only if each file is still what we planned from: a concurrent edit fails the step instead of being lost.
 */
function writeScript(before: IdFiles, after: { subuid: string; subgid: string }, owner: string, createUser: boolean): string {
    const sha = (t: string) => createHash("sha256").update(t, "utf8").digest("hex");
    const lines = [
        "set -e",
        `hdh_lock() { echo $$ > "$1.hdh$$"; i=0; until ln "$1.hdh$$" "$1.lock" 2>/dev/null; do i=$((i+1)); if [ $i -gt 50 ]; then rm -f "$1.hdh$$"; echo "$1 is locked by another tool ($1.lock)" >&2; return 1; fi; sleep 0.1; done; rm -f "$1.hdh$$"; }`,
        createUser ? `id -u ${shq(owner)} >/dev/null 2>&1 || useradd --system --no-create-home --user-group --shell /usr/sbin/nologin ${shq(owner)}` : "",
    ];
    for (const file of FILES) {
        const key = file === "/etc/subuid" ? "subuid" : "subgid";
        if (before[key] === after[key]) continue;
        lines.push(
            `hdh_lock ${file}; trap 'rm -f ${file}.lock' EXIT`,
            `cur=$(if [ -f ${file} ]; then sha256sum < ${file}; else printf '' | sha256sum; fi | cut -d' ' -f1)`,
            `[ "$cur" = ${shq(sha(before[key]))} ] || { echo "${file} changed while we planned; run again" >&2; exit 4; }`,
            `tmp=$(mktemp ${file}.hdh-XXXXXX); echo ${shq(b64(after[key]))} | base64 -d > "$tmp"; chmod 0644 "$tmp"; mv -f "$tmp" ${file}`,
            `rm -f ${file}.lock; trap - EXIT`,
        );
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
    const plan = (file: "/etc/subuid" | "/etc/subgid", content: string, min: number, max: number, previous?: number) => {
        const request = { host, file, content, owner: news.owner, count: news.count, min, max, preferredStart: known(news.preferredStart) };
        if (news.requestedStart !== undefined || !previous) return planSubordinateRange({ ...request, start: news.requestedStart });
        try {
            return planSubordinateRange({ ...request, start: previous });
        } catch {
            return planSubordinateRange(request);
        }
    };
    const uid = plan("/etc/subuid", files.subuid, bounds.subUidMin, bounds.subUidMax, olds?.start);
    const gid = plan("/etc/subgid", files.subgid, bounds.subGidMin, bounds.subGidMax, olds?.gidStart);
    const createUser = !files.userExists;
    if (uid.action !== "keep" || gid.action !== "keep" || createUser) {
        await change(news.connection, [
            writeScript(files, { subuid: uid.content, subgid: gid.content }, news.owner, createUser),
            recordScript("subordinate-ids", { owner: news.owner, subuid: uid.range, subgid: gid.range, at: new Date().toISOString() }),
        ].join("\n"), `reserving subordinate IDs for ${news.owner}`);
    }
    return {
        ...news,
        start: uid.range.start,
        gidStart: gid.range.start,
        // Once ours, always ours: a repaired entry stays ours; an entry that was already there is never ours.
        addedByUs: olds?.addedByUs ?? (uid.action !== "keep" || gid.action !== "keep"),
        userCreatedByUs: olds?.userCreatedByUs ?? createUser,
    };
}

/** Implementation of SubordinateIds (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<SubordinateIdsState, SubordinateIdsState> = {
    async check(_olds, news) {
        const host = targetLabel(news.connection);
        if (!/^[a-z_][a-z0-9_-]*\$?$/.test(news.owner)) {
            throw new HostInputError(host, "userns.user", `"${news.owner}" is not a valid user name`, "use a name like dockremap");
        }
        if (!Number.isInteger(news.count) || news.count < 65536) {
            throw new HostInputError(host, "userns.count", `${news.count} IDs are too few for a container's 0..65535`, "use at least 65536");
        }
        // Plan at preview, so `pulumi preview --diff` shows the range a host will get.
        const files = await readIdFiles(news.connection, news.owner);
        const bounds = parseLoginDefs(files.loginDefs);
        const plan = planSubordinateRange({ host, file: "/etc/subuid", content: files.subuid, owner: news.owner, count: news.count,
            start: news.requestedStart, preferredStart: known(news.preferredStart), min: bounds.subUidMin, max: bounds.subUidMax });
        return { inputs: { ...news, range: `${news.owner}:${plan.range.start}:${plan.range.count}` } };
    },
    async diff(_id, olds, news) {
        const replaces = olds.owner !== news.owner ? ["owner"] : [];
        const moved = news.requestedStart !== undefined && news.requestedStart !== olds.start;
        const changes = replaces.length > 0 || olds.count !== news.count || moved || !olds.start || !olds.gidStart;
        // A new owner's range is reserved before the old one is released (two owners never clash).
        return { changes, replaces, deleteBeforeReplace: false };
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
        if (!props.addedByUs && !props.userCreatedByUs) return;
        const files = await readIdFiles(props.connection, props.owner, true);
        const after = props.addedByUs
            ? {
                subuid: releaseSubordinateRange(files.subuid, props.owner, { start: props.start, count: props.count }),
                subgid: releaseSubordinateRange(files.subgid, props.owner, { start: props.gidStart, count: props.count }),
            }
            : { subuid: files.subuid, subgid: files.subgid };
        const removeUser = props.userCreatedByUs ? `userdel ${shq(props.owner)} 2>/dev/null || true` : "";
        await change(props.connection, [writeScript(files, after, props.owner, false), removeUser, `rm -f ${RECORD_DIR}/subordinate-ids.json`].join("\n"),
            `releasing subordinate IDs of ${props.owner}`);
    },
};
