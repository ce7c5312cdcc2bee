import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { diffAuthorization } from "../plan/stepDiffs";
import { JsonObject } from "../plan/json";
import { authorizationChain } from "../plan/authorizationChain";
import {
    AuthorizationPlan,
    answeredBy,
    checkRemapRemoval,
    canaryNeeded,
    planAuthorization,
    planAuthorizationRemoval,
    policySummary,
    promotionLockModule,
} from "../plan/authorization";
import { MachineIdentity, machineIdentity } from "../plan/machineIdentity";
import { sha256Hex } from "../plan/sha256";
import { dockerFunctions, recordScript, removeFilesScript, RECORD_DIR } from "../host/dockerd";
import { LIVE_FOLDER_NOTE } from "../host/probe";
import { fileSetHash, parseReadFiles, readFilesScript } from "../host/files";
import { shq } from "../host/shell";
import { runScript } from "../ssh/session";
import { SshTarget, targetLabel } from "../ssh/target";
import { authzFunctions, authzVariables, canaryScript, chainJsonArgument, socketFunctions } from "./authzScripts";
import { checkAlias, checkImage, managedAliases } from "../plan/pluginChange";
import { change, folderFromPreflight, preflight } from "./preflight";

/** The live policy files, by hash and one line per file. */
interface LivePolicy {
    sha256: string;
    summary: Record<string, string>;
}

/** Inputs and state of Authorization (the resource class is in hostResources.ts). */
export interface AuthorizationState {
    connection: SshTarget;
    /** The plugin's alias, added to daemon.json `authorization-plugins`. */
    alias: string;
    /** The plugin reference and staged policy hash this enablement was checked with: a change re-runs the canary. */
    pluginReference: string;
    policySha256: string;
    /** Image of the canary containers; empty disables the canary. */
    canaryImage: string;
    /** Command that restarts Docker (for rollbacks); none = the host's init system. */
    restartCommand?: string;
    /** The folder the plugin reads (policy.hostDirectory): this step copies the checked policy into it. */
    policyDirectory?: string;
    /** The folder the policy step writes a new policy into; it is checked there before going live. */
    stagedDirectory?: string;
    /** Allow giving the host back while containers run under userns-remap (see checkRemapRemoval). */
    allowDataRootMove?: boolean;
    /** Whether the daemon enforces the plugin now. */
    active: boolean;
    /** SHA-256 of the live policy files (as last made live, or as `read` found them). */
    liveSha256?: string;
    /** The live policy files, one line each (line count and short hash), so a refresh shows which file drifted. */
    livePolicy?: Record<string, string>;
    /** The machine this state describes (see plan/machineIdentity.ts). */
    machine?: MachineIdentity;
}

/** The live policy files: their hash and summary. */
async function readLive(connection: SshTarget, dir: string): Promise<LivePolicy> {
    const files =
        (await folderFromPreflight(connection, dir)) ??
        parseReadFiles(await runScript(connection, readFilesScript(dir, [], "*"), `reading ${dir}`));
    return { sha256: fileSetHash(files), summary: policySummary(files) };
}

/**
 * The script lines of a plan (see plan/authorization.ts): check and promote the staged policy, list the plugin
 * (or reload), run the canary, and on its failure put back what this run changed, then say so in one line.
 */
export function authorizationScript(
    s: AuthorizationState,
    current: JsonObject,
    plan: AuthorizationPlan,
    canary: boolean,
): string {
    const chain = authorizationChain(current);
    const json = (c: string[]) => chainJsonArgument(current, c);
    const names = (c: string[]) => c.map(shq).join(" ");
    const a = shq(s.alias);
    const lines = [
        `HDH_LIVE=${shq(s.policyDirectory ?? "")} HDH_STAGED=${shq(s.stagedDirectory ?? "")}`,
        `HDH_ALIAS=${a} HDH_IMAGE=${shq(s.canaryImage)} HDH_PROMOTED=no`,
    ];
    if (plan.promote && s.policyDirectory && s.stagedDirectory) {
        lines.push(`hdh_authz_promote ${shq(plan.enableChain ? "" : ` and plugin ${s.alias} enforces it`)}`);
    }
    if (plan.enableChain) {
        lines.push(
            `hdh_authz_enable ${json(plan.enableChain)} ${a} ${json(chain)} ${shq(chain[0] ?? "")} '' ` +
                names(plan.enableChain),
        );
    } else if (plan.reload) {
        lines.push(
            `hdh_chain_switch ${json(chain)} ${shq(chain[0])} ${json(chain)} ${shq(chain[0])} '' ` +
                `${names(chain)} || exit 5`,
        );
    }
    if (canary) {
        // A first enablement is undone (the host as it was); otherwise the plugin stays in the request path, and
        // enforces the previous policy, checked once more.
        const restore = plan.restoreChain
            ? `hdh_authz_off_again ${json(plan.restoreChain)} ${shq(plan.restoreChain[0] ?? "")} ` +
              `${json(plan.enableChain ?? chain)} ${a} ${a} ${names(plan.restoreChain)}`
            : `hdh_recheck ${a}`;
        lines.push(`hdh_authz_canary ${restore}`);
    }
    return lines.join("\n");
}

