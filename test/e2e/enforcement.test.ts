import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, inventory, pulumi, pulumiOk, removeStack } from "./support";
import { dockerApi } from "./docker";

// The policy's enforcement suite: every route of policies/testdata/routes.json issued for real, as raw Docker
// API requests on the socket of a host hardened by the component, and the plugin's answer compared with the
// expectation. Prints a table: route, expected, observed.

/** One route of the table (see policies/README.md). */
interface Route {
    name: string;
    method: string;
    path: string;
    body?: unknown;
    contentType?: string;
    expect: "allow" | "deny";
    rule?: string;
}

const fleet = inventory();
const host = fleet.hosts[0];
const stack = `enforce-${process.pid}`;
const run = (args: string[]) => pulumiOk(ROOT, [...args, "--stack", stack]);
const routes = JSON.parse(fs.readFileSync(path.join(ROOT, "policies/testdata/routes.json"), "utf8")) as Route[];
const image = `${fleet.registry}/hdh/busybox:1`;

/** Fills the placeholders a route may use: {image}, {container} (a running compliant container), {volume}. */
function fill<T>(v: T, values: Record<string, string>): T {
    return JSON.parse(JSON.stringify(v).replace(/\{(image|container|volume)\}/g, (_, k: string) => values[k])) as T;
}

/** Whether the daemon's answer is a refusal by our plugin, and the message. */
function deniedByPlugin(message: string): boolean {
    return /authorization denied by plugin hdh-authz/.test(message);
}

beforeAll(() => {
    removeStack(ROOT, stack);
    run(["stack", "init"]);
    const h = { name: host.name, host: host.address, port: host.port, hostKey: host.hostKey, privateKeyPath: fleet.keyPath };
    run(["config", "set-all", "--path", ...Object.entries(h).flatMap(([k, v]) => ["--plaintext", `hosts[0].${k}=${v}`])]);
    run(["config", "set", "--path", "daemonConfig.insecure-registries[0]", fleet.registry]);
    run(["up", "--yes"]);
}, 600_000);

afterAll(() => {
    // What the allowed routes made goes first: with live-restore, containers would outlive the remap's end.
    const all = dockerApi(host.name, "GET", "/v1.41/containers/json?all=1").body as { Id: string }[];
    for (const c of Array.isArray(all) ? all : []) dockerApi(host.name, "DELETE", `/v1.41/containers/${c.Id}?force=1&v=1`);
    pulumi(ROOT, ["destroy", "--yes", "--stack", stack]);
    removeStack(ROOT, stack);
});

test(`the policy refuses every known route and allows everyday work (${routes.length} routes, real requests)`, () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(dockerApi(host.name, "POST", `/v1.41/images/create?fromImage=${encodeURIComponent(image)}`).status).toBe(200);
    const sleeper = dockerApi(host.name, "POST", "/v1.41/containers/create", { Image: image, User: "1000:1000", Cmd: ["sleep", "600"] });
    expect(sleeper.status).toBe(201);
    const container = (sleeper.body as { Id: string }).Id;
    expect(dockerApi(host.name, "POST", `/v1.41/containers/${container}/start`).status).toBe(204);
    const values = { image, container, volume: `hdh-enforce-${process.pid}` };

    const rows: string[][] = [];
    const wrong: string[] = [];
    for (const r of routes) {
        const headers: Record<string, string> = r.contentType ? { "Content-Type": r.contentType } : {};
        const body = r.body === undefined || r.body === null ? undefined : fill(r.body, values);
        const answer = dockerApi(host.name, r.method, fill(r.path, values), body, headers);
        const refused = deniedByPlugin(answer.message);
        const observed = refused ? `deny: ${answer.message.replace(/^.*hdh-authz(:latest)?: /, "")}` : `allow (HTTP ${answer.status})`;
        const ok = r.expect === "deny" ? refused && (!r.rule || answer.message.includes(`(rule ${r.rule})`)) : !refused;
        rows.push([ok ? "ok" : "WRONG", r.name, r.expect, observed.slice(0, 110)]);
        if (!ok) wrong.push(`${r.name}: expected ${r.expect}${r.rule ? ` (rule ${r.rule})` : ""}, observed ${observed}`);
    }
    const width = Math.max(...rows.map((row) => row[1].length));
    console.log(["route".padEnd(width + 6) + "expected  observed", ...rows.map(([ok, name, exp, obs]) => `${ok.padEnd(5)} ${name.padEnd(width)} ${exp.padEnd(9)} ${obs}`)].join("\n"));
    const denies = routes.filter((r) => r.expect === "deny").length;
    console.log(`${denies} refused routes and ${routes.length - denies} allowed commands tested; ${wrong.length} wrong`);
    expect(wrong).toEqual([]);
});
