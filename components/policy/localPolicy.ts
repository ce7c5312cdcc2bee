import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../packagePaths";

/** The policy folder this package ships (the default policy), beside its code. */
export const DEFAULT_POLICY_DIR = packageFile("policies");

/** Reads a policy folder as the plugin will see it: every `.rego` but tests, and `data.json`. */
export function loadPolicyFiles(dir: string): Record<string, string> {
    if (!fs.existsSync(dir))
        throw new Error(`policy.directory: ${dir} does not exist. Fix: point it at a folder of .rego files`);
    const files: Record<string, string> = {};
    for (const name of fs.readdirSync(dir).sort()) {
        if ((name.endsWith(".rego") && !name.endsWith("_test.rego")) || name === "data.json") {
            files[name] = fs.readFileSync(path.join(dir, name), "utf8");
        }
    }
    if (!Object.keys(files).some((n) => n.endsWith(".rego"))) {
        throw new Error(`policy.directory: ${dir} holds no .rego file. Fix: point it at the policy folder`);
    }
    return files;
}

/** Deep-merges operator data (allow-lists, exceptions) over the policy's default data.json. */
export function mergePolicyData(base: unknown, extra: unknown): unknown {
    if (!isObject(base) || !isObject(extra)) return extra === undefined ? base : extra;
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(extra)) out[k] = mergePolicyData(base[k], v);
    return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Refuses a policy that does not compile before it reaches any host: `opa check --strict` on exactly the files
 * the hosts would get. Needs `opa` (the project's toolchain puts it on PATH; `opaPath` names another).
 */
export function assertPolicyCompiles(files: Record<string, string>, opaPath = "opa"): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-policy-"));
    try {
        for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
        execFileSync(opaPath, ["check", "--strict", dir], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
        if (err.code === "ENOENT")
            throw new Error(
                `policy: cannot check the policy: ${opaPath} not found. ` +
                    "Fix: install opa (npm run setup) or set policy.opaPath",
            );
        const detail = `${err.stdout ?? ""}${err.stderr ?? ""}`
            .split(dir + "/")
            .join("")
            .trim();
        throw new Error(
            `policy: the policy does not compile, so no host was changed:\n${detail}\n` +
                "Fix: correct the policy (opa check --strict policies/)",
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
