import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { RemoteFiles } from "../../../components/providers/remoteFiles";

/** The smoke stack: one file on one fleet host. Runs under the CLI and the Automation API alike. */
export default async function program(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config();
    const file = config.get("path") ?? "/etc/hdh-smoke.txt";
    const files = new RemoteFiles("smoke", {
        connection: {
            host: config.require("host"),
            port: config.requireNumber("port"),
            user: config.get("user") ?? "root",
            hostKey: config.require("hostKey"),
            privateKey: pulumi.secret(fs.readFileSync(config.require("keyPath"), "utf8")),
            label: config.get("label"),
        },
        directory: path.dirname(file),
        files: { [path.basename(file)]: config.require("content") },
    });
    return { sha256: files.sha256, directory: files.directory };
}
