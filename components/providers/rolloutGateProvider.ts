import * as pulumi from "@pulumi/pulumi";
import { HostOutcome, rolloutVerdict } from "../plan/rollout";
import { unreachableCause } from "./preflight";

/** Inputs and state of RolloutGate (see rolloutGate.ts). */
export interface RolloutGateState {
    batches: string[][];
    batch: number;
    outcomes: Record<string, HostOutcome>;
    maxFailures: number;
    message: string;
}

/** Outcomes as this run saw them: a host that could not be reached counts apart from a failed one. */
function withReachability(outcomes: Record<string, HostOutcome>): Record<string, HostOutcome> {
    return Object.fromEntries(Object.entries(outcomes).map(([h, o]) => [h, unreachableCause(h) ? "unreachable" : o]));
}

function verdict(state: RolloutGateState) {
    return rolloutVerdict(state.batches, state.batch, state.outcomes, state.maxFailures);
}

function pass(state: RolloutGateState): RolloutGateState {
    const v = verdict(state);
    if (!v.proceed) throw new Error(v.message);
    return { ...state, message: v.message };
}

/** Implementation of RolloutGate (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<RolloutGateState, RolloutGateState> = {
    async check(_olds, news) {
        return { inputs: { ...news, outcomes: withReachability(news.outcomes) } };
    },
    async diff(_id, olds, news) {
        const changes =
            JSON.stringify(olds.outcomes) !== JSON.stringify(news.outcomes) ||
            JSON.stringify(olds.batches) !== JSON.stringify(news.batches) ||
            olds.maxFailures !== news.maxFailures;
        return { changes };
    },
    async create(inputs) {
        return { id: `rollout-batch-${inputs.batch + 1}`, outs: pass(inputs) };
    },
    async update(_id, _olds, news) {
        return { outs: pass(news) };
    },
};
