import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { HardenedDockerHost, PLUGIN_VERSION } from "../../components/hardenedDockerHost";
import { FleetHost, ROOT, inventory, onHost, pulumiEnv } from "./support";
import { certificates, dockerApi, dockerdPid } from "./docker";

// Safety on the failure paths, end to end on fleet hosts h5 and h6, with the component in a program of its own
// (Automation API) so that every argument can change between runs: a TLS listener next to the unix socket, a
// policy that fails the canary (caught before it is live, or rolled back after), an alias change and a plugin
// upgrade while a client keeps sending privileged requests on both listeners, a destroy refused while a container
// runs under the remap, a move to another machine, and subuid/subgid lines given back line by line.

jest.setTimeout(900_000);

const fleet = inventory();
const byName = (n: string): FleetHost => {
    const h = fleet.hosts.find((x) => x.name === n);
    if (!h) throw new Error(`the fleet has no ${n}: run npm run fleet:up (6 hosts)`);
    return h;
};
const h5 = byName("h5");
const h6 = byName("h6");
const IMAGE = `${fleet.registry}/hdh/busybox:1`;
const UPGRADE_TAG = `${PLUGIN_VERSION}-safety${process.pid}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-safety-"));
const LOOP = "/root/hdh-safety-loop";

/** What the program gives the component; the tests change it between runs. */
const args = {
    target: h5,
    alias: "hdh-authz",
    image: undefined as string | undefined,
    policyDirectory: undefined as string | undefined,
    restartCommand: undefined as string | undefined,
    extraDaemonConfig: {} as Record<string, boolean>,
};

function program() {
    return async () => {
        const t = args.target;
        const host = new HardenedDockerHost("safety", {
            connection: {
                host: t.address,
                port: t.port,
                user: "root",
                hostKey: t.hostKey,
                label: t.name,
                privateKey: pulumi.secret(fs.readFileSync(fleet.keyPath, "utf8")),
            },
            daemonConfig: {
                "insecure-registries": [fleet.registry],
                hosts: ["unix:///var/run/docker.sock", "tcp://127.0.0.1:2376"],
                tlsverify: true,
                tlscacert: "/etc/docker/tls/ca.pem",
                tlscert: "/etc/docker/tls/server.pem",
                tlskey: "/etc/docker/tls/server.key",
                ...args.extraDaemonConfig,
            },
            restartCommand: args.restartCommand,
            plugin: { alias: args.alias, image: args.image },
            policy: { directory: args.policyDirectory },
        });
        return { idRange: host.idRange, authorization: host.authorizationActive, plugin: host.pluginReference };
    };
}

let stack: Stack;

/** `pulumi up`: whether it succeeded, and everything it printed (the error included). */
async function up(): Promise<{ ok: boolean; out: string }> {
    try {
        const r = await stack.up({ color: "never" });
        return { ok: true, out: `${r.stdout}\n${r.stderr}` };
    } catch (e) {
        return { ok: false, out: String((e as Error).message) };
    }
}

async function destroy(): Promise<{ ok: boolean; out: string }> {
    try {
        const r = await stack.destroy({ color: "never" });
        return { ok: true, out: `${r.stdout}\n${r.stderr}` };
    } catch (e) {
        return { ok: false, out: String((e as Error).message) };
    }
}

const file = (h: string, f: string) => onHost(h, `cat ${f} 2>/dev/null || echo ABSENT`);
const daemonJson = (h: string) => JSON.parse(onHost(h, "cat /etc/docker/daemon.json")) as Record<string, unknown>;
const chain = (h: string) => (daemonJson(h)["authorization-plugins"] ?? []) as string[];
/** SHA-256 over the live policy folder (names and contents). */
const liveSha = (h: string) =>
    onHost(
        h,
        "cd /etc/docker/policies && " + 'for f in *; do [ -f "$f" ] && { echo "$f"; cat "$f"; }; done | sha256sum',
    ).trim();
const TLS_CLIENT = "--cacert /etc/docker/tls/ca.pem --cert /etc/docker/tls/alice.pem --key /etc/docker/tls/alice.key";

/** A container create over TLS as the untrusted identity alice (HTTP status and message). */
function overTls(h: string, hostConfig: Record<string, unknown>, user = "1000"): { status: number; text: string } {
    const curl =
        `curl -s -m 30 -w '\\n%{http_code}' ${TLS_CLIENT} -H 'Content-Type: application/json' -d @- ` +
        "https://127.0.0.1:2376/v1.41/containers/create";
    const out = onHost(h, curl, JSON.stringify({ Image: IMAGE, User: user, HostConfig: hostConfig }));
    const i = out.lastIndexOf("\n");
    const status = Number(out.slice(i + 1));
    const text = out.slice(0, i);
    if (status === 201) onHost(h, `docker rm -f ${JSON.parse(text).Id} >/dev/null 2>&1 || true`);
    return { status, text };
}

const PRIVILEGED = { Privileged: true, UsernsMode: "host" }; // (under userns-remap the daemon wants both)

/** The project's policy decides, on both listeners: everyday work passes, a privileged container is refused by rule. */
function expectOldPolicyEnforced(h: string, alias: string): void {
    const refused = new RegExp(`authorization denied by plugin ${alias}(:latest)?: .*\\(rule privileged\\)`);
    expect(overTls(h, {}).status).toBe(201);
    expect(overTls(h, PRIVILEGED).text).toMatch(refused);
    const body = { Image: IMAGE, User: "1000", HostConfig: PRIVILEGED };
    const unix = dockerApi(h, "POST", "/v1.41/containers/create", body);
    expect(unix.message).toMatch(refused);
    expect(onHost(h, "stat -c %a /var/run/docker.sock").trim()).toBe("660");
}

/**
 * A client on the host that keeps sending, over the unix socket and over TLS, a privileged container create and a
 * harmless request every policy but a broken one allows (stopping a container that does not exist), one answer per
 * line: channel, HTTP status, message.
 */
const LOOP_SCRIPT = `#!/bin/sh
body='{"Image":"${IMAGE}","User":"1000","HostConfig":{"Privileged":true,"UsernsMode":"host"}}'
json='Content-Type: application/json'
unix='--unix-socket /var/run/docker.sock http://localhost/v1.41/containers'
tls='${TLS_CLIENT} https://127.0.0.1:2376/v1.41/containers'
ask() {
  a=$(curl -s -m 10 -w '\\n%{http_code}' "$@" 2>&1)
  code=$(printf '%s' "$a" | tail -n 1)
  printf '%s %s %s\\n' "$ch" "$code" "$(printf '%s' "$a" | head -n 1 | tr -d '\\r' | cut -c1-240)" >> ${LOOP}.log
}
echo $$ > ${LOOP}.pid
while [ ! -e ${LOOP}.stop ]; do
  ch=unix-privileged; ask -H "$json" -d "$body" $unix/create
  ch=tls-privileged; ask -H "$json" -d "$body" $tls/create
  ch=unix-harmless; ask -X POST $unix/hdh-no-such-container/stop
  ch=tls-harmless; ask -X POST $tls/hdh-no-such-container/stop
  sleep 0.1
