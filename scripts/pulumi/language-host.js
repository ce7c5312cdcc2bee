#!/usr/bin/env node
// Our Node.js language host for the Pulumi CLI (the official pulumi-language-nodejs cannot be fetched here).
// It serves pulumirpc.LanguageRuntime with the pieces @pulumi/pulumi already ships: @grpc/grpc-js, the generated
// language service, and the LanguageServer class the Automation API uses for inline programs. The CLI starts it
// in the project folder with the engine address as the last argument and reads the port from stdout.
"use strict";
const path = require("path");
require("./compile-cache").useCompileCache();
const { spawn } = require("child_process");

// Resolve @pulumi/pulumi from the project (cwd), so the program and the host share one SDK instance.
const projectDir = process.cwd();
const fromProject = (id) => require(require.resolve(id, { paths: [projectDir, __dirname] }));
require("./lazy-typescript").deferTypeScript((id) => require.resolve(id, { paths: [projectDir, __dirname] }));
const grpc = fromProject("@grpc/grpc-js");
const langrpc = fromProject("@pulumi/pulumi/proto/language_grpc_pb");
const langproto = fromProject("@pulumi/pulumi/proto/language_pb");
const plugproto = fromProject("@pulumi/pulumi/proto/plugin_pb");
const { LanguageServer } = fromProject("@pulumi/pulumi/automation/server");
const sdkVersion = fromProject("@pulumi/pulumi/package.json").version;
const { registerTypeScript } = require("./typescript-loader");

const engineAddress = process.argv
    .slice(2)
    .reverse()
    .find((a) => /^[\w.\[\]:-]+:\d+$/.test(a));
const debug = /^(1|true|yes)$/i.test(process.env.HDH_DEBUG || "");
/**
 * An expected failure of the program: a RunError, a ResourceError that hides its stack, or a message that carries
 * its `Fix:`. It is shown as its one line; other errors keep their stack traces (all of them with HDH_DEBUG=1).
 */
function expected(e) {
    if (debug || !(e instanceof Error)) return false;
    const { RunError, ResourceError } = fromProject("@pulumi/pulumi");
    return RunError.isInstance(e) || (ResourceError.isInstance(e) && e.hideStack) || /\bFix: /.test(e.message);
}

/** Loads the program the Run request names; a default-exported function is the program (its result: outputs). */
function programFor(request, run) {
    const info = request.getInfo();
    const dir = (info && info.getProgramDirectory()) || request.getPwd() || projectDir;
    const entry = (info && info.getEntryPoint()) || request.getProgram() || ".";
    return async () => {
        // TypeScript programs run through ts-node (transpile only: type errors are the build's job, not the
        // engine's), its output cached across runs.
        registerTypeScript(dir, (id) => require.resolve(id, { paths: [dir, __dirname] }));
        try {
            const mod = require(path.resolve(dir, entry));
            const main = mod && mod.__esModule && "default" in mod ? mod.default : mod;
            return await (typeof main === "function" ? main() : main);
        } catch (e) {
            if (!expected(e)) throw e;
            // The SDK shows a RunError or a ResourceError that hides its stack as its message alone (on its
            // resource); anything else expected becomes a RunError. The run then bails (see run), so the CLI adds
            // no second copy of the message.
            const { RunError, ResourceError } = fromProject("@pulumi/pulumi");
            run.reported = true;
            throw RunError.isInstance(e) || ResourceError.isInstance(e) ? e : new RunError(e.message);
        }
    };
}

/**
 * RunPlugin: how the CLI starts a plugin written in Node.js that is not a binary — a policy pack (kind
 * "analyzer", a folder with PulumiPolicy.yaml) or a PulumiPlugin.yaml plugin. Like the official host, we run
 * `node @pulumi/pulumi/cmd/run-policy-pack <args...> <program dir>` (run-plugin: `<program dir> <args...>`) with
 * the SDK resolved from the plugin's own folder, in the plugin's folder (policy packs) or the CLI's working
 * directory (others), with exactly the environment the CLI sent. The plugin's stdout and stderr are streamed
 * back as RunPluginResponse messages — the CLI reads the plugin's gRPC port from the first stdout line — and
 * its exit code last. When the CLI drops the call (it kills the plugin), the process is killed.
 */
