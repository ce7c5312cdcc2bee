/**
 * Subordinate ID ranges: reading /etc/subuid and /etc/subgid (`owner:start:count` lines) and their bounds in
 * /etc/login.defs, and planning one owner's range without disturbing anyone else's.
 *
 * How lines are read (the same for both files):
 * - blank lines and `#` comments (after trimming) are ignored by everyone, and kept;
 * - a range line is `owner:start:count` (surrounding whitespace and a CR allowed, as dockerd trims them), with
 *   decimal numbers; the owner is a user name or a numeric uid, both count as owners;
 * - every other line is malformed: kept byte for byte and never counted as a range (we cannot know what it
 *   reserves). Two kinds are refused, because dockerd 20.10 would then fail to start with userns-remap
 *   (pkg/idtools parses every line): a line without exactly three `:`-separated fields, and a malformed
 *   line naming the remap user itself (we will not guess which range it meant).
 */
import { HostInputError } from "./errors";

/** One owner's range: the IDs `[start, start + count)` (half-open). */
export interface SubordinateRange {
    /** User name or numeric uid, as written in the file. */
    owner: string;
    /** First ID of the range. */
    start: number;
    /** Number of IDs. */
    count: number;
}

/** Bounds for new ranges from /etc/login.defs (shadow-utils' defaults where a key is missing or unreadable). */
export interface SubordinateBounds {
    /** SUB_UID_MIN: lowest ID a new /etc/subuid range may use. Default 100000. */
    subUidMin: number;
    /** SUB_UID_MAX: highest ID a new /etc/subuid range may use. Default 600100000. */
    subUidMax: number;
    /** SUB_UID_COUNT: size of a range useradd gives a new user. Default 65536. */
    subUidCount: number;
    /** SUB_GID_MIN, as SUB_UID_MIN for /etc/subgid. Default 100000. */
    subGidMin: number;
    /** SUB_GID_MAX, as SUB_UID_MAX for /etc/subgid. Default 600100000. */
    subGidMax: number;
    /** SUB_GID_COUNT, as SUB_UID_COUNT for /etc/subgid. Default 65536. */
    subGidCount: number;
}

/** shadow-utils' bounds when /etc/login.defs does not set them. */
export const DEFAULT_SUBORDINATE_BOUNDS: Readonly<SubordinateBounds> = {
    subUidMin: 100000,
    subUidMax: 600100000,
    subUidCount: 65536,
    subGidMin: 100000,
    subGidMax: 600100000,
    subGidCount: 65536,
};

/** The highest usable ID: uid_t is 32 bits and 4294967295 is `(uid_t)-1`, reserved. */
export const HIGHEST_SUBORDINATE_ID = 4294967294;

/** What to do about one owner's range in one file. */
export interface SubordinatePlan {
    /**
     * `keep`: a valid entry is there, the file is unchanged. `add`: a line is appended. `replace`: the owner's
     * line is rewritten in place (wrong size, moved, overlapping someone) and any other line of the owner removed.
     */
    action: "keep" | "add" | "replace";
    /** The owner's range once the plan is applied. */
    range: SubordinateRange;
    /** The file's full new content (the input itself for `keep`). */
    content: string;
    /** The owner's entries that the plan rewrites or removes (empty for `keep` and `add`). */
    replaced: SubordinateRange[];
}

/** Input of {@link planSubordinateRange}. */
export interface SubordinateRangeRequest {
    /** Host label, for errors. */
    host: string;
    /** The file planned (`/etc/subuid` or `/etc/subgid`), for errors. */
    file: string;
    /** The file's current content ("" when it does not exist). */
    content: string;
    /** The owner (the remap user). */
    owner: string;
    /** Number of IDs wanted. */
    count: number;
    /** A fixed first ID; none = keep the owner's start if it still fits, else first fit. */
    start?: number;
    /**
     * The fleet-wide first ID, used when the owner has no valid entry (a valid entry elsewhere is kept: moving
     * it would move Docker's data root). An overlap with another owner is an error naming that owner.
     */
    preferredStart?: number;
    /** Lowest ID a new range may use (SUB_UID_MIN or SUB_GID_MIN). */
    min: number;
    /** Highest ID a new range may use (SUB_UID_MAX or SUB_GID_MAX). */
    max: number;
}

type ParsedLine =
    { kind: "ignored" } | { kind: "range"; range: SubordinateRange } | { kind: "malformed"; fields: string[] };

