/**
 * Rolling a change across a fleet: which hosts go together (batches), and, after each batch, whether the
 * rollout may go on (the failure budget) and what to tell the user (done / failed / not started).
 */
import { HostInputError } from "./errors";

/** How a fleet change is rolled out. */
export interface RolloutOptions {
    /**
     * Batch sizes in order, as host counts or percentages of the fleet (`"25%"`); the last size repeats until
     * every host has a batch. Default: `[1, "25%"]` (the first host alone as the canary host, then 25% at a time).
     */
    batches?: (number | string)[];
    /**
     * How many hosts may fail (Docker not healthy, canary failed, rolled back) before later batches are halted.
     * Unreachable hosts do not count: they are reported, never converged, and never block the others. Default: 0.
     */
    maxFailures?: number;
}

/** One host's outcome as a rollout gate sees it. */
export type HostOutcome = "done" | "failed" | "unreachable" | "pending";

/** What a gate decided after a batch. */
export interface RolloutVerdict {
    /** false: later batches must not start. */
    proceed: boolean;
    done: string[];
    failed: string[];
    unreachable: string[];
    /** Hosts of later batches (untouched when `proceed` is false). */
    notStarted: string[];
    /** One line for the user. */
    message: string;
}

const DEFAULT_BATCHES: (number | string)[] = [1, "25%"];

function batchSize(fleet: string, spec: number | string, total: number): number {
    const percent = typeof spec === "string" ? /^(\d+(?:\.\d+)?)%$/.exec(spec.trim()) : null;
    const size = typeof spec === "number" ? spec : percent ? Math.ceil((Number(percent[1]) / 100) * total) : NaN;
    if (!Number.isInteger(size) || size < 1) {
        throw new HostInputError(
            fleet,
            "rollout.batches",
            `${JSON.stringify(spec)} is not a batch size`,
            'use a whole number of hosts (at least 1) or a percentage like "25%"',
        );
    }
    return size;
}

/** Splits the fleet's hosts (in the order given) into rollout batches. */
export function planBatches(fleet: string, hosts: string[], options: RolloutOptions = {}): string[][] {
    const specs = options.batches && options.batches.length > 0 ? options.batches : DEFAULT_BATCHES;
    const maxFailures = options.maxFailures ?? 0;
    if (!Number.isInteger(maxFailures) || maxFailures < 0) {
        throw new HostInputError(
            fleet,
            "rollout.maxFailures",
            `${maxFailures} is not a number of hosts`,
            "use a whole number, 0 or more",
        );
    }
    const sizes = specs.map((s) => batchSize(fleet, s, hosts.length));
    const batches: string[][] = [];
    for (let i = 0, b = 0; i < hosts.length; b++) {
        const size = sizes[Math.min(b, sizes.length - 1)];
        batches.push(hosts.slice(i, i + size));
        i += size;
    }
    return batches;
}

const list = (names: string[]): string => (names.length === 0 ? "none" : names.join(", "));

/**
 * The verdict after batch `batch` (0-based) of `batches`, from every host's outcome so far. The budget is
 * exceeded when more hosts of the batches rolled so far have failed than `maxFailures` allows; unreachable
 * hosts are never counted (they are named, and the last gate fails for them so the run exits non-zero).
 */
export function rolloutVerdict(
    batches: string[][],
    batch: number,
    outcomes: Record<string, HostOutcome>,
    maxFailures: number,
): RolloutVerdict {
    const rolled = batches.slice(0, batch + 1).flat();
    const later = batches.slice(batch + 1).flat();
    const pick = (o: HostOutcome) => rolled.filter((h) => (outcomes[h] ?? "pending") === o);
    const done = pick("done");
    const failed = pick("failed");
    const unreachable = pick("unreachable");
    const last = batch === batches.length - 1;
    const proceed = failed.length <= maxFailures && !(last && failed.length + unreachable.length > 0);
    const where = `rollout batch ${batch + 1} of ${batches.length}`;
    let message: string;
    if (failed.length > maxFailures) {
        message =
            `${where}: ${failed.length} host(s) failed, more than rollout.maxFailures (${maxFailures}): ` +
            `later batches halted. Done: ${list(done)}. Failed: ${list(failed)}. ` +
            `Unreachable: ${list(unreachable)}. Not started: ${list(later)}`;
    } else if (!proceed) {
        message =
            `fleet not converged: ${list([...failed, ...unreachable])} ` +
            `(failed: ${list(failed)}; unreachable: ${list(unreachable)}). ` +
            `Done: ${list(done)}. Fix: repair or reach those hosts and run pulumi up again`;
    } else {
        message =
            `${where}: done ${list(done)}${failed.length ? `; failed within budget: ${list(failed)}` : ""}` +
            `${unreachable.length ? `; unreachable: ${list(unreachable)}` : ""}`;
    }
    return { proceed, done, failed, unreachable, notStarted: proceed ? [] : later, message };
}
