import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * What the preflight prints for a host holding these files (paths relative to /; Docker's answers under
 * `docker/`), archived by the real tar (`-z` among `tarArgs` compresses it, as the script does where the host has
 * gzip): the `files=` line after the given `key=value` lines.
 */
export function probeOutput(files: Record<string, string>, lines: string[] = [], tarArgs: string[] = []): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-probe-root-"));
    try {
        // The script always leaves the statuses of Docker's calls (empty when none was asked).
        for (const [p, content] of Object.entries({ "docker/codes": "", ...files })) {
            fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
            fs.writeFileSync(path.join(root, p), content);
        }
        const tops = fs.readdirSync(root);
        const archive = tops.length
            ? execFileSync("tar", ["-cf", "-", ...tarArgs, "-C", root, ...tops])
            : Buffer.alloc(0);
        return [...lines, `files=${archive.toString("base64")}`].join("\n");
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}
