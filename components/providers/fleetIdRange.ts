import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "../ssh/target";
import { DynamicStep, stepProvider } from "./dynamicStep";

/** Inputs of {@link FleetIdRange}. */
export interface FleetIdRangeArgs {
    /** Every host that shares the range (hosts with a range of their own are left out). */
    connections: pulumi.Input<pulumi.Input<ConnectionArgs>[]>;
    /** The remap user. */
    owner: pulumi.Input<string>;
    /** Size of the range. */
    count: pulumi.Input<number>;
}

// `start` and `hosts` are set by its check: inputs, kept by a refresh.
const provider = stepProvider("fleetIdRangeProvider", []);

/**
 * The subordinate ID range a fleet shares: the lowest range free in /etc/subuid and /etc/subgid on every host,
 * planned at preview from the hosts' own files and kept while it stays free (a host added later gets it too).
 * Files on shared storage then map to the same host IDs everywhere.
 */
export class FleetIdRange extends DynamicStep {
    /** First ID of the fleet's range. */
    declare readonly start: pulumi.Output<number>;
    /** Hosts whose files were read when the range was planned. */
    declare readonly hosts: pulumi.Output<string[]>;

    constructor(name: string, args: FleetIdRangeArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            provider,
            "FleetIdRange",
            name,
            { start: undefined, hosts: undefined, ...args },
            { ...opts, additionalSecretOutputs: ["connections"] },
        );
    }
}
