#!/usr/bin/env node
// pulumi-resource-pulumi-nodejs, the plugin the Pulumi CLI starts (in the project folder) to serve pulumi.dynamic
// resources: @pulumi/pulumi's own dynamic-provider host, as Pulumi's bundled launcher runs it, in plain Node.js
// (providers load compiled JavaScript from their package: no ts-node here).
//
// Expected failures (our messages name the host, the cause and `Fix:`) already reach the CLI as the error of the
// step; the SDK's host also prints each one with its stack trace to stderr, which the CLI shows as more lines per
// resource. Those copies are left out unless HDH_DEBUG=1. Unexpected errors keep their stack traces.
"use strict";
const path = require("path");
require("./compile-cache").useCompileCache();

/** The project's @pulumi/pulumi (the SDK its program serialized the providers with), else this repository's. */
function sdkProviderHost() {
    for (const base of [process.cwd(), __dirname]) {
        try {
            const pkg = require.resolve("@pulumi/pulumi/package.json", { paths: [base] });
            return path.join(path.dirname(pkg), "cmd", "dynamic-provider", "index.js");
        } catch {
            // next
        }
    }
    console.error(
        `pulumi-resource-pulumi-nodejs: @pulumi/pulumi is not installed in ${process.cwd()}. ` +
            "Fix: npm install @pulumi/pulumi",
    );
    process.exit(1);
}

const debug = /^(1|true|yes)$/i.test(process.env.HDH_DEBUG || "");
if (!debug) {
    // `${e}: ${e.stack}` of an error whose message carries its fix: "<Name>: <message>: <Name>: <message>\n    at ...".
    const expected = /^\w*Error: [\s\S]*\bFix: [\s\S]*\n\s+at /;
    const print = console.error.bind(console);
    console.error = (...args) => {
        if (args.length === 1 && typeof args[0] === "string" && expected.test(args[0])) return;
        print(...args);
    };
}

// States written before the providers loaded compiled JavaScript hold the path of a TypeScript module of this
// repository (`<repo>/components/providers/xProvider`, no extension), which plain Node.js cannot load: such a
// path resolves to the same module's build (`<repo>/dist/components/...js`), so refresh and destroy still work.
const Module = require("module");
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
    try {
        return resolveFilename.call(this, request, ...rest);
    } catch (e) {
        const m =
            e &&
            e.code === "MODULE_NOT_FOUND" &&
            path.isAbsolute(request) &&
            /^(.*)[/\\](components[/\\].+)$/.exec(request);
        if (m && !/[/\\]dist$/.test(m[1])) {
            try {
                return resolveFilename.call(this, path.join(m[1], "dist", m[2]), ...rest);
            } catch {
                // fall through to the original error
            }
        }
        throw e;
    }
};

require("./lazy-typescript").deferTypeScript((id) => require.resolve(id, { paths: [process.cwd(), __dirname] }));
require(sdkProviderHost());

// If the CLI dies (killed, crashed) our parent changes: go too, so a killed run leaves no provider behind.
const parentPid = process.ppid;
setInterval(() => {
    if (process.ppid !== parentPid) process.exit(1);
}, 1000).unref();
