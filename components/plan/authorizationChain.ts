/**
 * daemon.json `authorization-plugins`: the chain of plugins every Docker API request goes through, in order, on
 * every listener (unix sockets and TCP/TLS alike). A request is refused as soon as one plugin refuses it, so
 * adding a plugin never weakens the chain; dockerd swaps the whole chain at once when it reloads (SIGHUP).
 */
import { JsonObject } from "./json";

/** How Docker names a plugin: `x` and `x:latest` are the same plugin. */
export function pluginKey(name: string): string {
    return name.includes(":") ? name : `${name}:latest`;
}

/** Whether two plugin names mean the same plugin for Docker. */
export function samePlugin(a: string, b: string): boolean {
    return pluginKey(a) === pluginKey(b);
}

/** The chain in daemon.json (empty when the key is missing or not a list of names). */
export function authorizationChain(config: JsonObject): string[] {
    const list = config["authorization-plugins"];
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === "string") : [];
}

/** daemon.json with this chain (an empty chain removes the key, as an operator's file would not have it). */
export function withAuthorizationChain(config: JsonObject, chain: string[]): JsonObject {
    const out: JsonObject = { ...config };
    if (chain.length > 0) out["authorization-plugins"] = [...chain];
    else delete out["authorization-plugins"];
    return out;
}

/** Whether the chain lists the plugin. */
export function chainLists(chain: string[], alias: string): boolean {
    return chain.some((p) => samePlugin(p, alias));
}

/** The chain without the plugin. */
export function chainWithout(chain: string[], alias: string): string[] {
    return chain.filter((p) => !samePlugin(p, alias));
}

/**
 * The chain with the plugin first. First, so that the canary's privileged container is refused by this plugin
 * and not by one listed before it (another plugin of ours being replaced, or an operator's).
 */
export function chainWithFirst(chain: string[], alias: string): string[] {
    return [alias, ...chainWithout(chain, alias)];
}

/** The chain with `from` replaced by `to` at the same place (`to` first when `from` is not listed). */
export function chainSwap(chain: string[], from: string, to: string): string[] {
    if (!chainLists(chain, from)) return chainWithFirst(chain, to);
    const out: string[] = [];
    for (const p of chain) {
        if (samePlugin(p, from)) out.push(to);
        else if (!samePlugin(p, to)) out.push(p);
    }
    return out;
}
