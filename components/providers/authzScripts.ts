import { JsonObject, canonicalJson } from "../plan/daemonConfig";
import { b64 } from "../host/dockerd";
import { shq } from "../host/shell";
import { HostInputError } from "../plan/errors";

/** daemon.json with `alias` added to (or removed from) `authorization-plugins`. */
export function withAuthorizationPlugin(config: JsonObject, alias: string, enabled: boolean): JsonObject {
    const list = Array.isArray(config["authorization-plugins"]) ? (config["authorization-plugins"] as string[]) : [];
    const next = enabled ? (list.includes(alias) ? list : [...list, alias]) : list.filter((p) => p !== alias);
    const out: JsonObject = { ...config };
    if (next.length > 0) out["authorization-plugins"] = next;
    else delete out["authorization-plugins"];
    return out;
}

/** Whether daemon.json lists the plugin as an authorization plugin. */
export function listsAuthorizationPlugin(config: JsonObject, alias: string): boolean {
    const list = config["authorization-plugins"];
    return Array.isArray(list) && list.includes(alias);
}

/** Docker's plugin name grammar (an alias may carry a tag); anything else is refused before it reaches a shell. */
export const PLUGIN_ALIAS = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[\w][\w.-]{0,127})?$/;

/** Refuses an alias Docker would not accept (and that could not be put in a script safely). */
export function checkAlias(host: string, alias: string): void {
    if (!PLUGIN_ALIAS.test(alias)) {
        throw new HostInputError(host, "plugin.alias", `"${alias}" is not a plugin name Docker accepts`, "use lower-case letters, digits and . _ - (e.g. hdh-authz)");
    }
}

/**
 * Shell functions that close the Docker socket to everyone but root and open it again. The socket's owner and
 * mode are recorded once, before the first close, so a pause that was interrupted can never make 0600 the
 * "original" mode; whatever step enables authorization again reopens it from the record.
 */
export const socketFunctions = `
HDH_SOCK=/var/run/docker.sock
hdh_close_socket() {
  [ -f "$HDH_REC/socket-mode" ] || stat -c '%a %G' "$HDH_SOCK" > "$HDH_REC/socket-mode"
  chmod 0600 "$HDH_SOCK"
}
hdh_reopen_socket() {
  if [ -f "$HDH_REC/socket-mode" ]; then
    read -r mode group < "$HDH_REC/socket-mode"
    chgrp "$group" "$HDH_SOCK" 2>/dev/null || true
    chmod "$mode" "$HDH_SOCK" && rm -f "$HDH_REC/socket-mode"
  fi
}
`;

/**
 * Wraps plugin maintenance so that it never weakens the policy: while the plugin is out of the request path the
 * Docker socket is closed to everyone but root, so no untrusted user can open a connection; afterwards the plugin
 * is listed again and the socket reopened, even when the maintenance fails — but only if the plugin is enabled:
 * listing a disabled or missing plugin makes dockerd refuse to reload, so then authorization stays off, the socket
 * stays closed to non-root users, and the step fails saying so. (The policy refuses plugin changes through the
 * API, so they can only happen with the plugin out of the request path. Connections opened before the pause stay
 * open through it: a known limit, see the README.)
 * Without `resume` (the plugin is being removed while still listed), the socket stays closed until the
 * Authorization step enables a plugin again.
 */
export function withAuthorizationPaused(current: JsonObject, alias: string, body: string, resume = true): string {
    if (!listsAuthorizationPlugin(current, alias)) return body;
    const paused = b64(canonicalJson(withAuthorizationPlugin(current, alias, false)));
    const resumed = b64(canonicalJson(current));
    const a = shq(alias);
    return `${socketFunctions}
hdh_resume() {
  trap - EXIT HUP INT TERM PIPE
  if [ "$(docker plugin inspect -f '{{.Enabled}}' ${a} 2>/dev/null)" != true ]; then
    echo "plugin ${alias} is not enabled: authorization stays off and the docker socket closed to non-root users" >&2
    return 1
  fi
  hdh_install_daemon_json ${resumed} || return 1
  hdh_reload || true
  if ! hdh_wait_healthy; then echo "Docker did not answer after authorization was restored" >&2; return 1; fi
  hdh_reopen_socket
}
trap 'hdh_resume; exit 1' EXIT HUP INT TERM PIPE
hdh_close_socket
hdh_install_daemon_json ${paused}
hdh_reload
${body}
${resume ? "hdh_resume" : "trap - EXIT HUP INT TERM PIPE"}
`;
}

/**
 * The canary: a compliant container must run, and a privileged one must be refused by our plugin (not merely
 * fail: this kernel's runc cannot start privileged containers at all, so only the plugin's words count).
 */
export function canaryScript(image: string, alias: string): string {
    const img = shq(image);
    const denied = shq(`authorization denied by plugin ${alias}`);
    return `
hdh_canary() {
  docker pull -q ${img} >/dev/null 2>&1 || docker image inspect ${img} >/dev/null 2>&1 || { echo "canary: cannot pull "${img} >&2; return 1; }
  out=$(docker run --rm --user 65534:65534 --network none ${img} true 2>&1) || { echo "canary: a compliant container was refused: $out" >&2; return 1; }
  if out=$(docker create --privileged ${img} true 2>&1); then docker rm -f "$out" >/dev/null 2>&1; echo "canary: a privileged container was NOT refused" >&2; return 1; fi
  case "$out" in *${denied}*) return 0 ;; esac
  echo "canary: the privileged container failed, but not by the plugin: $out" >&2; return 1
}
`;
}
