import * as pulumi from "@pulumi/pulumi";
import { JsonValue } from "../plan/json";
import { ConnectionArgs } from "../ssh/target";
import { DynamicStep, stepProvider } from "./dynamicStep";

/** What a step does when its host cannot be reached (see lazyProvider.ts). Default: fail. */
interface OnUnreachable {
    onUnreachable?: pulumi.Input<"fail" | "skip">;
}

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

/** What every host step is given: how to reach its host, and what to do when it cannot. */
interface HostStepArgs extends OnUnreachable {
    /** How to reach the host (`@pulumi/command`'s `remote.ConnectionArgs` shape). Kept secret in the state. */
    connection: pulumi.Input<ConnectionArgs>;
}

/** Inputs of {@link SubordinateIds}. */
export interface SubordinateIdsArgs extends HostStepArgs {
    /** The remap user: the owner of the range (created as a system user when missing). */
    owner: pulumi.Input<string>;
    /** Size of the range. */
    count: pulumi.Input<number>;
    /** A fixed first ID; an overlap with another owner's range is an error. Default: first free range. */
    requestedStart?: pulumi.Input<number | undefined>;
    /** The fleet-wide first ID, used when the owner has no valid range on this host yet. Default: first fit. */
    preferredStart?: pulumi.Input<number | undefined>;
    /** Allow giving the range back while containers run under the remap (see checkRemapRemoval). Default: false. */
    allowDataRootMove?: pulumi.Input<boolean>;
}

/** The remap user's subordinate ID range in /etc/subuid and /etc/subgid. */
export class SubordinateIds extends DynamicStep {
    /** The range's first ID (subuid; `gidStart` for subgid) and its size. */
    declare readonly start: pulumi.Output<number>;
    declare readonly gidStart: pulumi.Output<number>;
    declare readonly count: pulumi.Output<number>;

    constructor(name: string, args: SubordinateIdsArgs, opts?: pulumi.CustomResourceOptions) {
        super(subordinateIds.provider, "SubordinateIds", name, subordinateIds.inputs(args), stepOptions(opts));
    }
}

/** Inputs of {@link DaemonConfig}. */
export interface DaemonConfigArgs extends HostStepArgs {
    /** The daemon.json keys this step owns, with their values (never `authorization-plugins`). */
    settings: pulumi.Input<Record<string, pulumi.Input<JsonValue>>>;
    /** Command that restarts Docker. Default: the host's init system. */
    restartCommand?: pulumi.Input<string | undefined>;
    /** Allow enabling or changing userns-remap on a host with containers or images (they are hidden by it). */
    allowDataRootMove: pulumi.Input<boolean>;
}

/** The daemon.json keys we own (all but `authorization-plugins`), applied with a restart or reload. */
export class DaemonConfig extends DynamicStep {
    /** Docker's server version. */
    declare readonly dockerVersion: pulumi.Output<string>;
    /** Docker's data root (under userns-remap: `<root>/<uid>.<gid>`). */
    declare readonly dataRoot: pulumi.Output<string>;
    /** SHA-256 of the host's daemon.json in canonical form, without `authorization-plugins`. */
    declare readonly sha256: pulumi.Output<string>;
    /** Docker restarts done by the last change. */
    declare readonly restarts: pulumi.Output<number>;

    constructor(name: string, args: DaemonConfigArgs, opts?: pulumi.CustomResourceOptions) {
        super(daemonConfig.provider, "DaemonConfig", name, daemonConfig.inputs(args), stepOptions(opts));
    }
}

/** Inputs of {@link DockerPlugin}. */
export interface DockerPluginArgs extends HostStepArgs {
    /** Image reference with a pinned tag or digest. */
    reference: pulumi.Input<string>;
    /** The name Docker knows the plugin by (listed in `authorization-plugins`). */
    alias: pulumi.Input<string>;
    /** Plugin settings (`docker plugin set` KEY=VALUE), e.g. the policy mount's source. */
    settings: pulumi.Input<Record<string, string>>;
    /** The daemon's `userns-remap` and `data-root`: a change moves the plugin folder, so it reinstalls. */
    dataRootKey: pulumi.Input<string>;
    /** Command that restarts Docker (for rollbacks). Default: the host's init system. */
    restartCommand?: pulumi.Input<string | undefined>;
    /** Allow removing the last enforcing plugin while containers run under the remap. Default: false. */
    allowDataRootMove?: pulumi.Input<boolean>;
}

/** The authorization plugin, installed (after remapping) at a pinned reference and enabled. */
export class DockerPlugin extends DynamicStep {
    /** The reference Docker reports for the installed plugin (empty when missing). */
    declare readonly installedReference: pulumi.Output<string>;
    /** Whether the plugin is enabled. */
    declare readonly enabled: pulumi.Output<boolean>;

    constructor(name: string, args: DockerPluginArgs, opts?: pulumi.CustomResourceOptions) {
        super(dockerPlugin.provider, "DockerPlugin", name, dockerPlugin.inputs(args), stepOptions(opts));
    }
}

/** Inputs of {@link Authorization}. */
export interface AuthorizationArgs extends HostStepArgs {
    /** The plugin's alias, added to daemon.json `authorization-plugins`. */
    alias: pulumi.Input<string>;
    /** The plugin reference and the staged policy's hash this enablement is checked with (a change re-runs it). */
    pluginReference: pulumi.Input<string>;
    policySha256: pulumi.Input<string>;
    /** Image of the canary containers; `""` skips the canary. */
    canaryImage: pulumi.Input<string>;
    /** Command that restarts Docker (for rollbacks). Default: the host's init system. */
    restartCommand?: pulumi.Input<string | undefined>;
    /** The folder the plugin reads: the checked policy is copied into it. */
    policyDirectory?: pulumi.Input<string>;
    /** The folder the policy step writes a new policy into, checked there before it goes live. */
    stagedDirectory?: pulumi.Input<string>;
    /** Allow giving the host back while containers run under the remap. Default: false. */
    allowDataRootMove?: pulumi.Input<boolean>;
}

/** The plugin in daemon.json `authorization-plugins`, with the live policy, proven by the canary. */
export class Authorization extends DynamicStep {
    /** Whether Docker enforces the plugin. */
    declare readonly active: pulumi.Output<boolean>;

    constructor(name: string, args: AuthorizationArgs, opts?: pulumi.CustomResourceOptions) {
        super(authorization.provider, "Authorization", name, authorization.inputs(args), stepOptions(opts));
    }
}
