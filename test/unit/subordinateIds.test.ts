import { HostInputError } from "../../components/plan/errors";
import {
    checkRemapRequest,
    planSubordinateRangeKeeping,
    DEFAULT_SUBORDINATE_BOUNDS,
    SubordinateRangeRequest,
    parseLoginDefs,
    parseSubordinateIds,
    planSubordinateRange,
    legacyLineRecord,
    releaseOwnedLine,
    trackSubordinateLines,
} from "../../components/plan/subordinateIds";

const plan = (content: string, extra: Partial<SubordinateRangeRequest> = {}) =>
    planSubordinateRange({
        host: "h1",
        file: "/etc/subuid",
        content,
        owner: "dockremap",
        count: 65536,
        min: 100000,
        max: 600100000,
        ...extra,
    });

/** The thrown error, for asserting on its fields. */
function thrown(run: () => unknown): HostInputError {
    try {
        run();
    } catch (error) {
        if (error instanceof HostInputError) return error;
        throw error;
    }
    throw new Error("expected a HostInputError");
}

describe("planSubordinateRange: first fit", () => {
    test("an empty (or missing) file gets our line at SUB_UID_MIN", () => {
        expect(plan("")).toEqual({
            action: "add",
            range: { owner: "dockremap", start: 100000, count: 65536 },
            content: "dockremap:100000:65536\n",
            replaced: [],
        });
    });

    test("the range after another owner's, adjacent (half-open intervals)", () => {
        const result = plan("alice:100000:65536\n");
        expect(result.range.start).toBe(165536);
        expect(result.content).toBe("alice:100000:65536\ndockremap:165536:65536\n");
    });

    test("a gap exactly the right size between two owners is used", () => {
        expect(plan("alice:100000:65536\nbob:231072:65536\n").range.start).toBe(165536);
    });

    test("a gap one ID too small is skipped", () => {
        expect(plan("alice:100000:65536\nbob:231071:65536\n").range.start).toBe(231071 + 65536);
    });

    test("a larger gap further on is found when the first is too small", () => {
        expect(plan("alice:100000:65536\nbob:200000:100000\n", { count: 131072 }).range.start).toBe(300000);
    });

    test("nested ranges: a range inside another does not pull the candidate back", () => {
        expect(plan("alice:100000:500000\nbob:200000:10\ncarol:150000:1000\n").range.start).toBe(600000);
    });

    test("overlapping ranges of two owners are both avoided", () => {
        expect(plan("alice:100000:100000\nbob:150000:100000\n").range.start).toBe(250000);
    });

    test("file order does not matter (ranges are sorted)", () => {
        expect(plan("bob:165536:65536\nalice:100000:65536\n").range.start).toBe(231072);
    });

    test("a range below SUB_UID_MIN that reaches past it pushes the start up", () => {
        expect(plan("carol:0:100001\n").range.start).toBe(100001);
    });

    test("empty ranges (count 0) block nothing", () => {
        expect(plan("zed:100000:0\n").range.start).toBe(100000);
    });

    test("numeric-uid owners are owners too", () => {
        const result = plan("1000:100000:65536\n");
        expect(result.range.start).toBe(165536);
        expect(parseSubordinateIds("1000:100000:65536\n")).toEqual([{ owner: "1000", start: 100000, count: 65536 }]);
    });

    test("a range that ends exactly at SUB_UID_MAX fits; one ID more does not", () => {
        expect(plan("alice:100000:65536\n", { max: 231071 }).range.start).toBe(165536);
        expect(() => plan("alice:100000:65536\n", { max: 231070 })).toThrow(HostInputError);
    });

    test("a full range is an error that says what to do", () => {
        const error = thrown(() => plan("alice:100000:600000000\n"));
        expect(error.field).toBe("userns.count");
        expect(error.message).toBe(
            "host h1: userns.count: /etc/subuid: " +
                "no free range of 65536 IDs between 100000 and 600100000 (SUB_UID_MIN..SUB_UID_MAX). " +
                "Fix: free a range, lower userns.count, set userns.start, or raise SUB_UID_MAX in /etc/login.defs",
        );
        expect(thrown(() => plan("alice:100000:600000000\n", { file: "/etc/subgid" })).message).toContain(
            "SUB_GID_MAX",
        );
    });

    test("bounds from login.defs are used", () => {
        const bounds = parseLoginDefs("SUB_UID_MIN 200000\nSUB_UID_MAX 300000\n");
        expect(plan("", { min: bounds.subUidMin, max: bounds.subUidMax }).range.start).toBe(200000);
        expect(() => plan("", { count: 100002, min: bounds.subUidMin, max: bounds.subUidMax })).toThrow(
            /no free range of 100002 IDs/,
        );
    });
});

