import {
    StackResource,
    TYPES,
    UNKNOWN,
    authorizationProblems,
    compareVersions,
    connectionsOf,
    dockerFloorProblem,
    filesHash,
    hostKeyProblems,
    hostOf,
    hostsOf,
    parseReference,
    pluginPinProblem,
    policyFileProblems,
    typeOfUrn,
    usernsRemapProblem,
} from "../../policypack/rules";

// The policy pack's rules (policypack/rules.ts), as @pulumi/policy hands them resources: secrets in the clear,
// unknown values (preview) as the engine's sentinel string.

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-material\n-----END OPENSSH PRIVATE KEY-----";
const pinned = {
    host: "10.0.0.5",
    user: "deploy",
    privateKey: KEY,
    hostKey: "ssh-ed25519 AAAAC3Nza",
    label: "build-01",
};

describe("pinned-host-key", () => {
    test("a pinned connection passes; skipping the check, or no key, is named by field", () => {
        expect(hostKeyProblems(pinned)).toEqual([]);
        expect(hostKeyProblems({ ...pinned, hostKey: undefined, insecureSkipHostKeyCheck: true })).toEqual([
            "connection.insecureSkipHostKeyCheck is set: " +
                "the host's identity is not verified (pin connection.hostKey instead)",
        ]);
        // Both set: skipping wins over the key in ssh2, so it is still a violation.
        expect(hostKeyProblems({ ...pinned, insecureSkipHostKeyCheck: true })).toHaveLength(1);
        expect(hostKeyProblems({ ...pinned, hostKey: undefined })).toEqual([
            "connection.hostKey is missing: pin the host's public key or SHA256 fingerprint",
        ]);
        expect(hostKeyProblems({ ...pinned, hostKey: "  " })[0]).toMatch(/^connection\.hostKey is empty/);
    });

    test("every jump host is judged too (proxy, and its jumpHost alias)", () => {
        expect(hostKeyProblems({ ...pinned, proxy: { host: "bastion", insecureSkipHostKeyCheck: true } })).toEqual([
            "connection.proxy.insecureSkipHostKeyCheck is set: " +
                "the host's identity is not verified (pin connection.proxy.hostKey instead)",
        ]);
        expect(hostKeyProblems({ ...pinned, jumpHost: { host: "bastion", proxy: { host: "outer" } } })).toEqual([
            "connection.jumpHost.hostKey is missing: pin the host's public key or SHA256 fingerprint",
            "connection.jumpHost.proxy.hostKey is missing: pin the host's public key or SHA256 fingerprint",
        ]);
    });

    test("a key not known at preview is judged later, not refused", () => {
        expect(hostKeyProblems({ ...pinned, hostKey: UNKNOWN })).toEqual([]);
        expect(connectionsOf({ connection: UNKNOWN })).toEqual([]);
    });

    test("messages never carry connection values (the connection is a secret)", () => {
        const all = [
            ...hostKeyProblems({
                ...pinned,
                insecureSkipHostKeyCheck: true,
                proxy: { privateKey: KEY, password: "hunter2" },
            }),
        ].join("\n");
        expect(all).not.toContain("secret-material");
        expect(all).not.toContain("hunter2");
        expect(all).not.toContain("10.0.0.5");
    });

    test("connections of a step, or of a fleet-wide resource", () => {
        expect(connectionsOf({ connection: pinned })).toEqual([pinned]);
        expect(connectionsOf({ connections: [pinned, UNKNOWN, pinned] })).toEqual([pinned, pinned]);
        expect(connectionsOf({ files: {} })).toEqual([]);
    });
});

describe("userns-remap-on", () => {
    test("a remap user (or default) passes; unset, empty or false is refused", () => {
        expect(usernsRemapProblem({ "userns-remap": "dockremap", "log-level": "info" })).toBeUndefined();
        expect(usernsRemapProblem({ "userns-remap": "default" })).toBeUndefined();
        expect(usernsRemapProblem({ "log-level": "info" })).toBe(
            'settings["userns-remap"] is not set: root in a container would be root on the host',
        );
        expect(usernsRemapProblem({ "userns-remap": "" })).toMatch(/is "": root in a container/);
        expect(usernsRemapProblem({ "userns-remap": false })).toMatch(/is false/);
    });
    test("unknown at preview: judged later", () => {
        expect(usernsRemapProblem(UNKNOWN)).toBeUndefined();
        expect(usernsRemapProblem(undefined)).toBeUndefined();
        expect(usernsRemapProblem({ "userns-remap": UNKNOWN })).toBeUndefined();
    });
});

