/** Levenshtein distance: the fewest single-character insertions, deletions or substitutions from `a` to `b`. */
export function editDistance(a: string, b: string): number {
    let previousRow = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            const substitution = previousRow[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
            row.push(Math.min(previousRow[j] + 1, row[j - 1] + 1, substitution));
        }
        previousRow = row;
    }
    return previousRow[b.length];
}

/**
 * The candidate nearest to `input` by {@link editDistance}, or undefined when none is within `maxDistance`
 * (default: a third of the input's length, at least 2). Ties go to the earlier candidate.
 */
export function closestName(
    input: string,
    candidates: Iterable<string>,
    maxDistance = Math.max(2, Math.floor(input.length / 3)),
): string | undefined {
    let best: string | undefined;
    let bestDistance = maxDistance + 1;
    for (const candidate of candidates) {
        const distance = editDistance(input, candidate);
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return best;
}
