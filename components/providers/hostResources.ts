import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "../ssh/target";
import { lazyProvider } from "./lazyProvider";
import type { AuthorizationState } from "./authorizationProvider";
import type { DaemonConfigState } from "./daemonConfigProvider";
import type { DockerPluginState } from "./pluginProvider";
import type { SubordinateIdsState } from "./subordinateIdsProvider";

/** Every field of a state as a Pulumi input, the connection as connection args. */
type InputsOf<S> = { [K in keyof S]: K extends "connection" ? pulumi.Input<ConnectionArgs> : pulumi.Input<S[K]> } & OnUnreachable;

/** What a step does when its host cannot be reached (see lazyProvider). Default: fail. */
interface OnUnreachable {
    onUnreachable?: pulumi.Input<"fail" | "skip">;
}

/** A state's outputs. */
type OutputsOf<S> = { readonly [K in keyof S]: pulumi.Output<S[K]> };

/**
 * Declares a host-side step as a dynamic resource: `inputs` are what the program sets, the rest of the state
 * is computed by the provider (and read back by `pulumi refresh`). The connection is kept secret in the state.
 */
function hostResource<S, I extends keyof S>(type: string, implFile: string, computed: Exclude<keyof S, I>[]) {
    const provider = lazyProvider(path.join(__dirname, implFile), `components/providers/${implFile}`, computed as string[]);
    return class extends pulumi.dynamic.Resource {
        constructor(name: string, args: InputsOf<Pick<S, I>>, opts?: pulumi.CustomResourceOptions) {
            const blanks = Object.fromEntries(computed.map((k) => [k, undefined]));
            super(provider, name, { ...blanks, ...args }, { ...opts, additionalSecretOutputs: ["connection"] }, "hardened-docker-host", type);
        }
    } as unknown as new (name: string, args: InputsOf<Pick<S, I>>, opts?: pulumi.CustomResourceOptions) => pulumi.dynamic.Resource & OutputsOf<S>;
}

/** The remap user's subordinate ID range in /etc/subuid and /etc/subgid. */
export const SubordinateIds = hostResource<SubordinateIdsState,
    "connection" | "owner" | "count" | "requestedStart" | "preferredStart" | "allowDataRootMove">(
    "SubordinateIds", "subordinateIdsProvider",
    ["start", "gidStart", "addedByUs", "lines", "userCreatedByUs", "machine"]);

/** The daemon.json keys we own (all but `authorization-plugins`), applied with a restart or reload. */
export const DaemonConfig = hostResource<DaemonConfigState, "connection" | "settings" | "restartCommand" | "allowDataRootMove">(
    "DaemonConfig", "daemonConfigProvider", ["dockerAction", "previous", "sha256", "dockerVersion", "dataRoot", "initSystem", "restarts", "original", "cis"]);

/** The authorization plugin, installed (after remapping) at a pinned reference and enabled. */
export const DockerPlugin = hostResource<DockerPluginState,
    "connection" | "reference" | "alias" | "settings" | "dataRootKey" | "restartCommand" | "allowDataRootMove">(
    "DockerPlugin", "pluginProvider", ["changeProcedure", "enabled", "installedReference", "machine"]);

/** The plugin in daemon.json `authorization-plugins`, proven by the canary. */
export const Authorization = hostResource<AuthorizationState,
    "connection" | "alias" | "pluginReference" | "policySha256" | "canaryImage" | "restartCommand" | "policyDirectory"
    | "stagedDirectory" | "allowDataRootMove">(
    "Authorization", "authorizationProvider", ["active", "liveSha256", "livePolicy", "machine"]);
