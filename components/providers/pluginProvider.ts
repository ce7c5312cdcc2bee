import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { diffDockerPlugin } from "../plan/stepDiffs";
import { b64, dockerFunctions, recordScript, removeFilesScript, RECORD_DIR } from "../host/dockerd";
import { shq } from "../host/shell";
import { findPlugin } from "../host/probe";
import { SshTarget, targetLabel } from "../ssh/target";
import { authzFunctions, authzVariables, maintenanceLines, pluginStepsScript } from "./authzScripts";
import { JsonObject } from "../plan/json";
import { authorizationChain, chainLists } from "../plan/authorizationChain";
import { checkRemapRemoval, planAuthorizationRemoval, promotionLockModule } from "../plan/authorization";
import { MachineIdentity, machineIdentity } from "../plan/machineIdentity";
import {
    CHANGE_PROCEDURE,
    PluginChangePlan,
    checkAlias,
    checkPinnedReference,
    managedAliases,
    normalizeReference,
    planPluginChange,
    planPluginRemoval,
    swapAlias,
} from "../plan/pluginChange";
import { sha256Hex } from "../plan/sha256";
import { change, preflight } from "./preflight";

/** Inputs and state of DockerPlugin (the DockerPlugin class is in hostResources.ts). */
export interface DockerPluginState {
    connection: SshTarget;
    /** Image reference with a pinned tag (or digest). */
    reference: string;
    /** The name Docker knows the plugin by (used in `authorization-plugins`). */
    alias: string;
    /** Command that restarts Docker (for rollbacks); none = the host's init system. */
    restartCommand?: string;
    /** Plugin settings (`docker plugin set` KEY=VALUE), e.g. the policy mount's source. */
    settings: Record<string, string>;
    /**
     * The daemon's `userns-remap` and `data-root` settings: plugins live under the data root, which remapping
     * moves, so a plugin installed under another one is invisible and a change here reinstalls it.
     */
    dataRootKey: string;
    /** Allow removing the last enforcing plugin while containers run under userns-remap (see checkRemapRemoval). */
    allowDataRootMove?: boolean;
    /** How a change is carried out while the plugin guards the host (shown in previews). */
    changeProcedure: string;
    /** Whether the plugin is enabled on the host. */
    enabled: boolean;
    /** The reference Docker reports for the installed plugin (empty when missing). */
    installedReference: string;
    /** The machine this state describes (see plan/machineIdentity.ts). */
    machine?: MachineIdentity;
}

/** The settings as recorded on the host once applied (`plugin-settings.<alias>`; the format older runs wrote). */
function settingsKey(settings: Record<string, string>): string {
    return b64(JSON.stringify(Object.entries(settings).sort()));
}

/**
 * The script of a plugin plan: the maintenance token (when a plugin enforces) placed in the policy folder of
 * every listed plugin and of ours, the steps, and the token removed whatever happens.
 */
export function pluginScript(s: DockerPluginState, current: JsonObject, plan: PluginChangePlan, token: string): string {
    const chain = authorizationChain(current);
    const source = s.settings["policies.source"] ?? "";
    const ensure = () => ({
        reference: s.reference,
        normalized: normalizeReference(s.reference),
        settingsKey: settingsKey(s.settings),
        settings: Object.entries(s.settings)
            .sort()
            .map(([k, v]) => `${k}=${v}`),
    });
    return [
        dockerFunctions(s.restartCommand),
        authzVariables(sha256Hex(token), promotionLockModule()),
        authzFunctions,
        // The plugin's policy mount needs its folder (the policy step writes a staging folder, not this one).
        source ? `mkdir -p ${shq(source)}` : "",
        ...(plan.maintenance ? maintenanceLines(token, [source], chain) : []),
        pluginStepsScript(plan.steps, { current, ensure }),
        "hdh_maint_end",
    ].join("\n");
}

async function converge(s: DockerPluginState): Promise<DockerPluginState> {
    const { facts, current } = await preflight(s.connection, { fresh: true });
    const plan = planPluginChange({
        alias: s.alias,
        reference: s.reference,
        settingsKey: settingsKey(s.settings),
        chain: authorizationChain(current),
        installed: findPlugin(facts, s.alias),
        recordedSettings: facts.records[`plugin-settings.${s.alias}`]?.trim(),
        swap: findPlugin(facts, swapAlias(s.alias)),
    });
    if (plan.steps.length > 0) {
        await change(
            s.connection,
            [
                pluginScript(s, current, plan, randomBytes(32).toString("hex")),
                recordScript(`plugin.${s.alias}`, {
                    alias: s.alias,
                    reference: s.reference,
                    settings: s.settings,
                    at: new Date().toISOString(),
                }),
            ].join("\n"),
            `installing plugin ${s.reference} as ${s.alias}`,
        );
    }
    return {
        ...s,
        enabled: true,
        installedReference: normalizeReference(s.reference),
        machine: machineIdentity(facts.machineId, s.connection.hostKey),
    };
}

/** Implementation of DockerPlugin (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<DockerPluginState, DockerPluginState> = {
    async check(_olds, news) {
        const host = targetLabel(news.connection);
        checkPinnedReference(host, news.reference);
        checkAlias(host, news.alias);
        return { inputs: { ...news, changeProcedure: CHANGE_PROCEDURE } };
    },
    async diff(_id, olds, news) {
        return diffDockerPlugin(olds, news);
    },
    async create(inputs) {
        return { id: `${targetLabel(inputs.connection)}:plugin:${inputs.alias}`, outs: await converge(inputs) };
    },
    async update(_id, _olds, news) {
        return { outs: await converge(news) };
    },
    async read(id, props) {
        if (!props) throw new Error(`DockerPlugin ${id}: cannot import without its connection`);
        // When the plugin refuses our requests (its live policy was broken by hand), Docker lists nothing: the
        // plugin is left as recorded, since a reinstall could only be refused too; the Authorization step repairs
        // the live policy, and its canary proves the plugin.
        const { facts } = await preflight(props.connection);
        if (facts.apiRefused) return { id, props };
        const found = findPlugin(facts, props.alias);
        const state = { ...props, installedReference: found?.reference ?? "", enabled: found?.enabled ?? false };
        return { id, props: state };
    },
    async delete(_id, props) {
        const host = targetLabel(props.connection);
        const { facts, current } = await preflight(props.connection, { fresh: true });
        const chain = authorizationChain(current);
        // Taking the last plugin of ours out of the request path gives the host back: not under running containers.
        const ours = managedAliases(Object.keys(facts.records));
        if (chainLists(chain, props.alias) && planAuthorizationRemoval(props.alias, chain, ours).unhardening) {
            checkRemapRemoval(host, facts, props.allowDataRootMove ?? false);
        }
        const plan = planPluginRemoval(props.alias, chain, findPlugin(facts, swapAlias(props.alias)) !== undefined);
        await change(
            props.connection,
            [
                pluginScript(props, current, plan, randomBytes(32).toString("hex")),
                removeFilesScript(`${RECORD_DIR}/plugin.${props.alias}.json`, `${RECORD_DIR}/plugin.json`),
            ].join("\n"),
            `removing plugin ${props.alias}`,
        );
    },
};
