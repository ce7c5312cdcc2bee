// Loads a TypeScript program the way the official Node.js language host does (ts-node, transpile only), with
// one difference: each file's JavaScript is kept in a cache keyed by its text, the TypeScript and ts-node
// versions and the tsconfig.json, so a run whose sources did not change loads no compiler at all (about 0.6 s of
// CPU per run here: loading TypeScript, transpiling, and source-map-support mapping every stack the SDK takes).
// Stack traces still show TypeScript positions, through Node.js's own source maps (the output carries them).
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { cacheDir } = require("./cache-dir");

/** The nearest tsconfig.json from `dir` up, or undefined. */
function findTsconfig(dir) {
    for (let d = dir; ; d = path.dirname(d)) {
        const file = path.join(d, "tsconfig.json");
        if (fs.existsSync(file)) return file;
        if (path.dirname(d) === d) return undefined;
    }
}

/**
 * Makes `require` of `.ts` files work for the program in `dir`. `resolve(id)` finds ts-node and typescript
 * (from the program, else from beside the language host).
 */
function registerTypeScript(dir, resolve) {
    const tsconfig = findTsconfig(dir);
    // No tsconfig.json (allowed by Pulumi): the official host's defaults, not ts-node's (which TS 5.9 refuses).
    const options = {
        transpileOnly: true,
        dir,
        ...(tsconfig
            ? {}
            : {
                  skipProject: true,
                  compilerOptions: {
                      target: "es2020",
                      module: "commonjs",
                      moduleResolution: "node",
                      sourceMap: true,
                  },
              }),
    };
    const versions = ["ts-node", "typescript"].map((id) => require(resolve(`${id}/package.json`)).version);
    const config = tsconfig ? fs.readFileSync(tsconfig, "utf8") : null;
    const salt = JSON.stringify([versions, options.compilerOptions ?? null, config]);
    const folder = process.env.HDH_TS_CACHE || cacheDir("ts");
    let service; // created on the first file that is not in the cache
    const compile = (code, file) => {
        const key = crypto.createHash("sha256").update(`${salt}\0${file}\0`).update(code).digest("hex");
        const cached = path.join(folder, `${key}.js`);
        try {
            return fs.readFileSync(cached, "utf8");
        } catch {
            // not cached yet
        }
        service = service || require(resolve("ts-node")).create(options);
        const js = service.compile(code, file);
        try {
            fs.mkdirSync(folder, { recursive: true });
            const tmp = `${cached}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, js);
            fs.renameSync(tmp, cached); // atomic: a concurrent run reads the whole file or none
        } catch {
            // a read-only cache only costs speed
        }
        return js;
    };
    process.setSourceMapsEnabled(true);
    for (const ext of [".ts", ".tsx"]) {
        require.extensions[ext] = (module, file) => module._compile(compile(fs.readFileSync(file, "utf8"), file), file);
    }
}

module.exports = { registerTypeScript };
