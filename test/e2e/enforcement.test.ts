import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, inventory, onHost, pulumi, pulumiOk, removeStack } from "./support";
import { certificates, dockerApi } from "./docker";

// The policy's enforcement suite: every route of policies/testdata/routes.json issued for real, as raw Docker
// API requests on the socket of a host hardened by the component, and the plugin's answer compared with the
// expectation. Prints a table: route, expected, observed.

/** One route of the table (see policies/README.md). */
interface Route {
    name: string;
    method: string;
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
    note?: string;
    expect: "allow" | "deny";
    rule?: string;
}

const fleet = inventory();
const host = fleet.hosts[0];
const stack = `enforce-${process.pid}`;
const run = (args: string[]) => pulumiOk(ROOT, [...args, "--stack", stack]);
const routes = (
    JSON.parse(fs.readFileSync(path.join(ROOT, "policies/testdata/routes.json"), "utf8")) as { routes: Route[] }
).routes;
const image = `${fleet.registry}/hdh/busybox:1`;

/** Fills the placeholders a route may use (policies/testdata/routes.json lists them). */
function fill<T>(v: T, values: Record<string, string>): T {
    return JSON.parse(
        JSON.stringify(v).replace(/\{(image|image_repo|image_tag|container|exec)\}/g, (_, k: string) => values[k]),
    ) as T;
}

/** A build context (tar with a Dockerfile FROM the test image), for the build routes. */
function buildContext(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-ctx-"));
    fs.writeFileSync(path.join(dir, "Dockerfile"), `FROM ${image}\nUSER 1000\n`);
    execFileSync("tar", ["-C", dir, "-cf", `${dir}.tar`, "Dockerfile"]);
    fs.rmSync(dir, { recursive: true });
    return `${dir}.tar`;
}

/** Whether the daemon's answer is a refusal by our plugin, and the message. */
function deniedByPlugin(message: string): boolean {
    return /authorization denied by plugin hdh-authz/.test(message);
}

beforeAll(() => {
    removeStack(ROOT, stack);
    run(["stack", "init"]);
    const h = {
        name: host.name,
        host: host.address,
        port: host.port,
        hostKey: host.hostKey,
        privateKeyPath: fleet.keyPath,
    };
    run([
        "config",
        "set-all",
        "--path",
        ...Object.entries(h).flatMap(([k, v]) => ["--plaintext", `hosts[0].${k}=${v}`]),
    ]);
    run(["config", "set", "--path", "daemonConfig.insecure-registries[0]", fleet.registry]);
    run(["up", "--yes"]);
}, 600_000);

afterAll(() => {
    // What the allowed routes made goes first: with live-restore, containers would outlive the remap's end.
    const all = dockerApi(host.name, "GET", "/v1.41/containers/json?all=1").body as { Id: string }[];
    for (const c of Array.isArray(all) ? all : [])
        dockerApi(host.name, "DELETE", `/v1.41/containers/${c.Id}?force=1&v=1`);
    pulumi(ROOT, ["destroy", "--yes", "--stack", stack]);
    removeStack(ROOT, stack);
    onHost(host.name, "rm -rf /etc/docker/tls");
});

test(`the policy refuses every known route and allows everyday work (${routes.length} routes, real requests)`, () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(dockerApi(host.name, "POST", `/v1.41/images/create?fromImage=${encodeURIComponent(image)}`).status).toBe(
        200,
    );
    const sleeper = dockerApi(host.name, "POST", "/v1.41/containers/create", {
        Image: image,
        User: "1000:1000",
        Cmd: ["sleep", "600"],
    });
    expect(sleeper.status).toBe(201);
    const container = (sleeper.body as { Id: string }).Id;
    expect(dockerApi(host.name, "POST", `/v1.41/containers/${container}/start`).status).toBe(204);
    const exec = dockerApi(host.name, "POST", `/v1.41/containers/${container}/exec`, { User: "1000", Cmd: ["true"] });
    expect(exec.status).toBe(201);
    const [repo, tag] = [image.slice(0, image.lastIndexOf(":")), image.slice(image.lastIndexOf(":") + 1)];
    const values = {
        image,
        image_repo: encodeURIComponent(repo),
        image_tag: tag,
        container,
        exec: (exec.body as { Id: string }).Id,
    };
    const context = buildContext();

    const rows: string[][] = [];
    const wrong: string[] = [];
    for (const r of routes) {
        const headers = r.headers ?? {};
        const tar = headers["Content-Type"] === "application/x-tar";
        const body = tar
            ? { file: context }
            : r.body === undefined || r.body === null
              ? undefined
              : fill(r.body, values);
        const answer = dockerApi(host.name, r.method, fill(r.path, values), body, headers);
        const refused = deniedByPlugin(answer.message);
        const observed = refused
            ? `deny: ${answer.message.replace(/^.*hdh-authz(:latest)?: /, "")}`
            : `allow (HTTP ${answer.status})`;
        const ok = r.expect === "deny" ? refused && (!r.rule || answer.message.includes(`(rule ${r.rule})`)) : !refused;
        rows.push([ok ? "ok" : "WRONG", r.name, r.expect, observed.slice(0, 110)]);
        if (!ok)
            wrong.push(`${r.name}: expected ${r.expect}${r.rule ? ` (rule ${r.rule})` : ""}, observed ${observed}`);
    }
    const width = Math.max(...rows.map((row) => row[1].length));
    console.log(
        [
            "route".padEnd(width + 6) + "expected  observed",
            ...rows.map(([ok, name, exp, obs]) => `${ok.padEnd(5)} ${name.padEnd(width)} ${exp.padEnd(9)} ${obs}`),
        ].join("\n"),
    );
    const denies = routes.filter((r) => r.expect === "deny").length;
    console.log(
        `${denies} refused routes and ${routes.length - denies} allowed commands tested; ${wrong.length} wrong`,
    );
    expect(wrong).toEqual([]);
});

