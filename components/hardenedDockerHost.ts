import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { JsonObject, JsonValue, hardenedDefaults, managedDaemonSettings } from "./plan/daemonConfig";
import { checked } from "./errors";
import { HostInputError } from "./plan/errors";
import { unverifiedHops } from "./plan/connection";
import { dedicatedDirectory } from "./plan/policyFolder";
import { assertPolicyCompiles, DEFAULT_POLICY_DIR, loadPolicyFiles, mergePolicyData } from "./policy/localPolicy";
import { Authorization, DaemonConfig, DockerPlugin, SubordinateIds } from "./providers/hostResources";
import { packageFile } from "./packagePaths";
import { RemoteFiles } from "./providers/remoteFiles";
import { STAGED_POLICY_DIR } from "./host/dockerd";
import { ConnectionArgs } from "./ssh/target";

/** The remap user when none is given. */
export const DEFAULT_REMAP_USER = "dockremap";
/** The size of the subordinate ID range when none is given. */
export const DEFAULT_ID_COUNT = 65536;

/** The plugin version this library ships (plugin/VERSION). */
export const PLUGIN_VERSION = fs.readFileSync(packageFile("plugin", "VERSION"), "utf8").trim();

/** Arguments of {@link HardenedDockerHost}. */
export interface HardenedDockerHostArgs {
    /**
     * How to reach the host over SSH, in `@pulumi/command`'s `remote.ConnectionArgs` shape (the same object can
     * be given to a `remote.Command`): host, port (default 22), user (default root), privateKey (make it a
     * secret), password, privateKeyPassword, agentSocketPath, hostKey (required here unless
     * insecureSkipHostKeyCheck), proxy (a jump host), dialErrorLimit (default 3), perDialTimeout (default 15 s);
     * plus ours: sudo (default: when the user is not root), commandTimeoutMs, insecureSkipHostKeyCheck, label
     * (default: the resource name; names the host in errors). Older names stay as aliases: agent
     * (agentSocketPath), jumpHost (proxy), privateKeyPassphrase (privateKeyPassword), connectTimeoutMs.
     */
    connection: pulumi.Input<ConnectionArgs>;
    /**
     * Extra daemon.json keys, and overrides of the hardened defaults (userns-remap, no-new-privileges, icc=false,
     * live-restore, userland-proxy=false, log limits); `null` leaves a default key unmanaged. Keys already on the
     * host that are not named here are kept. Default: `{}`.
     */
    daemonConfig?: pulumi.Input<Record<string, pulumi.Input<JsonValue>>>;
    /** User-namespace remapping. */
    userns?: {
        /** The remap user (created as a system user when missing). Default: `dockremap`. */
        user?: pulumi.Input<string>;
        /** Size of the subordinate ID range. Default: 65536. */
        count?: pulumi.Input<number>;
        /** A fixed first ID; an overlap with another owner's range is an error. Default: first free range. */
        start?: pulumi.Input<number>;
        /**
         * The first ID to use when the host has no valid range yet (a fleet's shared range, set by
         * HardenedDockerFleet); a valid range already there is kept. Default: first free range.
         */
        preferredStart?: pulumi.Input<number>;
    };
    /** The authorization plugin. */
    plugin?: {
        /** Image reference, pinned (tag or digest). Default: `<registry>/hdh/opa-authz:<PLUGIN_VERSION>`. */
        image?: pulumi.Input<string>;
        /** Registry of the default image. Default: `localhost:5000`. */
        registry?: pulumi.Input<string>;
        /** Name Docker knows the plugin by. Default: `hdh-authz`. */
        alias?: pulumi.Input<string>;
        /** Extra plugin settings (`docker plugin set`), e.g. `{ args: "-quiet" }`. Default: `{}`. */
        settings?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    };
    /** The Rego policy. */
    policy?: {
        /** Local folder with the policy (`*.rego` but tests, and `data.json`). Default: this project's `policies/`. */
        directory?: string;
        /** Operator data deep-merged over the policy's data.json (allow-lists, exceptions). Default: none. */
        data?: Record<string, unknown>;
        /**
         * Folder on the host, mounted read-only into the plugin. A new policy is written to
         * /var/lib/hardened-docker-host/policy-staged first, and copied here only once checked.
         * Default: `/etc/docker/policies`.
         */
        hostDirectory?: string;
        /** The `opa` binary used to refuse a policy that does not compile. Default: `opa` on PATH. */
        opaPath?: string;
    };
    /**
     * Image for the canary containers run after enabling authorization; `""` skips the canary.
     * Default: `<registry>/hdh/busybox:1`.
     */
    canaryImage?: pulumi.Input<string>;
    /** Command that restarts Docker. Default: the host's init system (systemd or /etc/init.d/docker). */
    restartCommand?: pulumi.Input<string>;
    /**
     * Allow enabling userns-remap on a host with containers or images (they are hidden by it), and giving a host
     * back (destroy, or a move to another machine) while containers run under the remap (their IDs are released
     * while they run; without it that is refused before anything changes, naming the containers). Default: false.
     */
    allowDataRootMove?: pulumi.Input<boolean>;
    /**
     * Resources every step on this host waits for; a fleet passes the gate of the previous rollout batch, so
     * a host of a later batch is not touched before the earlier batches succeeded. Default: none.
     */
    waitFor?: pulumi.Input<pulumi.Resource>[];
    /**
     * When the host cannot be reached (refused, timeout, wrong host key, login or sudo refused): `fail` the run,
     * or `skip` the host with one warning, keeping the state as it was (a fleet does this, and its last rollout
     * gate then fails naming the host, so it is never reported converged). Default: `fail`.
     */
    onUnreachable?: "fail" | "skip";
    /**
     * The policy files, already merged and checked: set by HardenedDockerFleet, which checks the policy once for
     * all its hosts. Default: from `policy`.
     * @internal
     */
    policyFiles?: Record<string, string>;
}

