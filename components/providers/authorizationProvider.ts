import * as pulumi from "@pulumi/pulumi";
import { canonicalJson } from "../plan/daemonConfig";
import { b64, dockerFunctions, recordScript, RECORD_DIR } from "../host/dockerd";
import { SshTarget, targetLabel } from "../ssh/target";
import { canaryScript, checkAlias, listsAuthorizationPlugin, socketFunctions, withAuthorizationPlugin } from "./authzScripts";
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
    /** Command that restarts Docker (for rollbacks); none = the host's init system. */
    restartCommand?: string;
    /** Whether the daemon enforces the plugin now. */
    active: boolean;
}

/**
 * Adds the plugin to `authorization-plugins` (SIGHUP), then runs the canary. If the canary fails on a first
 * enablement, the previous daemon.json comes back (the host is as it was). If it fails while authorization was
 * already on (a new policy or plugin that refuses everyday work, or lets privileged containers through), the
 * plugin is taken out and the socket closed to non-root users: root can still repair the host, nobody else can
 * reach an unchecked Docker.
 */
async function enable(s: AuthorizationState): Promise<AuthorizationState> {
    const { current } = await preflight(s.connection, { fresh: true });
    const alreadyListed = listsAuthorizationPlugin(current, s.alias);
    const withPlugin = b64(canonicalJson(withAuthorizationPlugin(current, s.alias, true)));
    const withoutPlugin = b64(canonicalJson(withAuthorizationPlugin(current, s.alias, false)));
    await change(s.connection, [
        dockerFunctions(s.restartCommand),
        socketFunctions,
        s.canaryImage ? canaryScript(s.canaryImage, s.alias) : "hdh_canary() { :; }",
        alreadyListed ? "" : `hdh_apply_daemon_json ${withPlugin} reload`,
        // docker info does not list authz plugins enabled by a reload, so the canary's refusal is the proof.
        "if ! hdh_canary; then",
        alreadyListed
            ? `  hdh_close_socket; hdh_install_daemon_json ${withoutPlugin}; hdh_reload || true; echo "authorization is off and the docker socket closed to non-root users until a policy and plugin pass the canary" >&2`
            : `  hdh_restore_daemon_json; hdh_reload || true; echo "authorization was rolled back" >&2`,
        "  exit 5",
        "fi",
        // A step that had to take authorization away closed the socket; enforced again, it reopens.
        "hdh_reopen_socket",
        recordScript("authorization", { alias: s.alias, pluginReference: s.pluginReference, policySha256: s.policySha256, at: new Date().toISOString() }),
    ].join("\n"), `enabling authorization plugin ${s.alias}`);
    return { ...s, active: true };
}

/** Implementation of Authorization (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<AuthorizationState, AuthorizationState> = {
    async check(_olds, news) {
        checkAlias(targetLabel(news.connection), news.alias);
        return { inputs: news };
    },
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
        // Active means enforcing: the preflight asked Docker for something every policy refuses, and this plugin refused it.
        const { facts } = await preflight(props.connection);
        const state = { ...props, active: facts.authzAnswer.includes(`authorization denied by plugin ${props.alias}`) };
        return { id, props: state };
    },
    async delete(_id, props) {
        const { current } = await preflight(props.connection, { fresh: true });
        if (!listsAuthorizationPlugin(current, props.alias)) return;
        await change(props.connection, [
            dockerFunctions(props.restartCommand),
            `hdh_apply_daemon_json ${b64(canonicalJson(withAuthorizationPlugin(current, props.alias, false)))} reload`,
            `rm -f ${RECORD_DIR}/authorization.json`,
        ].join("\n"), `disabling authorization plugin ${props.alias}`);
    },
};
