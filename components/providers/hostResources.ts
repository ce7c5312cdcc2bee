import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "../ssh/target";
import { DynamicStep, stepProvider } from "./dynamicStep";
import type { AuthorizationState } from "./authorizationProvider";
import type { DaemonConfigState } from "./daemonConfigProvider";
import type { DockerPluginState } from "./pluginProvider";
import type { SubordinateIdsState } from "./subordinateIdsProvider";

/** Every field of a state as a Pulumi input, the connection as connection args. */
type InputsOf<S> = {
    [K in keyof S]: K extends "connection" ? pulumi.Input<ConnectionArgs> : pulumi.Input<S[K]>;
} & OnUnreachable;

/** What a step does when its host cannot be reached (see lazyProvider.ts). Default: fail. */
interface OnUnreachable {
    onUnreachable?: pulumi.Input<"fail" | "skip">;
}

/** A state's outputs. */
type OutputsOf<S> = { readonly [K in keyof S]: pulumi.Output<S[K]> };

/**
 * The provider of a host-side step, and the resource inputs for it: what the program sets, plus the computed
 * fields (unknown until the provider sets them, and read back by `pulumi refresh`). Computed fields the step's
 * check fills in are inputs too, so a refresh keeps them (a no-op run then finds every input unchanged).
 */
function step(implFile: string, computed: string[], setByCheck: string[] = []) {
    const provider = stepProvider(
        implFile,
        computed.filter((k) => !setByCheck.includes(k)),
    );
    const inputs = (args: object) => ({ ...Object.fromEntries(computed.map((k) => [k, undefined])), ...args });
    return { provider, inputs };
}

/** Every step keeps its connection secret in the state. */
const stepOptions = (opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions => ({
    ...opts,
    additionalSecretOutputs: ["connection"],
});

const subordinateIds = step("subordinateIdsProvider", [
    "start",
    "gidStart",
    "addedByUs",
    "lines",
    "userCreatedByUs",
    "machine",
]);
const daemonConfig = step("daemonConfigProvider", [
    "dockerAction",
    "previous",
    "sha256",
    "dockerVersion",
    "dataRoot",
    "initSystem",
    "restarts",
    "original",
    "cis",
]);
const dockerPlugin = step(
    "pluginProvider",
    ["changeProcedure", "enabled", "installedReference", "machine"],
    ["changeProcedure"],
);
const authorization = step("authorizationProvider", ["active", "liveSha256", "livePolicy", "machine"]);

/** Inputs of {@link SubordinateIds} (see SubordinateIdsState). */
export type SubordinateIdsArgs = InputsOf<
    Pick<
        SubordinateIdsState,
        "connection" | "owner" | "count" | "requestedStart" | "preferredStart" | "allowDataRootMove"
    >
>;

/** The remap user's subordinate ID range in /etc/subuid and /etc/subgid. */
export class SubordinateIds extends DynamicStep {
    constructor(name: string, args: SubordinateIdsArgs, opts?: pulumi.CustomResourceOptions) {
        super(subordinateIds.provider, "SubordinateIds", name, subordinateIds.inputs(args), stepOptions(opts));
    }
}
/** Its state as outputs. */
export interface SubordinateIds extends OutputsOf<SubordinateIdsState> {}

/** Inputs of {@link DaemonConfig} (see DaemonConfigState). */
export type DaemonConfigArgs = InputsOf<
    Pick<DaemonConfigState, "connection" | "settings" | "restartCommand" | "allowDataRootMove">
>;

/** The daemon.json keys we own (all but `authorization-plugins`), applied with a restart or reload. */
export class DaemonConfig extends DynamicStep {
    constructor(name: string, args: DaemonConfigArgs, opts?: pulumi.CustomResourceOptions) {
        super(daemonConfig.provider, "DaemonConfig", name, daemonConfig.inputs(args), stepOptions(opts));
    }
}
/** Its state as outputs. */
export interface DaemonConfig extends OutputsOf<DaemonConfigState> {}

/** Inputs of {@link DockerPlugin} (see DockerPluginState). */
export type DockerPluginArgs = InputsOf<
    Pick<
        DockerPluginState,
        "connection" | "reference" | "alias" | "settings" | "dataRootKey" | "restartCommand" | "allowDataRootMove"
    >
>;

/** The authorization plugin, installed (after remapping) at a pinned reference and enabled. */
export class DockerPlugin extends DynamicStep {
    constructor(name: string, args: DockerPluginArgs, opts?: pulumi.CustomResourceOptions) {
        super(dockerPlugin.provider, "DockerPlugin", name, dockerPlugin.inputs(args), stepOptions(opts));
    }
}
/** Its state as outputs. */
export interface DockerPlugin extends OutputsOf<DockerPluginState> {}

/** Inputs of {@link Authorization} (see AuthorizationState). */
export type AuthorizationArgs = InputsOf<
    Pick<
        AuthorizationState,
        | "connection"
        | "alias"
        | "pluginReference"
        | "policySha256"
        | "canaryImage"
        | "restartCommand"
        | "policyDirectory"
        | "stagedDirectory"
        | "allowDataRootMove"
    >
>;

/** The plugin in daemon.json `authorization-plugins`, with the live policy, proven by the canary. */
export class Authorization extends DynamicStep {
    constructor(name: string, args: AuthorizationArgs, opts?: pulumi.CustomResourceOptions) {
        super(authorization.provider, "Authorization", name, authorization.inputs(args), stepOptions(opts));
    }
}
/** Its state as outputs. */
export interface Authorization extends OutputsOf<AuthorizationState> {}
