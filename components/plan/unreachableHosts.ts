/**
 * Hosts a fleet run could not reach, from the warning a fleet step gives for one (providers/preflight.ts):
 * `host NAME: connection.host: cannot connect ... Fix: ... (this host is skipped; the others go on)`.
 */

/** A host that could not be reached (its steps show no change). */
export interface UnreachableHost {
    host: string;
    /** The warning's text (`connection.host: cannot connect ... Fix: ...`). */
    cause: string;
}

const HOST_WARNING = /^host (\S+): ([\s\S]*)$/;
/** What preflight appends to the cause of a host it skips. */
const SKIPPED = /\s*\(this host is skipped; the others go on\)\s*$/;
/** A connection field opens the cause: the host cannot be reached, as opposed to a mistake in its config. */
const CONNECTION_CAUSE = /^(?:connection|jumpHost)[\w.]*: /;

/**
 * The unreachable host a diagnostic names, if it names one: a warning `host NAME: CAUSE` whose cause starts with
 * a connection field (`connection.host: ...`, `jumpHost.user: ...`) or ends with `(this host is skipped; the
 * others go on)`. The cause is given on one line, without that ending.
 */
export function unreachableFromDiagnostic(message: string): UnreachableHost | undefined {
    const text = message.replace(/^\s*(warning|error):\s*/i, "").trim();
    const m = HOST_WARNING.exec(text);
    if (!m || !(CONNECTION_CAUSE.test(m[2]) || SKIPPED.test(m[2]))) return undefined;
    return { host: m[1], cause: m[2].replace(SKIPPED, "").replace(/\s+/g, " ").trim() };
}
