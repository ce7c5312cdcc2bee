import * as pulumi from "@pulumi/pulumi";
import { checked } from "./errors";
import {
    DEFAULT_ID_COUNT,
    DEFAULT_REMAP_USER,
    HardenedDockerHost,
    HardenedDockerHostArgs,
    compilePolicy,
} from "./hardenedDockerHost";
import { assertUniqueHostNames, keepsFleetPolicy, mergeNestedOverrides } from "./plan/fleetHosts";
import { HostOutcome, RolloutOptions, planBatches } from "./plan/rollout";
import { FleetIdRange } from "./providers/fleetIdRange";
import { RolloutGate } from "./providers/rolloutGate";
import { ConnectionArgs } from "./ssh/target";

/** The arguments a host may set for itself, over the fleet's shared ones. */
export type HostOverrides = Partial<
    Omit<HardenedDockerHostArgs, "connection" | "waitFor" | "policyFiles" | "onUnreachable">
>;

/** One host of a {@link HardenedDockerFleet}. */
export interface FleetHostArgs {
    /** The host's name in the stack: resource names, messages, reports. Unique in the fleet. */
    name: string;
    /** How to reach it (see HardenedDockerHostArgs.connection), over the fleet's `connectionDefaults`. */
    connection: pulumi.Input<ConnectionArgs>;
    /**
     * Per-host arguments over the shared ones: `daemonConfig` merged key by key, `userns`, `plugin` and `policy`
     * field by field (a host that sets only `policy.hostDirectory` keeps the fleet's policy). Default: none.
     */
    overrides?: HostOverrides;
    /**
     * false: the host takes the first free ID range of its own instead of the fleet-wide one (also implied by
     * `overrides.userns.start`). Default: true.
     */
    fleetIdRange?: boolean;
}

/** Arguments of {@link HardenedDockerFleet}: the shared HardenedDockerHost arguments plus the hosts. */
export interface HardenedDockerFleetArgs extends Omit<
    HardenedDockerHostArgs,
    "connection" | "waitFor" | "policyFiles" | "onUnreachable"
> {
    /** The hosts, in rollout order (the first one is the canary host of the default rollout). */
    hosts: FleetHostArgs[];
    /** Connection fields every host shares (user, privateKey, agent, jumpHost, sudo, ...). Default: none. */
    connectionDefaults?: ConnectionArgs;
    /**
     * How changes roll: batches (default the first host alone, then 25% of the fleet at a time) and the failure
     * budget (default 0). Reads and runs that change nothing are not held back by it.
     */
    rollout?: RolloutOptions;
}

/** What the fleet reports per host (stack outputs). */
export interface FleetHostOutputs {
    dockerVersion: string;
    dataRoot: string;
    idRange: string;
    pluginReference: string;
    authorizationActive: boolean;
    daemonJsonSha256: string;
    policySha256: string;
}

/**
 * Whether a resource output settled with a value. A step that failed, or was skipped because one before it
 * failed, leaves its outputs unknown (the SDK resolves them so the program can go on). The promise carries no
 * resource dependency on purpose: a gate must run even when the hosts it waits for failed.
 */
async function settled(output: pulumi.Output<unknown>): Promise<boolean> {
    const settling = output as unknown as { isKnown: Promise<boolean>; promise(): Promise<unknown> };
    await settling.promise().catch(() => undefined);
    return settling.isKnown.catch(() => false);
}

/**
 * Hardens a fleet of Docker hosts in one stack: every host as a {@link HardenedDockerHost}, changes rolled out
 * in batches behind gates with a failure budget, one subordinate ID range shared by every host, and a host
 * that cannot be reached never blocking the others.
 */
export class HardenedDockerFleet extends pulumi.ComponentResource {
    /** The hosts' components, by name. */
    public readonly hosts: Record<string, HardenedDockerHost>;
    /** The rollout batches, host names in order. */
    public readonly batches: string[][];
    /** First ID of the fleet-wide remap range (hosts that opted out, or keep an older range, differ). */
    public readonly idRangeStart: pulumi.Output<number>;
    /** Per host: Docker version, data root, ID range, plugin, authorization, daemon.json and policy hashes. */
    public readonly hostOutputs: pulumi.Output<Record<string, FleetHostOutputs>>;