function pluginCommand(request) {
    const info = request.getInfo();
    const programDir = (info && info.getProgramDirectory()) || request.getPwd() || projectDir;
    const analyzer = request.getKind() === "analyzer";
    const module = analyzer ? "@pulumi/pulumi/cmd/run-policy-pack" : "@pulumi/pulumi/cmd/run-plugin";
    const runPath = require.resolve(module, { paths: [programDir, projectDir, __dirname] });
    const rest = analyzer ? [...request.getArgsList(), programDir] : [programDir, ...request.getArgsList()];
    const env = {};
    for (const kv of request.getEnvList()) {
        const i = kv.indexOf("=");
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    // Runtime options of PulumiPolicy.yaml / PulumiPlugin.yaml (runtime.options), as the official host reads them.
    const options = info && info.getOptions() ? info.getOptions().toJavaScript() : {};
    if (options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (typeof options.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    const nodeargs = typeof options.nodeargs === "string" ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
    return { args: [...nodeargs, runPath, ...rest], env, cwd: analyzer ? programDir : request.getPwd() || programDir };
}

const children = new Set();

function runPlugin(call) {
    let cmd;
    try {
        cmd = pluginCommand(call.request);
    } catch (e) {
        call.emit("error", { code: grpc.status.FAILED_PRECONDITION, details: `cannot run the plugin: ${e.message}` });
        return;
    }
    const child = spawn(process.execPath, cmd.args, { cwd: cmd.cwd, env: cmd.env, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const send = (field) => (chunk) => {
        const resp = new langproto.RunPluginResponse();
        resp[field](chunk);
        call.write(resp);
    };
    child.stdout.on("data", send("setStdout"));
    child.stderr.on("data", send("setStderr"));
    let ended = false;
    const finish = (code) => {
        if (ended) return;
        ended = true;
        children.delete(child);
        const resp = new langproto.RunPluginResponse();
        resp.setExitcode(code);
        call.write(resp);
        call.end();
    };
    child.on("error", (e) => {
        send("setStderr")(Buffer.from(`pulumi-language-nodejs: cannot start ${process.execPath}: ${e.message}\n`));
        finish(127);
    });
    // "close": the process has exited and both pipes are drained, so the exit code goes out last.
    child.on("close", (code, signal) =>
        finish(code ?? (signal ? 128 + (require("os").constants.signals[signal] || 0) : 1)),
    );
    call.on("cancelled", () => {
        ended = true;
        children.delete(child);
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
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
        const run = { reported: false };
        let answered = false; // LanguageServer answers an error twice; gRPC takes the first
        // LanguageServer (made for the Automation API) takes the engine's address from the Run arguments; the CLI
        // gives it to us as our last argument. Without it, the program's log messages and errors bypass the engine.
        if (engineAddress && call.request.getArgsList().length === 0) call.request.setArgsList([engineAddress]);
        new LanguageServer(programFor(call.request, run)).run(call, (err, resp) => {
            if (answered) return;
            answered = true;
            if (err && run.reported) {
                const bail = new langproto.RunResponse();
                bail.setBail(true); // already shown: the CLI prints nothing more
                return callback(null, bail);
            }
            callback(err, resp);
        });
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
    runPlugin,
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

// The CLI normally stops us; if it dies instead (killed, crashed), our parent changes: go too, and take the
// plugins we started with us, so a killed `pulumi up` leaves no language host or policy pack behind.
const parent = process.ppid;
setInterval(() => {
    if (process.ppid === parent) return;
    for (const child of children) child.kill("SIGKILL");
    process.exit(1);
}, 1000).unref();
