// Where our plugin processes keep what they cache between runs: ~/.cache/hardened-docker-host/NAME (or under
// $XDG_CACHE_HOME).
"use strict";
const os = require("os");
const path = require("path");

function cacheDir(name) {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    return path.join(base, "hardened-docker-host", name);
}

module.exports = { cacheDir };
