import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../packagePaths";
import { HostInputError } from "../plan/errors";
import { isPlainFileName } from "../plan/remoteFiles";

/** The policy folder this package ships (the default policy), beside its code. */
export const DEFAULT_POLICY_DIR = packageFile("policies");

/**
 * Reads a policy folder as the plugin will see it: every `.rego` but tests, and `data.json`. `owner` names the
 * component in errors (the fleet, or the host).
 */
export function loadPolicyFiles(dir: string, owner = "fleet"): Record<string, string> {
    const refuse = (problem: string, fix: string) => new HostInputError(owner, "policy.directory", problem, fix);
    if (!fs.existsSync(dir)) throw refuse(`${dir} does not exist`, "point it at a folder of .rego files");
    const files: Record<string, string> = {};
    for (const name of fs.readdirSync(dir).sort()) {
        if ((name.endsWith(".rego") && !name.endsWith("_test.rego")) || name === "data.json") {
            if (!isPlainFileName(name)) {
                throw refuse(
                    `${JSON.stringify(name)} in ${dir}: a policy file name may hold only letters, digits, '.', '_' ` +
                        "and '-', and not start with '.'",
                    "rename the file",
                );
            }
            files[name] = fs.readFileSync(path.join(dir, name), "utf8");
        }
    }
    if (!Object.keys(files).some((n) => n.endsWith(".rego"))) {
        throw refuse(`${dir} holds no .rego file`, "point it at the policy folder");
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
 * the hosts would get, its errors on one line. Needs `opa` (the project's toolchain puts it on PATH; `opaPath`
 * names another).
 */
export function assertPolicyCompiles(files: Record<string, string>, opaPath = "opa", owner = "fleet"): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-policy-"));
    try {
        for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
        execFileSync(opaPath, ["check", "--strict", dir], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
        if (err.code === "ENOENT") {
            throw new HostInputError(
                owner,
                "policy.opaPath",
                `${opaPath} not found, so the policy cannot be checked`,
                "install opa (npm run setup) or set policy.opaPath",
            );
        }
        const detail = `${err.stdout ?? ""}${err.stderr ?? ""}`.split(dir + "/").join("");
        const lines = detail
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean);
        throw new HostInputError(
            owner,
            "policy.directory",
            `the policy does not compile, so no host was changed: ${lines.slice(0, 6).join(" ")}`,
            "correct the policy (opa check --strict on its folder)",
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