/**
 * The policy files a host gets: the policy folder with `policy.data` merged into data.json, checked by opa.
 * `owner` names the component in errors.
 */
export function compilePolicy(policy: HardenedDockerHostArgs["policy"], owner = "fleet"): Record<string, string> {
    const files = loadPolicyFiles(policy?.directory ?? DEFAULT_POLICY_DIR, owner);
    if (policy?.data) {
        let base: unknown = {};
        try {
            base = files["data.json"] ? JSON.parse(files["data.json"]) : {};
        } catch (e) {
            throw new HostInputError(
                owner,
                "policy.directory",
                `data.json is not JSON (${(e as Error).message})`,
                "correct data.json",
            );
        }
        files["data.json"] = JSON.stringify(mergePolicyData(base, policy.data), null, 2) + "\n";
    }
    assertPolicyCompiles(files, policy?.opaPath, owner);
    return files;
}

/**
 * Makes one Docker host safe for untrusted users: user-namespace remapping backed by a reserved subordinate ID
 * range, and an OPA authorization plugin enforcing the policy, applied over SSH in a safe order (remap first,
 * then the staged policy, the plugin, and authorization last, proven by a canary).
 */
export class HardenedDockerHost extends pulumi.ComponentResource {
    /** Docker server version. */
    public readonly dockerVersion: pulumi.Output<string>;
    /** Docker's data root (under userns-remap: `<root>/<uid>.<gid>`). */
    public readonly dataRoot: pulumi.Output<string>;
    /** The remap range, `user:start:count`. */
    public readonly idRange: pulumi.Output<string>;
    /** The plugin reference installed. */
    public readonly pluginReference: pulumi.Output<string>;
    /** Whether the plugin is enabled. */
    public readonly pluginEnabled: pulumi.Output<boolean>;
    /** Whether Docker enforces the plugin. */
    public readonly authorizationActive: pulumi.Output<boolean>;
    /** SHA-256 of the host's daemon.json (canonical, without `authorization-plugins`). */
    public readonly daemonJsonSha256: pulumi.Output<string>;
    /** SHA-256 of the policy file set on the host (names and contents). */
    public readonly policySha256: pulumi.Output<string>;
    /** Docker restarts done by the last change of daemon.json. */
    public readonly restarts: pulumi.Output<number>;

