import { HostInputError } from "./errors";

/** One `owner:start:count` line of /etc/subuid or /etc/subgid. */
export interface SubordinateRange {
    owner: string;
    start: number;
    count: number;
}

/** Bounds from /etc/login.defs (shadow-utils' defaults where a key is missing). */
export interface SubordinateBounds {
    subUidMin: number;
    subUidMax: number;
    subGidMin: number;
    subGidMax: number;
}

const LINE = /^([^:\s]+):(\d+):(\d+)$/;

/** The valid ranges of a subuid/subgid file; malformed lines, comments and blanks are not ranges (and are kept). */
export function parseSubordinateIds(content: string): SubordinateRange[] {
    const out: SubordinateRange[] = [];
    for (const raw of content.split("\n")) {
        const m = LINE.exec(raw.replace(/\r$/, ""));
        if (m) out.push({ owner: m[1], start: Number(m[2]), count: Number(m[3]) });
    }
    return out;
}

/** SUB_UID_MIN/MAX and SUB_GID_MIN/MAX from login.defs (defaults 100000 and 600100000). */
export function parseLoginDefs(content: string): SubordinateBounds {
    const get = (key: string, dflt: number): number => {
        const m = new RegExp(`^\\s*${key}\\s+(\\d+)\\s*$`, "m").exec(content);
        return m ? Number(m[1]) : dflt;
    };
    return { subUidMin: get("SUB_UID_MIN", 100000), subUidMax: get("SUB_UID_MAX", 600100000),
        subGidMin: get("SUB_GID_MIN", 100000), subGidMax: get("SUB_GID_MAX", 600100000) };
}

const overlaps = (a: { start: number; count: number }, b: { start: number; count: number }): boolean =>
    a.start < b.start + b.count && b.start < a.start + a.count;

/** What to do about one owner's range in one file. */
export interface SubordinatePlan {
    /** keep: a valid entry is already there; add: a line is added (or the owner's line replaced). */
    action: "keep" | "add";
    range: SubordinateRange;
    /** The file's new content (equal to the input for keep). */
    content: string;
}

/**
 * Plans the owner's range: keeps a valid existing entry (right size, overlapping no one), otherwise the fixed
 * start, or the first free range (first fit over half-open intervals) within [min, max]. Other lines are kept
 * byte for byte; the owner's stale lines are replaced, never duplicated.
 */
export function planSubordinateRange(opts: { host: string; file: string; content: string; owner: string; count: number; start?: number; min: number; max: number }): SubordinatePlan {
    const { host, file, content, owner, count } = opts;
    const all = parseSubordinateIds(content);
    const others = all.filter((r) => r.owner !== owner);
    const mine = all.filter((r) => r.owner === owner);
    const valid = mine.length === 1 && mine[0].count === count && (opts.start === undefined || mine[0].start === opts.start)
        && !others.some((o) => overlaps(o, mine[0]));
    if (valid) return { action: "keep", range: mine[0], content };

    let start: number;
    if (opts.start !== undefined) {
        const clash = others.find((o) => overlaps(o, { start: opts.start as number, count }));
        if (clash) {
            throw new HostInputError(host, "userns.start", `${file}: [${opts.start}, ${opts.start + count}) overlaps ${clash.owner}'s range [${clash.start}, ${clash.start + clash.count})`,
                "choose a start outside every other owner's range, or leave userns.start unset for the first free range");
        }
        start = opts.start;
    } else {
        start = opts.min;
        for (const o of [...others].sort((a, b) => a.start - b.start)) {
            if (overlaps(o, { start, count })) start = Math.max(start, o.start + o.count);
        }
        if (start + count - 1 > opts.max) {
            throw new HostInputError(host, "userns.count", `${file}: no free range of ${count} IDs between ${opts.min} and ${opts.max}`,
                "free a range, lower userns.count, or raise SUB_UID_MAX/SUB_GID_MAX in /etc/login.defs");
        }
    }
    const range = { owner, start, count };
    const kept = content.split("\n").filter((l) => { const m = LINE.exec(l.replace(/\r$/, "")); return !m || m[1] !== owner; }).join("\n");
    const body = kept === "" || kept.endsWith("\n") ? kept : `${kept}\n`;
    return { action: "add", range, content: `${body}${owner}:${start}:${count}\n` };
}

/** The file without exactly this owner's range line (every other line byte for byte). */
export function releaseSubordinateRange(content: string, owner: string, range: { start: number; count: number }): string {
    const line = `${owner}:${range.start}:${range.count}`;
    return content.split("\n").filter((l) => l.replace(/\r$/, "") !== line).join("\n");
}