/**
 * Makes the staged policy live and the plugin enforce it, proven by the canary (see plan/authorization.ts): the
 * policy is checked before it is live and rolled back if the canary fails afterwards; the plugin is listed first
 * on a first enablement (rolled back too: the host is then as it was); a plugin already in the request path is
 * never taken out of it.
 */
async function enable(s: AuthorizationState, olds?: AuthorizationState): Promise<AuthorizationState> {
    const { facts, current } = await preflight(s.connection, { fresh: true });
    const plan = planAuthorization({
        alias: s.alias,
        chain: authorizationChain(current),
        stagedSha256: s.policySha256,
        liveSha256: olds?.liveSha256,
        liveMoved: olds?.policyDirectory !== undefined && olds.policyDirectory !== s.policyDirectory,
        enforcing: answeredBy(facts.authzAnswer, s.alias),
    });
    const canary = canaryNeeded(plan, s, olds);
    const moved = olds?.policyDirectory !== s.policyDirectory ? olds?.policyDirectory : undefined;
    await change(
        s.connection,
        [
            dockerFunctions(s.restartCommand),
            socketFunctions,
            authzVariables(sha256Hex(randomBytes(32).toString("hex")), promotionLockModule()),
            authzFunctions,
            s.canaryImage ? canaryScript(s.canaryImage, s.alias) : "hdh_canary() { :; }",
            authorizationScript(s, current, plan, canary),
            // A socket closed by an older version of this step is reopened now that the plugin enforces.
            "hdh_reopen_socket",
            moved ? `hdh_policy_clear ${shq(moved)} || true` : "",
            recordScript("authorization", {
                alias: s.alias,
                pluginReference: s.pluginReference,
                policySha256: s.policySha256,
                at: new Date().toISOString(),
            }),
            // Noted for the preflight, which reads the live folder with the rest of the host (after this change too).
            s.policyDirectory
                ? `printf '%s\\n' ${shq(s.policyDirectory)} > ${shq(LIVE_FOLDER_NOTE)}`
                : removeFilesScript(LIVE_FOLDER_NOTE),
        ].join("\n"),
        `enabling authorization plugin ${s.alias}`,
    );
    const live = s.policyDirectory ? await readLive(s.connection, s.policyDirectory) : undefined;
    return {
        ...s,
        active: true,
        liveSha256: live?.sha256 ?? s.policySha256,
        livePolicy: live?.summary,
        machine: machineIdentity(facts.machineId, s.connection.hostKey),
    };
}

/** Implementation of Authorization (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<AuthorizationState, AuthorizationState> = {
    async check(_olds, news) {
        const host = targetLabel(news.connection);
        checkAlias(host, news.alias);
        if (typeof news.canaryImage === "string") checkImage(host, "canaryImage", news.canaryImage);
        return { inputs: news };
    },
    async diff(_id, olds, news) {
        return diffAuthorization(olds, news);
    },
    async create(inputs) {
        return { id: `${targetLabel(inputs.connection)}:authz:${inputs.alias}`, outs: await enable(inputs) };
    },
    async update(_id, olds, news) {
        return { outs: await enable(news, olds) };
    },
    async read(id, props) {
        if (!props) throw new Error(`Authorization ${id}: cannot import without its connection`);
        // Active means enforcing: the preflight asked Docker for something every policy refuses, and this plugin
        // refused it.
        const { facts } = await preflight(props.connection);
        const live = props.policyDirectory ? await readLive(props.connection, props.policyDirectory) : undefined;
        const state = {
            ...props,
            active: answeredBy(facts.authzAnswer, props.alias),
            liveSha256: live?.sha256 ?? props.liveSha256,
            livePolicy: live?.summary ?? props.livePolicy,
        };
        return { id, props: state };
    },
    async delete(_id, props) {
        const host = targetLabel(props.connection);
        const { facts, current } = await preflight(props.connection, { fresh: true });
        const chain = authorizationChain(current);
        const removal = planAuthorizationRemoval(props.alias, chain, managedAliases(Object.keys(facts.records)));
        // The last plugin of ours leaving the request path is the start of giving the host back.
        if (removal.unhardening) checkRemapRemoval(host, facts, props.allowDataRootMove ?? false);
        const json = (c: string[]) => chainJsonArgument(current, c);
        const given = removal.unhardening;
        const dirs = [props.policyDirectory, props.stagedDirectory].filter((d): d is string => !!d && given);
        await change(
            props.connection,
            [
                dockerFunctions(props.restartCommand),
                authzVariables(sha256Hex(randomBytes(32).toString("hex")), promotionLockModule()),
                authzFunctions,
                removal.listed
                    ? `hdh_chain_switch ${json(removal.chain)} ${shq(removal.chain[0] ?? "")} ${json(chain)} ` +
                      `${shq(chain[0] ?? "")} ${shq(props.alias)} ${removal.chain.map(shq).join(" ")} || exit 5`
                    : "",
                // Given back: the policy folders are emptied (they are ours alone), the previous-policy backup goes.
                ...dirs.map((d) => `hdh_policy_clear ${shq(d)}`),
                given ? 'rm -rf "$HDH_PREVIOUS"' : "",
                given && props.stagedDirectory ? `rmdir ${shq(props.stagedDirectory)} 2>/dev/null || true` : "",
                removeFilesScript(`${RECORD_DIR}/authorization.json`, LIVE_FOLDER_NOTE),
            ].join("\n"),
            `disabling authorization plugin ${props.alias}`,
        );
    },
};