    constructor(name: string, args: HardenedDockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-docker-host:index:HardenedDockerHost", name, {}, opts);
        const child = { parent: this };
        // The whole connection is a secret, whether or not the caller wrapped the key.
        const connection = pulumi.secret(
            pulumi.output(args.connection).apply((c) => {
                for (const field of unverifiedHops(c)) {
                    pulumi.log.warn(
                        `host ${c.label ?? name}: ${field}.insecureSkipHostKeyCheck is set: ` +
                            "the host's identity is not verified",
                        this,
                    );
                }
                return { ...c, label: c.label ?? name };
            }),
        );
        const onUnreachable = args.onUnreachable ?? "fail";
        const remapUser = pulumi.output(args.userns?.user ?? DEFAULT_REMAP_USER);
        const registry = pulumi.output(args.plugin?.registry ?? "localhost:5000");
        const alias = pulumi.output(args.plugin?.alias ?? "hdh-authz");
        const hostPolicyDir = checked(this, () =>
            dedicatedDirectory(args.policy?.hostDirectory ?? "/etc/docker/policies", name),
        );

        // The policy is checked here, before any host is touched (a fleet checks it once and passes the files).
        const files = args.policyFiles ?? checked(this, () => compilePolicy(args.policy, name));

        const ids = new SubordinateIds(
            `${name}-subids`,
            {
                connection,
                onUnreachable,
                owner: remapUser,
                count: args.userns?.count ?? DEFAULT_ID_COUNT,
                requestedStart: args.userns?.start,
                preferredStart: args.userns?.preferredStart,
                allowDataRootMove: args.allowDataRootMove ?? false,
            },
            { ...child, dependsOn: args.waitFor },
        );

        const settings = pulumi
            .all([remapUser, pulumi.output(args.daemonConfig ?? {})])
            .apply(([user, overrides]) =>
                managedDaemonSettings(hardenedDefaults({ remapUser: user }), overrides as JsonObject),
            );
        const daemon = new DaemonConfig(
            `${name}-daemon`,
            {
                connection,
                onUnreachable,
                settings,
                restartCommand: args.restartCommand,
                allowDataRootMove: args.allowDataRootMove ?? false,
            },
            { ...child, dependsOn: [ids] },
        );

        // Staged, not live: the Authorization step checks a new policy before the plugin reads it. Retained on
        // delete: giving the folders back is Authorization's (an older stack's live-folder step must not empty it).
        const policy = new RemoteFiles(
            `${name}-policy`,
            {
                connection,
                onUnreachable,
                directory: STAGED_POLICY_DIR,
                files,
                exclusivePattern: "*",
            },
            { ...child, dependsOn: [daemon], retainOnDelete: true },
        );

        // After remapping: a plugin installed under the old data root would be invisible afterwards.
        const reference = pulumi.output(
            args.plugin?.image ?? pulumi.interpolate`${registry}/hdh/opa-authz:${PLUGIN_VERSION}`,
        );
        const plugin = new DockerPlugin(
            `${name}-plugin`,
            {
                connection,
                onUnreachable,
                reference,
                alias,
                restartCommand: args.restartCommand,
                allowDataRootMove: args.allowDataRootMove ?? false,
                dataRootKey: settings.apply(
                    (s) => `userns-remap=${s["userns-remap"] ?? ""} data-root=${s["data-root"] ?? ""}`,
                ),
                settings: pulumi
                    .output(args.plugin?.settings ?? {})
                    .apply((s) => ({ "policies.source": hostPolicyDir, ...s })),
            },
            { ...child, dependsOn: [policy] },
        );

        // Last: authorization on, proven by the canary, rolled back if it fails.
        const authz = new Authorization(
            `${name}-authz`,
            {
                connection,
                onUnreachable,
                alias,
                pluginReference: plugin.installedReference,
                policySha256: policy.sha256,
                canaryImage: args.canaryImage ?? pulumi.interpolate`${registry}/hdh/busybox:1`,
                restartCommand: args.restartCommand,
                policyDirectory: hostPolicyDir,
                stagedDirectory: STAGED_POLICY_DIR,
                allowDataRootMove: args.allowDataRootMove ?? false,
            },
            { ...child, dependsOn: [plugin, policy] },
        );

        this.dockerVersion = daemon.dockerVersion;
        this.dataRoot = daemon.dataRoot;
        this.idRange = pulumi.interpolate`${remapUser}:${ids.start}:${ids.count}`;
        this.pluginReference = plugin.installedReference;
        this.pluginEnabled = plugin.enabled;
        this.authorizationActive = authz.active;
        this.daemonJsonSha256 = daemon.sha256;
        this.policySha256 = policy.sha256;
        this.restarts = daemon.restarts;
        this.registerOutputs({
            dockerVersion: this.dockerVersion,
            dataRoot: this.dataRoot,
            idRange: this.idRange,
            pluginReference: this.pluginReference,
            pluginEnabled: this.pluginEnabled,
            authorizationActive: this.authorizationActive,
            daemonJsonSha256: this.daemonJsonSha256,
            policySha256: this.policySha256,
            restarts: this.restarts,
        });
    }
}