describe("plugin-image-pinned", () => {
    test("references are split like Docker does (a registry port is not a tag)", () => {
        expect(parseReference("localhost:5000/hdh/opa-authz:0.3.0")).toEqual({
            name: "localhost:5000/hdh/opa-authz",
            tag: "0.3.0",
            digest: undefined,
        });
        expect(parseReference("localhost:5000/hdh/opa-authz")).toEqual({
            name: "localhost:5000/hdh/opa-authz",
            digest: undefined,
        });
        expect(parseReference("r.example/a/b:1@sha256:" + "a".repeat(64))).toEqual({
            name: "r.example/a/b",
            tag: "1",
            digest: "sha256:" + "a".repeat(64),
        });
    });
    test("a version tag or a digest passes; latest, no tag, a bad digest are refused", () => {
        expect(pluginPinProblem("localhost:5000/hdh/opa-authz:0.3.0")).toBeUndefined();
        expect(pluginPinProblem("registry.example.internal/hdh/opa-authz@sha256:" + "0f".repeat(32))).toBeUndefined();
        expect(pluginPinProblem("localhost:5000/hdh/opa-authz:latest")).toBe(
            "reference localhost:5000/hdh/opa-authz:latest is :latest: pin a version tag or a digest",
        );
        expect(pluginPinProblem("localhost:5000/hdh/opa-authz")).toMatch(/has no tag, so Docker takes :latest/);
        expect(pluginPinProblem("opa-authz@sha256:123")).toMatch(/malformed digest/);
        expect(pluginPinProblem("")).toBe("reference is empty");
        expect(pluginPinProblem(UNKNOWN)).toBeUndefined();
    });
});

describe("docker-version-floor (advisory)", () => {
    test("versions compare numerically, Debian suffixes aside", () => {
        expect(compareVersions("20.10.24+dfsg1", "20.10.0")).toBeGreaterThan(0);
        expect(compareVersions("19.03.15", "20.10")).toBeLessThan(0);
        expect(compareVersions("24.0", "24.0.0")).toBe(0);
        expect(compareVersions("9.1", "10.0")).toBeLessThan(0);
    });
    test("older than the floor is reported with the config key; unknown versions are not", () => {
        expect(dockerFloorProblem("20.10.24+dfsg1", "20.10.0")).toBeUndefined();
        expect(dockerFloorProblem("19.03.15", "20.10.0")).toBe(
            "Docker 19.03.15 is older than the floor 20.10.0 (policy pack config docker-version-floor.minimumVersion)",
        );
        expect(dockerFloorProblem(undefined, "20.10.0")).toBeUndefined();
        expect(dockerFloorProblem(UNKNOWN, "20.10.0")).toBeUndefined();
        expect(dockerFloorProblem("", "20.10.0")).toBeUndefined();
    });
});

/** A stack as AnalyzeStack sees it: a fleet (or none) of hosts with their five steps. */
function stack(
    hosts: { name: string; fleet?: string; files?: Record<string, string> | string; authz?: boolean }[],
): StackResource[] {
    const out: StackResource[] = [];
    const fleets = new Map<string, StackResource>();
    const base = "urn:pulumi:ci::hdh::";
    for (const h of hosts) {
        let parent: StackResource | undefined;
        if (h.fleet) {
            let fleet = fleets.get(h.fleet);
            if (!fleet) {
                fleet = { urn: `${base}${TYPES.fleet}::${h.fleet}`, type: TYPES.fleet, name: h.fleet, props: {} };
                fleets.set(h.fleet, fleet);
                out.push(fleet);
            }
            parent = fleet;
        }
        const chain = parent ? `${TYPES.fleet}$${TYPES.host}` : TYPES.host;
        const host: StackResource = {
            urn: `${base}${chain}::${h.name}`,
            type: TYPES.host,
            name: h.name,
            props: {},
            parent,
        };
        out.push(host);
        const step = (type: string, suffix: string, props: Record<string, unknown>) =>
            out.push({
                urn: `${base}${chain}$${type}::${h.name}-${suffix}`,
                type,
                name: `${h.name}-${suffix}`,
                props,
                parent: host,
            });
        step(TYPES.subordinateIds, "subids", { connection: pinned });
        step(TYPES.daemonConfig, "daemon", {
            connection: pinned,
            settings: { "userns-remap": "dockremap" },
            dockerVersion: "20.10.24",
        });
        step(TYPES.remoteFiles, "policy", {
            connection: pinned,
            files: h.files ?? { "authz.rego": "package docker.authz\n", "data.json": "{}" },
        });
        step(TYPES.dockerPlugin, "plugin", { connection: pinned, reference: "localhost:5000/hdh/opa-authz:0.3.0" });
        if (h.authz !== false) step(TYPES.authorization, "authz", { connection: pinned, alias: "hdh-authz" });
    }
    return out;
}

