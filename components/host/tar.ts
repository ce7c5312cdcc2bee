/**
 * Reads the archives `tar -c` writes (POSIX ustar, and GNU's format with its long-name entries): the preflight
 * sends a host's files as one archive, so that reading twenty files costs one process, not twenty.
 */

const BLOCK = 512;

/** Text up to the first NUL. */
function cString(b: Buffer): string {
    const end = b.indexOf(0);
    return b.subarray(0, end < 0 ? b.length : end).toString("utf8");
}

function octal(b: Buffer): number {
    const text = cString(b).trim();
    if (!/^[0-7]+$/.test(text)) throw new Error(`tar: bad size field ${JSON.stringify(text)}`);
    return parseInt(text, 8);
}

/** The regular files of an archive, by path as archived. Throws on an archive that is cut short. */
export function tarFiles(archive: Buffer): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    let longName: string | undefined;
    for (let at = 0; at + BLOCK <= archive.length;) {
        const header = archive.subarray(at, at + BLOCK);
        if (header.every((b) => b === 0)) break;
        const size = octal(header.subarray(124, 136));
        const type = String.fromCharCode(header[156]);
        const start = at + BLOCK;
        if (start + size > archive.length) throw new Error("tar: the archive is cut short");
        const data = archive.subarray(start, start + size);
        at = start + Math.ceil(size / BLOCK) * BLOCK;
        if (type === "L") {
            longName = cString(data);
            continue;
        }
        // POSIX ustar keeps a name prefix at 345; GNU's own magic ("ustar  ") uses that room for other fields.
        const prefix =
            header.subarray(257, 263).toString("latin1") === "ustar\0" ? cString(header.subarray(345, 500)) : "";
        const name = longName ?? (prefix ? `${prefix}/` : "") + cString(header.subarray(0, 100));
        longName = undefined;
        if (type === "0" || type === "\0") files.set(name, Buffer.from(data));
    }
    return files;
}
