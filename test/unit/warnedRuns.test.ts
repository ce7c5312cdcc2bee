import { parseProcStat, runKey, staleWarnedFiles, warnedFolder } from "../../components/plan/warnedRuns";

// A /proc/PID/stat line: parent in field 4, start time in field 22.
const stat = (pid: number, comm: string, ppid: number, start: number) =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 12 0 ${start} 1000000 500 0`;

describe("parseProcStat", () => {
    test("command name, parent and start time, whatever the command name holds", () => {
        expect(parseProcStat(stat(4242, "pulumi", 7, 987654))).toEqual({ comm: "pulumi", ppid: 7, start: "987654" });
        expect(parseProcStat(stat(4242, "a b) c", 7, 5))).toEqual({ comm: "a b) c", ppid: 7, start: "5" });
    });

    test("nothing from a line that is not one", () => {
        expect(parseProcStat("garbage")).toBeUndefined();
        expect(parseProcStat("1 (x) S")).toBeUndefined();
    });
});

describe("runKey", () => {
    const procs = (...lines: string[]) => {
        const byPid = new Map(lines.map((l) => [Number(l.split(" ")[0]), l]));
        return (pid: number) => byPid.get(pid);
    };

    test("the CLI as the provider's parent (our launcher): its PID and start time", () => {
        expect(runKey(80, procs(stat(80, "pulumi", 10, 555), stat(10, "bash", 1, 2)))).toBe("80-555");
    });

    test("the CLI as a grandparent (Pulumi's launcher, a shell script running node): the CLI, not the script", () => {
        const readStat = procs(
            stat(90, "pulumi-resourc", 80, 600),
            stat(80, "pulumi", 10, 555),
            stat(10, "bash", 1, 2),
        );
        expect(runKey(90, readStat)).toBe("80-555");
    });

    test("no pulumi among the ancestors: the parent's PID and start time; without /proc, the PID alone", () => {
        expect(runKey(90, procs(stat(90, "node", 10, 600), stat(10, "bash", 1, 2)))).toBe("90-600");
        expect(runKey(90, () => undefined)).toBe("90");
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

describe("warnedFolder", () => {
    test("one folder per user in the temp directory", () => {
        expect(warnedFolder("/tmp", 0)).toBe("/tmp/hdh-warned.0");
        expect(warnedFolder("/tmp", 1000)).not.toBe(warnedFolder("/tmp", 0));
    });
});
