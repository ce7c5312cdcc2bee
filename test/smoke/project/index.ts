import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { RemoteFile } from "../../../components/providers/remoteFile";

/** The smoke stack: one file on one fleet host. Runs under the CLI and the Automation API alike. */
export default async function program(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config();
    const file = new RemoteFile("smoke", {
        connection: {
            host: config.require("host"),
            port: config.requireNumber("port"),
            user: config.get("user") ?? "root",
            hostKey: config.require("hostKey"),
            privateKey: pulumi.secret(fs.readFileSync(config.require("keyPath"), "utf8")),
            label: config.get("label"),
        },
        path: config.get("path") ?? "/etc/hdh-smoke.txt",
        content: config.require("content"),
    });
    return { sha256: file.sha256, path: file.path };
}
