import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { parseReadFile, readFileScript, atomicWriteScript, shq } from "../host/shell";
import { runScript } from "../ssh/session";
import type { RemoteFileState } from "./remoteFile";

const sha256 = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");

async function write(inputs: RemoteFileState): Promise<RemoteFileState> {
    await runScript(inputs.connection, `set -e\n${atomicWriteScript(inputs.path, inputs.content, inputs.mode)}`, `writing ${inputs.path}`);
    return { ...inputs, sha256: sha256(inputs.content) };
}

/** Implementation of RemoteFile (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<RemoteFileState, RemoteFileState> = {
    async diff(_id, olds, news) {
        const replaces = olds.path !== news.path ? ["path"] : [];
        const changes = replaces.length > 0 || olds.sha256 !== sha256(news.content) || olds.mode !== news.mode;
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs) {
        const outs = await write(inputs);
        return { id: `${inputs.connection.label ?? inputs.connection.host}:${inputs.path}`, outs };
    },
    async update(_id, _olds, news) {
        return { outs: await write(news) };
    },
    async read(id, props) {
        if (!props) throw new Error(`RemoteFile ${id}: cannot import without its connection`);
        const found = parseReadFile(await runScript(props.connection, readFileScript(props.path), `reading ${props.path}`));
        // A removed file reads back as empty content with no hash, so the next `up` writes it again.
        const state = { ...props, content: found?.content ?? "", sha256: found?.sha256 ?? "" };
        return { id, props: state, inputs: state };
    },
    async delete(_id, props) {
        await runScript(props.connection, `rm -f ${shq(props.path)}`, `removing ${props.path}`);
    },
};