describe("planSubordinateRange: fixed start", () => {
    test("a free fixed start is used, even right after another range", () => {
        expect(plan("alice:100000:65536\n", { start: 165536 }).content).toBe(
            "alice:100000:65536\ndockremap:165536:65536\n",
        );
    });

    test("a fixed start overlapping someone names that owner and range", () => {
        const error = thrown(() => plan("alice:100000:65536\nbob:200000:65536\n", { start: 150000 }));
        expect(error.field).toBe("userns.start");
        expect(error.problem).toBe(
            "/etc/subuid: [150000, 215536) overlaps alice's range [100000, 165536), bob's range [200000, 265536)",
        );
    });

    test("a fixed start inside a larger range (nested) is refused", () => {
        expect(() => plan("alice:100000:1000000\n", { start: 200000 })).toThrow(
            /overlaps alice's range \[100000, 1100000\)/,
        );
    });

    test("a fixed start equal to the owner's entry keeps it; a different one rewrites it in place", () => {
        const content = "alice:100000:65536\ndockremap:300000:65536\nbob:500000:65536\n";
        expect(plan(content, { start: 300000 }).action).toBe("keep");
        const moved = plan(content, { start: 400000 });
        expect(moved.action).toBe("replace");
        expect(moved.content).toBe("alice:100000:65536\ndockremap:400000:65536\nbob:500000:65536\n");
        expect(moved.replaced).toEqual([{ owner: "dockremap", start: 300000, count: 65536 }]);
    });

    test("a fixed start beyond the last uid is refused", () => {
        expect(thrown(() => plan("", { start: 4294967294 })).field).toBe("userns.start");
    });
});

describe("planSubordinateRange: the owner's existing entries", () => {
    test("a valid entry is kept and the file is returned as is", () => {
        const content = "# managed by hand\nalice:100000:65536\ndockremap:165536:65536";
        const result = plan(content);
        expect(result).toEqual({
            action: "keep",
            range: { owner: "dockremap", start: 165536, count: 65536 },
            content,
            replaced: [],
        });
    });

    test("an entry outside SUB_UID_MIN..MAX is still valid and kept", () => {
        expect(plan("dockremap:10000:65536\n").action).toBe("keep");
    });

    test("another size is rewritten in place, keeping the start when it still fits", () => {
        const result = plan("alice:100000:65536\ndockremap:165536:1000\n# end\n", { count: 131072 });
        expect(result.action).toBe("replace");
        expect(result.content).toBe("alice:100000:65536\ndockremap:165536:131072\n# end\n");
        expect(result.replaced).toEqual([{ owner: "dockremap", start: 165536, count: 1000 }]);
    });

    test("another size that no longer fits where it is moves to the first fit, still on the same line", () => {
        const result = plan("dockremap:100000:1000\nbob:101000:65536\n", { count: 65536 });
        expect(result.content).toBe("dockremap:166536:65536\nbob:101000:65536\n");
    });

    test("an entry overlapping another owner's range is moved", () => {
        const result = plan("alice:100000:65536\ndockremap:150000:65536\n");
        expect(result.action).toBe("replace");
        expect(result.range.start).toBe(165536);
        expect(result.content).toBe("alice:100000:65536\ndockremap:165536:65536\n");
    });

    test("duplicate lines of the owner are collapsed to one (never two lines)", () => {
        const result = plan("dockremap:100000:65536\nalice:165536:65536\ndockremap:100000:65536\n");
        expect(result.action).toBe("replace");
        expect(result.content).toBe("dockremap:100000:65536\nalice:165536:65536\n");
        expect(result.replaced).toEqual([{ owner: "dockremap", start: 100000, count: 65536 }]);
    });

    test("of two entries, the valid one is kept in place and the other removed", () => {
        const result = plan("dockremap:100000:1\nalice:200000:10\ndockremap:300000:65536\n");
        expect(result.range).toEqual({ owner: "dockremap", start: 300000, count: 65536 });
        expect(result.content).toBe("alice:200000:10\ndockremap:300000:65536\n");
    });

    test("rewriting the last line of a file without a final newline ends the file with one", () => {
        expect(plan("alice:1:2\ndockremap:100000:10", { count: 65536 }).content).toBe(
            "alice:1:2\ndockremap:100000:65536\n",
        );
    });

    test("planning the planned file again keeps it (idempotent)", () => {
        const first = plan("alice:100000:65536\nbob:300000:65536\n");
        const second = plan(first.content);
        expect(second.action).toBe("keep");
        expect(second.content).toBe(first.content);
    });
});

