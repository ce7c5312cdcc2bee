// V8's code cache for the modules a plugin process loads (Node.js 22's module.enableCompileCache), in the
// user's cache folder: every run starts these processes anew and loads the same ~400 modules. Node writes the
// cache when a process exits, but the CLI kills its plugins, so it is written shortly after start-up instead.
"use strict";
const { cacheDir } = require("./cache-dir");

function useCompileCache() {
    const m = require("module");
    if (!m.enableCompileCache || process.env.NODE_DISABLE_COMPILE_CACHE) return;
    m.enableCompileCache(cacheDir("node-compile-cache"));
    for (const ms of [1000, 5000]) setTimeout(() => m.flushCompileCache(), ms).unref();
}

module.exports = { useCompileCache };
