import { spawnSync } from "node:child_process";
import * as path from "node:path";

/** What a host script run here returned. */
export interface ShellRun {
    status: number;
    stdout: string;
    stderr: string;
}

/**
 * Runs a host script under a real `sh`, as the hosts do, with the fakes of `dir`/bin (docker, dockerd, curl, ...)
 * first on PATH and `env` over this process's environment.
 */
export function runHostShell(script: string, dir: string, env: Record<string, string | undefined> = {}): ShellRun {
    const r = spawnSync("sh", ["-c", script], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, ...env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
