import { JsonObject, canonicalJson } from "../plan/daemonConfig";
import { authorizationChain, withAuthorizationChain } from "../plan/authorizationChain";
import { PluginStep, maintenanceModuleParts } from "../plan/pluginChange";
import { b64 } from "../host/dockerd";
import { hostScript } from "../host/scripts";
import { shq } from "../host/shell";

/** Shell functions that close the Docker socket to everyone but root and open it again (`sh/socket.sh`). */
export const socketFunctions = hostScript("socket.sh");

/**
 * Shell functions for changing authorization without a moment where a Docker API listener is unchecked
 * (`sh/authz.sh`, which lists them; they need {@link dockerFunctions} first, and {@link authzVariables}). Every
 * value comes in as an argument or a variable; nothing is spliced into the code.
 */
export const authzFunctions = hostScript("authz.sh");

/** The shell variables {@link authzFunctions} reads: the maintenance module around its deadline, the lock module. */
export function authzVariables(tokenSha256: string, lockModule: string): string {
    const [head, tail] = maintenanceModuleParts(tokenSha256);
    return `HDH_MAINT_HEAD=${shq(head)}\nHDH_MAINT_TAIL=${shq(tail)}\nHDH_LOCK_MODULE=${shq(lockModule)}`;
}

/**
 * The script lines that set up the maintenance token: its docker client config, the module in our policy folder
 * and in the folder of every plugin of the chain, and a wait until the enforcing policy accepts it.
 */
export function maintenanceLines(token: string, folders: string[], chain: string[]): string[] {
    return [
        // The token reaches the host only inside this script, and lives there in a root-only folder until the end.
        "trap 'hdh_maint_end' EXIT",
        "trap 'hdh_maint_end; exit 1' HUP INT TERM",
        `hdh_maint_begin ${shq(token)}`,
        ...folders.map((d) => `hdh_maint_place ${shq(d)}`),
        ...chain.map((p) => `hdh_maint_place "$(hdh_plugin_policy_dir ${shq(p)})"`),
        "hdh_maint_wait || exit 4",
    ];
}

/** daemon.json as it is with another authorization chain, as a quoted base64 argument of a script. */
export function chainJsonArgument(current: JsonObject, chain: string[]): string {
    return shq(b64(canonicalJson(withAuthorizationChain(current, chain))));
}

/** What a plugin step's script needs besides its steps. */
export interface PluginStepContext {
    /** daemon.json now: the chains of switch steps are written into it. */
    current: JsonObject;
    /** Per alias: reference, normalized reference, settings key and `K=V` settings. */
    ensure: (alias: string) => { reference: string; normalized: string; settingsKey: string; settings: string[] };
}

/** The script lines that carry out plugin steps, in order; the first failure stops the script. */
export function pluginStepsScript(steps: PluginStep[], ctx: PluginStepContext): string {
    const json = (chain: string[]) => chainJsonArgument(ctx.current, chain);
    return steps
        .map((s) => {
            switch (s.kind) {
                case "ensure": {
                    const e = ctx.ensure(s.alias);
                    const words = [s.alias, e.reference, e.normalized, e.settingsKey, ...e.settings].map(shq);
                    return `hdh_plugin_ensure ${words.join(" ")} || exit 4`;
                }
                case "switch":
                    return (
                        `hdh_chain_switch ${json(s.chain)} ${shq(s.expect)} ${json(s.back)} ${shq(s.back[0] ?? "")} ` +
                        `${shq(s.from)} ${s.chain.map(shq).join(" ")} || exit 4`
                    );
                case "reload": {
                    const chain = authorizationChain(ctx.current);
                    return (
                        `hdh_chain_switch ${json(chain)} ${shq(s.expect)} ${json(chain)} ${shq(s.expect)} '' ` +
                        `${chain.map(shq).join(" ")} || exit 4`
                    );
                }
                case "remove":
                    return `hdh_plugin_remove ${shq(s.alias)} || exit 4`;
            }
        })
        .join("\n");
}

/**
 * The canary (`sh/canary.sh`): a compliant container must run, and a privileged one must be refused by our plugin
 * (not merely fail: this kernel's runc cannot start privileged containers at all, so only the plugin's words count).
 */
export function canaryScript(image: string, alias: string): string {
    return [`HDH_CANARY_IMAGE=${shq(image)}`, `HDH_CANARY_PLUGIN=${shq(alias)}`, hostScript("canary.sh")].join("\n");
}
