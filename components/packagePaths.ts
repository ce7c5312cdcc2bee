import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Where this library's own files are, whoever runs it: the nearest folder above this module with a package.json.
 * That is the package (`node_modules/hardened-docker-host`, this module in `dist/components/`) or, from the
 * TypeScript sources, the repository. Never the working directory.
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(from: string): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir)
            throw new Error(`hardened-docker-host: no package.json above ${from}. Fix: install the package with npm`);
    }
}

/** A file the package ships beside its code (`policies/`, `plugin/VERSION`). */
export function packageFile(...parts: string[]): string {
    return path.join(PACKAGE_ROOT, ...parts);
}

/** Whether dist/ was checked against the sources in this process (it is built at most once per process). */
let distChecked = false;

/** The newest modification time of the TypeScript sources under `components/`. */
function newestSource(dir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
        else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
            newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
    return newest;
}

/**
 * The compiled JavaScript of one of this library's modules, for a dynamic provider to `require` in the engine's
 * provider process (which runs plain Node.js: no ts-node). `modulePath` is the module's path without extension
 * as the calling code sees it (`path.join(__dirname, "remoteFilesProvider")`):
 * - running compiled (the npm package): the sibling `.js`, in the package;
 * - running from the TypeScript sources (this repository, under ts-node or ts-jest): the same module under
 *   `dist/`, built first (`npm run build`, about 2 s) when a source under `components/` is newer than it.
 */
export function compiledModule(modulePath: string): string {
    if (fs.existsSync(`${modulePath}.js`)) return modulePath;
    const relative = path.relative(PACKAGE_ROOT, modulePath);
    const built = path.join(PACKAGE_ROOT, "dist", relative);
    if (!fs.existsSync(`${modulePath}.ts`)) {
        throw new Error(`hardened-docker-host: ${relative}.js is missing from the package. Fix: reinstall the package`);
    }
    if (!distChecked) {
        const stale =
            !fs.existsSync(`${built}.js`) ||
            fs.statSync(`${built}.js`).mtimeMs < newestSource(path.join(PACKAGE_ROOT, "components"));
        if (stale) build();
        distChecked = true;
    }
    if (!fs.existsSync(`${built}.js`)) {
        throw new Error(
            `hardened-docker-host: dist/${relative}.js is missing after the build. ` +
                "Fix: run npm run build and read its errors",
        );
    }
    return built;
}

/** Compiles components/ into dist/ (the repository only; type errors do not stop the output, as under ts-node). */
function build(): void {
    try {
        const tsc = require.resolve("typescript/bin/tsc", { paths: [PACKAGE_ROOT] });
        execFileSync(process.execPath, [tsc, "-p", path.join(PACKAGE_ROOT, "tsconfig.build.json")], { stdio: "pipe" });
    } catch {
        // tsc exits non-zero on type errors but still writes dist/; a missing output is reported by the caller.
    }
}
