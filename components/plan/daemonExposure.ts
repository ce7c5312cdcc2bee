/**
 * A daemon.json we write never opens Docker to the network without TLS client verification: such a listener
 * gives anyone who reaches the port what the socket gives local users, with no identity for the policy's
 * named exceptions to tell operators apart.
 */
import { HostInputError } from "./errors";
import { JsonObject, hasOwnKey } from "./json";

/** Whether a `hosts` entry listens beyond this machine's local sockets (`-H :2375` is tcp too). */
function listensOnNetwork(address: string): boolean {
    return !/^(unix|fd|npipe):\/\//.test(address.trim());
}

/**
 * Refuses a managed `hosts` entry that listens on the network unless the daemon.json to be written verifies
 * TLS clients (`tlsverify: true`).
 *
 * @param host - Host label, for the error.
 * @param managed - The daemon.json keys we set (the user's `daemonConfig` over our defaults).
 * @param desired - The whole daemon.json to be written (the host's own keys included).
 * @throws HostInputError naming `daemonConfig.hosts`.
 */
export function checkNetworkExposure(host: string, managed: JsonObject, desired: JsonObject): void {
    const hosts = hasOwnKey(managed, "hosts") && Array.isArray(managed.hosts) ? managed.hosts : [];
    const open = hosts.find((h): h is string => typeof h === "string" && listensOnNetwork(h));
    if (open !== undefined && desired.tlsverify !== true) {
        throw new HostInputError(
            host,
            "daemonConfig.hosts",
            `"${open}" listens on the network without TLS client verification, ` +
                "so anyone who reaches it commands Docker",
            "set daemonConfig.tlsverify: true with tlscacert, tlscert and tlskey, or listen on unix:// sockets only",
        );
    }
}
