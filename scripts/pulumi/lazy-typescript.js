// @pulumi/pulumi loads TypeScript (9 MB of JavaScript) when it starts, for its closure serializer: 60–80 ms of
// every plugin process's start-up. Our processes never serialize a closure (each step names its provider by path),
// so the SDK's TypeScript shim is given TypeScript on first use instead.
"use strict";
const Module = require("module");

/** Makes `<sdk>/typescript-shim.js` load TypeScript on first use. `resolve` finds modules as the SDK's users do. */
function deferTypeScript(resolve) {
    let shim;
    try {
        shim = resolve("@pulumi/pulumi/typescript-shim.js");
    } catch {
        return; // an SDK without the shim: nothing to defer
    }
    if (require.cache[shim]) return; // already loaded: too late to defer
    let real;
    const load = () => {
        if (real === undefined) {
            delete require.cache[shim];
            real = require(shim);
        }
        return real;
    };
    const lazy = new Module(shim);
    lazy.filename = shim;
    lazy.loaded = true;
    lazy.exports = new Proxy(
        {},
        {
            get: (_, key) => load()[key],
            has: (_, key) => key in load(),
        },
    );
    require.cache[shim] = lazy;
}

module.exports = { deferTypeScript };
