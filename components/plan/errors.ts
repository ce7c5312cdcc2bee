/**
 * Bad input for one host, found before anything on that host is changed. Every planner throws this, so a
 * user always learns which host, which input field, what is wrong and how to fix it, in one line:
 * `host <host>: <field>: <problem>. Fix: <fix>`.
 */
export class HostInputError extends Error {
    /**
     * @param host - The host's label (the resource name unless the connection sets one).
     * @param field - The input at fault, as the user writes it (`daemonConfig.icc`, `userns.start`), or the host
     *   file at fault (`/etc/subuid`).
     * @param problem - What is wrong, without a trailing period.
     * @param fix - What the user can do about it, without a trailing period.
     */
    constructor(
        readonly host: string,
        readonly field: string,
        readonly problem: string,
        readonly fix: string,
    ) {
        super(`host ${host}: ${field}: ${problem}. Fix: ${fix}`);
        this.name = "HostInputError";
    }
}
