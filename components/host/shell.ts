/** Quotes a string for POSIX sh (single quotes; embedded quotes closed and escaped). */
export function shq(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
