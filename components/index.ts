/**
 * hardened-docker-host: Docker hosts made safe for untrusted users (userns-remap + an OPA authorization plugin),
 * over SSH, as Pulumi components. The package's entry point (`import { HardenedDockerHost } from
 * "hardened-docker-host"`).
 */
export { HardenedDockerHost, PLUGIN_VERSION } from "./hardenedDockerHost";
export type { HardenedDockerHostArgs } from "./hardenedDockerHost";
export { HardenedDockerFleet } from "./hardenedDockerFleet";
export type { FleetHostArgs, FleetHostOutputs, HardenedDockerFleetArgs, HostOverrides } from "./hardenedDockerFleet";
export type { RolloutOptions } from "./plan/rollout";
export type { ConnectionArgs, ProxyConnectionArgs } from "./ssh/target";
export type { JsonObject, JsonValue } from "./plan/json";
export { DEFAULT_POLICY_DIR } from "./policy/localPolicy";
