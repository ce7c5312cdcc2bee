import { HostInputError } from "../../components/plan/errors";
import {
    answeredBy,
    canaryNeeded,
    checkRemapRemoval,
    planAuthorization,
    planAuthorizationRemoval,
    policySummary,
} from "../../components/plan/authorization";
import {
    UNKNOWN_INPUT,
    hostKeyFingerprint,
    machineIdentity,
    planMachineChange,
} from "../../components/plan/machineIdentity";

const KEY5 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILKsArmvwT/TUdmqe9qzetvG45F6QAzU2T44V+PRf26/";
const KEY6 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFQQ3l6KiBoMf6bu/on+7kkWMqyD+5Mt8jacLvBgO+Q";

function thrown(run: () => unknown): HostInputError {
    try {
        run();
    } catch (e) {
        if (e instanceof HostInputError) return e;
        throw e;
    }
    throw new Error("expected a HostInputError");
}

describe("planAuthorization: a new policy is checked before it is live, and rolled back after", () => {
    const base = {
        alias: "hdh-authz",
        chain: ["hdh-authz"],
        stagedSha256: "new",
        liveSha256: "new",
        liveMoved: false,
        enforcing: true,
    };

    test("nothing new: no promotion, no chain change", () => {
        expect(planAuthorization(base)).toEqual({
            promote: false,
            reload: false,
            restorePolicy: false,
            enableChain: undefined,
            restoreChain: undefined,
        });
    });

    test("a new policy under enforcement: promoted; a failed canary brings back only the files (plugin stays)", () => {
        expect(planAuthorization({ ...base, liveSha256: "old" })).toMatchObject({
            promote: true,
            restorePolicy: true,
            enableChain: undefined,
            restoreChain: undefined,
        });
        expect(planAuthorization({ ...base, liveSha256: undefined }).promote).toBe(true); // older state: live unknown
        expect(planAuthorization({ ...base, liveMoved: true }).promote).toBe(true);
    });

    test("first enablement: listed first; a failed canary gives back the chain as it was", () => {
        const plan = planAuthorization({ ...base, chain: ["ops"], liveSha256: undefined, enforcing: false });
        expect(plan).toMatchObject({
            promote: true,
            enableChain: ["hdh-authz", "ops"],
            restoreChain: ["ops"],
            reload: false,
        });
    });

    test("listed but not in the request path (disabled and enabled by hand): reloaded", () => {
        expect(planAuthorization({ ...base, enforcing: false }).reload).toBe(true);
    });

    test("Docker's answer names the plugin that refused, with or without :latest, never a longer name", () => {
        const docker = "Error response from daemon: authorization denied by plugin";
        expect(answeredBy(`${docker} hdh-authz:latest: no (rule plugins)`, "hdh-authz")).toBe(true);
        expect(answeredBy("authorization denied by plugin hdh-authz: no", "hdh-authz")).toBe(true);
        expect(answeredBy("authorization denied by plugin hdh-authz2:latest: no", "hdh-authz")).toBe(false);
        expect(answeredBy("authorization denied by plugin hdh-authz-swap:latest: no", "hdh-authz")).toBe(false);
    });

    test("the live policy summary: one line per file", () => {
        expect(policySummary({ "b.rego": "x\ny\n", "a.json": "" })).toEqual({
            "a.json": expect.stringMatching(/^0 lines, sha256 [0-9a-f]{12}$/),
            "b.rego": expect.stringMatching(/^2 lines/),
        });
    });
});

describe("canaryNeeded: when a run proves authorization with the canary", () => {
    const same = { promote: false, reload: false, restorePolicy: false };
    const now = { pluginReference: "r:0.1.1", canaryImage: "busybox:1" };
    const last = { ...now, active: true };

    test("a first run, and any change the plan makes, runs it", () => {
        expect(canaryNeeded(same, now)).toBe(true);
        expect(canaryNeeded({ ...same, promote: true }, now, last)).toBe(true);
        expect(canaryNeeded({ ...same, reload: true }, now, last)).toBe(true);
        expect(canaryNeeded({ ...same, enableChain: ["hdh-authz"] }, now, last)).toBe(true);
    });

    test("a new plugin build or canary image, or Docker found not enforcing, runs it", () => {
        expect(canaryNeeded(same, { ...now, pluginReference: "r:0.1.2" }, last)).toBe(true);
        expect(canaryNeeded(same, { ...now, canaryImage: "busybox:2" }, last)).toBe(true);
        expect(canaryNeeded(same, now, { ...last, active: false })).toBe(true);
    });

    test("a run that changes nothing does not, and no canary image never does", () => {
        expect(canaryNeeded(same, now, last)).toBe(false);
        expect(canaryNeeded({ ...same, promote: true }, { ...now, canaryImage: "" })).toBe(false);
    });
});

