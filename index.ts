import * as pulumi from "@pulumi/pulumi";
import { FleetHostArgs, HardenedDockerFleet } from "./components/hardenedDockerFleet";
import { fleetFromConfig, fleetHostArgs } from "./components/fleetConfig";
import { HostInputError } from "./components/plan/errors";
import { closestName } from "./components/plan/closestName";
import type { JsonValue } from "./components/plan/daemonConfig";
import type { RolloutOptions } from "./components/plan/rollout";

/** The stack config keys this program reads (anything else under the project's namespace is a mistake). */
const CONFIG_KEYS = [
    "inventory",
    "hosts",
    "hostDefaults",
    "user",
    "users",
    "daemonConfig",
    "policyData",
    "policyDirectory",
    "remapUser",
    "remapCount",
    "registry",
    "pluginImage",
    "canaryImage",
    "allowDataRootMove",
    "rollout",
];

function checkConfigKeys(project: string): void {
    for (const full of Object.keys(pulumi.runtime.allConfig())) {
        const [namespace, key] = full.split(":");
        if (namespace !== project || CONFIG_KEYS.includes(key)) continue;
        const near = closestName(key, CONFIG_KEYS);
        throw new HostInputError(
            "fleet",
            `config ${key}`,
            "unknown key",
            near ? `did you mean ${near}?` : `use one of ${CONFIG_KEYS.join(", ")}`,
        );
    }
}

/**
 * The stack program: every host of the stack config, hardened as one fleet. Runs unchanged under the `pulumi`
 * CLI and under the Automation API (this exported function is the program).
 */
export default async function program(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config();
    let hosts: FleetHostArgs[];
    try {
        checkConfigKeys(pulumi.getProject());
        const checked = fleetFromConfig({
            hosts: config.getObject<unknown[]>("hosts"),
            inventory: config.get("inventory"),
            hostDefaults: config.getObject<Record<string, unknown>>("hostDefaults"),
            user: config.get("user"),
            users: config.getObject<Record<string, string>>("users"),
            projectDir: process.cwd(),
        });
        hosts = fleetHostArgs(checked); // reads the key files
    } catch (e) {
        // Config mistakes: one line, no stack trace.
        throw e instanceof HostInputError ? new pulumi.RunError(e.message) : e;
    }
    const fleet = new HardenedDockerFleet("fleet", {
        hosts,
        daemonConfig: config.getObject<Record<string, JsonValue>>("daemonConfig"),
        userns: { user: config.get("remapUser"), count: config.getNumber("remapCount") },
        plugin: { registry: config.get("registry"), image: config.get("pluginImage") },
        policy: {
            data: config.getObject<Record<string, unknown>>("policyData"),
            directory: config.get("policyDirectory"),
        },
        canaryImage: config.get("canaryImage"),
        allowDataRootMove: config.getBoolean("allowDataRootMove"),
        rollout: config.getObject<RolloutOptions>("rollout"),
    });
    const outputs: Record<string, unknown> = { batches: fleet.batches, idRangeStart: fleet.idRangeStart };
    for (const [name, host] of Object.entries(fleet.hosts)) {
        outputs[name] = {
            dockerVersion: host.dockerVersion,
            dataRoot: host.dataRoot,
            idRange: host.idRange,
            plugin: host.pluginReference,
            pluginEnabled: host.pluginEnabled,
            authorization: host.authorizationActive,
            daemonJsonSha256: host.daemonJsonSha256,
            policySha256: host.policySha256,
            restarts: host.restarts,
        };
    }
    return outputs;
}
