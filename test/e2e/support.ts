import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The project root. */
export const ROOT = path.resolve(__dirname, "../..");

/** One host of the local fleet, as `scripts/fleet.sh up` wrote it to the inventory. */
export interface FleetHost {
    name: string;
    address: string;
    port: number;
    /** The host's SSH port inside the bastion's network (reachable only by jumping through the bastion). */
    bastionPort: number;
    users: string[];
    hostKey: string;
    dockerSocket: string;
}

/** The fleet inventory. */
export interface Inventory {
    registry: string;
    keyPath: string;
    /** The host that doubles as a bastion. */
    bastion: string;
    hosts: FleetHost[];
}

/** Reads the inventory of the running fleet (npm test brings it up first). */
export function inventory(): Inventory {
    const file = path.join(ROOT, ".fleet/inventory.json");
    if (!fs.existsSync(file)) throw new Error(`no fleet: ${file} is missing; run npm run fleet:up`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Inventory;
}

/** The environment every Pulumi command of the tests runs in (offline, local backend, our tools first). */
export function pulumiEnv(): NodeJS.ProcessEnv {
    const out = execFileSync("bash", ["-c", `source ${ROOT}/scripts/env.sh && env -0`], { encoding: "utf8" });
    const env: NodeJS.ProcessEnv = {};
    for (const kv of out.split("\0")) {
        const i = kv.indexOf("=");
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return env;
}

/** What a CLI run printed. */
export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the real `pulumi` CLI in a project folder, as a user would from a shell. */
export function pulumi(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): CliResult {
    const r = spawnSync("pulumi", args, {
        cwd,
        env: { ...pulumiEnv(), ...extraEnv },
        encoding: "utf8",
        timeout: 15 * 60_000,
    });
    const result = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    if (process.env.HDH_TEST_VERBOSE) console.log(`$ pulumi ${args.join(" ")}\n${result.stdout}${result.stderr}`);
    return result;
}

/** Like {@link pulumi} but throws with the output when the command fails. */
export function pulumiOk(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): string {
    const r = pulumi(cwd, args, extraEnv);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** Runs a shell command inside a fleet host (as its root), bypassing SSH: the tests' own view of the host. */
export function onHost(host: string, script: string, input?: string): string {
    return execFileSync("bash", [path.join(ROOT, "scripts/fleet.sh"), "exec", host, "sh", "-c", script], {
        encoding: "utf8",
        input,
    });
}

/** Removes the stack from the local backend, whatever state it is in. */
export function removeStack(cwd: string, stack: string): void {
    pulumi(cwd, ["stack", "rm", "--yes", "--force", "--stack", stack]);
}

/** An inventory file with only these hosts of the fleet (path relative to the project), for suites of a few hosts. */
export function inventoryOf(names: string[]): string {
    const inv = inventory();
    const rel = `.fleet/inventory-${names.join("-")}.json`;
    fs.writeFileSync(
        path.join(ROOT, rel),
        JSON.stringify({ ...inv, hosts: inv.hosts.filter((h) => names.includes(h.name)) }, null, 2),
    );
    return rel;
}

/** The time our DaemonConfig step last changed daemon.json on a host, from the host's own record. */
export function daemonJsonChangedAt(host: string): number {
    const text = onHost(host, "cat /var/lib/hardened-docker-host/daemon-json.json 2>/dev/null || echo '{}'");
    const at = (JSON.parse(text) as { at?: string }).at;
    return at ? Date.parse(at) : 0;
}
