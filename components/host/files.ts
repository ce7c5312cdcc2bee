import { createHash } from "node:crypto";
import { shq } from "./shell";

/** SHA-256 of a file set: names and contents, sorted by name (stable whatever the map order). */
export function fileSetHash(files: Record<string, string>): string {
    const h = createHash("sha256");
    for (const name of Object.keys(files).sort()) h.update(`${name}\0${files[name]}\0`);
    return h.digest("hex");
}

function safeName(name: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith(".")) {
        throw new Error(
            `file name ${JSON.stringify(name)}: only letters, digits, '.', '_' and '-' (not leading '.') are allowed`,
        );
    }
    return name;
}

/**
 * A script that writes files into a folder so that no reader sees a half-written file: every file goes to a
 * temp file in the same folder first, then all are renamed; files listed in `remove` (and, with a pattern, any
 * other matching file) are removed afterwards.
 */
export function writeFilesScript(
    dir: string,
    files: Record<string, string>,
    mode: string,
    remove: string[] = [],
    exclusivePattern?: string,
): string {
    const d = shq(dir);
    const lines = ["set -e", "umask 022", `mkdir -p ${d}`, "tmps=''", "trap 'rm -f $tmps' EXIT"];
    const names = Object.keys(files).sort().map(safeName);
    names.forEach((name, i) => {
        const b64 = Buffer.from(files[name], "utf8")
            .toString("base64")
            .replace(/(.{76})/g, "$1\n");
        lines.push(`t${i}=$(mktemp ${d}/.hdh-XXXXXX); tmps="$tmps $t${i}"`);
        lines.push(`base64 -d > "$t${i}" <<'HDH_EOF'`, b64, "HDH_EOF", `chmod ${mode} "$t${i}"`);
    });
    names.forEach((name, i) => lines.push(`mv -f "$t${i}" ${d}/${shq(name)}`));
    for (const name of remove.filter((n) => !(n in files))) lines.push(`rm -f ${d}/${shq(safeName(name))}`);
    if (exclusivePattern) {
        const keep = names.map(shq).join("|");
        const kept = keep ? `${keep}) ;; ` : "";
        lines.push(
            `for f in ${d}/${exclusivePattern}; do [ -e "$f" ] || continue; ` +
                `case "$(basename "$f")" in ${kept}*) rm -f "$f" ;; esac; done`,
        );
    }
    return lines.join("\n");
}

/**
 * A script that prints `<name> <base64>` for each named file that exists (and, with a pattern, for every other
 * matching file in the folder, so stray files show up).
 */
export function readFilesScript(dir: string, names: string[], exclusivePattern?: string): string {
    const d = shq(dir);
    const list = names.map((n) => `${d}/${shq(safeName(n))}`).join(" ");
    const extra = exclusivePattern ? ` ${d}/${exclusivePattern}` : "";
    return `for f in ${list}${extra}; do [ -f "$f" ] && printf '%s %s\\n' "\${f##*/}" "$(base64 -w0 < "$f")"; done
true`;
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
