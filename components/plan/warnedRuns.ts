/**
 * A run's "already warned" memory is a file per CLI process (providers/engineLog.ts). PIDs are reused, often
 * within minutes on a busy host (pid_max is 32768 on small machines), so a file is named after the CLI's PID and
 * its start time, and the files of runs that are over are removed.
 */

/** The prefix of every such file (in {@link warnedFolder}). */
export const WARNED_PREFIX = "hdh-warned-";
const WARNED_NAME = new RegExp(`^${WARNED_PREFIX}(\\d+)(?:-\\d+)?$`);

/** The folder of these files in the temp directory `tmp`: one per user (private, 0700: engineLog checks it). */
export function warnedFolder(tmp: string, uid: number | undefined): string {
    return `${tmp}/hdh-warned.${uid ?? "user"}`;
}

/** The fields of a `/proc/PID/stat` line used here: the command name, the parent and the start time. */
export function parseProcStat(line: string): { comm: string; ppid: number; start: string } | undefined {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    const open = line.indexOf("(");
    const close = line.lastIndexOf(")");
    if (open < 0 || close < open) return undefined;
    const fields = line.slice(close + 2).split(" ");
    const [ppid, start] = [fields[1], fields[19]];
    if (!/^\d+$/.test(ppid ?? "") || !/^\d+$/.test(start ?? "")) return undefined;
    return { comm: line.slice(open + 1, close), ppid: Number(ppid), start };
}

/**
 * The run's key: `PID-STARTTIME` of the Pulumi CLI, the nearest process named `pulumi` among the provider's parent
 * and its ancestors (our launcher runs the provider as the CLI's child; Pulumi's own is a shell script with node as
 * its child). Without one, the parent's; `PID` alone where there is no /proc (macOS). `readStat` gives a process's
 * `/proc/PID/stat` line, if any.
 */
export function runKey(parent: number, readStat: (pid: number) => string | undefined): string {
    let key = `${parent}`;
    let pid = parent;
    for (let depth = 0; depth < 4 && pid > 1; depth++) {
        const stat = readStat(pid);
        const proc = stat === undefined ? undefined : parseProcStat(stat);
        if (!proc) break;
        if (proc.comm === "pulumi") return `${pid}-${proc.start}`;
        if (depth === 0) key = `${parent}-${proc.start}`; // no pulumi above: the parent's
        pid = proc.ppid;
    }
    return key;
}

/**
 * The files, of those named, left by runs that are over: another start time of this run's PID, or a PID that no
 * longer runs. Other names are never touched.
 */
export function staleWarnedFiles(names: string[], currentKey: string, isRunning: (pid: number) => boolean): string[] {
    const currentPid = currentKey.split("-")[0];
    return names.filter((name) => {
        const m = WARNED_NAME.exec(name);
        if (!m || name === WARNED_PREFIX + currentKey) return false;
        return m[1] === currentPid || !isRunning(Number(m[1]));
    });
}