const RANGE_LINE = /^([^:\s]+):(\d+):(\d+)$/;

function parseLine(text: string): ParsedLine {
    const trimmed = text.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return { kind: "ignored" };
    const match = RANGE_LINE.exec(trimmed);
    if (match) {
        const start = Number(match[2]);
        const count = Number(match[3]);
        if (Number.isSafeInteger(start) && Number.isSafeInteger(count))
            return { kind: "range", range: { owner: match[1], start, count } };
    }
    return { kind: "malformed", fields: trimmed.split(":") };
}

/** The file's lines without their `\n` (a CR stays part of its line), and whether the last one was terminated. */
function splitFile(content: string): { lines: string[]; terminated: boolean } {
    if (content === "") return { lines: [], terminated: true };
    const lines = content.split("\n");
    const terminated = lines[lines.length - 1] === "";
    if (terminated) lines.pop();
    return { lines, terminated };
}

function joinFile(lines: string[], terminated: boolean): string {
    if (lines.length === 0) return "";
    return lines.join("\n") + (terminated ? "\n" : "");
}

const rangeText = (r: SubordinateRange): string => `${r.owner}:${r.start}:${r.count}`;
const intervalText = (r: { start: number; count: number }): string => `[${r.start}, ${r.start + r.count})`;

/** Whether two half-open ranges share an ID; empty ranges share none. */
function overlaps(a: { start: number; count: number }, b: { start: number; count: number }): boolean {
    return a.count > 0 && b.count > 0 && a.start < b.start + b.count && b.start < a.start + a.count;
}

/**
 * The valid range lines of a subuid/subgid file, in file order (comments, blanks and malformed lines are not
 * ranges).
 */
export function parseSubordinateIds(content: string): SubordinateRange[] {
    const ranges: SubordinateRange[] = [];
    for (const text of splitFile(content).lines) {
        const line = parseLine(text);
        if (line.kind === "range") ranges.push(line.range);
    }
    return ranges;
}

/**
 * SUB_UID_MIN/MAX/COUNT and SUB_GID_MIN/MAX/COUNT from /etc/login.defs content (`KEY value` lines, `#`
 * comments; the last occurrence wins, as in shadow-utils). A missing or non-decimal value gives the default.
 */
export function parseLoginDefs(content: string): SubordinateBounds {
    const values = new Map<string, string>();
    for (const line of content.split("\n")) {
        const match = /^\s*([A-Z_]+)\s+"?([^"\s]*)"?\s*$/.exec(line.replace(/\r$/, ""));
        if (match) values.set(match[1], match[2]);
    }
    const read = (key: keyof SubordinateBounds, name: string): number => {
        const text = values.get(name);
        return text !== undefined && /^\d+$/.test(text) && Number.isSafeInteger(Number(text))
            ? Number(text)
            : DEFAULT_SUBORDINATE_BOUNDS[key];
    };
    return {
        subUidMin: read("subUidMin", "SUB_UID_MIN"),
        subUidMax: read("subUidMax", "SUB_UID_MAX"),
        subUidCount: read("subUidCount", "SUB_UID_COUNT"),
        subGidMin: read("subGidMin", "SUB_GID_MIN"),
        subGidMax: read("subGidMax", "SUB_GID_MAX"),
        subGidCount: read("subGidCount", "SUB_GID_COUNT"),
    };
}

function checkRequest(request: SubordinateRangeRequest): void {
    const { host, owner, count, start, min, max, file } = request;
    if (owner === "" || /[:\s]/.test(owner)) {
        throw new HostInputError(
            host,
            "userns.user",
            `${JSON.stringify(owner)} cannot own a range (empty, or contains ":" or whitespace)`,
            "use a plain user name like dockremap",
        );
    }
    if (!Number.isInteger(count) || count < 1 || count > HIGHEST_SUBORDINATE_ID + 1) {
        throw new HostInputError(
            host,
            "userns.count",
            `${count} is not a usable number of IDs`,
            "use a whole number such as 65536",
        );
    }
    if (start !== undefined && (!Number.isInteger(start) || start < 0 || start + count - 1 > HIGHEST_SUBORDINATE_ID)) {
        throw new HostInputError(
            host,
            "userns.start",
            `${start} is not a usable first ID for ${count} IDs (IDs end at ${HIGHEST_SUBORDINATE_ID})`,
            "use a whole number, or leave userns.start unset for the first free range",
        );
    }
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || min > max) {
        const kind = file.endsWith("subgid") ? "GID" : "UID";
        throw new HostInputError(
            host,
            "/etc/login.defs",
            `SUB_${kind}_MIN (${min}) and SUB_${kind}_MAX (${max}) do not form a range`,
            `set SUB_${kind}_MIN below SUB_${kind}_MAX on the host, or remove both to use the defaults`,
        );
    }
}