describe("planSubordinateRange: other lines byte for byte", () => {
    test("comments, blanks, odd whitespace and malformed lines of others are kept and not counted", () => {
        const content =
            "# subordinate ids\n\n   \n\tbob:abc:10\ncarol:100000:\ndave:100000:65536 extra\n#dockremap:1:2\n";
        const result = plan(content);
        expect(result.range.start).toBe(100000);
        expect(result.content).toBe(`${content}dockremap:100000:65536\n`);
    });

    test("a file without a final newline gets one before our line", () => {
        expect(plan("alice:100000:65536").content).toBe("alice:100000:65536\ndockremap:165536:65536\n");
    });

    test("CRLF lines are ranges, kept with their CR; our line is LF-terminated", () => {
        const result = plan("alice:100000:65536\r\n# note\r\n");
        expect(result.range.start).toBe(165536);
        expect(result.content).toBe("alice:100000:65536\r\n# note\r\ndockremap:165536:65536\n");
    });

    test("a range line padded with whitespace counts (dockerd trims lines)", () => {
        expect(plan("  alice:100000:65536 \n").range.start).toBe(165536);
    });

    test("a line without three fields is refused: dockerd would not start with userns-remap", () => {
        const error = thrown(() => plan("alice:100000:65536\ngarbage\n"));
        expect(error.field).toBe("/etc/subuid");
        expect(error.problem).toContain('/etc/subuid line 2 ("garbage") is not "name:start:count"');
    });

    test("a malformed line naming the owner is refused rather than guessed", () => {
        const error = thrown(() => plan("dockremap:abc:65536\n"));
        expect(error.problem).toBe(
            '/etc/subuid line 1 ("dockremap:abc:65536") names dockremap but its start or count is not a decimal number',
        );
    });

    test("bad requests are refused", () => {
        expect(thrown(() => plan("", { count: 0 })).field).toBe("userns.count");
        expect(thrown(() => plan("", { count: 1.5 })).field).toBe("userns.count");
        expect(thrown(() => plan("", { owner: "bad:name" })).field).toBe("userns.user");
        expect(thrown(() => plan("", { min: 500, max: 100 })).field).toBe("/etc/login.defs");
    });
});

