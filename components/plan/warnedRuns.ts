/**
 * A run's "already warned" memory is a file per CLI process (providers/engineLog.ts). PIDs are reused, often
 * within minutes on a busy host (pid_max is 32768 on small machines), so a file is named after the CLI's PID and
 * its start time, and the files of runs that are over are removed.
 */

/** The prefix of every such file (in a private folder of the temp directory). */
export const WARNED_PREFIX = "hdh-warned-";
const WARNED_NAME = new RegExp(`^${WARNED_PREFIX}(\\d+)(?:-\\d+)?$`);

/**
 * The run's key: `PID-STARTTIME` from the CLI's `/proc/PID/stat` (its 22nd field, in clock ticks since boot), or
 * `PID` alone where there is no /proc (macOS).
 */
export function runKey(pid: number, procStat?: string): string {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    const start = procStat?.slice(procStat.lastIndexOf(")") + 2).split(" ")[19];
    return start && /^\d+$/.test(start) ? `${pid}-${start}` : `${pid}`;
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
