import { runKey, staleWarnedFiles } from "../../components/plan/warnedRuns";

// A /proc/PID/stat line: the start time is field 22 (here 987654).
const stat = (comm: string) =>
    `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 12 0 987654 1000000 500 18446744073709551615`;

describe("runKey", () => {
    test("the PID and the start time, whatever the command name holds", () => {
        expect(runKey(4242, stat("pulumi"))).toBe("4242-987654");
        expect(runKey(4242, stat("a b) c"))).toBe("4242-987654");
    });

    test("the PID alone without a readable stat line", () => {
        expect(runKey(4242)).toBe("4242");
        expect(runKey(4242, "garbage")).toBe("4242");
    });
});

describe("staleWarnedFiles", () => {
    const running = new Set([4242, 77]);
    const isRunning = (pid: number) => running.has(pid);

    test("a reused PID's older file is stale; this run's file and other running CLIs' files are kept", () => {
        expect(
            staleWarnedFiles(
                ["hdh-warned-4242-987654", "hdh-warned-4242-100", "hdh-warned-4242", "hdh-warned-77-5"],
                "4242-987654",
                isRunning,
            ),
        ).toEqual(["hdh-warned-4242-100", "hdh-warned-4242"]);
    });

    test("files of PIDs no longer running are stale; other names are never touched", () => {
        expect(
            staleWarnedFiles(
                ["hdh-warned-9-1", "hdh-warned-10", "hdh-warned-x", "other-9", "hdh-warned-9-1.bak"],
                "4242-987654",
                isRunning,
            ),
        ).toEqual(["hdh-warned-9-1", "hdh-warned-10"]);
    });
});
