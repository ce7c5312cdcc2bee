import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { FleetHostArgs } from "./hardenedDockerFleet";
import { HostInputError } from "./plan/errors";
import { FleetHostConfig, validateFleetHosts } from "./plan/fleetHosts";
import type { ConnectionArgs } from "./ssh/target";

export type { FleetHostConfig } from "./plan/fleetHosts";

/** The fleet inventory written by `npm run fleet:up`. */
interface Inventory {
    keyPath: string;
    hosts: { name: string; address: string; port: number; hostKey: string }[];
}

/** Where a stack's fleet comes from: its config values (see the README's stack config table). */
export interface FleetConfigSources {
    /** `hosts`: hosts listed in config. */
    hosts?: unknown[];
    /** `inventory`: a file written by `npm run fleet:up` (relative to the project). */
    inventory?: string;
    /** `hostDefaults`: connection keys every host gets unless it sets its own. */
    hostDefaults?: Record<string, unknown>;
    /** `user` (all hosts) and `users` (per host name): the login user. Kept for older stacks. */
    user?: string;
    users?: Record<string, string>;
    projectDir: string;
}

/**
 * The fleet of a stack, checked: hosts listed in config and hosts of an inventory file, each with the fleet-wide
 * defaults under its own keys.
 *
 * @throws HostInputError naming the host and the config key at fault.
 */
export function fleetFromConfig(sources: FleetConfigSources): FleetHostConfig[] {
    const defaults = { ...(sources.user ? { user: sources.user } : {}), ...sources.hostDefaults };
    const entries: Record<string, unknown>[] = (sources.hosts ?? []).map((h) => ({
        ...defaults,
        ...(h as Record<string, unknown>),
    }));
    if (sources.inventory) {
        const file = path.resolve(sources.projectDir, sources.inventory);
        if (!fs.existsSync(file)) {
            throw new HostInputError(
                "fleet",
                "inventory",
                `${file} does not exist`,
                "run npm run fleet:up, or list hosts in config",
            );
        }
        const inv = readInventory(file);
        for (const h of inv.hosts) {
            entries.push({
                privateKeyPath: inv.keyPath,
                ...defaults,
                name: h.name,
                host: h.address,
                port: h.port,
                hostKey: h.hostKey,
            });
        }
    }
    for (const e of entries) {
        const user = sources.users?.[e.name as string];
        if (user) e.user = user;
    }
    return validateFleetHosts(entries);
}

/** The inventory file, refused in one line when it is not one (an edited or half-written file). */
function readInventory(file: string): Inventory {
    const refuse = (problem: string) =>
        new HostInputError(
            "fleet",
            "inventory",
            `${file} ${problem}`,
            "run npm run fleet:up again, or list hosts in config",
        );
    let inv: unknown;
    try {
        inv = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw refuse(`cannot be read as JSON (${(e as Error).message})`);
    }
    const hosts = (inv as Partial<Inventory> | null)?.hosts;
    if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== "object" || h === null)) {
        throw refuse('has no "hosts" list of objects');
    }
    return inv as Inventory;
}

/** A private key file's text, as a secret; an unreadable file is refused in one line naming the host. */
function privateKeyOf(host: string, field: string, file: string): pulumi.Output<string> {
    try {
        return pulumi.secret(fs.readFileSync(file, "utf8"));
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new HostInputError(host, field, `cannot read ${file} (${code})`, "point it at a readable key file");
    }
}

/** A host's connection (`field`: where its key file is named in config, for errors). */
function connectionOf(
    h: Omit<FleetHostConfig, "name" | "jumpHost">,
    host: string,
    field: string,
    label?: string,
): ConnectionArgs {
    return {
        host: h.host,
        port: h.port,
        user: h.user,
        hostKey: h.hostKey,
        insecureSkipHostKeyCheck: h.insecureSkipHostKeyCheck,
        sudo: h.sudo,
        agentSocketPath: h.agent,
        label,
        privateKey: h.privateKeyPath ? privateKeyOf(host, field, h.privateKeyPath) : undefined,
    };
}

/** The fleet component's host list for checked config hosts. */
export function fleetHostArgs(hosts: FleetHostConfig[]): FleetHostArgs[] {
    return hosts.map((h) => ({
        name: h.name,
        connection: {
            ...connectionOf(h, h.name, "privateKeyPath", h.name),
            proxy: h.jumpHost ? connectionOf(h.jumpHost, h.name, "jumpHost.privateKeyPath") : undefined,
        },
        fleetIdRange: h.fleetIdRange !== false && h.idStart === undefined,
        overrides: h.idStart !== undefined ? { userns: { start: h.idStart } } : undefined,
    }));
}
