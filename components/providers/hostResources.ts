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
 * The provider of a host-side step, and the resource inputs for it: what the program sets, plus the computed
 * fields (unknown until the provider sets them, and read back by `pulumi refresh`).
 */
function stepProvider(implFile: string, computed: string[]) {
    const provider = lazyProvider(path.join(__dirname, implFile), computed);
    const inputs = (args: object) => ({ ...Object.fromEntries(computed.map((k) => [k, undefined])), ...args });
    return { provider, inputs };
}

/** Every step keeps its connection secret in the state. */
const stepOptions = (opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions => ({ ...opts, additionalSecretOutputs: ["connection"] });

const subordinateIds = stepProvider("subordinateIdsProvider", ["start", "gidStart", "addedByUs", "lines", "userCreatedByUs", "machine"]);
const daemonConfig = stepProvider("daemonConfigProvider",
    ["dockerAction", "previous", "sha256", "dockerVersion", "dataRoot", "initSystem", "restarts", "original", "cis"]);
const dockerPlugin = stepProvider("pluginProvider", ["changeProcedure", "enabled", "installedReference", "machine"]);
const authorization = stepProvider("authorizationProvider", ["active", "liveSha256", "livePolicy", "machine"]);

/** Inputs of {@link SubordinateIds} (see SubordinateIdsState). */
export type SubordinateIdsArgs = InputsOf<Pick<SubordinateIdsState,
    "connection" | "owner" | "count" | "requestedStart" | "preferredStart" | "allowDataRootMove">>;

/** The remap user's subordinate ID range in /etc/subuid and /etc/subgid. */
export class SubordinateIds extends pulumi.dynamic.Resource {
    constructor(name: string, args: SubordinateIdsArgs, opts?: pulumi.CustomResourceOptions) {
        super(subordinateIds.provider, name, subordinateIds.inputs(args), stepOptions(opts), "hardened-docker-host", "SubordinateIds");
    }
}
/** Its state as outputs. */
export interface SubordinateIds extends OutputsOf<SubordinateIdsState> {}

/** Inputs of {@link DaemonConfig} (see DaemonConfigState). */
export type DaemonConfigArgs = InputsOf<Pick<DaemonConfigState, "connection" | "settings" | "restartCommand" | "allowDataRootMove">>;

/** The daemon.json keys we own (all but `authorization-plugins`), applied with a restart or reload. */
export class DaemonConfig extends pulumi.dynamic.Resource {
    constructor(name: string, args: DaemonConfigArgs, opts?: pulumi.CustomResourceOptions) {
        super(daemonConfig.provider, name, daemonConfig.inputs(args), stepOptions(opts), "hardened-docker-host", "DaemonConfig");
    }
}
/** Its state as outputs. */
export interface DaemonConfig extends OutputsOf<DaemonConfigState> {}

/** Inputs of {@link DockerPlugin} (see DockerPluginState). */
export type DockerPluginArgs = InputsOf<Pick<DockerPluginState,
    "connection" | "reference" | "alias" | "settings" | "dataRootKey" | "restartCommand" | "allowDataRootMove">>;

/** The authorization plugin, installed (after remapping) at a pinned reference and enabled. */
export class DockerPlugin extends pulumi.dynamic.Resource {
    constructor(name: string, args: DockerPluginArgs, opts?: pulumi.CustomResourceOptions) {
        super(dockerPlugin.provider, name, dockerPlugin.inputs(args), stepOptions(opts), "hardened-docker-host", "DockerPlugin");
    }
}
/** Its state as outputs. */
export interface DockerPlugin extends OutputsOf<DockerPluginState> {}

/** Inputs of {@link Authorization} (see AuthorizationState). */
export type AuthorizationArgs = InputsOf<Pick<AuthorizationState,
    "connection" | "alias" | "pluginReference" | "policySha256" | "canaryImage" | "restartCommand" | "policyDirectory"
    | "stagedDirectory" | "allowDataRootMove">>;

/** The plugin in daemon.json `authorization-plugins`, with the live policy, proven by the canary. */
export class Authorization extends pulumi.dynamic.Resource {
    constructor(name: string, args: AuthorizationArgs, opts?: pulumi.CustomResourceOptions) {
        super(authorization.provider, name, authorization.inputs(args), stepOptions(opts), "hardened-docker-host", "Authorization");
    }
}
/** Its state as outputs. */
export interface Authorization extends OutputsOf<AuthorizationState> {}
