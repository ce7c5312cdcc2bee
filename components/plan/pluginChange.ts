/**
 * How the authorization plugin is installed, upgraded, repaired or removed without ever leaving a Docker API
 * listener unchecked.
 *
 * Changing a plugin (upgrade, settings) needs it disabled, and Docker takes a disabled authorization plugin out
 * of the request path at once. So a plugin that enforces is never changed in place: its new version is enabled
 * beside it under a second name (the swap alias), `authorization-plugins` is switched to that one in a single
 * reload (dockerd swaps the whole chain atomically), the plugin is changed while out of the path, and switched
 * back the same way. Every request on every listener is decided by an enforcing plugin throughout.
 *
 * The policy refuses plugin changes through the API (anyone could disable the plugin otherwise), so the changes
 * are authenticated: see {@link maintenanceModule}.
 */
import { chainLists, chainSwap, chainWithout } from "./authorizationChain";
import { HostInputError } from "./errors";

/** A plugin as the host has it. */
export interface InstalledPluginFacts {
    /** The reference Docker reports (`docker plugin ls`). */
    reference: string;
    enabled: boolean;
}

/** What {@link planPluginChange} decides from. */
export interface PluginChangeRequest {
    /** The name Docker knows the plugin by. */
    alias: string;
    /** The wanted reference. */
    reference: string;
    /** The wanted settings, as recorded on the host after they were applied. */
    settingsKey: string;
    /** The plugin under `alias`, if installed. */
    installed?: InstalledPluginFacts;
    /** The settings recorded on the host for `alias` (undefined: none recorded). */
    recordedSettings?: string;
    /** The plugin under the swap alias, if installed (a swap that was interrupted). */
    swap?: InstalledPluginFacts;
    /** daemon.json `authorization-plugins` now. */
    chain: string[];
}

/** One step of a plugin change, carried out by the host script in order. */
export type PluginStep =
    /** Install or upgrade, apply the settings, enable: only ever on a plugin that does not enforce. */
    | { kind: "ensure"; alias: string }
    /**
     * Write `chain` (with `to` in place of `from`; `to` empty: `from` dropped), reload once, and wait until Docker's
     * answer to a request every policy refuses names `expect` (the chain's first plugin; empty: until `from` no
     * longer answers). If that does not happen, `back` is written again and the step fails.
     */
    | { kind: "switch"; from: string; to: string; chain: string[]; back: string[]; expect: string }
    /** A listed plugin that was disabled left the request path: reload so that it is in it again. */
    | { kind: "reload"; alias: string; expect: string }
    /** Disable and remove: only ever on a plugin that is not listed. */
    | { kind: "remove"; alias: string };

/** The plan: its steps, and whether plugin requests must be authenticated (a plugin of ours enforces). */
export interface PluginChangePlan {
    steps: PluginStep[];
    maintenance: boolean;
}

/** How a change is carried out while the plugin guards the host (shown by `pulumi preview --diff`). */
export const CHANGE_PROCEDURE =
    "new version enabled beside the enforcing one (swap alias); authorization-plugins " +
    "switched to it in one reload; plugin changed while out of the request path; switched back in one reload; swap " +
    "plugin removed; every listener enforces a policy throughout";

/** A reference as Docker stores it (`busybox:1` is `docker.io/library/busybox:1`), so upstream images compare equal. */
export function normalizeReference(ref: string): string {
    const parts = ref.split("/");
    const hasRegistry = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
    if (hasRegistry) return ref;
    return `docker.io/${parts.length === 1 ? "library/" : ""}${ref}`;
}

/** The aliases our plugin step manages on a host: those with a settings record (`plugin-settings.<alias>`). */
export function managedAliases(recordNames: string[]): string[] {
    return recordNames.filter((n) => n.startsWith("plugin-settings.")).map((n) => n.slice("plugin-settings.".length));
}

/**
 * The second name a plugin is enabled under while it is changed (`hdh-authz` → `hdh-authz-swap`; a tag is
 * dropped).
 */
export function swapAlias(alias: string): string {
    return `${alias.split(":")[0]}-swap`;
}

/**
 * The steps that bring `alias` to the wanted reference and settings, enabled, without a moment where a listener
 * is unchecked:
 * - up to date: nothing (a leftover swap plugin is removed, an interrupted swap is finished);
 * - listed and enabled (it enforces): the swap — ensure the swap alias, switch to it, ensure `alias`, switch back,
 *   remove the swap alias;
 * - listed but disabled or missing (Docker already dropped it from the request path): ensure, then reload;
 * - not listed: ensure (the Authorization step lists it after its canary).
 */
export function planPluginChange(r: PluginChangeRequest): PluginChangePlan {
    const alias = r.alias;
    const other = swapAlias(alias);
    const listed = chainLists(r.chain, alias);
    const current =
        r.installed !== undefined &&
        r.installed.enabled &&
        r.recordedSettings === r.settingsKey &&
        normalizeReference(r.installed.reference) === normalizeReference(r.reference);
    const steps: PluginStep[] = [];

    if (chainLists(r.chain, other)) {
        // A swap was interrupted while the swap plugin enforced: finish it (the swap plugin enforces until then).
        let chain = r.chain;
        if (listed) {
            steps.push(switchStep(alias, "", chainWithout(chain, alias), chain));
            chain = chainWithout(chain, alias);
        }
        steps.push({ kind: "ensure", alias }, switchStep(other, alias, chainSwap(chain, other, alias), chain), {
            kind: "remove",
            alias: other,
        });
    } else if (current) {
        if (r.swap) steps.push({ kind: "remove", alias: other });
    } else if (listed && r.installed?.enabled) {
        const viaSwap = chainSwap(r.chain, alias, other);
        steps.push(
            { kind: "ensure", alias: other },
            switchStep(alias, other, viaSwap, r.chain),
            { kind: "ensure", alias },
            switchStep(other, alias, r.chain, viaSwap),
            { kind: "remove", alias: other },
        );
    } else {
        steps.push({ kind: "ensure", alias });
        if (listed) steps.push({ kind: "reload", alias, expect: r.chain[0] });
        if (r.swap) steps.push({ kind: "remove", alias: other });
    }
    // Plugin requests need the maintenance token whenever some plugin is in the request path.
    return { steps, maintenance: steps.length > 0 && r.chain.length > 0 };
}

