import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { compiledModule } from "../packagePaths";

/**
 * The `__provider` of a dynamic resource: the module Pulumi's Node.js dynamic-provider host loads (it calls its
 * `handler()` once per process for each distinct text). Ours names compiled files by absolute path — the
 * provider runtime (lazyProvider) and the step's implementation — instead of a closure serialized by value.
 */
export function providerModuleText(runtimePath: string, implPath: string, computedKeys: string[]): string {
    const args = [implPath, computedKeys].map((a) => JSON.stringify(a)).join(", ");
    return `exports.handler = () => require(${JSON.stringify(runtimePath)}).lazyProvider(${args});\n`;
}

/** The provider text of a step implemented by `implFile` (a module of this folder), with its computed outputs. */
export function stepProvider(implFile: string, computedKeys: string[]): string {
    const runtime = compiledModule(path.join(__dirname, "lazyProvider"));
    return providerModuleText(runtime, compiledModule(path.join(__dirname, implFile)), computedKeys);
}

/**
 * A resource served by Pulumi's Node.js dynamic provider (`pulumi-nodejs`), exactly as a `pulumi.dynamic.Resource`
 * of module `hardened-docker-host` (same type token, so the same URNs and state), whose provider is named by
 * module path. `pulumi.dynamic.Resource` serializes the provider's closure instead: about 0.5 s of CPU in every
 * program run (loading the serializer and walking the closures) and 7.7 kB of state per resource, twice.
 */
export abstract class DynamicStep extends pulumi.CustomResource {
    protected constructor(
        provider: string,
        type: string,
        name: string,
        props: pulumi.Inputs,
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(`pulumi-nodejs:dynamic/hardened-docker-host:${type}`, name, { ...props, __provider: provider }, opts);
    }
}
