import * as path from "node:path";
import { HostInputError } from "./errors";

/** Folders that are never a policy folder: the policy folder is ours alone (other files in it are removed). */
const SHARED_DIRECTORIES = new Set([
    "/",
    "/etc",
    "/etc/docker",
    "/var",
    "/var/lib",
    "/var/lib/docker",
    "/usr",
    "/usr/local",
    "/root",
    "/home",
    "/tmp",
    "/run",
    "/opt",
    "/srv",
]);

/**
 * The host folder the plugin reads the policy from, normalized; refused unless it is an absolute folder of its own
 * (the policy step removes every other file in it). `owner` names the component in the error.
 */
export function dedicatedDirectory(dir: string, owner: string): string {
    const normal = path.posix.normalize(dir).replace(/\/+$/, "") || "/";
    if (!path.posix.isAbsolute(dir) || normal !== dir.replace(/\/+$/, "") || SHARED_DIRECTORIES.has(normal)) {
        throw new HostInputError(
            owner,
            "policy.hostDirectory",
            `"${dir}" must be an absolute, normalized folder of its own (every other file in it is removed)`,
            "use e.g. /etc/docker/policies",
        );
    }
    return normal;
}
