import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { SshTarget } from "../ssh/target";
import { lazyProvider } from "./lazyProvider";

/** Inputs of a {@link RemoteFile}. */
export interface RemoteFileArgs {
    /** How to reach the host. Its private key should be a secret. */
    connection: pulumi.Input<SshTarget>;
    /** Absolute path of the file on the host. */
    path: pulumi.Input<string>;
    /** The file's content (UTF-8). */
    content: pulumi.Input<string>;
    /** Octal mode. Default: `0644`. */
    mode?: pulumi.Input<string>;
}

/** The state of a {@link RemoteFile} (what `read` finds on the host). */
export interface RemoteFileState {
    connection: SshTarget;
    path: string;
    content: string;
    mode: string;
    sha256: string;
}

/** A file on a host, written atomically over SSH; `pulumi refresh` reads it back, so edits by hand show as drift. */
export class RemoteFile extends pulumi.dynamic.Resource {
    declare readonly path: pulumi.Output<string>;
    declare readonly content: pulumi.Output<string>;
    declare readonly sha256: pulumi.Output<string>;

    constructor(name: string, args: RemoteFileArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            lazyProvider(path.join(__dirname, "remoteFileProvider"), "components/providers/remoteFileProvider"),
            name,
            { sha256: undefined, mode: "0644", ...args },
            { ...opts, additionalSecretOutputs: ["connection"] },
            "hardened-docker-host",
            "RemoteFile",
        );
    }
}
