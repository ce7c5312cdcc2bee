/** Lines added and removed between two texts. */
export interface LineChangeCount {
    /** Lines only in the new text. */
    added: number;
    /** Lines only in the old text. */
    removed: number;
}

/** Above this many cells (old lines × new lines, after trimming the common ends), lines are matched as multisets. */
const LCS_CELL_LIMIT = 4_000_000;

/** A text's lines, without their terminators; a final newline does not start an extra empty line, and "" has none. */
export function splitLines(text: string): string[] {
    if (text === "") return [];
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
}

function longestCommonSubsequenceLength(a: string[], b: string[]): number {
    let previousRow = new Uint32Array(b.length + 1);
    for (let i = 1; i <= a.length; i++) {
        const row = new Uint32Array(b.length + 1);
        for (let j = 1; j <= b.length; j++) {
            row[j] = a[i - 1] === b[j - 1] ? previousRow[j - 1] + 1 : Math.max(previousRow[j], row[j - 1]);
        }
        previousRow = row;
    }
    return previousRow[b.length];
}

/** How many lines two multisets share: an upper bound of the common subsequence, used for huge inputs. */
function sharedLineCount(a: string[], b: string[]): number {
    const counts = new Map<string, number>();
    for (const line of a) counts.set(line, (counts.get(line) ?? 0) + 1);
    let shared = 0;
    for (const line of b) {
        const left = counts.get(line) ?? 0;
        if (left > 0) {
            shared++;
            counts.set(line, left - 1);
        }
    }
    return shared;
}

/**
 * Lines added and removed from `before` to `after`, as a line diff counts them (longest common subsequence of
 * lines; CRLF and LF endings compare equal). Inputs too large for that (over ~4M line pairs once common first
 * and last lines are set aside) are compared as multisets of lines, which ignores moves.
 */
export function countLineChanges(before: string, after: string): LineChangeCount {
    const a = splitLines(before);
    const b = splitLines(after);
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
    const middleA = a.slice(head, a.length - tail);
    const middleB = b.slice(head, b.length - tail);
    const common = middleA.length * middleB.length > LCS_CELL_LIMIT ? sharedLineCount(middleA, middleB) : longestCommonSubsequenceLength(middleA, middleB);
    return { added: middleB.length - common, removed: middleA.length - common };
}
