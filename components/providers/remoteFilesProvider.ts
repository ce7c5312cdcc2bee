import * as pulumi from "@pulumi/pulumi";
import { diffRemoteFiles } from "../plan/stepDiffs";
import { fileSetHash, filesOf, readFilesScript, parseReadFiles, writeFilesScript } from "../host/files";
import { policySummary } from "../plan/authorization";
import { checkRemoteFiles } from "../plan/remoteFiles";
import { runScript } from "../ssh/session";
import { change, folderFromPreflight } from "./preflight";
import { targetLabel } from "../ssh/target";
import type { RemoteFilesState } from "./remoteFiles";

async function apply(news: RemoteFilesState, olds?: RemoteFilesState): Promise<RemoteFilesState> {
    const remove = Object.keys(olds?.files ?? {}).filter((name) => !(name in news.files));
    await change(
        news.connection,
        writeFilesScript(news.directory, news.files, news.mode, remove, news.exclusivePattern),
        `writing ${news.directory}`,
    );
    return { ...news, sha256: fileSetHash(news.files) };
}

/** Implementation of RemoteFiles (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<RemoteFilesState, RemoteFilesState> = {
    async check(_olds, news) {
        checkRemoteFiles(targetLabel(news.connection), news);
        return { inputs: { ...news, summary: policySummary(news.files) } };
    },
    async diff(_id, olds, news) {
        return diffRemoteFiles(olds, { ...news, sha256: fileSetHash(news.files) });
    },
    async create(inputs) {
        return { id: `${targetLabel(inputs.connection)}:${inputs.directory}`, outs: await apply(inputs) };
    },
    async update(_id, olds, news) {
        return { outs: await apply(news, olds) };
    },
    async read(id, props) {
        if (!props) throw new Error(`RemoteFiles ${id}: cannot import without its connection`);
        // The run's preflight has read our policy folders; another folder takes a round trip of its own.
        const names = Object.keys(props.files);
        const seen = await folderFromPreflight(props.connection, props.directory);
        const script = readFilesScript(props.directory, names, props.exclusivePattern);
        const files =
            (seen && filesOf(seen, names, props.exclusivePattern)) ??
            parseReadFiles(await runScript(props.connection, script, `reading ${props.directory}`));
        const state = { ...props, files, summary: policySummary(files), sha256: fileSetHash(files) };
        return { id, props: state };
    },
    async delete(_id, props) {
        await change(
            props.connection,
            writeFilesScript(props.directory, {}, props.mode, Object.keys(props.files)),
            `removing files from ${props.directory}`,
        );
    },
};
