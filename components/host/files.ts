import { createHash } from "node:crypto";
import { isPlainFileName } from "../plan/remoteFiles";
import { hostScript } from "./scripts";
import { shq } from "./shell";

/** SHA-256 of a file set: names and contents, sorted by name (stable whatever the map order). */
export function fileSetHash(files: Record<string, string>): string {
    const h = createHash("sha256");
    for (const name of Object.keys(files).sort()) h.update(`${name}\0${files[name]}\0`);
    return h.digest("hex");
}

function safeName(name: string): string {
    if (!isPlainFileName(name)) {
        throw new Error(
            `file name ${JSON.stringify(name)}: only letters, digits, '.', '_' and '-' (not leading '.') are allowed`,
        );
    }
    return name;
}

const FILES_SH = hostScript("files.sh");

/**
 * A script that writes files into a folder so that no reader sees a half-written file (`hdh_files_write` of
 * `sh/files.sh`): every file goes to a temp file in the same folder first, then all are renamed; files listed in
 * `remove` (and, with a pattern, any other matching file) are removed afterwards. Mode and pattern are checked
 * by the planner (plan/remoteFiles.ts); every value is passed quoted.
 */
export function writeFilesScript(
    dir: string,
    files: Record<string, string>,
    mode: string,
    remove: string[] = [],
    exclusivePattern?: string,
): string {
    const pairs = Object.keys(files)
        .sort()
        .map(safeName)
        .flatMap((name) => [name, Buffer.from(files[name], "utf8").toString("base64")]);
    const gone = remove.filter((n) => !(n in files)).map(safeName);
    const lines = [
        "set -e",
        FILES_SH,
        `hdh_files_write ${[dir, mode, exclusivePattern ?? "", ...pairs].map(shq).join(" ")}`,
    ];
    if (gone.length > 0) lines.push(`hdh_files_remove ${[dir, ...gone].map(shq).join(" ")}`);
    return lines.join("\n");
}

/**
 * A script that prints `<name> <base64>` for each named file that exists (and, with a pattern, for every other
 * matching file in the folder, so stray files show up): `hdh_files_read` of `sh/files.sh`.
 */
export function readFilesScript(dir: string, names: string[], exclusivePattern?: string): string {
    const args = [dir, exclusivePattern ?? "", ...names.map(safeName)].map(shq).join(" ");
    return `${FILES_SH}\nhdh_files_read ${args}\ntrue`;
}

/**
 * What {@link readFilesScript} would print for a folder already read whole: the files named, plus every file
 * when the folder is exclusively ours (`*`). Undefined for another pattern (it needs the host's glob).
 */
export function filesOf(
    folder: Record<string, string>,
    names: string[],
    exclusivePattern?: string,
): Record<string, string> | undefined {
    if (exclusivePattern !== undefined && exclusivePattern !== "*") return undefined;
    return Object.fromEntries(Object.entries(folder).filter(([n]) => exclusivePattern === "*" || names.includes(n)));
}

/** Parses what {@link readFilesScript} printed. */
export function parseReadFiles(out: string): Record<string, string> {
    const files: Record<string, string> = {};
    for (const line of out.split("\n")) {
        const [name, b64] = line.trim().split(" ");
        if (name) files[name] = Buffer.from(b64 ?? "", "base64").toString("utf8");
    }
    return files;
}
