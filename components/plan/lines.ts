/** A text's lines, without their terminators; a final newline does not start an extra empty line, and "" has none. */
export function splitLines(text: string): string[] {
    if (text === "") return [];
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
}
