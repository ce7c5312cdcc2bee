/**
 * What a change of inputs does to each host step: update it in place, or replace it, and in which order. The
 * order is a safety decision: a host is never left without an enforcing plugin or a remap range in between.
 */
import { canonicalJson, JsonObject } from "./json";
import { normalizeReference } from "./pluginChange";

/** The engine's answer for a step: whether it changes, which inputs replace it, and the order of a replace. */
export interface StepDiff {
    changes: boolean;
    replaces: string[];
    deleteBeforeReplace: boolean;
}

const same = (a?: boolean, b?: boolean) => (a ?? false) === (b ?? false);
const sortedEntries = (x: Record<string, string>) => JSON.stringify(Object.entries(x).sort());

/**
 * SubordinateIds: a new owner replaces the step, its range reserved before the old one is released (two owners
 * never clash); a new size, a requested start elsewhere, or a range missing on the host updates it.
 */
export function diffSubordinateIds(
    olds: { owner: string; count: number; start: number; gidStart: number; allowDataRootMove?: boolean },
    news: { owner: string; count: number; requestedStart?: number; allowDataRootMove?: boolean },
): StepDiff {
    const replaces = olds.owner !== news.owner ? ["owner"] : [];
    const moved = news.requestedStart !== undefined && news.requestedStart !== olds.start;
    const changes =
        replaces.length > 0 ||
        olds.count !== news.count ||
        moved ||
        !olds.start ||
        !olds.gidStart ||
        !same(olds.allowDataRootMove, news.allowDataRootMove);
    return { changes, replaces, deleteBeforeReplace: false };
}

/**
 * DaemonConfig: updated in place when its keys, the restart command or allowDataRootMove change (destroy reads
 * the last from the state, so a change must reach it).
 */
export function diffDaemonConfig(
    olds: { settings: JsonObject; restartCommand?: string; allowDataRootMove?: boolean },
    news: { settings: JsonObject; restartCommand?: string; allowDataRootMove?: boolean },
): StepDiff {
    const changes =
        canonicalJson(olds.settings) !== canonicalJson(news.settings) ||
        olds.restartCommand !== news.restartCommand ||
        !same(olds.allowDataRootMove, news.allowDataRootMove);
    return { changes, replaces: [], deleteBeforeReplace: false };
}

/** RemoteFiles: another folder replaces the step (the old folder emptied first); new files or mode update it. */
export function diffRemoteFiles(
    olds: { directory: string; sha256: string; mode: string; exclusivePattern?: string },
    news: { directory: string; sha256: string; mode: string; exclusivePattern?: string },
): StepDiff {
    const replaces = olds.directory !== news.directory ? ["directory"] : [];
    const changes =
        replaces.length > 0 ||
        olds.sha256 !== news.sha256 ||
        olds.mode !== news.mode ||
        olds.exclusivePattern !== news.exclusivePattern;
    return { changes, replaces, deleteBeforeReplace: true };
}

/**
 * DockerPlugin: a new alias is installed beside the old one, which is removed last (after the new one
 * enforces); a new data root cannot hold the old plugin, so that one goes first. A new reference, settings, or a
 * plugin found disabled or at another build on the host updates it.
 */
export function diffDockerPlugin(
    olds: {
        alias: string;
        dataRootKey: string;
        reference: string;
        installedReference: string;
        enabled: boolean;
        settings: Record<string, string>;
        allowDataRootMove?: boolean;
    },
    news: {
        alias: string;
        dataRootKey: string;
        reference: string;
        settings: Record<string, string>;
        allowDataRootMove?: boolean;
    },
): StepDiff {
    const replaces =
        olds.alias !== news.alias ? ["alias"] : olds.dataRootKey !== news.dataRootKey ? ["dataRootKey"] : [];
    const changes =
        replaces.length > 0 ||
        olds.reference !== news.reference ||
        !olds.enabled ||
        normalizeReference(olds.installedReference) !== normalizeReference(news.reference) ||
        sortedEntries(olds.settings) !== sortedEntries(news.settings) ||
        !same(olds.allowDataRootMove, news.allowDataRootMove);
    return { changes, replaces, deleteBeforeReplace: replaces.includes("dataRootKey") };
}

/**
 * Authorization: a new alias is enabled (first in the chain) before the old one is taken out, never a moment
 * without a plugin; anything else it was checked with, or Docker found not enforcing, or the live policy drifted
 * from the staged one, updates it (and runs the canary again).
 */
export function diffAuthorization(
    olds: {
        active: boolean;
        alias: string;
        pluginReference: string;
        canaryImage: string;
        liveSha256?: string;
        policyDirectory?: string;
        stagedDirectory?: string;
        allowDataRootMove?: boolean;
    },
    news: {
        alias: string;
        pluginReference: string;
        canaryImage: string;
        policySha256: string;
        policyDirectory?: string;
        stagedDirectory?: string;
        allowDataRootMove?: boolean;
    },
): StepDiff {
    const changes =
        !olds.active ||
        olds.alias !== news.alias ||
        olds.pluginReference !== news.pluginReference ||
        olds.canaryImage !== news.canaryImage ||
        olds.liveSha256 !== news.policySha256 ||
        olds.policyDirectory !== news.policyDirectory ||
        olds.stagedDirectory !== news.stagedDirectory ||
        !same(olds.allowDataRootMove, news.allowDataRootMove);
    return { changes, replaces: olds.alias !== news.alias ? ["alias"] : [], deleteBeforeReplace: false };
}
