/** Bad input for one host: names the host, the field and the fix. */
export class HostInputError extends Error {
    constructor(readonly host: string, readonly field: string, readonly problem: string, readonly fix: string) {
        super(`host ${host}: ${field}: ${problem}. Fix: ${fix}`);
        this.name = "HostInputError";
    }
}