/** Refuses lines that would stop dockerd from starting with userns-remap (see the module comment). */
function refuseBlockingLine(
    request: SubordinateRangeRequest,
    text: string,
    fields: string[],
    lineNumber: number,
): void {
    const where = `${request.file} line ${lineNumber} (${JSON.stringify(text)})`;
    if (fields.length !== 3) {
        throw new HostInputError(
            request.host,
            request.file,
            `${where} is not "name:start:count"; ` +
                "dockerd refuses to start with userns-remap while this file has such a line",
            "correct the line on the host, or turn it into a comment by starting it with #",
        );
    }
    if (fields[0] === request.owner) {
        throw new HostInputError(
            request.host,
            request.file,
            `${where} names ${request.owner} but its start or count is not a decimal number`,
            `correct or remove that line on the host (it is not guessed which range it meant)`,
        );
    }
}

/** The first start in `[min, max]` whose range of `count` IDs overlaps none of `taken`, or undefined. */
function firstFit(taken: SubordinateRange[], count: number, min: number, max: number): number | undefined {
    let candidate = min;
    for (const range of [...taken].sort((a, b) => a.start - b.start)) {
        if (range.count === 0 || range.start + range.count <= candidate) continue;
        if (range.start >= candidate + count) break;
        candidate = range.start + range.count;
    }
    return candidate + count - 1 <= max ? candidate : undefined;
}

function describeOwners(ranges: SubordinateRange[]): string {
    return ranges.map((r) => `${r.owner}'s range ${intervalText(r)}`).join(", ");
}

/**
 * Plans `owner`'s range in one subuid/subgid file. Idempotent: a valid entry (the requested count, the fixed
 * start if one is asked, overlapping no other owner) is kept as is. Otherwise the owner's first line is
 * rewritten in place (its start kept when the new range still fits there, so Docker's `<uid>.<gid>` data
 * root does not move), or a line is appended; the new range is the fixed start, or the first fit of
 * half-open intervals within `[min, max]` avoiding every other owner's range. Other owners' lines, comments,
 * blanks and malformed lines are kept byte for byte; the owner never ends up with two lines. Our line is
 * written `owner:start:count` with an LF (shadow-utils does not accept a CR in it).
 *
 * @throws HostInputError when the fixed start overlaps another owner (naming each), when no free range is
 *   left, when the request is unusable, or for a line that would stop dockerd (see the module comment).
 */
