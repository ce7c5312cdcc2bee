import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, inventory, inventoryOf, onHost, pulumi, pulumiOk, removeStack } from "./support";
import { dockerApi, dockerdPid } from "./docker";
import { parseProbe, probeScript } from "../../components/host/probe";
import { answeredBy } from "../../components/plan/authorization";
import { PLUGIN_VERSION } from "../../components/hardenedDockerHost";

// HardenedDockerHost end to end, through the real `pulumi` CLI on the local fleet: h1 (root login, no
// daemon.json), h2 (sudo user, another user's subordinate range), h3 (daemon.json with the operator's keys).
const fleet = inventory();
const stack = `e2e-${process.pid}`;
const hosts = ["h1", "h2", "h3"];
const run = (args: string[]) => pulumiOk(ROOT, [...args, "--stack", stack]);
const hostFile = (h: string, f: string) => onHost(h, `cat ${f} 2>/dev/null || echo ABSENT`);

const before: Record<string, { daemonJson: string; subuid: string }> = {};

beforeAll(() => {
    for (const h of hosts)
        before[h] = { daemonJson: hostFile(h, "/etc/docker/daemon.json"), subuid: hostFile(h, "/etc/subuid") };
    removeStack(ROOT, stack);
    run(["stack", "init"]);
    run(["config", "set", "inventory", inventoryOf(hosts)]);
    run(["config", "set", "--path", "rollout.batches[0]", "100%"]); // one batch: this suite is about each host
    run(["config", "set", "--path", "users.h2", "deploy"]);
    run(["config", "set", "--path", "daemonConfig.insecure-registries[0]", "localhost:5000"]);
});

afterAll(() => {
    pulumi(ROOT, ["destroy", "--yes", "--stack", stack]);
    removeStack(ROOT, stack);
});