describe("stack rules: hosts and fleets", () => {
    test("steps are grouped by their HardenedDockerHost, and the host by its fleet", () => {
        const hosts = hostsOf(stack([{ name: "h1", fleet: "prod" }, { name: "h2", fleet: "prod" }, { name: "solo" }]));
        expect(hosts.map((h) => [h.name, h.fleet, h.steps.size])).toEqual([
            ["h1", "prod", 5],
            ["h2", "prod", 5],
            ["solo", undefined, 5],
        ]);
        expect(typeOfUrn(`urn:pulumi:ci::hdh::${TYPES.fleet}$${TYPES.host}::h1`)).toBe(TYPES.host);
        // Steps declared outside the component: the host is the name without the step suffix.
        expect(hostOf({ urn: "urn:pulumi:ci::hdh::x::build-01-daemon", name: "build-01-daemon" }).name).toBe(
            "build-01",
        );
    });

    test("authorization-on: a host without its Authorization step is named", () => {
        const problems = authorizationProblems(
            hostsOf(
                stack([
                    { name: "h1", fleet: "prod" },
                    { name: "h2", fleet: "prod", authz: false },
                ]),
            ),
        );
        expect(problems.map((p) => p.message)).toEqual([
            "host h2: no Authorization step: Docker would not enforce the authorization plugin",
        ]);
    });

    test("same-policy-per-fleet: identical sets pass, whatever the key order", () => {
        const a = { "authz.rego": "package docker.authz\n", "data.json": "{}" };
        const b = { "data.json": "{}", "authz.rego": "package docker.authz\n" };
        expect(filesHash(a)).toBe(filesHash(b));
        expect(
            policyFileProblems(
                hostsOf(
                    stack([
                        { name: "h1", fleet: "prod", files: a },
                        { name: "h2", fleet: "prod", files: b },
                    ]),
                ),
            ),
        ).toEqual([]);
    });

    test("same-policy-per-fleet: the odd host is named against the majority, with the files that differ", () => {
        const ok = { "authz.rego": "package docker.authz\n", "data.json": '{"bind_mounts":[]}' };
        const odd = {
            "authz.rego": "package docker.authz\n",
            "data.json": '{"bind_mounts":["/"]}',
            "extra.rego": "package x\n",
        };
        const problems = policyFileProblems(
            hostsOf(
                stack([
                    { name: "h1", fleet: "prod", files: ok },
                    { name: "h3", fleet: "prod", files: odd },
                    { name: "h2", fleet: "prod", files: ok },
                ]),
            ),
        );
        expect(problems).toHaveLength(1);
        expect(problems[0].hosts.map((h) => h.name)).toEqual(["h3"]);
        expect(problems[0].message).toBe(
            `fleet prod: host h3 gets policy files ${filesHash(odd).slice(0, 12)}, ` +
                `not the ${filesHash(ok).slice(0, 12)} of h1, h2; ` +
                "differing: data.json, extra.rego (extra)",
        );
    });

    test("same-policy-per-fleet: fleets are compared separately; hosts outside a fleet form the stack's group", () => {
        const a = { "p.rego": "a" };
        const b = { "p.rego": "b" };
        expect(
            policyFileProblems(
                hostsOf(
                    stack([
                        { name: "h1", fleet: "prod", files: a },
                        { name: "h2", fleet: "prod", files: a },
                        { name: "s1", fleet: "staging", files: b },
                        { name: "s2", fleet: "staging", files: b },
                    ]),
                ),
            ),
        ).toEqual([]);
        const loose = policyFileProblems(
            hostsOf(
                stack([
                    { name: "x1", files: a },
                    { name: "x2", files: b },
                ]),
            ),
        );
        expect(loose.map((p) => p.message)).toEqual([
            expect.stringMatching(/^stack: host x2 gets policy files .* of x1; differing: p\.rego$/),
        ]);
    });

    test("same-policy-per-fleet: files not known yet (preview) are skipped", () => {
        expect(
            policyFileProblems(
                hostsOf(
                    stack([
                        { name: "h1", fleet: "prod", files: { "p.rego": "a" } },
                        { name: "h2", fleet: "prod", files: UNKNOWN },
                        { name: "h3", fleet: "prod", files: { "p.rego": UNKNOWN } },
                    ]),
                ),
            ),
        ).toEqual([]);
    });
});