    constructor(name: string, args: HardenedDockerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-docker-host:index:HardenedDockerFleet", name, {}, opts);
        const child = { parent: this };
        const { hosts: hostList, connectionDefaults, rollout, ...shared } = args;
        const names = hostList.map((h) => h.name);
        checked(this, () => assertUniqueHostNames(names));
        this.batches = checked(this, () => planBatches(name, names, rollout));
        const maxFailures = rollout?.maxFailures ?? 0;
        const connections = Object.fromEntries(
            hostList.map((h) => [
                h.name,
                pulumi
                    .output(h.connection)
                    .apply((c) => ({ ...connectionDefaults, ...c, label: c.label ?? h.name }) as ConnectionArgs),
            ]),
        );

        // The policy is compiled once for the fleet (hosts with a policy of their own compile theirs).
        const policyFiles = checked(this, () => compilePolicy(shared.policy, name));

        const owner = shared.userns?.user ?? DEFAULT_REMAP_USER;
        const count = shared.userns?.count ?? DEFAULT_ID_COUNT;
        const sharing = hostList.filter(
            (h) =>
                h.fleetIdRange !== false &&
                h.overrides?.userns?.start === undefined &&
                h.overrides?.userns?.user === undefined,
        );
        const range = new FleetIdRange(
            `${name}-id-range`,
            {
                connections: sharing.map((h) => connections[h.name]),
                owner,
                count,
            },
            child,
        );
        this.idRangeStart = range.start;

        this.hosts = {};
        let gate: RolloutGate | undefined;
        const outcomes: Record<string, Promise<HostOutcome>> = {};
        this.batches.forEach((batch, index) => {
            for (const hostName of batch) {
                const spec = hostList.find((h) => h.name === hostName) as FleetHostArgs;
                const overrides = spec.overrides ?? {};
                const nested = mergeNestedOverrides(shared, overrides);
                const host = new HardenedDockerHost(
                    hostName,
                    {
                        ...shared,
                        ...overrides,
                        ...nested,
                        connection: connections[hostName],
                        daemonConfig: pulumi
                            .all([shared.daemonConfig ?? {}, overrides.daemonConfig ?? {}])
                            .apply(([a, b]) => ({ ...a, ...b })),
                        userns: {
                            ...nested.userns,
                            preferredStart: sharing.includes(spec) ? range.start : undefined,
                        },
                        policyFiles: keepsFleetPolicy(overrides) ? policyFiles : undefined,
                        // A preview changes nothing: its hosts need not wait for the gates before them.
                        waitFor: gate && !pulumi.runtime.isDryRun() ? [gate] : undefined,
                        onUnreachable: "skip",
                    },
                    // Hosts of stacks from before the fleet component were children of the stack.
                    { ...child, aliases: [{ parent: pulumi.rootStackResource }] },
                );
                this.hosts[hostName] = host;
                outcomes[hostName] = settled(host.authorizationActive).then((ok) =>
                    ok ? "done" : pulumi.runtime.isDryRun() ? "pending" : "failed",
                );
            }
            const rolled = this.batches.slice(0, index + 1).flat();
            gate = new RolloutGate(
                `${name}-rollout-${index + 1}`,
                {
                    batches: this.batches,
                    batch: index,
                    maxFailures,
                    outcomes: pulumi.output(
                        Promise.all(rolled.map(async (h) => [h, await outcomes[h]] as const)).then((e) =>
                            Object.fromEntries(e),
                        ),
                    ),
                },
                { ...child, dependsOn: gate ? [gate] : [] },
            );
        });

        const perHost = Object.entries(this.hosts).map(([n, h]) => {
            const outputs: pulumi.Output<FleetHostOutputs> = pulumi.output({
                dockerVersion: h.dockerVersion,
                dataRoot: h.dataRoot,
                idRange: h.idRange,
                pluginReference: h.pluginReference,
                authorizationActive: h.authorizationActive,
                daemonJsonSha256: h.daemonJsonSha256,
                policySha256: h.policySha256,
            });
            return [n, outputs] as const;
        });
        this.hostOutputs = pulumi.output(Object.fromEntries(perHost));
        this.registerOutputs({ batches: this.batches, idRangeStart: this.idRangeStart, hostOutputs: this.hostOutputs });
    }
}
