import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "../ssh/target";
import { lazyProvider } from "./lazyProvider";

/** Inputs of {@link FleetIdRange}. */
export interface FleetIdRangeArgs {
    /** Every host that shares the range (hosts with a range of their own are left out). */
    connections: pulumi.Input<pulumi.Input<ConnectionArgs>[]>;
    /** The remap user. */
    owner: pulumi.Input<string>;
    /** Size of the range. */
    count: pulumi.Input<number>;
}

// One provider object for every instance: the SDK serializes a provider once per object, not per resource.
const provider = lazyProvider(path.join(__dirname, "fleetIdRangeProvider"), ["hosts"]);

/**
 * The subordinate ID range a fleet shares: the lowest range free in /etc/subuid and /etc/subgid on every host,
 * planned at preview from the hosts' own files and kept while it stays free (a host added later gets it too).
 * Files on shared storage then map to the same host IDs everywhere.
 */
export class FleetIdRange extends pulumi.dynamic.Resource {
    /** First ID of the fleet's range. */
    declare readonly start: pulumi.Output<number>;
    /** Hosts whose files were read when the range was planned. */
    declare readonly hosts: pulumi.Output<string[]>;

    constructor(name: string, args: FleetIdRangeArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            provider,
            name,
            { start: undefined, hosts: undefined, ...args },
            { ...opts, additionalSecretOutputs: ["connections"] },
            "hardened-docker-host",
            "FleetIdRange",
        );
    }
}