done
rm -f ${LOOP}.pid
`;

function startLoop(h: string): void {
    onHost(h, `rm -f ${LOOP}.stop ${LOOP}.log && cat > ${LOOP}.sh && chmod 0700 ${LOOP}.sh`, LOOP_SCRIPT);
    onHost(h, `nohup sh ${LOOP}.sh >/dev/null 2>&1 < /dev/null &`);
    execFileSync("sleep", ["2"]);
}

/** Stops the client and returns its answers. */
function stopLoop(h: string): string[] {
    onHost(
        h,
        `touch ${LOOP}.stop; i=0; while [ -f ${LOOP}.pid ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done; ` +
            `[ -f ${LOOP}.pid ] && kill -9 "$(cat ${LOOP}.pid)" 2>/dev/null; rm -f ${LOOP}.pid; true`,
    );
    return onHost(h, `cat ${LOOP}.log 2>/dev/null || true`).split("\n").filter(Boolean);
}

/** Every privileged request was refused by one of our plugins (or found no listener at all), none passed. */
function expectNoneUnauthorized(lines: string[]): void {
    const privileged = lines.filter((l) => l.includes("-privileged "));
    const passed = privileged.filter((l) => !/^\S+ (403 .*authorization denied by plugin hdh-authz|000 )/.test(l));
    const refused = privileged.length - passed.length;
    console.log(
        `${privileged.length} privileged requests during the change, ${refused} refused; others:\n` + passed.join("\n"),
    );
    expect(passed).toEqual([]);
    expect(privileged.filter((l) => l.startsWith("unix-privileged 403")).length).toBeGreaterThanOrEqual(5);
    expect(privileged.filter((l) => l.startsWith("tls-privileged 403")).length).toBeGreaterThanOrEqual(5);
}

/** A policy folder: the project's policy plus one more rule file. */
function policyWith(name: string, rule: string): string {
    const dir = fs.mkdtempSync(path.join(work, "policy-"));
    for (const f of fs.readdirSync(path.join(ROOT, "policies"))) {
        const shipped = (f.endsWith(".rego") && !f.endsWith("_test.rego")) || f === "data.json";
        if (shipped) fs.copyFileSync(path.join(ROOT, "policies", f), path.join(dir, f));
    }
    fs.writeFileSync(path.join(dir, name), `package docker.authz\n\nimport rego.v1\n\n${rule}\n`);
    return dir;
}

// The hosts' ID files before the suite, and as seeded for it: on h5 an operator's dockremap line of the wrong size
// in /etc/subuid (we rewrite it) and a valid one in /etc/subgid (we keep it); on h6 a valid one in /etc/subuid.
const original: Record<string, { subuid: string; subgid: string; daemonJson: string }> = {};
const seeded: Record<string, { subuid: string; subgid: string }> = {};

beforeAll(async () => {
    for (const h of ["h5", "h6"]) {
        original[h] = {
            subuid: file(h, "/etc/subuid"),
            subgid: file(h, "/etc/subgid"),
            daemonJson: file(h, "/etc/docker/daemon.json"),
        };
        expect(original[h].subuid).not.toMatch(/^dockremap:/m);
    }
    onHost("h5", "echo dockremap:5000000:1000 >> /etc/subuid; echo dockremap:6000000:65536 >> /etc/subgid");
    onHost("h6", "echo dockremap:7000000:65536 >> /etc/subuid");
    const certs = certificates(["alice"]);
    for (const h of ["h5", "h6"]) {
        seeded[h] = { subuid: file(h, "/etc/subuid"), subgid: file(h, "/etc/subgid") };
        for (const [name, text] of Object.entries(certs)) {
            onHost(h, `mkdir -p /etc/docker/tls && umask 077 && cat > /etc/docker/tls/${name}`, text);
        }
    }
    // A tag of the plugin for the upgrade: the same image under a new name in the registry.
    const manifest = "application/vnd.docker.distribution.manifest.v2+json";
    const manifests = "http://127.0.0.1:5000/v2/hdh/opa-authz/manifests";
    execFileSync("bash", [
        "-c",
        `curl -sf -H 'Accept: ${manifest}' ${manifests}/${PLUGIN_VERSION} ` +
            `| curl -sf -X PUT -H 'Content-Type: ${manifest}' --data-binary @- ${manifests}/${UPGRADE_TAG}`,
    ]);
    stack = await LocalWorkspace.createOrSelectStack(
        { stackName: `safety-${process.pid}`, projectName: "hdh-safety", program: program() },
        { workDir: work, envVars: pulumiEnv() as Record<string, string> },
    );
});

afterAll(async () => {
    for (const h of ["h5", "h6"]) {
        stopLoop(h);
        onHost(h, "docker rm -f hdh-safety-sleeper >/dev/null 2>&1 || true");
    }
    if (stack) {
        const d = await destroy();
        if (!d.ok) console.log(`destroy after the suite failed:\n${d.out}`);
        await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    }
    const restore = (h: string, f: string, text: string) =>
        text === "ABSENT\n" ? onHost(h, `rm -f ${f}`) : onHost(h, `cat > ${f}`, text);
    for (const h of ["h5", "h6"]) {
        if (!original[h]) continue;
        restore(h, "/etc/subuid", original[h].subuid);
        restore(h, "/etc/subgid", original[h].subgid);
        onHost(h, `rm -rf /etc/docker/tls ${LOOP}.sh ${LOOP}.log ${LOOP}.stop`);
    }
    fs.rmSync(work, { recursive: true, force: true });
});

describe("safety on the failure paths (h5, h6)", () => {
    test("first up on h5 with a TLS listener: hardened; a wrong subuid line rewritten, subgid kept", async () => {
        const r = await up();
        expect(r.out).not.toMatch(/error:/);
        expect(r.ok).toBe(true);
        expect(chain("h5")).toEqual(["hdh-authz"]);
        const rewritten = seeded.h5.subuid.replace("dockremap:5000000:1000", "dockremap:5000000:65536");
        expect(file("h5", "/etc/subuid")).toBe(rewritten);
        expect(file("h5", "/etc/subgid")).toBe(seeded.h5.subgid);
        // A new policy is staged apart from the folder the plugin reads, and made live as it is.
        const staged = onHost("h5", "cd /var/lib/hardened-docker-host/policy-staged && ls").trim();
        expect(onHost("h5", "cd /etc/docker/policies && ls").trim()).toBe(staged);
        expectOldPolicyEnforced("h5", "hdh-authz");
    });

    test("item 1: a policy failing the canary is caught before it is live; the previous one enforced", async () => {
        const before = liveSha("h5");
        const rule = 'deny contains "nothing may run today (rule too_strict)" if input.Method == "POST"';
        args.policyDirectory = policyWith("too_strict.rego", rule);
        startLoop("h5");
        const r = await up();
        const answers = stopLoop("h5");
        expect(r.ok).toBe(false);
        expect(r.out).toMatch(
            new RegExp(
                "host h5: .*canary \\(staged policy, not live\\): a compliant container would " +
                    "be refused: nothing may run today \\(rule too_strict\\)",
                "s",
            ),
        );
        expect(r.out).toMatch(/the new policy was not made live; the live one is unchanged and plugin hdh-authz/);
        // Not one request was decided by the new policy, and none was left unchecked.
        expect(answers.filter((l) => l.includes("too_strict"))).toEqual([]);
        expect(answers.filter((l) => /-harmless 404 /.test(l)).length).toBeGreaterThan(0);
        expectNoneUnauthorized(answers);
        expect(liveSha("h5")).toBe(before);
        expect(chain("h5")).toEqual(["hdh-authz"]);
        expectOldPolicyEnforced("h5", "hdh-authz");
    });

    test("item 1: a policy only the real canary catches is rolled back: previous files live and enforced", async () => {
        const before = liveSha("h5");
        const pid = dockerdPid("h5");
        // The docker CLI's own requests are refused; the binary check's are not (it sends no docker User-Agent).
        args.policyDirectory = policyWith(
            "cli_create.rego",
            [
                'deny contains "the docker CLI may not create containers (rule cli_create)" if {',
                '\tendswith(input.PathPlain, "/containers/create")',
                '\tcontains(object.get(input.Headers, "User-Agent", ""), "Docker-Client")',
                "}",
            ].join("\n"),
        );
        startLoop("h5");
        const r = await up();
        const answers = stopLoop("h5");
        expect(r.ok).toBe(false);
        expect(r.out).toMatch(
            new RegExp(
                "canary: a compliant container was refused: .*\\(rule cli_create\\).*; the " +
                    "previous policy files are back; plugin hdh-authz enforces it and the canary passes again; " +
                    "Docker answers",
                "s",
            ),
        );
        expectNoneUnauthorized(answers);
        expect(liveSha("h5")).toBe(before);
        expect(chain("h5")).toEqual(["hdh-authz"]);
        expect(dockerdPid("h5")).toBe(pid);
        expectOldPolicyEnforced("h5", "hdh-authz");
    });

    test("the fault gone, the next up converges, and the one after changes nothing", async () => {
        args.policyDirectory = undefined;
        const r = await up();
        expect(r.ok).toBe(true);
        const again = await stack.up({ color: "never" });
        expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("a failing restart command: daemon.json rolled back at once, Docker enforcing on both listeners", async () => {
        const before = file("h5", "/etc/docker/daemon.json");
        // ip-masq needs a restart; the command restarts Docker, then fails, as a unit systemd gave up on would.
        args.extraDaemonConfig = { "ip-masq": true };
        args.restartCommand = "/etc/init.d/docker restart >/dev/null; exit 1";
        const r = await up();
        args.extraDaemonConfig = {};
        args.restartCommand = undefined;
        expect(r.ok).toBe(false);
        expect(r.out).toMatch(
            /host h5: .*the restart command failed with the new daemon\.json; the previous one was restored/s,
        );
        expect(file("h5", "/etc/docker/daemon.json")).toBe(before);
        expectOldPolicyEnforced("h5", "hdh-authz");
        // The state kept what the host has: the program as before changes nothing.
        const again = await stack.up({ color: "never" });
        expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("item 2: an alias change under load: no request passes unchecked on either listener, no restart", async () => {
        const pid = dockerdPid("h5");
        args.alias = "hdh-authz2";
        startLoop("h5");
        const r = await up();
        const answers = stopLoop("h5");
        expect(r.out).not.toMatch(/error:/);
        expect(r.ok).toBe(true);
        expectNoneUnauthorized(answers);
        expect(chain("h5")).toEqual(["hdh-authz2"]);
        expect(onHost("h5", "docker plugin ls --format '{{.Name}}'").trim()).toBe("hdh-authz2:latest");
        expect(dockerdPid("h5")).toBe(pid);
        expectOldPolicyEnforced("h5", "hdh-authz2");
    });

    test("item 2: a plugin upgrade under load goes through the swap alias: nothing passes unchecked", async () => {
        const pid = dockerdPid("h5");
        args.image = `${fleet.registry}/hdh/opa-authz:${UPGRADE_TAG}`;
        startLoop("h5");
        const r = await up();
        const answers = stopLoop("h5");
        expect(r.out).not.toMatch(/error:/);
        expect(r.ok).toBe(true);
        expectNoneUnauthorized(answers);
        // Both plugins answered during the change: the swap plugin while the alias was upgraded.
        expect(answers.some((l) => l.includes("plugin hdh-authz2-swap"))).toBe(true);
        const inspected = onHost("h5", "docker plugin inspect -f '{{.PluginReference}} {{.Enabled}}' hdh-authz2");
        expect(inspected.trim()).toBe(`${args.image} true`);
        expect(onHost("h5", "docker plugin ls --format '{{.Name}}'").trim()).toBe("hdh-authz2:latest");
        expect(chain("h5")).toEqual(["hdh-authz2"]);
        expect(
            onHost("h5", "ls /etc/docker/policies")
                .split("\n")
                .filter((f) => f.startsWith("hdh-")),
        ).toEqual([]);
        expect(dockerdPid("h5")).toBe(pid);
        expectOldPolicyEnforced("h5", "hdh-authz2");
    });

    test("item 5: destroy is refused while a container runs under the remap, naming it; h5 stays", async () => {
        const sleeper = { Image: IMAGE, User: "1000:1000", Cmd: ["sleep", "600"] };
        const created = dockerApi("h5", "POST", "/v1.41/containers/create?name=hdh-safety-sleeper", sleeper);
        expect(created.status).toBe(201);
        expect(dockerApi("h5", "POST", "/v1.41/containers/hdh-safety-sleeper/start").status).toBe(204);
        const subuid = file("h5", "/etc/subuid");
        const d = await destroy();
        expect(d.ok).toBe(false);
        expect(d.out).toMatch(/host h5: allowDataRootMove: 1 container\(s\) run under userns-remap \(hdh-safety-sl/);
        expect(d.out).toMatch(/Fix: stop and remove them first/);
        expect(chain("h5")).toEqual(["hdh-authz2"]);
        expect(JSON.parse(onHost("h5", "cat /etc/docker/daemon.json"))["userns-remap"]).toBe("dockremap");
        expect(file("h5", "/etc/subuid")).toBe(subuid);
        expectOldPolicyEnforced("h5", "hdh-authz2");
        dockerApi("h5", "DELETE", "/v1.41/containers/hdh-safety-sleeper?force=1");
        // Still all there for the next test: the refused destroy changed nothing the program would have to repair.
        const r = await up();
        expect(r.ok).toBe(true);
    });

    test("item 4: moving the host to another machine gives h5 back (line by line) and hardens h6", async () => {
        args.target = h6;
        const r = await up();
        expect(r.out).not.toMatch(/error:/);
        expect(r.ok).toBe(true);
        expect(r.out).toMatch(/replaced/);
        // h5 as it was: its own daemon.json, the operator's subuid line back byte for byte, its subgid line kept.
        expect(file("h5", "/etc/docker/daemon.json")).toBe(original.h5.daemonJson);
        expect(file("h5", "/etc/subuid")).toBe(seeded.h5.subuid);
        expect(file("h5", "/etc/subgid")).toBe(seeded.h5.subgid);
        expect(onHost("h5", "docker plugin ls -q | wc -l").trim()).toBe("0");
        expect(onHost("h5", "ls /etc/docker/policies 2>/dev/null | wc -l").trim()).toBe("0");
        expect(onHost("h5", "docker info -f '{{.DockerRootDir}}'").trim()).toBe("/var/lib/docker");
        // h6 hardened from scratch, with its own subuid line (valid: kept) and a subgid line of ours.
        expect(chain("h6")).toEqual(["hdh-authz2"]);
        expect(file("h6", "/etc/subuid")).toBe(seeded.h6.subuid);
        expect(file("h6", "/etc/subgid")).toMatch(/^dockremap:\d+:65536$/m);
        expectOldPolicyEnforced("h6", "hdh-authz2");
    });

    test("item 3: destroy gives h6's ID files back line by line: a line found stays, a line added goes", async () => {
        const d = await destroy();
        expect(d.out).not.toMatch(/error:/);
        expect(d.ok).toBe(true);
        expect(file("h6", "/etc/subuid")).toBe(seeded.h6.subuid);
        expect(file("h6", "/etc/subgid")).toBe(seeded.h6.subgid);
        expect(file("h6", "/etc/docker/daemon.json")).toBe(original.h6.daemonJson);
        expect(onHost("h6", "docker plugin ls -q | wc -l").trim()).toBe("0");
        expect(onHost("h6", "ls /etc/docker/policies 2>/dev/null | wc -l").trim()).toBe("0");
    });
});