describe("planSubordinateRange: invariants over generated files", () => {
    // A small deterministic generator (mulberry32), so failures reproduce.
    function random(seed: number): () => number {
        let state = seed;
        return () => {
            state = (state + 0x6d2b79f5) | 0;
            let t = Math.imul(state ^ (state >>> 15), 1 | state);
            t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
            return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
    }

    test("first fit: never overlaps another owner, no lower start would do, keeps other lines, is stable", () => {
        for (let seed = 1; seed <= 300; seed++) {
            const next = random(seed);
            const lines: string[] = [];
            for (let i = 0; i < Math.floor(next() * 8); i++) {
                const roll = next();
                if (roll < 0.1) lines.push("# comment");
                else if (roll < 0.15) lines.push("x:y:z");
                else lines.push(`u${i}:${100000 + Math.floor(next() * 400000)}:${1 + Math.floor(next() * 150000)}`);
            }
            const content = lines.map((l) => `${l}\n`).join("");
            const result = plan(content);
            const others = parseSubordinateIds(content);
            const free = (start: number) => others.every((o) => start >= o.start + o.count || start + 65536 <= o.start);
            expect(free(result.range.start)).toBe(true);
            expect(result.range.start).toBeGreaterThanOrEqual(100000);
            // A first fit starts at SUB_UID_MIN or right after some range; none of those below it is free.
            const lowerCandidates = [100000, ...others.map((o) => o.start + o.count)].filter(
                (s) => s >= 100000 && s < result.range.start,
            );
            expect(lowerCandidates.filter(free)).toEqual([]);
            expect(result.content).toBe(`${content}dockremap:${result.range.start}:65536\n`);
            expect(plan(result.content).action).toBe("keep");
        }
    });
});

describe("parseLoginDefs", () => {
    test("shadow-utils' defaults when nothing is set", () => {
        expect(parseLoginDefs("")).toEqual(DEFAULT_SUBORDINATE_BOUNDS);
        expect(DEFAULT_SUBORDINATE_BOUNDS).toEqual({
            subUidMin: 100000,
            subUidMax: 600100000,
            subUidCount: 65536,
            subGidMin: 100000,
            subGidMax: 600100000,
            subGidCount: 65536,
        });
    });

    test("reads every key, ignores comments, last occurrence wins, bad values fall back", () => {
        const defs = [
            "# SUB_UID_MIN 1",
            "SUB_UID_MIN\t\t200000",
            "SUB_UID_MAX 900000\r",
            "SUB_UID_COUNT 70000",
            "SUB_GID_MIN 300000",
            "SUB_GID_MIN 310000",
            "SUB_GID_MAX 0x10",
            'SUB_GID_COUNT "80000"',
            "UID_MIN 1000",
        ].join("\n");
        expect(parseLoginDefs(defs)).toEqual({
            subUidMin: 200000,
            subUidMax: 900000,
            subUidCount: 70000,
            subGidMin: 310000,
            subGidMax: 600100000,
            subGidCount: 80000,
        });
    });
});

describe("planSubordinateRange: the fleet's preferred start", () => {
    test("a host without a range gets the fleet's start, not its own first fit", () => {
        expect(plan("", { preferredStart: 296608 }).range.start).toBe(296608);
    });

    test("a valid range already there is kept (moving it would move Docker's data root)", () => {
        expect(plan("dockremap:231072:65536\n", { preferredStart: 296608 })).toMatchObject({
            action: "keep",
            range: { start: 231072 },
        });
    });

    test("the fleet's range overlapping another owner here is an error naming that owner", () => {
        const err = thrown(() => plan("alice:296608:65536\n", { preferredStart: 296608 }));
        expect(err.field).toBe("userns (fleet ID range)");
        expect(err.message).toMatch(/overlaps alice's range \[296608, 362144\).*Fix: .*fleetIdRange: false/);
    });
});

describe("per-file, per-line ownership: destroy gives back exactly what was there", () => {
    const owner = "dockremap";
    const change = (content: string, extra: Partial<SubordinateRangeRequest> = {}) => plan(content, extra).content;

    test("a line we add is ours and goes on destroy; every other line stays byte for byte", () => {
        const before = "alice:100000:65536\r\n# note\n";
        const after = change(before);
        const rec = trackSubordinateLines(undefined, before, after, owner);
        expect(rec).toEqual({ line: "dockremap:165536:65536", ours: true, replaced: [] });
        expect(releaseOwnedLine(after, rec)).toBe(before);
    });

    test("a valid line we find is not ours: destroy leaves it", () => {
        const before = "dockremap:100000:65536\n";
        const rec = trackSubordinateLines(undefined, before, change(before), owner);
        expect(rec).toEqual({ line: "dockremap:100000:65536", ours: false, replaced: [] });
        expect(releaseOwnedLine(before, rec)).toBe(before);
    });

    test("a line we rewrite gives way to the operator's original lines on destroy (duplicates too)", () => {
        const before = "alice:100000:65536\ndockremap:300000:1000\nbob:400000:10\ndockremap:500000:5\n";
        const after = change(before);
        expect(after).toBe("alice:100000:65536\ndockremap:300000:65536\nbob:400000:10\n");
        const rec = trackSubordinateLines(undefined, before, after, owner);
        const replaced = ["dockremap:300000:1000", "dockremap:500000:5"];
        expect(rec).toEqual({ line: "dockremap:300000:65536", ours: true, replaced });
        expect(releaseOwnedLine(after, rec)).toBe(`alice:100000:65536\n${replaced.join("\n")}\nbob:400000:10\n`);
    });

    test("the files are owned separately: a subgid line we found is never removed with a subuid line we added", () => {
        const subuid = "";
        const subgid = "dockremap:700000:65536\n";
        const uid = trackSubordinateLines(undefined, subuid, change(subuid), owner);
        const gid = trackSubordinateLines(undefined, subgid, change(subgid), owner);
        expect([uid.ours, gid.ours]).toEqual([true, false]);
        expect(releaseOwnedLine(change(subuid), uid)).toBe("");
        expect(releaseOwnedLine(subgid, gid)).toBe(subgid);
    });

    test("once ours, still ours; operator lines replaced earlier are still owed back after a later rewrite", () => {
        const first = "dockremap:300000:1000\n";
        const second = change(first);
        const rec1 = trackSubordinateLines(undefined, first, second, owner);
        const third = change(second, { count: 131072 });
        const rec2 = trackSubordinateLines(rec1, second, third, owner);
        expect(rec2).toEqual({ line: "dockremap:300000:131072", ours: true, replaced: ["dockremap:300000:1000"] });
        expect(releaseOwnedLine(third, rec2)).toBe(first);
        // Nothing changed on this run: the record stays as it was.
        expect(trackSubordinateLines(rec2, third, third, owner)).toEqual(rec2);
    });

    test("a found line we later rewrite becomes ours, and the operator's line is owed back", () => {
        const found = "dockremap:300000:65536\n";
        const rec1 = trackSubordinateLines(undefined, found, found, owner);
        const next = change(found, { count: 131072 });
        const rec2 = trackSubordinateLines(rec1, found, next, owner);
        expect(rec2).toEqual({ line: "dockremap:300000:131072", ours: true, replaced: ["dockremap:300000:65536"] });
        expect(releaseOwnedLine(next, rec2)).toBe(found);
    });

    test("a recorded change that never reached the file, planned again, owes the operator's line back once", () => {
        const before = "dockremap:300000:1000\n";
        const after = change(before);
        const recorded = trackSubordinateLines(undefined, before, after, owner);
        // The write failed (the file changed meanwhile): the next run plans the same change from the same file.
        const again = trackSubordinateLines(recorded, before, after, owner);
        expect(again).toEqual({ line: "dockremap:300000:65536", ours: true, replaced: ["dockremap:300000:1000"] });
    });

    test("our line removed or edited by hand since: destroy changes nothing", () => {
        const rec = { line: "dockremap:300000:65536", ours: true, replaced: ["dockremap:300000:1000"] };
        expect(releaseOwnedLine("alice:1:2\n", rec)).toBe("alice:1:2\n");
        expect(releaseOwnedLine("dockremap:300000:65537\n", rec)).toBe("dockremap:300000:65537\n");
    });

    test("an older state's single flag: our range line in each file, nothing to restore", () => {
        expect(legacyLineRecord(true, owner, { start: 231072, count: 65536 })).toEqual({
            line: "dockremap:231072:65536",
            ours: true,
            replaced: [],
        });
        expect(legacyLineRecord(true, owner, { start: 0, count: 65536 }).ours).toBe(false);
        expect(legacyLineRecord(false, owner, { start: 231072, count: 65536 }).ours).toBe(false);
    });

    test("an unterminated file keeps its last line intact when our line goes", () => {
        const rec = { line: "dockremap:300000:65536", ours: true, replaced: [] };
        expect(releaseOwnedLine("alice:1:2\ndockremap:300000:65536", rec)).toBe("alice:1:2\n");
        expect(releaseOwnedLine("dockremap:300000:65536\nalice:1:2", rec)).toBe("alice:1:2");
    });
});

describe("planSubordinateRangeKeeping and checkRemapRequest", () => {
    const request = {
        host: "h1",
        file: "/etc/subuid" as const,
        owner: "dockremap",
        count: 65536,
        min: 100000,
        max: 600100000,
    };

    test("a repair puts the range back where it was while that is free, else takes the first fit", () => {
        const content = "ops:100000:65536\n";
        expect(planSubordinateRangeKeeping({ ...request, content }, undefined, 231072).range.start).toBe(231072);
        const taken = "ops:100000:65536\nalice:231072:65536\n";
        expect(planSubordinateRangeKeeping({ ...request, content: taken }, undefined, 231072).range.start).toBe(165536);
        expect(planSubordinateRangeKeeping({ ...request, content }).range.start).toBe(165536);
    });

    test("a requested start wins, and an overlap with it is an error, not a silent move", () => {
        const content = "ops:100000:65536\n";
        expect(planSubordinateRangeKeeping({ ...request, content }, 300000, 231072).range.start).toBe(300000);
        expect(() => planSubordinateRangeKeeping({ ...request, content }, 100000)).toThrow(/^host h1: /);
    });

    test("a user name and a range size the system would refuse are refused in one line", () => {
        expect(() => checkRemapRequest("h1", "dockremap", 65536)).not.toThrow();
        expect(() => checkRemapRequest("h1", "Dock Remap", 65536)).toThrow(
            /^host h1: userns\.user: "Dock Remap" is not/,
        );
        expect(() => checkRemapRequest("h1", "dockremap", 1000)).toThrow(
            /^host h1: userns\.count: 1000 IDs are too few/,
        );
    });
});
