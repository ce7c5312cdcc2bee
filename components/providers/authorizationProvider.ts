import * as pulumi from "@pulumi/pulumi";
import { canonicalJson } from "../plan/daemonConfig";
import { b64, dockerFunctions, recordScript, RECORD_DIR } from "../host/dockerd";
import { findPlugin } from "../host/probe";
import { SshTarget, targetLabel } from "../ssh/target";
import { canaryScript, listsAuthorizationPlugin, withAuthorizationPlugin } from "./authzScripts";
import { change, preflight } from "./preflight";

/** Inputs and state of Authorization (see authorization.ts). */
export interface AuthorizationState {
    connection: SshTarget;
    /** The plugin's alias, added to daemon.json `authorization-plugins`. */
    alias: string;
    /** The plugin reference and policy hash this enablement was checked with: a change re-runs the canary. */
    pluginReference: string;
    policySha256: string;
    /** Image of the canary containers; empty disables the canary. */
    canaryImage: string;
    /** Whether the daemon enforces the plugin now. */
    active: boolean;
}

/** Adds the plugin to `authorization-plugins` (SIGHUP), then runs the canary; rolls back if either fails. */
async function enable(s: AuthorizationState): Promise<AuthorizationState> {
    const { current } = await preflight(s.connection, { fresh: true });
    const enabled = withAuthorizationPlugin(current, s.alias, true);
    const alreadyListed = listsAuthorizationPlugin(current, s.alias);
    await change(s.connection, [
        dockerFunctions(),
        s.canaryImage ? canaryScript(s.canaryImage, s.alias) : "hdh_canary() { :; }",
        alreadyListed ? "" : `hdh_apply_daemon_json ${b64(canonicalJson(enabled))} reload`,
        // docker info does not list authz plugins enabled by a reload, so the canary's refusal is the proof.
        "if ! hdh_canary; then",
        alreadyListed ? "" : `  hdh_restore_daemon_json; hdh_reload; echo "authorization was rolled back" >&2`,
        "  exit 5",
        "fi",
        // A plugin removal that had to take authorization away closed the socket; enforced again, it reopens.
        `if [ -f "$HDH_REC/socket-mode" ]; then chmod "$(cat "$HDH_REC/socket-mode")" /var/run/docker.sock; rm -f "$HDH_REC/socket-mode"; fi`,
        recordScript("authorization", { alias: s.alias, pluginReference: s.pluginReference, policySha256: s.policySha256, at: new Date().toISOString() }),
    ].join("\n"), `enabling authorization plugin ${s.alias}`);
    return { ...s, active: true };
}

/** Implementation of Authorization (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<AuthorizationState, AuthorizationState> = {
    async diff(_id, olds, news) {
        const changes = !olds.active || olds.alias !== news.alias || olds.pluginReference !== news.pluginReference
            || olds.policySha256 !== news.policySha256 || olds.canaryImage !== news.canaryImage;
        return { changes, replaces: olds.alias !== news.alias ? ["alias"] : [], deleteBeforeReplace: true };
    },
    async create(inputs) {
        return { id: `${targetLabel(inputs.connection)}:authz:${inputs.alias}`, outs: await enable(inputs) };
    },
    async update(_id, _olds, news) {
        return { outs: await enable(news) };
    },
    async read(id, props) {
        if (!props) throw new Error(`Authorization ${id}: cannot import without its connection`);
        // Active: listed in daemon.json, and the plugin enabled (a disabled one makes the API refuse everything).
        const { facts, current } = await preflight(props.connection);
        const state = { ...props, active: listsAuthorizationPlugin(current, props.alias) && (findPlugin(facts, props.alias)?.enabled ?? false) };
        return { id, props: state };
    },
    async delete(_id, props) {
        const { current } = await preflight(props.connection, { fresh: true });
        if (!listsAuthorizationPlugin(current, props.alias)) return;
        await change(props.connection, [
            dockerFunctions(),
            `hdh_apply_daemon_json ${b64(canonicalJson(withAuthorizationPlugin(current, props.alias, false)))} reload`,
            `rm -f ${RECORD_DIR}/authorization.json`,
        ].join("\n"), `disabling authorization plugin ${props.alias}`);
    },
};
