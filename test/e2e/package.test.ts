import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, inventory, onHost, pulumi, pulumiEnv } from "./support";
import { dockerApi, dockerdPid } from "./docker";

// The npm package as a user gets it, proven from outside the repository: `npm pack`, a separate Pulumi project in
// a temporary folder that installs the tarball with npm, and a 9-line program hardening fleet host h6 through the
// real CLI: up, a no-op up, destroy. The program and the install command are the README's ("Using the component
// in your own program"); keep them identical.
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs, HardenedDockerFleet } from "hardened-docker-host";

const connection = new pulumi.Config().requireSecretObject<ConnectionArgs>("connection");
const fleet = new HardenedDockerFleet("fleet", {
    hosts: [{ name: "h6", connection, overrides: { policy: { hostDirectory: "/etc/docker/h6-policies" } } }],
    daemonConfig: { "insecure-registries": ["localhost:5000"] },
    policy: { data: { docker: { authz_config: { trusted_users: ["ops"] } } } },
});
export const hosts = fleet.hostOutputs;
`;

const fleet = inventory();
const h6 = fleet.hosts.find((h) => h.name === "h6");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-package-"));
const project = path.join(work, "project");
const sdkVersion = (
    JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8")) as {
        version: string;
    }
).version;

// The user's shell: our pulumi, opa and Node.js 22 on PATH, but nothing of the repository's node_modules, and a
// backend of the project's own.
const base = pulumiEnv();
const env: NodeJS.ProcessEnv = {
    ...base,
    PATH: (base.PATH ?? "")
        .split(":")
        .filter((p) => p !== path.join(ROOT, "node_modules/.bin"))
        .join(":"),
    PULUMI_BACKEND_URL: `file://${path.join(work, "backend")}`,
};
const run = (args: string[]) => {
    const dashes = args.includes("--") ? args.indexOf("--") : args.length; // flags before a `--`
    const r = pulumi(project, [...args.slice(0, dashes), "--stack", "dev", ...args.slice(dashes)], env);
    const out = r.stdout + r.stderr;
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${out}`);
    // Quiet: no plugin found on $PATH, no stack trace.
    expect(out).not.toMatch(/from \$PATH/);
    expect(out).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    return out;
};
const sh = (cmd: string, args: string[], cwd: string) =>
    execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const hostFile = (f: string) => onHost("h6", `cat ${f} 2>/dev/null || echo ABSENT`);

const before = { daemonJson: "", subuid: "", subgid: "" };
let destroyed = false;

beforeAll(() => {
    if (!h6)
        throw new Error(
            "fleet host h6 is missing from .fleet/inventory.json. " +
                "Fix: bring the fleet up with 6 hosts (HDH_FLEET_SIZE=6)",
        );
    before.daemonJson = hostFile("/etc/docker/daemon.json");
    before.subuid = hostFile("/etc/subuid");
    before.subgid = hostFile("/etc/subgid");
    fs.mkdirSync(path.join(work, "backend"), { recursive: true });
});

afterAll(() => {
    if (!destroyed && fs.existsSync(path.join(project, "Pulumi.dev.yaml")))
        pulumi(project, ["destroy", "--yes", "--stack", "dev"], env);
    fs.rmSync(work, { recursive: true, force: true });
}, 10 * 60_000);

describe("the npm package in a Pulumi project of its own", () => {
    let tarball = "";

    test(
        "npm pack: compiled JavaScript and declarations, the policy without tests, plugin/VERSION, the host scripts; " +
            "no TypeScript to run",
        () => {
            sh("npm", ["run", "build", "--silent"], ROOT);
            const [packed] = JSON.parse(
                sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], ROOT),
            ) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
            tarball = path.join(work, packed.filename);
            console.log(
                `package: ${packed.filename}, ${(packed.size / 1024).toFixed(1)} kB packed, ` +
                    `${(packed.unpackedSize / 1024).toFixed(1)} kB unpacked, ${packed.files.length} files`,
            );
            const files = packed.files.map((f) => f.path);
            expect(files).toEqual(
                expect.arrayContaining([
                    "package.json",
                    "dist/components/index.js",
                    "dist/components/index.d.ts",
                    "dist/components/providers/lazyProvider.js",
                    "policies/authz.rego",
                    "policies/data.json",
                    "plugin/VERSION",
                    "components/host/sh/docker.sh",
                ]),
            );
            expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
            expect(files.filter((f) => f.endsWith("_test.rego") || f.startsWith("policies/testdata"))).toEqual([]);
            // Of the sources, only the host scripts the steps send (read at run time, like the policy).
            const hostScript = /^components\/host\/sh\/[\w-]+\.sh$/;
            expect(
                files.filter((f) => /^(test|scripts|index\.ts|components)\b/.test(f) && !hostScript.test(f)),
            ).toEqual([]);
        },
        5 * 60_000,
    );

    test(
        "installed with npm into a new project: up hardens h6 (its own policy folder, the fleet's policy data), " +
            "a second up changes nothing, destroy gives h6 back",
        () => {
            fs.mkdirSync(project);
            fs.writeFileSync(
                path.join(project, "Pulumi.yaml"),
                "name: hdh-package-e2e\nruntime: nodejs\ndescription: HardenedDockerFleet from the npm package\n",
            );
            fs.writeFileSync(
                path.join(project, "package.json"),
                JSON.stringify(
                    {
                        name: "hdh-package-e2e",
                        private: true,
                        main: "index.ts",
                        dependencies: { "@pulumi/pulumi": sdkVersion },
                    },
                    null,
                    2,
                ),
            );
            fs.writeFileSync(
                path.join(project, "tsconfig.json"),
                JSON.stringify(
                    {
                        compilerOptions: {
                            strict: true,
                            target: "es2020",
                            module: "commonjs",
                            moduleResolution: "node",
                            skipLibCheck: true,
                        },
                        files: ["index.ts"],
                    },
                    null,
                    2,
                ),
            );
            fs.writeFileSync(path.join(project, "index.ts"), PROGRAM);
            expect(PROGRAM.trimEnd().split("\n").length).toBeLessThanOrEqual(10);

            const start = Date.now();
            // The cache setup filled answers first: a registry hiccup does not fail the suite.
            sh("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], project);
            const installed = Date.now();

            run(["stack", "init"]);
            run(["config", "set", "--path", "connection.host", h6!.address]);
            run(["config", "set", "--path", "connection.port", String(h6!.port)]);
            run(["config", "set", "--path", "connection.hostKey", h6!.hostKey]);
            run([
                "config",
                "set",
                "--path",
                "--secret",
                "connection.privateKey",
                "--",
                fs.readFileSync(fleet.keyPath, "utf8"),
            ]);
            const up = run(["up", "--yes"]);
            const finished = Date.now();
            console.log(
                `npm install of the tarball: ${((installed - start) / 1000).toFixed(1)} s; ` +
                    `npm install to a finished pulumi up: ${((finished - start) / 1000).toFixed(1)} s`,
            );
            expect(up).toMatch(/created/);

            // The package from its own location: entry point, the shipped policy and plugin version, and no ts-node.
            const pkg = path.join(project, "node_modules/hardened-docker-host");
            const entry = JSON.parse(
                sh(
                    "node",
                    [
                        "-e",
                        `const m = require("hardened-docker-host"); ` +
                            `console.log(JSON.stringify({ keys: Object.keys(m).sort(), ` +
                            `policy: m.DEFAULT_POLICY_DIR, version: m.PLUGIN_VERSION }))`,
                    ],
                    project,
                ),
            );
            expect(entry.keys).toEqual([
                "DEFAULT_POLICY_DIR",
                "HardenedDockerFleet",
                "HardenedDockerHost",
                "PLUGIN_VERSION",
            ]);
            expect(entry.policy).toBe(path.join(pkg, "policies"));
            expect(entry.version).toBe(fs.readFileSync(path.join(ROOT, "plugin/VERSION"), "utf8").trim());
            const code = fs
                .readdirSync(path.join(pkg, "dist"), { recursive: true, encoding: "utf8" })
                .filter((f) => f.endsWith(".js"));
            for (const f of code)
                expect(fs.readFileSync(path.join(pkg, "dist", f), "utf8")).not.toMatch(
                    /require(\.resolve)?\(["']ts-node|ts-node\/register/,
                );
            // Its declarations type the program (the CLI only transpiles it): ConnectionArgs, the fleet's arguments.
            sh(path.join(ROOT, "node_modules/.bin/tsc"), ["--noEmit", "-p", "."], project);

            // h6 hardened: remap range, daemon.json, plugin enforcing the policy.
            expect(hostFile("/etc/subuid")).toMatch(/^dockremap:\d+:65536$/m);
            const cfg = JSON.parse(hostFile("/etc/docker/daemon.json"));
            expect(cfg["userns-remap"]).toBe("dockremap");
            expect(cfg["authorization-plugins"]).toEqual(["hdh-authz"]);
            expect(onHost("h6", "docker plugin inspect -f '{{.PluginReference}} {{.Enabled}}' hdh-authz").trim()).toBe(
                `${fleet.registry}/hdh/opa-authz:${entry.version} true`,
            );
            const denied = dockerApi("h6", "POST", "/v1.41/containers/create", {
                Image: `${fleet.registry}/hdh/busybox:1`,
                User: "1000",
                HostConfig: { Privileged: true },
            });
            expect(denied.message).toMatch(/authorization denied by plugin hdh-authz/);
            // The host's own policy folder (an override of one policy field) holds the fleet's policy and data.
            const mounts = '{{range .Settings.Mounts}}{{if eq .Destination "/opa/policies"}}{{.Source}}{{end}}{{end}}';
            expect(onHost("h6", `docker plugin inspect -f '${mounts}' hdh-authz`).trim()).toBe(
                "/etc/docker/h6-policies",
            );
            const data = JSON.parse(hostFile("/etc/docker/h6-policies/data.json"));
            expect(data.docker.authz_config.trusted_users).toEqual(["ops"]);
            const outputs = JSON.parse(run(["stack", "output", "hosts", "--show-secrets", "--json"]));
            expect(outputs.h6.authorizationActive).toBe(true);

            // The state's dynamic providers load the package's compiled code, in the project, not the repository's.
            const state = run(["stack", "export"]);
            expect(state).toContain(path.join(pkg, "dist/components/providers/"));
            expect(state).not.toContain(path.join(ROOT, "components/providers"));
            expect(state).not.toContain(path.join(ROOT, "dist"));

            const pid = dockerdPid("h6");
            const again = run(["up", "--yes"]);
            expect(again).toMatch(/\d+ unchanged/);
            expect(again).not.toMatch(/ (created|updated|deleted|replaced)/);
            expect(dockerdPid("h6")).toBe(pid);

            run(["destroy", "--yes"]);
            destroyed = true;
            expect(hostFile("/etc/docker/daemon.json")).toBe(before.daemonJson);
            expect(hostFile("/etc/subuid")).toBe(before.subuid);
            expect(hostFile("/etc/subgid")).toBe(before.subgid);
            expect(onHost("h6", "docker plugin ls -q | wc -l").trim()).toBe("0");
            expect(onHost("h6", "docker info -f '{{.DockerRootDir}}'").trim()).toBe("/var/lib/docker");
        },
        20 * 60_000,
    );
});