describe("HardenedDockerHost on the local fleet", () => {
    test("bad input is refused at preview, naming host, field and fix, and no host changes", () => {
        run(["config", "set", "--path", "daemonConfig.icc-typo", "false"]);
        const r = pulumi(ROOT, ["preview", "--diff", "--stack", stack]);
        run(["config", "rm", "--path", "daemonConfig.icc-typo"]);
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/host h\d: daemonConfig\.icc-typo: unknown daemon.json key.*Fix:/);
        for (const h of hosts) expect(hostFile(h, "/etc/docker/daemon.json")).toBe(before[h].daemonJson);
    });

    test("enabling userns-remap over existing images is refused at preview unless allowed, and nothing changes", () => {
        const pulled = dockerApi("h1", "POST", `/v1.41/images/create?fromImage=${fleet.registry}/hdh/busybox&tag=1`);
        expect(pulled.status).toBe(200);
        const r = pulumi(ROOT, ["preview", "--diff", "--stack", stack]);
        dockerApi("h1", "DELETE", `/v1.41/images/${encodeURIComponent(`${fleet.registry}/hdh/busybox:1`)}`);
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(
            new RegExp(
                /host h1: userns: changing userns-remap would hide 0 container\(s\) and 1 image\(s\)/.source +
                    /.*Fix: .*allowDataRootMove/.source,
            ),
        );
        expect(hostFile("h1", "/etc/docker/daemon.json")).toBe(before.h1.daemonJson);
    });

    test("a policy that does not compile is refused before it reaches any host", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-bad-policy-"));
        fs.writeFileSync(path.join(dir, "authz.rego"), "package docker.authz\n\nimport rego.v1\n\nallow if {\n");
        run(["config", "set", "policyDirectory", dir]);
        const r = pulumi(ROOT, ["up", "--yes", "--stack", stack]);
        run(["config", "rm", "policyDirectory"]);
        fs.rmSync(dir, { recursive: true });
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(
            new RegExp(
                /host fleet: policy\.directory: the policy does not compile, so no host was changed: /.source +
                    /[^\n]*authz\.rego:\d+[^\n]*Fix: /.source,
            ),
        );
        for (const h of hosts) {
            expect(hostFile(h, "/etc/docker/daemon.json")).toBe(before[h].daemonJson);
            expect(hostFile(h, "/etc/subuid")).toBe(before[h].subuid);
        }
    });

    test("a sudo user that needs a password: the host is skipped with one warning naming the fix", () => {
        run(["config", "set", "--path", "users.h1", "nosudo"]);
        const r = pulumi(ROOT, ["preview", "--stack", stack]);
        run(["config", "rm", "--path", "users.h1"]);
        // In a fleet a host that cannot be used does not stop the others' preview (the last gate fails at up).
        expect(r.code).toBe(0);
        expect(r.stdout + r.stderr).toMatch(
            /warning: host h1: connection\.sudo: user nosudo cannot run sudo without a password\. Fix: /,
        );
        // errors never show the key
        expect(r.stdout + r.stderr).not.toContain(fs.readFileSync(fleet.keyPath, "utf8").split("\n")[1]);
    });

    test(
        "preview --diff shows each host's daemon.json keys, the policy, the ID range, " +
            "the plugin and a Docker restart",
        () => {
            const out = run(["preview", "--diff"]);
            for (const h of hosts) expect(out).toContain(`HardenedDockerHost::${h}`);
            expect(out).toMatch(/userns-remap\s*:\s*"dockremap"/);
            expect(out).toMatch(/dockerAction\s*:\s*"restart dockerd"/);
            expect(out).toMatch(/authz\.rego/);
            expect(out).toMatch(/owner\s*:\s*"dockremap"/);
            // The range is planned at preview, the same on every host: the lowest free on all
            // (h2 has alice's [231072, 296608)).
            const ranges = [...out.matchAll(/range\s*:\s*"dockremap:(\d+):65536"/g)].map((m) => Number(m[1]));
            expect(ranges).toEqual([296608, 296608, 296608]);
            expect(out).toMatch(/reference\s*:\s*"localhost:5000\/hdh\/opa-authz:/);
        },
    );

    test("up hardens every host: remap range, merged daemon.json, plugin enforcing the policy", () => {
        const out = run(["up", "--yes"]);
        expect(out).toMatch(/created/);
        for (const h of hosts) {
            const subuid = hostFile(h, "/etc/subuid");
            expect(subuid.startsWith(before[h].subuid)).toBe(true); // other lines kept byte for byte
            expect(subuid).toMatch(/^dockremap:\d+:65536$/m);
            const cfg = JSON.parse(hostFile(h, "/etc/docker/daemon.json"));
            expect(cfg["userns-remap"]).toBe("dockremap");
            expect(cfg["authorization-plugins"]).toEqual(["hdh-authz"]);
            expect(cfg.icc).toBe(false);
            const denied = dockerApi(h, "POST", "/v1.41/containers/create", {
                Image: `${fleet.registry}/hdh/busybox:1`,
                User: "1000",
                HostConfig: { Privileged: true },
            });
            expect(denied.message).toMatch(/authorization denied by plugin hdh-authz(:latest)?: .*privileged/i);
        }
        // h2: alice's range [231072, 296608) is not overlapped; h3: the operator's keys survive.
        const h2 = hostFile("h2", "/etc/subuid").match(/^dockremap:(\d+):(\d+)$/m)!;
        expect(Number(h2[1]) >= 296608 || Number(h2[1]) + Number(h2[2]) <= 231072).toBe(true);
        const h3 = JSON.parse(hostFile("h3", "/etc/docker/daemon.json"));
        expect(h3.labels).toEqual(["team=blue", "fleet=local"]);
        expect(h3["log-opts"].labels).toBe("team");
    });

    test(
        "the plugin fails closed without its policy and recovers when the file is back, " + "without restarting Docker",
        () => {
            const pid = dockerdPid("h1");
            const policy = onHost("h1", "cat /etc/docker/policies/authz.rego");
            onHost("h1", "mv /etc/docker/policies/authz.rego /root/authz.rego.away");
            const refused = dockerApi("h1", "GET", "/v1.41/containers/json");
            expect(refused.status).toBe(403);
            expect(refused.message).toMatch(/authorization denied by plugin hdh-authz(:latest)?: .*polic/i);
            onHost("h1", "mv /root/authz.rego.away /etc/docker/policies/authz.rego");
            expect(onHost("h1", "cat /etc/docker/policies/authz.rego")).toBe(policy);
            const allowed = dockerApi("h1", "GET", "/v1.41/containers/json");
            expect(allowed.status).toBe(200);
            expect(dockerdPid("h1")).toBe(pid);
        },
    );

    test("the state holds no private key in clear text", () => {
        const key = fs.readFileSync(fleet.keyPath, "utf8").split("\n")[1];
        const exported = run(["stack", "export"]);
        expect(exported).toContain("hdh-authz");
        expect(exported).not.toContain(key);
    });

    test("a second up changes nothing and restarts no Docker", () => {
        const pids = hosts.map(dockerdPid);
        const out = run(["up", "--yes"]);
        expect(out).not.toMatch(/updated|created|replaced|deleted/);
        expect(hosts.map(dockerdPid)).toEqual(pids);
    });

    test("a host without curl is read the same through the Docker CLI", () => {
        // `curl` that cannot run: the preflight falls back to the CLI, as on a host without curl.
        const [api, cli] = ["", "curl() { return 127; }\n"].map((prefix) =>
            parseProbe(onHost("h1", prefix + probeScript)),
        );
        expect(api.dockerVersion).not.toBe("");
        expect(answeredBy(api.authzAnswer, "hdh-authz")).toBe(true);
        expect(answeredBy(cli.authzAnswer, "hdh-authz")).toBe(true);
        const { authzAnswer: _a, dockerInfo: apiInfo, ...apiFacts } = api;
        const { authzAnswer: _c, dockerInfo: cliInfo, ...cliFacts } = cli;
        expect(cliFacts).toEqual(apiFacts);
        expect(cliInfo?.SecurityOptions).toEqual(apiInfo?.SecurityOptions);
    });

    test("a daemon.json that stops Docker is rolled back: the host keeps its file and a running Docker", () => {
        const sha = onHost("h1", "sha256sum < /etc/docker/daemon.json");
        run(["config", "set", "--path", "daemonConfig.bip", "not-an-address"]);
        const r = pulumi(ROOT, ["up", "--yes", "--stack", stack]);
        run(["config", "rm", "--path", "daemonConfig.bip"]);
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(
            new RegExp(
                /host h1: applying daemon\.json \(restart\) failed.*/.source +
                    /Docker did not come back healthy with the new daemon\.json; /.source +
                    /the previous one was restored/.source,
                "s",
            ),
        );
        expect(onHost("h1", "sha256sum < /etc/docker/daemon.json")).toBe(sha);
        expect(onHost("h1", "docker version -f '{{.Server.Version}}'").trim()).toMatch(/^20\.10/);
        expect(run(["up", "--yes"])).not.toMatch(/updated|created|replaced|deleted/);
    });

    test("policy data changes (an allowed bind path) reach every host and are proven by the canary", () => {
        const denied = dockerApi("h3", "POST", "/v1.41/containers/create", {
            Image: `${fleet.registry}/hdh/busybox:1`,
            User: "1000",
            HostConfig: { Binds: ["/var/shared:/data:ro"] },
        });
        expect(denied.message).toMatch(/rule bind_mount/);
        const current = JSON.parse(onHost("h3", "cat /etc/docker/policies/data.json"));
        const allow = [...current.docker.authz_config.bind_mounts, { path: "/var/shared", read_only: true }];
        allow.forEach((m: { path: string; read_only: boolean }, i: number) => {
            run(["config", "set", "--path", `policyData.docker.authz_config.bind_mounts[${i}].path`, m.path]);
            run([
                "config",
                "set",
                "--path",
                `policyData.docker.authz_config.bind_mounts[${i}].read_only`,
                String(m.read_only),
            ]);
        });
        const preview = run(["preview", "--diff"]);
        expect(preview).toMatch(/data\.json/);
        expect(preview).toMatch(/\/var\/shared/);
        run(["up", "--yes"]);
        onHost("h3", "mkdir -p /var/shared"); // /var is the host's own (an overlay)
        const allowed = dockerApi("h3", "POST", "/v1.41/containers/create", {
            Image: `${fleet.registry}/hdh/busybox:1`,
            User: "1000",
            HostConfig: { Binds: ["/var/shared:/data:ro"] },
        });
        expect(allowed.status).toBe(201);
        dockerApi("h3", "DELETE", `/v1.41/containers/${(allowed.body as { Id: string }).Id}?force=1`);
        run(["config", "rm", "policyData"]);
        run(["up", "--yes"]);
    });

    test("a policy that fails the canary never goes live: each host enforces the previous one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-strict-policy-"));
        for (const f of fs.readdirSync(path.join(ROOT, "policies"))) {
            if (f.endsWith(".rego") || f === "data.json")
                fs.copyFileSync(path.join(ROOT, "policies", f), path.join(dir, f));
        }
        // Compiles, but refuses everyday work: the canary's compliant container is refused.
        fs.writeFileSync(
            path.join(dir, "too_strict.rego"),
            "package docker.authz\n\nimport rego.v1\n\n" +
                'deny contains "nothing may run today (rule too_strict)" if input.Method == "POST"\n',
        );
        run(["config", "set", "policyDirectory", dir]);
        const r = pulumi(ROOT, ["up", "--yes", "--stack", stack]);
        expect(r.code).not.toBe(0);
        const said = r.stdout + r.stderr;
        expect(said).toMatch(/canary \(staged policy, not live\): a compliant container would be refused: .*too/);
        expect(said).toMatch(/the new policy was not made live; the live one is unchanged and plugin hdh-authz/);
        for (const h of hosts) {
            expect(onHost(h, "stat -c %a /var/run/docker.sock").trim()).toBe("660");
            expect(JSON.parse(hostFile(h, "/etc/docker/daemon.json"))["authorization-plugins"]).toEqual(["hdh-authz"]);
            expect(hostFile(h, "/etc/docker/policies/too_strict.rego")).toBe("ABSENT\n");
        }
        run(["config", "rm", "policyDirectory"]);
        fs.rmSync(dir, { recursive: true });
        run(["up", "--yes"]);
        for (const h of hosts) {
            expect(onHost(h, "stat -c '%a %G' /var/run/docker.sock").trim()).toBe("660 docker");
            expect(JSON.parse(hostFile(h, "/etc/docker/daemon.json"))["authorization-plugins"]).toEqual(["hdh-authz"]);
        }
    });

    test("a plugin upgrade under enforcement runs in the announced order and never weakens the policy", () => {
        const tag = `${PLUGIN_VERSION}-e2e${process.pid}`;
        execFileSync("bash", [
            "-c",
            `curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' ` +
                `http://127.0.0.1:5000/v2/hdh/opa-authz/manifests/${PLUGIN_VERSION} | ` +
                `curl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' ` +
                `--data-binary @- http://127.0.0.1:5000/v2/hdh/opa-authz/manifests/${tag}`,
        ]);
        run(["config", "set", "pluginImage", `${fleet.registry}/hdh/opa-authz:${tag}`]);
        const preview = run(["preview", "--diff"]);
        expect(preview).toMatch(
            new RegExp(
                `reference\\s*:\\s*"localhost:5000/hdh/opa-authz:${PLUGIN_VERSION.replace(/\./g, "\\.")}" => ` +
                    `"localhost:5000/hdh/opa-authz:${tag}"`,
            ),
        );
        expect(preview).toMatch(/changeProcedure\s*:\s*"new version enabled beside the enforcing one \(swap alias\);/);
        const pids = hosts.map(dockerdPid);
        run(["up", "--yes"]);
        for (const h of hosts) {
            expect(onHost(h, "docker plugin inspect -f '{{.PluginReference}} {{.Enabled}}' hdh-authz").trim()).toBe(
                `${fleet.registry}/hdh/opa-authz:${tag} true`,
            );
            expect(onHost(h, "stat -c %a /var/run/docker.sock").trim()).toBe("660");
            expect(JSON.parse(hostFile(h, "/etc/docker/daemon.json"))["authorization-plugins"]).toEqual(["hdh-authz"]);
            const denied = dockerApi(h, "POST", "/v1.41/containers/create", {
                Image: `${fleet.registry}/hdh/busybox:1`,
                User: "1000",
                HostConfig: { Privileged: true },
            });
            expect(denied.message).toMatch(/authorization denied by plugin hdh-authz/);
        }
        expect(hosts.map(dockerdPid)).toEqual(pids); // a reload, not a restart
        // Through the API, even root on the socket cannot change the plugin: the policy forbids it.
        const disable = dockerApi("h1", "POST", "/v1.41/plugins/hdh-authz/disable");
        expect(disable.message).toMatch(/authorization denied by plugin hdh-authz/);
    });

    test("refresh shows drift made by hand, and the next up repairs it", () => {
        // dockerd reloads asynchronously: until it has, the plugin still enforces and refuses the command.
        const onceReloaded = (command: string) =>
            `{ i=0; until ${command} >/dev/null 2>&1; do [ $((i += 1)) -lt 60 ] || exit 1; sleep 0.25; done; }`;
        onHost("h1", `sed -i 's/"icc": false/"icc": true/' /etc/docker/daemon.json`);
        onHost("h1", "rm -f /etc/docker/policies/authz.rego");
        onHost("h2", "sed -i '/^dockremap:/d' /etc/subuid");
        // An operator with root on h2 takes the plugin out of the request path, then disables it.
        onHost(
            "h2",
            `sed -i '/"authorization-plugins"/,/],/d' /etc/docker/daemon.json && ` +
                `kill -HUP $(cat /var/run/docker.pid) && ${onceReloaded("docker plugin disable hdh-authz")}`,
        );
        onHost("h3", "echo 'package evil' > /etc/docker/policies/evil.rego");
        onHost("h3", "sed -i '/^dockremap:/d' /etc/subgid");
        // ... and on h3 removes it altogether.
        onHost(
            "h3",
            `sed -i '/"authorization-plugins"/,/],/d' /etc/docker/daemon.json && ` +
                `kill -HUP $(cat /var/run/docker.pid) && ${onceReloaded("docker plugin rm -f hdh-authz")}`,
        );
        const refresh = run(["refresh", "--yes", "--diff"]);
        expect(refresh).toMatch(/icc\s*:\s*false\s*=>\s*true/);
        expect(refresh).toMatch(/authz\.rego/);
        expect(refresh).toMatch(/evil\.rego/);
        expect(refresh).toMatch(/start\s*:\s*\d+\s*=>\s*0/);
        expect(refresh).toMatch(/enabled\s*:\s*true\s*=>\s*false/);
        expect(refresh).toMatch(/active\s*:\s*true\s*=>\s*false/);
        expect(refresh).toMatch(/-\s*installedReference\s*:\s*"localhost:5000\/hdh\/opa-authz:[^"]+"/);
        run(["up", "--yes"]);
        expect(JSON.parse(hostFile("h1", "/etc/docker/daemon.json")).icc).toBe(false);
        expect(hostFile("h1", "/etc/docker/policies/authz.rego")).not.toBe("ABSENT\n");
        expect(hostFile("h2", "/etc/subuid")).toMatch(/^dockremap:\d+:65536$/m);
        expect(hostFile("h3", "/etc/docker/policies/evil.rego")).toBe("ABSENT\n");
        expect(onHost("h2", "docker plugin inspect -f '{{.Enabled}}' hdh-authz").trim()).toBe("true");
        expect(JSON.parse(hostFile("h2", "/etc/docker/daemon.json"))["authorization-plugins"]).toEqual(["hdh-authz"]);
        expect(hostFile("h3", "/etc/subgid")).toMatch(/^dockremap:\d+:65536$/m);
        expect(onHost("h3", "docker plugin inspect -f '{{.Enabled}}' hdh-authz").trim()).toBe("true");
        const denied = dockerApi("h3", "POST", "/v1.41/containers/create", {
            Image: `${fleet.registry}/hdh/busybox:1`,
            User: "1000",
            HostConfig: { Privileged: true },
        });
        expect(denied.message).toMatch(/authorization denied by plugin hdh-authz/);
        const second = run(["up", "--yes"]);
        expect(second).not.toMatch(/updated|created|replaced|deleted/);
    });

    test("destroy returns every host to a working unhardened state, keeping what operators added since", () => {
        // An operator adds an entry to one of our object keys on h2; destroy takes back only our entries.
        onHost("h2", `sed -i 's/"log-opts": {/"log-opts": { "compress": "true",/' /etc/docker/daemon.json`);
        run(["destroy", "--yes"]);
        expect(JSON.parse(hostFile("h2", "/etc/docker/daemon.json"))).toEqual({ "log-opts": { compress: "true" } });
        if (before.h2.daemonJson === "ABSENT\n") onHost("h2", "rm /etc/docker/daemon.json");
        else onHost("h2", "cat > /etc/docker/daemon.json", before.h2.daemonJson);
        for (const h of hosts) {
            expect(hostFile(h, "/etc/docker/daemon.json")).toBe(before[h].daemonJson);
            expect(hostFile(h, "/etc/subuid")).toBe(before[h].subuid);
            expect(onHost(h, "ls /etc/docker/policies 2>/dev/null | wc -l").trim()).toBe("0");
            expect(onHost(h, "docker plugin ls -q | wc -l").trim()).toBe("0");
            expect(onHost(h, "docker info -f '{{.DockerRootDir}}'").trim()).toBe("/var/lib/docker");
        }
    });
});