export function planSubordinateRange(request: SubordinateRangeRequest): SubordinatePlan {
    checkRequest(request);
    const { host, file, content, owner, count } = request;
    const { lines, terminated } = splitFile(content);
    const others: SubordinateRange[] = [];
    const mine: { range: SubordinateRange; index: number }[] = [];
    lines.forEach((text, index) => {
        const line = parseLine(text);
        if (line.kind === "malformed") refuseBlockingLine(request, text, line.fields, index + 1);
        if (line.kind !== "range") return;
        if (line.range.owner === owner) mine.push({ range: line.range, index });
        else others.push(line.range);
    });
    const fits = (r: { start: number; count: number }): boolean =>
        r.start + r.count - 1 <= HIGHEST_SUBORDINATE_ID && !others.some((other) => overlaps(other, r));

    const valid = mine.find(
        ({ range }) =>
            range.count === count && (request.start === undefined || range.start === request.start) && fits(range),
    );
    if (valid && mine.length === 1) return { action: "keep", range: valid.range, content, replaced: [] };

    let start: number;
    if (valid) {
        start = valid.range.start;
    } else if (request.start !== undefined) {
        const clashes = others.filter((other) => overlaps(other, { start: request.start as number, count }));
        if (clashes.length > 0) {
            throw new HostInputError(
                host,
                "userns.start",
                `${file}: ${intervalText({ start: request.start, count })} overlaps ${describeOwners(clashes)}`,
                "choose a start outside every other owner's range, " +
                    "or leave userns.start unset for the first free range",
            );
        }
        start = request.start;
    } else if (request.preferredStart !== undefined) {
        const clashes = others.filter((other) => overlaps(other, { start: request.preferredStart as number, count }));
        if (clashes.length > 0) {
            throw new HostInputError(
                host,
                "userns (fleet ID range)",
                `${file}: the fleet's range ${intervalText({ start: request.preferredStart, count })} ` +
                    `overlaps ${describeOwners(clashes)}`,
                "free that range on this host, or give this host a range of its own (fleetIdRange: false, or idStart)",
            );
        }
        start = request.preferredStart;
    } else if (mine.length > 0 && fits({ start: mine[0].range.start, count })) {
        start = mine[0].range.start;
    } else {
        const found = firstFit(others, count, request.min, Math.min(request.max, HIGHEST_SUBORDINATE_ID));
        if (found === undefined) {
            const kind = file.endsWith("subgid") ? "GID" : "UID";
            throw new HostInputError(
                host,
                "userns.count",
                `${file}: no free range of ${count} IDs between ${request.min} and ${request.max} ` +
                    `(SUB_${kind}_MIN..SUB_${kind}_MAX)`,
                `free a range, lower userns.count, set userns.start, or raise SUB_${kind}_MAX in /etc/login.defs`,
            );
        }
        start = found;
    }

    const range: SubordinateRange = { owner, start, count };
    if (mine.length === 0) {
        const separator = content === "" || content.endsWith("\n") ? "" : "\n";
        return { action: "add", range, content: `${content}${separator}${rangeText(range)}\n`, replaced: [] };
    }
    const target = valid ?? mine[0];
    const ownIndexes = new Set(mine.map((m) => m.index));
    const next: string[] = [];
    let ourLineIsLast = false;
    lines.forEach((text, index) => {
        if (index !== target.index && ownIndexes.has(index)) return;
        next.push(index === target.index ? rangeText(range) : text);
        ourLineIsLast = index === target.index;
    });
    return {
        action: "replace",
        range,
        content: joinFile(next, terminated || ourLineIsLast),
        replaced: mine.filter((m) => m !== valid).map((m) => m.range),
    };
}

/** One host's ID files, for {@link commonSubordinateStart}. */
export interface HostIdFiles {
    subuid: string;
    subgid: string;
    loginDefs: string;
}

/**
 * The fleet-wide range: the lowest start whose `count` IDs are free in /etc/subuid and /etc/subgid of every
 * host (the owner's own lines do not count as taken), within every host's SUB_UID/SUB_GID bounds. `previous`
 * (the start chosen before) is kept while it is still free everywhere, so adding a host never moves the range.
 *
 * @throws HostInputError when no range is free on all hosts.
 */
export function commonSubordinateStart(
    fleet: string,
    hosts: HostIdFiles[],
    owner: string,
    count: number,
    previous?: number,
): number {
    const taken: SubordinateRange[] = [];
    let min = hosts.length === 0 ? DEFAULT_SUBORDINATE_BOUNDS.subUidMin : 0;
    let max = HIGHEST_SUBORDINATE_ID;
    for (const h of hosts) {
        for (const content of [h.subuid, h.subgid])
            taken.push(...parseSubordinateIds(content).filter((r) => r.owner !== owner));
        const b = parseLoginDefs(h.loginDefs);
        min = Math.max(min, b.subUidMin, b.subGidMin);
        max = Math.min(max, b.subUidMax, b.subGidMax);
    }
    if (
        previous !== undefined &&
        previous >= min &&
        previous + count - 1 <= max &&
        !taken.some((t) => overlaps(t, { start: previous, count }))
    ) {
        return previous;
    }
    const found = firstFit(taken, count, min, max);
    if (found === undefined) {
        throw new HostInputError(
            fleet,
            "userns.count",
            `no range of ${count} IDs is free on every host between ${min} and ${max}`,
            "free a range on the hosts, lower userns.count, " +
                "or give some hosts a range of their own (fleetIdRange: false)",
        );
    }
    return found;
}

/**
 * Who owns the remap user's line in one subuid/subgid file, so that destroy gives back exactly what was there:
 * a line we found valid stays; a line we added goes; a line we wrote in place of an operator's line(s) is
 * replaced by them again. Kept per file: the two files are planned, and owned, separately.
 */