test(
    "named exceptions come from policy data: over TLS, " +
        "a trusted identity and an excepted one pass only where named",
    () => {
        // The operator's setup through the component: a TLS listener that verifies clients, and policy data naming
        // a trusted operator and a CI identity excepted from one rule only.
        const files = certificates(["ops-admin", "ci", "alice"]);
        for (const [name, text] of Object.entries(files))
            onHost(host.name, `mkdir -p /etc/docker/tls && umask 077 && cat > /etc/docker/tls/${name}`, text);
        const settings: [string, string][] = [
            ["daemonConfig.hosts[0]", "unix:///var/run/docker.sock"],
            ["daemonConfig.hosts[1]", "tcp://127.0.0.1:2376"],
            ["daemonConfig.tlscacert", "/etc/docker/tls/ca.pem"],
            ["daemonConfig.tlscert", "/etc/docker/tls/server.pem"],
            ["daemonConfig.tlskey", "/etc/docker/tls/server.key"],
            ["policyData.docker.authz_config.trusted_users[0]", "ops-admin"],
            ["policyData.docker.authz_config.exceptions[0].users[0]", "ci"],
            ["policyData.docker.authz_config.exceptions[0].rules[0]", "bind_mount"],
        ];
        for (const [k, v] of settings) run(["config", "set", "--path", k, v]);
        // Without client verification the listener is refused at preview, before the host changes.
        const open = pulumi(ROOT, ["preview", "--stack", stack]);
        expect(open.code).not.toBe(0);
        expect(open.stdout + open.stderr).toMatch(
            new RegExp(
                /host h1: daemonConfig\.hosts: "tcp:\/\/127\.0\.0\.1:2376" /.source +
                    /listens on the network without TLS client verification.*Fix:/.source,
            ),
        );
        run(["config", "set", "--path", "daemonConfig.tlsverify", "true"]);
        run(["up", "--yes"]);

        const create = (who: string, hostConfig: Record<string, unknown>) => {
            const out = onHost(
                host.name,
                `curl -s -w '\\n%{http_code}' --cacert /etc/docker/tls/ca.pem ` +
                    `--cert /etc/docker/tls/${who}.pem --key /etc/docker/tls/${who}.key ` +
                    `-H 'Content-Type: application/json' -d @- https://127.0.0.1:2376/v1.41/containers/create`,
                JSON.stringify({ Image: image, User: "1000", HostConfig: hostConfig }),
            );
            const i = out.lastIndexOf("\n");
            return { status: Number(out.slice(i + 1)), text: out.slice(0, i) };
        };
        const privileged = { Privileged: true, UsernsMode: "host" }; // (under userns-remap the daemon wants both)
        const hostBind = { Binds: ["/etc:/host-etc:ro"] };
        const observed = {
            "ops-admin privileged": create("ops-admin", privileged),
            "ci host bind": create("ci", hostBind),
            "ci privileged": create("ci", privileged),
            "alice host bind": create("alice", hostBind),
        };
        console.log(
            Object.entries(observed)
                .map(([k, v]) => `${k.padEnd(22)} HTTP ${v.status} ${v.text.slice(0, 100)}`)
                .join("\n"),
        );
        expect(observed["ops-admin privileged"].status).toBe(201);
        expect(observed["ci host bind"].status).toBe(201);
        expect(observed["ci privileged"].text).toMatch(/authorization denied by plugin hdh-authz.*\(rule privileged\)/);
        expect(observed["alice host bind"].text).toMatch(
            /authorization denied by plugin hdh-authz.*\(rule bind_mount\)/,
        );
        // The anonymous local socket is not excepted from anything.
        expect(
            dockerApi(host.name, "POST", "/v1.41/containers/create", {
                Image: image,
                User: "1000",
                HostConfig: hostBind,
            }).message,
        ).toMatch(/\(rule bind_mount\)/);
    },
);
