import * as fs from "node:fs";
import { packageFile } from "../packagePaths";

/**
 * A host script of `components/host/sh/` (shipped with the package): shell functions, or the preflight, that a
 * step's script embeds after the variables they read. Kept as `.sh` files so that shellcheck reads them
 * (`npm run lint`) and unit tests run them under a real `sh`.
 */
export function hostScript(name: string): string {
    return fs.readFileSync(packageFile("components", "host", "sh", name), "utf8");
}
