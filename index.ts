import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { HardenedDockerHost } from "./components/hardenedDockerHost";
import { FleetHostConfig, fleetFromConfig } from "./components/fleetConfig";
import type { JsonValue } from "./components/plan/daemonConfig";

/**
 * The stack program: every host of the fleet in the stack config, hardened. Runs unchanged under the
 * `pulumi` CLI and under the Automation API (this exported function is the program).
 */
export default async function program(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config();
    const hosts = fleetFromConfig({
        hosts: config.getObject<FleetHostConfig[]>("hosts"),
        inventory: config.get("inventory"),
        user: config.get("user"),
        users: config.getObject<Record<string, string>>("users"),
        projectDir: process.cwd(),
    });
    const daemonConfig = config.getObject<Record<string, JsonValue>>("daemonConfig");
    const policyData = config.getObject<Record<string, unknown>>("policyData");
    const outputs: Record<string, unknown> = {};
    for (const h of hosts) {
        const host = new HardenedDockerHost(h.name, {
            connection: {
                host: h.host, port: h.port, user: h.user, hostKey: h.hostKey,
                privateKey: pulumi.secret(fs.readFileSync(h.privateKeyPath, "utf8")),
            },
            daemonConfig,
            userns: { user: config.get("remapUser"), count: config.getNumber("remapCount") },
            plugin: { registry: config.get("registry"), image: config.get("pluginImage") },
            policy: { data: policyData, directory: config.get("policyDirectory") },
            canaryImage: config.get("canaryImage"),
            allowDataRootMove: config.getBoolean("allowDataRootMove"),
        });
        outputs[h.name] = {
            dockerVersion: host.dockerVersion, dataRoot: host.dataRoot, idRange: host.idRange,
            plugin: host.pluginReference, pluginEnabled: host.pluginEnabled, authorization: host.authorizationActive,
            daemonJsonSha256: host.daemonJsonSha256, policySha256: host.policySha256, restarts: host.restarts,
        };
    }
    return outputs;
}
