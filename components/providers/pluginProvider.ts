import * as pulumi from "@pulumi/pulumi";
import { b64, dockerFunctions, recordScript, RECORD_DIR } from "../host/dockerd";
import { shq } from "../host/shell";
import { findPlugin } from "../host/probe";
import { SshTarget, targetLabel } from "../ssh/target";
import { checkAlias, withAuthorizationPaused } from "./authzScripts";
import { HostInputError } from "../plan/errors";
import { change, preflight } from "./preflight";

/** Inputs and state of DockerPlugin (see dockerPlugin.ts). */
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
    /** How a change is carried out while the plugin guards the host (shown in previews). */
    changeProcedure: string;
    /** Whether the plugin is enabled on the host. */
    enabled: boolean;
    /** The reference Docker reports for the installed plugin (empty when missing). */
    installedReference: string;
}

/** A reference as Docker stores it (`busybox:1` is `docker.io/library/busybox:1`), so upstream images compare equal. */
export function normalizeReference(ref: string): string {
    const parts = ref.split("/");
    const hasRegistry = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
    if (hasRegistry) return ref;
    return `docker.io/${parts.length === 1 ? "library/" : ""}${ref}`;
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
  if [ "$(docker plugin inspect -f '{{.PluginReference}}' ${a})" != ${shq(normalizeReference(s.reference))} ]; then
    docker plugin disable -f ${a} >/dev/null 2>&1 || true
    docker plugin upgrade --grant-all-permissions --skip-remote-check ${a} ${ref} >/dev/null
  fi
else
  docker plugin install --grant-all-permissions --disable --alias ${a} ${ref} >/dev/null
fi
want=${shq(b64(JSON.stringify(Object.entries(s.settings).sort())))}
have=$(cat ${shq(`${RECORD_DIR}/plugin-settings.${s.alias}`)} 2>/dev/null || true)
if [ "$want" != "$have" ] || [ "$(docker plugin inspect -f '{{.Enabled}}' ${a})" != true ]; then
  docker plugin disable -f ${a} >/dev/null 2>&1 || true
  ${Object.keys(s.settings).length ? `docker plugin set ${a} ${settingArgs(s.settings)}` : ":"}
  echo "$want" > ${shq(`${RECORD_DIR}/plugin-settings.${s.alias}`)}
  docker plugin enable ${a} >/dev/null
fi
`;
}

async function converge(s: DockerPluginState): Promise<DockerPluginState> {
    const { current } = await preflight(s.connection, { fresh: true });
    await change(s.connection, [
        dockerFunctions(s.restartCommand),
        withAuthorizationPaused(current, s.alias, ensureScript(s)),
        recordScript("plugin", { alias: s.alias, reference: s.reference, settings: s.settings, at: new Date().toISOString() }),
    ].join("\n"), `installing plugin ${s.reference} as ${s.alias}`);
    return { ...s, enabled: true, installedReference: normalizeReference(s.reference) };
}

/** Implementation of DockerPlugin (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<DockerPluginState, DockerPluginState> = {
    async check(_olds, news) {
        const host = targetLabel(news.connection);
        if (!/[:@]/.test(news.reference.split("/").pop() ?? "") || news.reference.endsWith(":latest")) {
            throw new HostInputError(host, "plugin.image", `"${news.reference}" is not pinned`, "use a versioned tag or a digest");
        }
        checkAlias(host, news.alias);
        return { inputs: { ...news, changeProcedure: CHANGE_PROCEDURE } };
    },
    async diff(_id, olds, news) {
        const replaces = olds.alias !== news.alias ? ["alias"] : olds.dataRootKey !== news.dataRootKey ? ["dataRootKey"] : [];
        const changes = replaces.length > 0 || olds.reference !== news.reference || !olds.enabled
            || normalizeReference(olds.installedReference) !== normalizeReference(news.reference)
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
        // When the policy refuses our requests (e.g. it was removed), the list is empty: that reads as "not
        // enabled", and the next up puts the plugin through the pause, which sees the truth.
        const found = findPlugin((await preflight(props.connection)).facts, props.alias);
        const state = { ...props, installedReference: found?.reference ?? "", enabled: found?.enabled ?? false };
        return { id, props: state };
    },
    async delete(_id, props) {
        const { current } = await preflight(props.connection, { fresh: true });
        const remove = `docker plugin disable -f ${shq(props.alias)} >/dev/null 2>&1 || true
docker plugin rm -f ${shq(props.alias)} >/dev/null 2>&1 || true
rm -f ${RECORD_DIR}/plugin.json ${shq(`${RECORD_DIR}/plugin-settings.${props.alias}`)}`;
        await change(props.connection, [dockerFunctions(props.restartCommand), withAuthorizationPaused(current, props.alias, remove, false)].join("\n"),
            `removing plugin ${props.alias}`);
    },
};
