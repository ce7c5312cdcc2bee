import { createHash } from "node:crypto";

/** SHA-256 of a text (UTF-8), as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The first `length` hex digits of {@link sha256Hex}, enough to tell versions apart in a preview. Default 12. */
export function shortSha256(text: string, length = 12): string {
    return sha256Hex(text).slice(0, length);
}
