import * as pulumi from "@pulumi/pulumi";
import { b64, dockerFunctions, recordScript, RECORD_DIR } from "../host/dockerd";
import { shq } from "../host/shell";
import { findPlugin } from "../host/probe";
import { SshTarget, targetLabel } from "../ssh/target";
import { withAuthorizationPaused } from "./authzScripts";
import { change, preflight } from "./preflight";

/** Inputs and state of DockerPlugin (see dockerPlugin.ts). */
export interface DockerPluginState {
    connection: SshTarget;
    /** Image reference with a pinned tag (or digest). */
    reference: string;
    /** The name Docker knows the plugin by (used in `authorization-plugins`). */
    alias: string;
    /** Plugin settings (`docker plugin set` KEY=VALUE), e.g. the policy mount's source. */
    settings: Record<string, string>;
    /**
     * The daemon's `userns-remap` and `data-root` settings: plugins live under the data root, which remapping
     * moves, so a plugin installed under another one is invisible and a change here reinstalls it.
     */
    dataRootKey: string;
    /** How a change is carried out while the plugin guards the host (shown in previews). */
    changeProcedure: string;
    /** Whether the plugin is enabled on the host. */
    enabled: boolean;
    /** The reference Docker reports for the installed plugin (empty when missing). */
    installedReference: string;
}

export const CHANGE_PROCEDURE =
    "docker socket closed to non-root users; authorization paused; plugin installed/upgraded/enabled; authorization restored; socket reopened";

function settingArgs(settings: Record<string, string>): string {
    return Object.entries(settings).sort().map(([k, v]) => shq(`${k}=${v}`)).join(" ");
}

/** One idempotent script: install or upgrade to the pinned reference, apply settings, enable. */
function ensureScript(s: DockerPluginState): string {
    const a = shq(s.alias);
    const ref = shq(s.reference);
    return `
if docker plugin inspect ${a} >/dev/null 2>&1; then
  if [ "$(docker plugin inspect -f '{{.PluginReference}}' ${a})" != ${shq(s.reference)} ]; then
    docker plugin disable -f ${a} >/dev/null 2>&1 || true
    docker plugin upgrade --grant-all-permissions --skip-remote-check ${a} ${ref} >/dev/null
  fi
else
  docker plugin install --grant-all-permissions --disable --alias ${a} ${ref} >/dev/null
fi
want=${shq(b64(JSON.stringify(Object.entries(s.settings).sort())))}
have=$(cat ${RECORD_DIR}/plugin-settings.${s.alias} 2>/dev/null || true)
if [ "$want" != "$have" ] || [ "$(docker plugin inspect -f '{{.Enabled}}' ${a})" != true ]; then
  docker plugin disable -f ${a} >/dev/null 2>&1 || true
  ${Object.keys(s.settings).length ? `docker plugin set ${a} ${settingArgs(s.settings)}` : ":"}
  echo "$want" > ${RECORD_DIR}/plugin-settings.${s.alias}
  docker plugin enable ${a} >/dev/null
fi
`;
}

async function converge(s: DockerPluginState): Promise<DockerPluginState> {
    const { current } = await preflight(s.connection, { fresh: true });
    await change(s.connection, [
        dockerFunctions(),
        withAuthorizationPaused(current, s.alias, ensureScript(s)),
        recordScript("plugin", { alias: s.alias, reference: s.reference, settings: s.settings, at: new Date().toISOString() }),
    ].join("\n"), `installing plugin ${s.reference} as ${s.alias}`);
    return { ...s, enabled: true, installedReference: s.reference };
}

/** Implementation of DockerPlugin (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<DockerPluginState, DockerPluginState> = {
    async check(_olds, news) {
        if (!/[:@]/.test(news.reference.split("/").pop() ?? "") || news.reference.endsWith(":latest")) {
            throw new Error(`host ${targetLabel(news.connection)}: plugin.image: "${news.reference}" is not pinned. Fix: use a versioned tag or a digest`);
        }
        return { inputs: { ...news, changeProcedure: CHANGE_PROCEDURE } };
    },
    async diff(_id, olds, news) {
        const replaces = olds.alias !== news.alias ? ["alias"] : olds.dataRootKey !== news.dataRootKey ? ["dataRootKey"] : [];
        const changes = replaces.length > 0 || olds.reference !== news.reference || !olds.enabled || olds.installedReference !== news.reference
            || JSON.stringify(Object.entries(olds.settings).sort()) !== JSON.stringify(Object.entries(news.settings).sort());
        return { changes, replaces, deleteBeforeReplace: true };
    },
    async create(inputs) {
        return { id: `${targetLabel(inputs.connection)}:plugin:${inputs.alias}`, outs: await converge(inputs) };
    },
    async update(_id, _olds, news) {
        return { outs: await converge(news) };
    },
    async read(id, props) {
        if (!props) throw new Error(`DockerPlugin ${id}: cannot import without its connection`);
        // With a missing or disabled authz plugin the API refuses everything; that reads as "not enabled".
        const found = findPlugin((await preflight(props.connection)).facts, props.alias);
        const state = { ...props, installedReference: found?.reference ?? "", enabled: found?.enabled ?? false };
        return { id, props: state };
    },
    async delete(_id, props) {
        const { current } = await preflight(props.connection, { fresh: true });
        const remove = `docker plugin disable -f ${shq(props.alias)} >/dev/null 2>&1 || true
docker plugin rm -f ${shq(props.alias)} >/dev/null 2>&1 || true
rm -f ${RECORD_DIR}/plugin.json ${RECORD_DIR}/plugin-settings.${props.alias}`;
        await change(props.connection, [dockerFunctions(), withAuthorizationPaused(current, props.alias, remove, false)].join("\n"),
            `removing plugin ${props.alias}`);
    },
};
