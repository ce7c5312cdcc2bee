/**
 * The Authorization step's decisions: when a new policy goes live, when the plugin is put in the request path,
 * and what a failed canary rolls back to. Nothing here ever takes a plugin out of the request path while the
 * host is hardened: the only way authorization goes off is destroy.
 *
 * A new policy is written by the policy step into a staging folder, never into the folder the plugin reads. This
 * step checks it first with the plugin's own binary on the canary's requests (staged, not live), then copies it
 * into the live folder, then runs the canary through Docker. If the canary fails, the previous live files come
 * back, so the plugin enforces the previous policy again.
 */
import { chainLists, chainWithFirst, chainWithout } from "./authorizationChain";
import { HostInputError } from "./errors";
import { splitLines } from "./lines";
import { shortSha256 } from "./sha256";

/** What {@link planAuthorization} decides from. */
export interface AuthorizationRequest {
    alias: string;
    /** daemon.json `authorization-plugins` now. */
    chain: string[];
    /** SHA-256 of the staged policy files (what the policy step wrote). */
    stagedSha256: string;
    /** SHA-256 of the live policy files as last applied or read; undefined when unknown (older state). */
    liveSha256?: string;
    /** Whether the live folder is another one than before (policy.hostDirectory changed). */
    liveMoved: boolean;
    /** Whether Docker's answer to a request every policy refuses names this plugin now. */
    enforcing: boolean;
}

/** What the step does, in order: promote, list (or reload), canary; and what a failed canary undoes. */
export interface AuthorizationPlan {
    /** Check the staged policy, back up the live one, copy the staged files into the live folder. */
    promote: boolean;
    /** The chain to write when the plugin is not listed yet (first enablement): the plugin first. */
    enableChain?: string[];
    /** Listed, but Docker does not ask it (it was disabled and enabled by hand): reload to put it back. */
    reload: boolean;
    /** On a failed canary, put the previous live policy files back. */
    restorePolicy: boolean;
    /** On a failed canary, write the chain without the plugin (only on a first enablement: the host as before). */
    restoreChain?: string[];
}

/** The steps of enabling (or re-checking) authorization. */
export function planAuthorization(r: AuthorizationRequest): AuthorizationPlan {
    const listed = chainLists(r.chain, r.alias);
    const promote = r.liveMoved || r.liveSha256 !== r.stagedSha256;
    return {
        promote,
        enableChain: listed ? undefined : chainWithFirst(r.chain, r.alias),
        reload: listed && !r.enforcing,
        restorePolicy: promote,
        restoreChain: listed ? undefined : r.chain,
    };
}

/** What the last enablement was checked with, for {@link canaryNeeded}. */
export interface CheckedWith {
    pluginReference: string;
    canaryImage: string;
    /** Whether Docker enforced the plugin after it. */
    active: boolean;
}

/**
 * Whether this run proves authorization with the canary: on a first run, on any change the plan makes, when the
 * plugin build or the canary image changed, or when Docker was found not enforcing; never without a canary image.
 */
export function canaryNeeded(
    plan: AuthorizationPlan,
    now: { pluginReference: string; canaryImage: string },
    last?: CheckedWith,
): boolean {
    if (now.canaryImage === "") return false;
    if (!last) return true;
    const changes = plan.promote || plan.enableChain !== undefined || plan.reload;
    return (
        changes || last.pluginReference !== now.pluginReference || last.canaryImage !== now.canaryImage || !last.active
    );
}

/** What removing authorization does. */
export interface AuthorizationRemoval {
    /** The chain without the plugin. */
    chain: string[];
    /** Whether the plugin is listed (else there is nothing to reload). */
    listed: boolean;
    /**
     * Whether no plugin of ours enforces afterwards: the host is being given back (destroy), so the live policy
     * files go too and the remap guard applies. False while another alias of ours takes over (an alias change).
     */
    unhardening: boolean;
}

/** Removing the plugin from the chain; `ours` are the aliases our plugin step manages on the host. */
export function planAuthorizationRemoval(alias: string, chain: string[], ours: string[]): AuthorizationRemoval {
    const rest = chainWithout(chain, alias);
    return { chain: rest, listed: chainLists(chain, alias), unhardening: !ours.some((o) => chainLists(rest, o)) };
}

/** Container names in an error: the first ten, then how many more. */
function nameList(names: string[]): string {
    const shown = names.slice(0, 10).join(", ");
    return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/**
 * Refuses to give a host back (destroy, or a move to another machine) while containers run under userns-remap:
 * with live-restore they keep running under the remapped IDs after remapping is turned off, and their range is
 * released, so the same host IDs could be handed to another user. `allowDataRootMove` accepts that.
 *
 * @throws HostInputError listing the containers.
 */
export function checkRemapRemoval(
    host: string,
    facts: { usernsActive: boolean; runningContainers: string[] },
    allowDataRootMove: boolean,
): void {
    const running = facts.runningContainers;
    if (allowDataRootMove || !facts.usernsActive || running.length === 0) return;
    throw new HostInputError(
        host,
        "allowDataRootMove",
        `${running.length} container(s) run under userns-remap (${nameList(running)}): removing the hardening would ` +
            "turn remapping off and release their ID range while they keep running (live-restore), so their host IDs " +
            "could be given to another user",
        "stop and remove them first (docker rm -f NAME), or set allowDataRootMove: true and run pulumi up before " +
            "destroying",
    );
}

/**
 * The Rego module written into the live policy folder while its files are replaced, and removed right after:
 * until then every request is refused (a conflict on `allow`, or `false`), but our plugin maintenance, so no
 * request is ever decided by a mix of old and new files.
 */
export function promotionLockModule(): string {
    return `package docker.authz

import rego.v1

# Written by hardened-docker-host while it replaces the policy files, and removed right after: until then every
# request is refused (but its own plugin maintenance). If it is left behind, the next pulumi up replaces it.
allow := false if not data.docker.authz.hdh_maintenance_request
`;
}

/** One line per policy file for previews and refresh diffs: line count and short hash (as the policy step shows). */
export function policySummary(files: Record<string, string>): Record<string, string> {
    const line = (text: string) => `${splitLines(text).length} lines, sha256 ${shortSha256(text)}`;
    return Object.fromEntries(
        Object.keys(files)
            .sort()
            .map((n) => [n, line(files[n])]),
    );
}

/**
 * Whether Docker's answer (to a request every policy refuses) comes from this plugin: then it enforces. Docker
 * names it `alias` or `alias:latest`; both start with `alias:`, which a longer name (`alias2`, `alias-swap`) does not.
 */
export function answeredBy(answer: string, alias: string): boolean {
    return answer.includes(`authorization denied by plugin ${alias}:`);
}
