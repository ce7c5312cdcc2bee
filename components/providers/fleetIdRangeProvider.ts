import * as pulumi from "@pulumi/pulumi";
import { commonSubordinateStart } from "../plan/subordinateIds";
import { SshTarget, targetLabel } from "../ssh/target";
import { noteUnreachable, preflight } from "./preflight";

/** Inputs and state of FleetIdRange (see fleetIdRange.ts). */
export interface FleetIdRangeState {
    connections: SshTarget[];
    owner: string;
    count: number;
    /** First ID of the range, planned at preview. */
    start: number;
    /** Hosts read when planning (unreachable ones are left out, and warned about). */
    hosts: string[];
}

async function plan(news: FleetIdRangeState, previous?: number): Promise<FleetIdRangeState> {
    // The preflight of each host, read once for the whole run: the hosts' own steps use the same reading.
    const read = await Promise.all(
        news.connections.map(async (c) => {
            try {
                const { facts } = await preflight(c);
                return {
                    label: targetLabel(c),
                    files: { subuid: facts.subuid, subgid: facts.subgid, loginDefs: facts.loginDefs },
                };
            } catch (e) {
                if (!noteUnreachable(c, e)) throw e;
                return undefined;
            }
        }),
    );
    const found = read.filter((r): r is NonNullable<typeof r> => r !== undefined);
    const start = commonSubordinateStart(
        "fleet",
        found.map((r) => r.files),
        news.owner,
        news.count,
        previous,
    );
    return { ...news, start, hosts: found.map((r) => r.label) };
}

/** Implementation of FleetIdRange (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<FleetIdRangeState, FleetIdRangeState> = {
    async check(olds, news) {
        return { inputs: await plan(news, typeof olds?.start === "number" ? olds.start : undefined) };
    },
    async diff(_id, olds, news) {
        return { changes: olds.start !== news.start || olds.owner !== news.owner || olds.count !== news.count };
    },
    async create(inputs) {
        return { id: `fleet-id-range:${inputs.owner}`, outs: inputs };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
};
