import { JsonObject, canonicalJson } from "../plan/daemonConfig";
import { b64 } from "../host/dockerd";
import { shq } from "../host/shell";

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

/**
 * Wraps plugin maintenance so that it never weakens the policy: while the plugin is out of the request path,
 * the Docker socket is closed to everyone but root (mode 0600), so no untrusted user can slip a request
 * through; afterwards the authorization is restored and the socket reopened, even when the maintenance fails.
 * (The policy refuses plugin changes through the API, and a disabled authz plugin refuses everything.)
 */
export function withAuthorizationPaused(current: JsonObject, alias: string, body: string, resume = true): string {
    if (!listsAuthorizationPlugin(current, alias)) return body;
    // Without resuming (the plugin is being removed while still listed: listing a missing plugin makes dockerd
    // exit on the next reload), the socket stays closed to non-root users until authorization is enabled again.
    const finish = resume ? "hdh_resume" : `echo "$HDH_SOCK_MODE" > "$HDH_REC/socket-mode"`;
    const paused = b64(canonicalJson(withAuthorizationPlugin(current, alias, false)));
    const resumed = b64(canonicalJson(current));
    return `
HDH_SOCK=/var/run/docker.sock
HDH_SOCK_MODE=$(stat -c %a "$HDH_SOCK")
hdh_resume() {
  hdh_install_daemon_json ${resumed} && hdh_reload
  chmod "$HDH_SOCK_MODE" "$HDH_SOCK"
}
trap hdh_resume EXIT
chmod 0600 "$HDH_SOCK"
hdh_install_daemon_json ${paused}
hdh_reload
${body}
trap - EXIT
${finish}
`;
}

/**
 * The canary: a compliant container must run, and a privileged one must be refused by our plugin (not merely
 * fail: this kernel's runc cannot start privileged containers at all, so only the plugin's words count).
 */
export function canaryScript(image: string, alias: string): string {
    const img = shq(image);
    return `
hdh_canary() {
  docker pull -q ${img} >/dev/null 2>&1 || docker image inspect ${img} >/dev/null 2>&1 || { echo "canary: cannot pull ${image}" >&2; return 1; }
  out=$(docker run --rm --user 65534:65534 --network none ${img} true 2>&1) || { echo "canary: a compliant container was refused: $out" >&2; return 1; }
  if out=$(docker create --privileged ${img} true 2>&1); then docker rm -f "$out" >/dev/null 2>&1; echo "canary: a privileged container was NOT refused" >&2; return 1; fi
  case "$out" in *"authorization denied by plugin ${alias}"*) return 0 ;; esac
  echo "canary: the privileged container failed, but not by plugin ${alias}: $out" >&2; return 1
}
`;
}
