#!/usr/bin/env node
// Our Node.js language host for the Pulumi CLI (the official pulumi-language-nodejs cannot be fetched here).
// It serves pulumirpc.LanguageRuntime with the pieces @pulumi/pulumi already ships: @grpc/grpc-js, the generated
// language service, and the LanguageServer class the Automation API uses for inline programs. The CLI starts it
// in the project folder with the engine address as the last argument and reads the port from stdout.
"use strict";
const path = require("path");

// Resolve @pulumi/pulumi from the project (cwd), so the program and the host share one SDK instance.
const projectDir = process.cwd();
const fromProject = (id) => require(require.resolve(id, { paths: [projectDir, __dirname] }));
const grpc = fromProject("@grpc/grpc-js");
const langrpc = fromProject("@pulumi/pulumi/proto/language_grpc_pb");
const langproto = fromProject("@pulumi/pulumi/proto/language_pb");
const plugproto = fromProject("@pulumi/pulumi/proto/plugin_pb");
const { LanguageServer } = fromProject("@pulumi/pulumi/automation/server");
const sdkVersion = fromProject("@pulumi/pulumi/package.json").version;

/** Loads the program the Run request names; a default-exported function is the program (its result: outputs). */
function programFor(request) {
    const info = request.getInfo();
    const dir = (info && info.getProgramDirectory()) || request.getPwd() || projectDir;
    const entry = (info && info.getEntryPoint()) || request.getProgram() || ".";
    return async () => {
        // TypeScript programs run through ts-node (transpile only: type errors are the build's job, not the engine's).
        require(require.resolve("ts-node", { paths: [dir, __dirname] })).register({
            transpileOnly: true,
            dir, // the nearest tsconfig.json from the program folder up
        });
        const mod = require(path.resolve(dir, entry));
        const main = mod && mod.__esModule && "default" in mod ? mod.default : mod;
        return typeof main === "function" ? main() : main;
    };
}

const unimplemented = (name) => (_call, callback) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not supported by this language host` });

const service = {
    handshake: unimplemented("Handshake"),
    getPluginInfo(_call, callback) {
        const info = new plugproto.PluginInfo();
        info.setVersion(sdkVersion);
        callback(null, info);
    },
    // Dynamic providers are served by pulumi-resource-pulumi-nodejs; the program needs no other plugins.
    getRequiredPlugins(_call, callback) {
        const resp = new langproto.GetRequiredPluginsResponse();
        resp.setPluginsList([]);
        callback(null, resp);
    },
    getRequiredPackages(_call, callback) {
        const resp = new langproto.GetRequiredPackagesResponse();
        resp.setPackagesList([]);
        callback(null, resp);
    },
    run(call, callback) {
        new LanguageServer(programFor(call.request)).run(call, callback);
    },
    installDependencies(call) {
        call.end(); // dependencies are installed by `npm run setup`, never by the engine
    },
    runtimeOptionsPrompts(_call, callback) {
        callback(null, new langproto.RuntimeOptionsResponse());
    },
    about(_call, callback) {
        const resp = new langproto.AboutResponse();
        resp.setExecutable(process.execPath);
        resp.setVersion(process.version);
        callback(null, resp);
    },
    getProgramDependencies(_call, callback) {
        callback(null, new langproto.GetProgramDependenciesResponse());
    },
    runPlugin: unimplemented("RunPlugin"),
    generateProgram: unimplemented("GenerateProgram"),
    generateProject: unimplemented("GenerateProject"),
    generatePackage: unimplemented("GeneratePackage"),
    pack: unimplemented("Pack"),
    link: unimplemented("Link"),
    template: unimplemented("Template"),
    cancel(_call, callback) {
        callback(null, new (fromProject("google-protobuf/google/protobuf/empty_pb").Empty)());
    },
};

const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
server.addService(langrpc.LanguageRuntimeService, service);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
        console.error(`pulumi-language-nodejs: cannot listen: ${err.message}`);
        process.exit(1);
    }
    process.stdout.write(`${port}\n`);
});