function switchStep(from: string, to: string, chain: string[], back: string[]): PluginStep {
    return { kind: "switch", from, to, chain, back, expect: chain[0] ?? "" };
}

/**
 * Removing a plugin: never while it is listed (disabling it would open the request path). When it is listed, it
 * is first taken out of the chain in one reload; that is the end of authorization only if nothing else enforces.
 */
export function planPluginRemoval(alias: string, chain: string[], swapInstalled: boolean): PluginChangePlan {
    const steps: PluginStep[] = [];
    if (chainLists(chain, alias)) steps.push(switchStep(alias, "", chainWithout(chain, alias), chain));
    steps.push({ kind: "remove", alias });
    if (swapInstalled && !chainLists(chain, swapAlias(alias))) steps.push({ kind: "remove", alias: swapAlias(alias) });
    return { steps, maintenance: chain.length > 0 };
}

/**
 * The Rego module that authenticates our plugin requests while a plugin of ours enforces: it is written into the
 * enforcing plugins' policy folder for one change and removed right after. It allows only `/plugins` requests
 * that carry a one-time token in the `X-Hdh-Maintenance` header (Docker forwards request headers to authorization
 * plugins), until a deadline taken from the host's clock. The token is random for each change, reaches the host
 * inside the step's script and stays there only in a root-only folder (the docker client's config); the module
 * holds only its SHA-256, so the file may be read by anyone. Everything else is decided by the policy.
 * It adds to `data.docker.authz.allow` (the plugin's decision), so it works with our policy and any policy whose
 * `allow` is a default-false boolean rule.
 */
export function maintenanceModule(tokenSha256: string, deadlineNs: string): string {
    const [head, tail] = maintenanceModuleParts(tokenSha256);
    if (!/^[0-9]{1,20}$/.test(deadlineNs)) throw new Error("maintenance module: the deadline is not a number");
    return `${head}${deadlineNs}${tail}`;
}

/** {@link maintenanceModule} around its deadline, which the host fills in from its own clock. */
export function maintenanceModuleParts(tokenSha256: string): [string, string] {
    if (!/^[0-9a-f]{64}$/.test(tokenSha256)) throw new Error("maintenance module: the token hash is not a SHA-256");
    const head = `package docker.authz

import rego.v1

# Written by hardened-docker-host for one plugin change, and removed right after it: plugin requests that carry
# the change's one-time token (only its SHA-256 is here) are allowed until the deadline.
allow if hdh_maintenance_request

hdh_maintenance_request if {
	time.now_ns() < `;
    const tail = `
	regex.match(\`^(/v[0-9.]+)?/plugins(/|$)\`, input.PathPlain)
	some name, value in input.Headers
	lower(name) == "x-hdh-maintenance"
	crypto.sha256(value) == "${tokenSha256}"
}
`;
    return [head, tail];
}

/**
 * Refuses a plugin reference that is not pinned: a digest (`@sha256:` and 64 hex digits), or a tag other than
 * `latest` (no tag means `latest`), so every host of a fleet runs the same plugin build.
 */
export function checkPinnedReference(host: string, reference: string): void {
    const refuse = (problem: string) =>
        new HostInputError(host, "plugin.image", `"${reference}" ${problem}`, "use a versioned tag or a digest");
    const at = reference.indexOf("@");
    if (at >= 0) {
        if (!/^sha256:[0-9a-f]{64}$/.test(reference.slice(at + 1))) throw refuse("has a malformed digest");
        return;
    }
    const last = reference.slice(reference.lastIndexOf("/") + 1);
    const colon = last.lastIndexOf(":");
    if (colon < 0 || colon === last.length - 1) throw refuse("has no tag, so Docker takes :latest: it is not pinned");
    if (last.slice(colon + 1) === "latest") throw refuse("is :latest: it is not pinned");
}

/** Docker's plugin name grammar (an alias may carry a tag); anything else is refused before it reaches a shell. */
export const PLUGIN_ALIAS = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[\w][\w.-]{0,127})?$/;

/** Refuses an alias Docker would not accept (and that could not be put in a script safely). */
export function checkAlias(host: string, alias: string): void {
    if (!PLUGIN_ALIAS.test(alias)) {
        throw new HostInputError(
            host,
            "plugin.alias",
            `"${alias}" is not a plugin name Docker accepts`,
            "use lower-case letters, digits and . _ - (e.g. hdh-authz)",
        );
    }
}

/** Characters of an image reference (`registry:port/name:tag@sha256:...`): it also goes into JSON bodies, unescaped. */
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;

/** Refuses an image reference that is not one (and could not be put in a script or a request body safely). */
export function checkImage(host: string, field: string, image: string): void {
    if (image !== "" && !IMAGE_REFERENCE.test(image)) {
        throw new HostInputError(
            host,
            field,
            `"${image}" is not an image reference`,
            "use a reference like registry.example:5000/team/busybox:1",
        );
    }
}