describe("removing authorization, and the remap guard", () => {
    test("an alias change is not a removal: another alias of ours still enforces", () => {
        expect(planAuthorizationRemoval("hdh-authz", ["hdh-authz2", "hdh-authz"], ["hdh-authz", "hdh-authz2"])).toEqual(
            { chain: ["hdh-authz2"], listed: true, unhardening: false },
        );
    });

    test("destroy: the last plugin of ours leaves (an operator's plugin does not count)", () => {
        expect(planAuthorizationRemoval("hdh-authz", ["ops", "hdh-authz"], ["hdh-authz"])).toEqual({
            chain: ["ops"],
            listed: true,
            unhardening: true,
        });
        expect(planAuthorizationRemoval("hdh-authz", [], ["hdh-authz"])).toEqual({
            chain: [],
            listed: false,
            unhardening: true,
        });
    });

    test("containers running under remap stop a destroy, listed by name, unless allowDataRootMove", () => {
        const facts = { usernsActive: true, runningContainers: ["web", "db"] };
        const e = thrown(() => checkRemapRemoval("h5", facts, false));
        expect(e.message).toMatch(/^host h5: allowDataRootMove: 2 container\(s\) run under userns-remap \(web, db\): /);
        expect(e.message).toMatch(/Fix: stop and remove them first/);
        expect(() => checkRemapRemoval("h5", facts, true)).not.toThrow();
        expect(() => checkRemapRemoval("h5", { ...facts, usernsActive: false }, false)).not.toThrow();
        expect(() => checkRemapRemoval("h5", { ...facts, runningContainers: [] }, false)).not.toThrow();
        const many = Array.from({ length: 12 }, (_, i) => `c${i}`);
        const e12 = thrown(() => checkRemapRemoval("h5", { usernsActive: true, runningContainers: many }, false));
        expect(e12.message).toMatch(/c9 and 2 more/);
    });
});

describe("planMachineChange: another machine is a replace", () => {
    const h5 = { host: "127.0.0.1", port: 2225, hostKey: KEY5, user: "root" };
    const h6 = { host: "127.0.0.1", port: 2226, hostKey: KEY6, user: "root" };

    test("fingerprints as ssh-keygen prints them; a fingerprint as given", () => {
        expect(hostKeyFingerprint(KEY5)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
        expect(hostKeyFingerprint(hostKeyFingerprint(KEY5))).toBe(hostKeyFingerprint(KEY5));
        expect(hostKeyFingerprint(undefined)).toBe("");
    });

    test("the same target, whatever else changed (user, label), is nothing to decide", () => {
        expect(planMachineChange({ connection: h5 }, { connection: { ...h5, user: "deploy", label: "x" } })).toBe(
            "same-target",
        );
    });

    test("another pinned host key: another machine, without reading the host", () => {
        expect(planMachineChange({ connection: h5 }, { connection: h6 })).toBe("other-machine");
        const recorded = { connection: h5, recorded: machineIdentity("m", KEY5) };
        expect(planMachineChange(recorded, { connection: { ...h6, hostKey: hostKeyFingerprint(KEY6) } })).toBe(
            "other-machine",
        );
    });

    test("same key, new address: the machine-id decides (read from the new target)", () => {
        const moved = { ...h5, host: "10.0.0.5" };
        const old = { connection: h5, recorded: machineIdentity("aaa", KEY5) };
        expect(planMachineChange(old, { connection: moved })).toBe("need-identity");
        const reading = (id: string) => ({ connection: moved, current: machineIdentity(id, KEY5) });
        expect(planMachineChange(old, reading("aaa"))).toBe("same-machine");
        expect(planMachineChange(old, reading("bbb"))).toBe("other-machine");
        // Nothing recorded (older state): the same key means the same machine.
        expect(
            planMachineChange({ connection: h5 }, { connection: moved, current: machineIdentity("bbb", KEY5) }),
        ).toBe("same-machine");
    });

    test("a jump host added in front of the same machine is the same machine", () => {
        const via = { ...h5, host: "127.0.0.1", port: 2205, proxy: { host: "127.0.0.1", port: 2221, hostKey: KEY6 } };
        expect(planMachineChange({ connection: h5 }, { connection: via, current: machineIdentity("", KEY5) })).toBe(
            "same-machine",
        );
    });

    test("a connection not known yet (preview) decides nothing", () => {
        expect(planMachineChange({ connection: h5 }, { connection: { ...h5, host: UNKNOWN_INPUT } })).toBe("unknown");
        expect(planMachineChange({ connection: h5 }, { connection: UNKNOWN_INPUT })).toBe("unknown");
        expect(planMachineChange({ connection: h5 }, { connection: { ...h5, proxy: { host: UNKNOWN_INPUT } } })).toBe(
            "unknown",
        );
    });
});
