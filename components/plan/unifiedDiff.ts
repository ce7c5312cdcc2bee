/** Line diffs: the shortest edit script between two texts, shown as the hunks of a unified diff. */
import { splitLines } from "./lines";

/** One line of an edit script: kept (` `), removed (`-`) or added (`+`). */
interface LineOp {
    t: " " | "-" | "+";
    text: string;
}

/**
 * The shortest edit script between two line lists (Myers' O((N+M)D) algorithm on the part between the common
 * prefix and suffix). A diff too large to trace (more than about 50 million cells) is shown as a replacement.
 */
function lineOps(a: string[], b: string[]): LineOp[] {
    let pre = 0;
    while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
    let suf = 0;
    while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
    const am = a.slice(pre, a.length - suf);
    const bm = b.slice(pre, b.length - suf);
    const middle = shortestEdit(am, bm) ?? [
        ...am.map((text) => ({ t: "-" as const, text })),
        ...bm.map((text) => ({ t: "+" as const, text })),
    ];
    return [
        ...a.slice(0, pre).map((text) => ({ t: " " as const, text })),
        ...middle,
        ...a.slice(a.length - suf).map((text) => ({ t: " " as const, text })),
    ];
}

/** The middle of {@link lineOps}; undefined when the trace would be too large. */
function shortestEdit(a: string[], b: string[]): LineOp[] | undefined {
    const n = a.length;
    const m = b.length;
    const max = n + m;
    const width = 2 * max + 2;
    const offset = max + 1;
    const trace: Int32Array[] = [];
    let v = new Int32Array(width);
    for (let d = 0; d <= max; d++) {
        if ((d + 1) * width > 50_000_000) return undefined;
        trace.push(v.slice());
        const next = v;
        for (let k = -d; k <= d; k += 2) {
            const down = k === -d || (k !== d && next[offset + k - 1] < next[offset + k + 1]);
            let x = down ? next[offset + k + 1] : next[offset + k - 1] + 1;
            let y = x - k;
            while (x < n && y < m && a[x] === b[y]) {
                x++;
                y++;
            }
            next[offset + k] = x;
            if (x >= n && y >= m) return backtrack(trace, a, b, offset);
        }
        v = next;
    }
    return undefined;
}

/** The edit script from the trace of {@link shortestEdit}, end to start. */
function backtrack(trace: Int32Array[], a: string[], b: string[], offset: number): LineOp[] {
    const ops: LineOp[] = [];
    let x = a.length;
    let y = b.length;
    for (let d = trace.length - 1; d >= 0; d--) {
        const v = trace[d];
        const k = x - y;
        const prevK = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
        const prevX = v[offset + prevK];
        const prevY = prevX - prevK;
        while (x > prevX && y > prevY) {
            ops.push({ t: " ", text: a[x - 1] });
            x--;
            y--;
        }
        if (d > 0) {
            if (x === prevX) ops.push({ t: "+", text: b[y - 1] });
            else ops.push({ t: "-", text: a[x - 1] });
        }
        x = prevX;
        y = prevY;
    }
    return ops.reverse();
}

/** A unified diff (hunks with `context` lines around each change, `@@ -a,n +b,m @@` headers), no file headers. */
export function unifiedDiff(before: string, after: string, context = 3): string[] {
    const ops = lineOps(splitLines(before), splitLines(after));
    const changed = ops.map((op, i) => (op.t === " " ? -1 : i)).filter((i) => i >= 0);
    const out: string[] = [];
    let k = 0;
    while (k < changed.length) {
        const start = Math.max(0, changed[k] - context);
        let last = changed[k];
        while (k + 1 < changed.length && changed[k + 1] - last <= 2 * context) last = changed[++k];
        k++;
        const end = Math.min(ops.length, last + context + 1);
        const before = ops.slice(0, start);
        const hunk = ops.slice(start, end);
        const aStart = before.filter((o) => o.t !== "+").length;
        const bStart = before.filter((o) => o.t !== "-").length;
        const aLen = hunk.filter((o) => o.t !== "+").length;
        const bLen = hunk.filter((o) => o.t !== "-").length;
        out.push(`@@ -${aLen === 0 ? aStart : aStart + 1},${aLen} +${bLen === 0 ? bStart : bStart + 1},${bLen} @@`);
        out.push(...hunk.map((o) => `${o.t}${o.text}`));
    }
    return out;
}
