/**
 * Policy pack for stacks of HardenedDockerHost / HardenedDockerFleet, run by `pulumi preview --policy-pack
 * policypack` (scripts/pipeline/policy-pack.sh). Mandatory rules block the preview (and so `pulumi up`);
 * the Docker version floor only warns. The rules themselves are in rules.ts.
 *
 * Config (`--policy-pack-config FILE`): {"docker-version-floor": {"minimumVersion": "24.0.0"}} (default 20.10.0).
 */
import { PolicyPack, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import {
    STEP_TYPE_PREFIX,
    TYPES,
    authorizationProblems,
    connectionLabel,
    connectionsOf,
    dockerFloorProblem,
    hostKeyProblems,
    hostOf,
    hostsOf,
    pluginPinProblem,
    policyFileProblems,
    typeOfUrn,
    usernsRemapProblem,
} from "./rules";

const DEFAULT_DOCKER_FLOOR = "20.10.0";

/** "host NAME" for a step's messages: its component's name, else its connection's label, else its own name. */
function hostName(args: ResourceValidationArgs): string {
    const h = hostOf({ urn: args.urn, name: args.name, parentUrn: args.opts.parent });
    return connectionLabel(args.props.connection) ?? h.name;
}

new PolicyPack("hardened-docker-host", {
    policies: [
        {
            name: "pinned-host-key",
            description:
                "Every host (and every jump host) is reached with a pinned host key: no insecureSkipHostKeyCheck.",
            enforcementLevel: "mandatory",
            // Inside a HardenedDockerHost every step shares one connection: judged once per host, on DaemonConfig.
            // Any other resource of ours that carries connections is judged on its own.
            validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
                if (!args.type.startsWith(STEP_TYPE_PREFIX)) return;
                const inHost = args.opts.parent !== undefined && typeOfUrn(args.opts.parent) === TYPES.host;
                if (inHost && args.type !== TYPES.daemonConfig) return;
                for (const c of connectionsOf(args.props)) {
                    const who = connectionLabel(c) ?? hostName(args);
                    for (const p of hostKeyProblems(c)) reportViolation(`host ${who}: ${p}`);
                }
            },
        },
        {
            name: "userns-remap-on",
            description: "daemon.json turns userns-remap on, so root in a container is not root on the host.",
            enforcementLevel: "mandatory",
            validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
                if (args.type !== TYPES.daemonConfig) return;
                const p = usernsRemapProblem(args.props.settings);
                if (p) reportViolation(`host ${hostName(args)}: ${p}`);
            },
        },
        {
            name: "authorization-on",
            description: "Every host with a daemon.json step also has the Authorization step (the plugin enforced).",
            enforcementLevel: "mandatory",
            validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
                for (const p of authorizationProblems(hostsOf(args.resources))) {
                    reportViolation(p.message, p.host.steps.get(TYPES.daemonConfig)?.urn);
                }
            },
        },
        {
            name: "same-policy-per-fleet",
            description: "Every host of a fleet gets the same policy files.",
            enforcementLevel: "mandatory",
            validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
                for (const p of policyFileProblems(hostsOf(args.resources))) {
                    reportViolation(p.message, p.hosts[0].steps.get(TYPES.remoteFiles)?.urn);
                }
            },
        },
        {
            name: "plugin-image-pinned",
            description: "The authorization plugin's image is pinned: a digest, or a tag other than latest.",
            enforcementLevel: "mandatory",
            validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
                if (args.type !== TYPES.dockerPlugin) return;
                const p = pluginPinProblem(args.props.reference);
                if (p) reportViolation(`host ${hostName(args)}: plugin ${p}`);
            },
        },
        {
            name: "docker-version-floor",
            description: "Docker on every host is at least the configured version (advisory).",
            enforcementLevel: "advisory",
            configSchema: {
                properties: {
                    minimumVersion: {
                        type: "string",
                        default: DEFAULT_DOCKER_FLOOR,
                        pattern: "^[0-9]+(\\.[0-9]+){0,2}$",
                    },
                },
            },
            validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
                const floor = args.getConfig<{ minimumVersion?: string }>().minimumVersion ?? DEFAULT_DOCKER_FLOOR;
                for (const h of hostsOf(args.resources)) {
                    const daemon = h.steps.get(TYPES.daemonConfig);
                    const p = daemon && dockerFloorProblem(daemon.props.dockerVersion, floor);
                    if (p) reportViolation(`host ${h.name}: ${p}`, daemon?.urn);
                }
            },
        },
    ],
});