export interface SubordinateLineRecord {
    /** The owner's line as it is in the file after our change (or as found), without its newline. */
    line: string;
    /** Whether we wrote `line` (added, or in place of other lines); false: found valid and never touched. */
    ours: boolean;
    /** The lines of the owner we rewrote or removed, byte for byte and in file order: restored on destroy. */
    replaced: string[];
}

/** The owner's range lines of a file, as written (a CR stays part of its line). */
function ownerLines(content: string, owner: string): string[] {
    return splitFile(content).lines.filter((text) => {
        const line = parseLine(text);
        return line.kind === "range" && line.range.owner === owner;
    });
}

/** `a` without one occurrence of each element of `b` (file lines compared exactly). */
function withoutEach(a: string[], b: string[]): string[] {
    const rest = [...b];
    return a.filter((x) => {
        const i = rest.indexOf(x);
        if (i < 0) return true;
        rest.splice(i, 1);
        return false;
    });
}

/**
 * The ownership of the owner's line after a planned change from `before` to `after` (the same text: no change),
 * given the ownership recorded before (none: the first time). Once ours, the line stays ours, and operator lines
 * replaced earlier are still owed back; a found line that we now rewrite (a new size, a removed entry re-added)
 * becomes ours, and the operator's line it replaces is owed back.
 */
export function trackSubordinateLines(
    previous: SubordinateLineRecord | undefined,
    before: string,
    after: string,
    owner: string,
): SubordinateLineRecord {
    const line = ownerLines(after, owner)[0] ?? "";
    if (before === after) {
        if (!previous) return { line, ours: false, replaced: [] };
        return { ...previous, line: previous.ours ? previous.line : line };
    }
    const removed = withoutEach(ownerLines(before, owner), ownerLines(after, owner));
    if (!previous) return { line, ours: true, replaced: removed };
    // Our own earlier line is not the operator's, and a line already owed back is not owed twice (a recorded
    // change that did not reach the file is planned again).
    const owed = (text: string) => !(previous.ours && text === previous.line) && !previous.replaced.includes(text);
    const foreign = removed.filter(owed);
    return { line, ours: true, replaced: [...previous.replaced, ...foreign] };
}

/**
 * The file as destroy leaves it: our line replaced by the lines it replaced (none: removed). A line we did not
 * write, or a file where our line is no longer exactly as we wrote it, is returned unchanged: destroy never
 * removes or rewrites a line it did not add.
 */
export function releaseOwnedLine(content: string, record: SubordinateLineRecord): string {
    if (!record.ours || record.line === "") return content;
    const { lines, terminated } = splitFile(content);
    const index = lines.indexOf(record.line);
    if (index < 0) return content;
    const next = [...lines.slice(0, index), ...record.replaced, ...lines.slice(index + 1)];
    return joinFile(next, terminated || index === lines.length - 1);
}

/**
 * The ownership a state written before per-line records implies: one flag for both files, and our line the
 * owner's range as recorded (nothing replaced is known, so nothing is restored).
 */
export function legacyLineRecord(
    addedByUs: boolean,
    owner: string,
    range: { start: number; count: number },
): SubordinateLineRecord {
    const line = range.start ? `${owner}:${range.start}:${range.count}` : "";
    return { line, ours: addedByUs && range.start > 0, replaced: [] };
}

/**
 * The range of a run that may repair one: the requested start when one is given; else the start the host had
 * before (its data root `<uid>.<gid>` depends on it) while still free there; else the usual first fit.
 */
export function planSubordinateRangeKeeping(
    request: Omit<SubordinateRangeRequest, "start">,
    requestedStart?: number,
    previousStart?: number,
): SubordinatePlan {
    if (requestedStart !== undefined || !previousStart)
        return planSubordinateRange({ ...request, start: requestedStart });
    try {
        return planSubordinateRange({ ...request, start: previousStart });
    } catch {
        return planSubordinateRange(request);
    }
}

/** Refuses a remap user name the system tools would refuse, and a range too small for a container's 0..65535. */
export function checkRemapRequest(host: string, owner: string, count: number): void {
    if (!/^[a-z_][a-z0-9_-]*\$?$/.test(owner)) {
        throw new HostInputError(
            host,
            "userns.user",
            `"${owner}" is not a valid user name`,
            "use a name like dockremap",
        );
    }
    if (!Number.isInteger(count) || count < 65536) {
        throw new HostInputError(
            host,
            "userns.count",
            `${count} IDs are too few for a container's 0..65535`,
            "use at least 65536",
        );
    }
}
