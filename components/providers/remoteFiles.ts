import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs, SshTarget } from "../ssh/target";
import { DynamicStep, stepProvider } from "./dynamicStep";

/** Inputs of {@link RemoteFiles}. */
export interface RemoteFilesArgs {
    /** How to reach the host. Its private key should be a secret. */
    connection: pulumi.Input<ConnectionArgs>;
    /** Absolute path of the folder on the host (created when missing). */
    directory: pulumi.Input<string>;
    /** File name → content (UTF-8). */
    files: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Octal mode of the files. Default: `0644`. */
    mode?: pulumi.Input<string>;
    /**
     * When set, the folder belongs to this resource: other files in it whose names match this shell pattern
     * (e.g. `*.rego`) show as drift and are removed by the next update. Default: none (other files are left alone).
     */
    exclusivePattern?: pulumi.Input<string>;
    /**
     * When the host cannot be reached: fail the run, or skip the host with a warning (a fleet's choice).
     * Default: fail.
     */
    onUnreachable?: pulumi.Input<"fail" | "skip">;
}

/** The state of {@link RemoteFiles}: what `read` finds on the host. */
export interface RemoteFilesState {
    connection: SshTarget;
    directory: string;
    /** File name → content; a file that is missing on the host reads back as absent from this map. */
    files: Record<string, string>;
    mode: string;
    exclusivePattern?: string;
    /** SHA-256 of the file set (names and contents, sorted by name). */
    sha256: string;
    /** Per file: line count and short hash, for readable previews. */
    summary?: Record<string, string>;
}

const provider = stepProvider("remoteFilesProvider", ["sha256"]);

/**
 * A set of files in one folder on a host, written atomically over SSH in one round trip (each file to a temp
 * file first, then all renamed), read back by `pulumi refresh` so edits, removals and stray files show as drift.
 */
export class RemoteFiles extends DynamicStep {
    declare readonly directory: pulumi.Output<string>;
    declare readonly files: pulumi.Output<Record<string, string>>;
    declare readonly sha256: pulumi.Output<string>;

    constructor(name: string, args: RemoteFilesArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            provider,
            "RemoteFiles",
            name,
            { sha256: undefined, summary: undefined, mode: "0644", exclusivePattern: undefined, ...args },
            { ...opts, additionalSecretOutputs: ["connection"] },
        );
    }
}
