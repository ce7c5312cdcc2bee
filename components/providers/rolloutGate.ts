import * as pulumi from "@pulumi/pulumi";
import type { HostOutcome } from "../plan/rollout";
import { DynamicStep, stepProvider } from "./dynamicStep";

/** Inputs of {@link RolloutGate}. */
export interface RolloutGateArgs {
    /** All batches of the fleet, host names in order. */
    batches: string[][];
    /** The batch this gate closes (0-based). */
    batch: number;
    /** Each host's outcome so far (hosts of batches up to this one). */
    outcomes: pulumi.Input<Record<string, HostOutcome>>;
    /** Failures allowed before later batches are halted. */
    maxFailures: number;
}

const provider = stepProvider("rolloutGateProvider", ["message"]);

/**
 * The point between two rollout batches. It waits for its batch to finish, then lets the next batch start
 * only while the failure budget holds; otherwise it fails, naming the hosts done, failed and not started, and
 * the engine skips everything that depends on it (the later batches stay untouched). The gate after the last
 * batch also fails when any host was not converged, so the run exits non-zero naming them.
 */
export class RolloutGate extends DynamicStep {
    /** The gate's verdict, one line. */
    declare readonly message: pulumi.Output<string>;

    constructor(name: string, args: RolloutGateArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, "RolloutGate", name, { message: undefined, ...args }, opts);
    }
}
