/** Markdown for text we do not control (host names, values, causes): safe on one line, in prose or in code. */

/** Text for Markdown prose: one line, no HTML, no emphasis or links by accident. */
export function markdownText(value: string): string {
    return value
        .replace(/\s+/g, " ")
        .trim()
        .replace(/[\\`*_[\]|]/g, "\\$&")
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;");
}

/** A code span that holds any text (backticks inside included), on one line. */
export function codeSpan(value: string): string {
    const one = value.replace(/\r?\n/g, "⏎");
    const longest = Math.max(0, ...(one.match(/`+/g) ?? []).map((run) => run.length));
    const fence = "`".repeat(longest + 1);
    return longest === 0 ? `${fence}${one}${fence}` : `${fence} ${one} ${fence}`;
}

/** A code fence longer than any run of backticks in the lines it encloses (at least three). */
export function fenceFor(lines: string[]): string {
    const longest = Math.max(0, ...lines.flatMap((l) => (l.match(/`+/g) ?? []).map((run) => run.length)));
    return "`".repeat(Math.max(3, longest + 1));
}

/** `h1, h2, h3, … and 7 more`. */
export function nameList(list: string[], max = 12): string {
    if (list.length <= max) return list.join(", ");
    return `${list.slice(0, max).join(", ")}, … and ${list.length - max} more`;
}

/** `1 host`, `5 hosts`. */
export function hostCount(n: number): string {
    return `${n} host${n === 1 ? "" : "s"}`;
}
