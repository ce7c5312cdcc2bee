import * as fs from "node:fs";
import * as path from "node:path";

/** One host of a fleet as stack config describes it. */
export interface FleetHostConfig {
    /** Name of the host in the stack (resource names, messages). */
    name: string;
    /** Address and SSH port. Default port: 22. */
    host: string;
    port?: number;
    /** Login user. Default: root. */
    user?: string;
    /** The pinned host key (`ssh-ed25519 AAAA...`). */
    hostKey: string;
    /** Path of the private key file on the controller. */
    privateKeyPath: string;
}

/** The fleet inventory written by `npm run fleet:up`. */
interface Inventory {
    keyPath: string;
    hosts: { name: string; address: string; port: number; hostKey: string }[];
}

/**
 * The fleet of a stack: hosts listed in config (`hosts`), or read from an inventory file (`inventory`, relative
 * to the project), with `user` choosing the login user for all of them (per-host `users` override).
 */
export function fleetFromConfig(opts: { hosts?: FleetHostConfig[]; inventory?: string; user?: string; users?: Record<string, string>; projectDir: string }): FleetHostConfig[] {
    // Values set with `pulumi config set --path` may arrive as strings.
    const hosts = (opts.hosts ?? []).map((h) => ({ ...h, port: h.port === undefined ? undefined : Number(h.port) }));
    if (opts.inventory) {
        const file = path.resolve(opts.projectDir, opts.inventory);
        if (!fs.existsSync(file)) throw new Error(`config inventory: ${file} does not exist. Fix: run npm run fleet:up, or list hosts in config`);
        const inv = JSON.parse(fs.readFileSync(file, "utf8")) as Inventory;
        for (const h of inv.hosts) {
            hosts.push({ name: h.name, host: h.address, port: h.port, hostKey: h.hostKey, privateKeyPath: inv.keyPath, user: opts.users?.[h.name] ?? opts.user });
        }
    }
    if (hosts.length === 0) throw new Error("config: no hosts. Fix: set `hosts` or `inventory` in the stack config");
    const names = new Set<string>();
    for (const h of hosts) {
        if (names.has(h.name)) throw new Error(`config hosts: the name ${h.name} appears twice. Fix: give each host its own name`);
        names.add(h.name);
    }
    return hosts;
}
