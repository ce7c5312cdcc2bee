import { HostInputError } from "./errors";

/** What a RemoteFiles step is asked to write (the inputs the planner checks). */
export interface RemoteFilesRequest {
    directory: string;
    files: Record<string, string>;
    mode: string;
    exclusivePattern?: string;
}

/** Whether a file name is plain: letters, digits, `.`, `_` and `-`, not starting with `.` (a host takes it as is). */
export function isPlainFileName(name: string): boolean {
    return /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name);
}

/** A shell pattern of names in one folder (`*`, `*.rego`), nothing that reaches out of it. */
const NAME_PATTERN = /^[A-Za-z0-9._*?-]+$/;

/**
 * Refuses a RemoteFiles request the host could not take as meant, before anything is written: a relative
 * folder, a file name that is not plain, a mode that is not octal, a pattern that is not a plain name pattern.
 */
export function checkRemoteFiles(host: string, r: RemoteFilesRequest): void {
    if (!r.directory.startsWith("/")) {
        throw new HostInputError(host, "directory", `"${r.directory}" is not an absolute path`, "use /var/lib/...");
    }
    for (const name of Object.keys(r.files)) {
        if (!isPlainFileName(name)) {
            throw new HostInputError(
                host,
                `files.${name}`,
                "a file name may hold only letters, digits, '.', '_' and '-', and not start with '.'",
                "rename the file",
            );
        }
    }
    if (!/^[0-7]{3,4}$/.test(r.mode)) {
        throw new HostInputError(host, "mode", `"${r.mode}" is not an octal file mode`, 'use e.g. "0644"');
    }
    if (r.exclusivePattern !== undefined && !NAME_PATTERN.test(r.exclusivePattern)) {
        throw new HostInputError(
            host,
            "exclusivePattern",
            `"${r.exclusivePattern}" is not a pattern of names in the folder`,
            'use letters, digits, . _ - and the wildcards * and ?, e.g. "*.rego"',
        );
    }
}
