import { ROOT, inventory, onHost, pulumi, pulumiOk, removeStack } from "./support";
import { dockerApi, dockerdPid } from "./docker";

// HardenedDockerHost end to end, through the real `pulumi` CLI on the local fleet: h1 (root login, no
// daemon.json), h2 (sudo user, another user's subordinate range), h3 (daemon.json with the operator's keys).
const fleet = inventory();
const stack = `e2e-${process.pid}`;
const hosts = fleet.hosts.map((h) => h.name);
const run = (args: string[]) => pulumiOk(ROOT, [...args, "--stack", stack]);
const hostFile = (h: string, f: string) => onHost(h, `cat ${f} 2>/dev/null || echo ABSENT`);

const before: Record<string, { daemonJson: string; subuid: string }> = {};

beforeAll(() => {
    for (const h of hosts) before[h] = { daemonJson: hostFile(h, "/etc/docker/daemon.json"), subuid: hostFile(h, "/etc/subuid") };
    removeStack(ROOT, stack);
    run(["stack", "init"]);
    run(["config", "set", "inventory", ".fleet/inventory.json"]);
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

    test("preview --diff shows each host's daemon.json keys, the policy, the ID range, the plugin and a Docker restart", () => {
        const out = run(["preview", "--diff"]);
        for (const h of hosts) expect(out).toContain(`HardenedDockerHost::${h}`);
        expect(out).toMatch(/userns-remap\s*:\s*"dockremap"/);
        expect(out).toMatch(/dockerAction\s*:\s*"restart dockerd"/);
        expect(out).toMatch(/authz\.rego/);
        expect(out).toMatch(/owner\s*:\s*"dockremap"/);
        expect(out).toMatch(/reference\s*:\s*"localhost:5000\/hdh\/opa-authz:/);
    });

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
            const denied = dockerApi(h, "POST", "/v1.41/containers/create", { Image: `${fleet.registry}/hdh/busybox:1`, User: "1000", HostConfig: { Privileged: true } });
            expect(denied.message).toMatch(/authorization denied by plugin hdh-authz(:latest)?: .*privileged/i);
        }
        // h2: alice's range [231072, 296608) is not overlapped; h3: the operator's keys survive.
        const h2 = hostFile("h2", "/etc/subuid").match(/^dockremap:(\d+):(\d+)$/m)!;
        expect(Number(h2[1]) >= 296608 || Number(h2[1]) + Number(h2[2]) <= 231072).toBe(true);
        const h3 = JSON.parse(hostFile("h3", "/etc/docker/daemon.json"));
        expect(h3.labels).toEqual(["team=blue", "fleet=local"]);
        expect(h3["log-opts"].labels).toBe("team");
    });

    test("a second up changes nothing and restarts no Docker", () => {
        const pids = hosts.map(dockerdPid);
        const out = run(["up", "--yes"]);
        expect(out).not.toMatch(/updated|created|replaced|deleted/);
        expect(hosts.map(dockerdPid)).toEqual(pids);
    });

    test("refresh shows drift made by hand, and the next up repairs it", () => {
        onHost("h1", `sed -i 's/"icc": false/"icc": true/' /etc/docker/daemon.json`);
        onHost("h1", "rm -f /etc/docker/policies/authz.rego");
        onHost("h2", "sed -i '/^dockremap:/d' /etc/subuid");
        onHost("h3", "echo 'package evil' > /etc/docker/policies/evil.rego");
        const refresh = run(["refresh", "--yes", "--diff"]);
        expect(refresh).toMatch(/icc\s*:\s*false\s*=>\s*true/);
        expect(refresh).toMatch(/authz\.rego/);
        expect(refresh).toMatch(/evil\.rego/);
        expect(refresh).toMatch(/start\s*:\s*\d+\s*=>\s*0/);
        run(["up", "--yes"]);
        expect(JSON.parse(hostFile("h1", "/etc/docker/daemon.json")).icc).toBe(false);
        expect(hostFile("h1", "/etc/docker/policies/authz.rego")).not.toBe("ABSENT\n");
        expect(hostFile("h2", "/etc/subuid")).toMatch(/^dockremap:\d+:65536$/m);
        expect(hostFile("h3", "/etc/docker/policies/evil.rego")).toBe("ABSENT\n");
    });

    test("destroy returns every host to a working unhardened state", () => {
        run(["destroy", "--yes"]);
        for (const h of hosts) {
            expect(hostFile(h, "/etc/docker/daemon.json")).toBe(before[h].daemonJson);
            expect(hostFile(h, "/etc/subuid")).toBe(before[h].subuid);
            expect(onHost(h, "ls /etc/docker/policies 2>/dev/null | wc -l").trim()).toBe("0");
            expect(onHost(h, "docker plugin ls -q | wc -l").trim()).toBe("0");
            expect(onHost(h, "docker info -f '{{.DockerRootDir}}'").trim()).toBe("/var/lib/docker");
        }
    });
});
