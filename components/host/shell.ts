/** Quotes a string for POSIX sh (single quotes; embedded quotes closed and escaped). */
export function shq(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A shell fragment that writes `content` to `path` atomically (temp file in the same folder, then rename). */
export function atomicWriteScript(path: string, content: string, mode = "0644"): string {
    const b64 = Buffer.from(content, "utf8").toString("base64").replace(/(.{76})/g, "$1\n");
    return [
        `mkdir -p "$(dirname ${shq(path)})"`,
        `tmp=$(mktemp ${shq(path)}.hdh-XXXXXX)`,
        `base64 -d > "$tmp" <<'HDH_EOF'`,
        b64,
        `HDH_EOF`,
        `chmod ${mode} "$tmp" && mv -f "$tmp" ${shq(path)}`,
    ].join("\n");
}

/** A shell fragment that prints a file as `<sha256> <base64 content>` on one line, or `absent`. */
export function readFileScript(path: string): string {
    return `if [ -f ${shq(path)} ]; then printf '%s %s\\n' "$(sha256sum < ${shq(path)} | cut -d' ' -f1)" "$(base64 -w0 < ${shq(path)})"; else echo absent; fi`;
}

/** Parses one line printed by `readFileScript`. */
export function parseReadFile(line: string): { sha256: string; content: string } | undefined {
    const t = line.trim();
    if (t === "absent" || t === "") return undefined;
    const [sha256, b64 = ""] = t.split(" ");
    return { sha256, content: Buffer.from(b64, "base64").toString("utf8") };
}
