import {
    checkDataRootMove,
    checkOwnedKeys,
    daemonJsonToRestore,
    dockerActionWording,
    parseDaemonJson,
    planDaemonConfigApply,
    JsonObject,
    canonicalJson,
    hardenedDefaults,
    desiredDaemonConfig,
    managedDaemonSettings,
    ownedDaemonSettings,
    planDaemonConfigRemoval,
    sha256Hex,
} from "../../components/plan/daemonConfig";

const defaults = hardenedDefaults({ remapUser: "dockremap" });

/** The daemon.json to write and what we manage, for a host file and the user's overrides. */
function merge(current: JsonObject, overrides: JsonObject) {
    const managed = managedDaemonSettings(defaults, overrides);
    return { config: desiredDaemonConfig(current, managed), managed, managedKeys: Object.keys(managed).sort() };
}

describe("hardenedDefaults", () => {
    test("the hardened keys, and authorization-plugins only when a plugin is given", () => {
        expect(defaults).toEqual({
            "userns-remap": "dockremap",
            "no-new-privileges": true,
            icc: false,
            "live-restore": true,
            "userland-proxy": false,
            "log-driver": "json-file",
            "log-opts": { "max-size": "10m", "max-file": "3" },
        });
        expect(hardenedDefaults({ remapUser: "r", authorizationPlugin: "hdh-authz" })["authorization-plugins"]).toEqual(
            ["hdh-authz"],
        );
    });
});

describe("desiredDaemonConfig", () => {
    test("keys already on the host survive; our defaults replace the host's values of the keys we manage", () => {
        const current: JsonObject = { debug: true, "registry-mirrors": ["https://mirror.example"], icc: true };
        const merged = merge(current, {});
        expect(merged.config).toEqual({ ...defaults, debug: true, "registry-mirrors": ["https://mirror.example"] });
        expect(merged.managedKeys).toEqual([
            "icc",
            "live-restore",
            "log-driver",
            "log-opts",
            "no-new-privileges",
            "userland-proxy",
            "userns-remap",
        ]);
        expect(current).toEqual({ debug: true, "registry-mirrors": ["https://mirror.example"], icc: true });
    });

    test("overrides win over defaults, and add keys of their own", () => {
        const merged = merge({}, { icc: true, "max-concurrent-downloads": 10 });
        expect(merged.config.icc).toBe(true);
        expect(merged.managed["max-concurrent-downloads"]).toBe(10);
    });

    test("an override of null leaves the default unmanaged: the host keeps its own value", () => {
        const merged = merge({ "live-restore": false }, { "live-restore": null, "userland-proxy": null });
        expect(merged.config["live-restore"]).toBe(false);
        expect("userland-proxy" in merged.config).toBe(false);
        expect(merged.managedKeys).not.toContain("live-restore");
    });

    test("object overrides merge entry by entry with the defaults; a null entry drops that default entry", () => {
        expect(managedDaemonSettings(defaults, { "log-opts": { "max-size": "50m" } })["log-opts"]).toEqual({
            "max-size": "50m",
            "max-file": "3",
        });
        expect(managedDaemonSettings(defaults, { "log-opts": { "max-file": null } })["log-opts"]).toEqual({
            "max-size": "10m",
        });
        expect(
            "log-opts" in managedDaemonSettings(defaults, { "log-opts": { "max-file": null, "max-size": null } }),
        ).toBe(false);
    });

    test("the host's other entries of an object key stay", () => {
        const merged = merge({ "log-opts": { labels: "team", "max-size": "1g" } }, {});
        expect(merged.config["log-opts"]).toEqual({ labels: "team", "max-size": "10m", "max-file": "3" });
        expect(merged.managed["log-opts"]).toEqual({ "max-size": "10m", "max-file": "3" });
    });

    test("a __proto__ key on the host is kept as data and changes no prototype", () => {
        const current = JSON.parse('{"__proto__": {"polluted": true}, "debug": true}') as JsonObject;
        const merged = merge(current, {});
        expect(Object.keys(merged.config)).toContain("__proto__");
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getPrototypeOf(merged.config)).toBe(Object.prototype);
    });
});

describe("desiredDaemonConfig restore and ownedDaemonSettings", () => {
    test("keys we no longer manage get their previous value back, or go", () => {
        const config = desiredDaemonConfig(
            { icc: false, debug: true, "live-restore": true },
            { icc: false },
            { debug: false, "live-restore": null },
        );
        expect(config).toEqual({ icc: false, debug: false });
    });

    test("the host's view of our keys: only our entries of objects, null for a key that is gone", () => {
        const managed: JsonObject = {
            icc: false,
            "log-opts": { "max-size": "10m", "max-file": "3" },
            "live-restore": true,
        };
        const current: JsonObject = { icc: true, "log-opts": { "max-size": "10m", labels: "team" }, debug: true };
        expect(ownedDaemonSettings(current, managed)).toEqual({
            icc: true,
            "log-opts": { "max-size": "10m" },
            "live-restore": null,
        });
        expect(ownedDaemonSettings(desiredDaemonConfig(current, managed), managed)).toEqual(managed);
    });
});

describe("planDaemonConfigRemoval", () => {
    test(
        "destroy gives back the host's file: previous values restored, " + "our new keys removed, user keys untouched",
        () => {
            const original: JsonObject = { debug: true, icc: true, "log-opts": { labels: "team", "max-size": "1g" } };
            const merged = merge(original, {});
            const previous = Object.fromEntries(merged.managedKeys.map((k) => [k, original[k] ?? null]));
            const removal = planDaemonConfigRemoval({ current: merged.config, applied: merged.managed, previous });
            expect(removal.config).toEqual(original);
            expect(removal.restored).toEqual(["icc", "log-opts"]);
            expect(removal.removed).toEqual([
                "live-restore",
                "log-driver",
                "no-new-privileges",
                "userland-proxy",
                "userns-remap",
            ]);
            expect(removal.changedByHand).toEqual([]);
        },
    );

    test("a key changed or removed by hand since is left as it is", () => {
        const applied: JsonObject = { icc: false, "live-restore": true, "log-opts": { "max-size": "10m" } };
        const current: JsonObject = { icc: true, "log-opts": { "max-size": "20m" } };
        const removal = planDaemonConfigRemoval({
            current,
            applied,
            previous: { icc: null, "live-restore": false, "log-opts": null },
        });
        expect(removal.config).toEqual(current);
        expect(removal.changedByHand).toEqual(["icc", "live-restore", "log-opts"]);
    });

    test("entries added to our object key by hand stay after our entries go", () => {
        const current: JsonObject = { "log-opts": { "max-size": "10m", "max-file": "3", compress: "true" } };
        const removal = planDaemonConfigRemoval({
            current,
            applied: { "log-opts": { "max-size": "10m", "max-file": "3" } },
            previous: {},
        });
        expect(removal.config).toEqual({ "log-opts": { compress: "true" } });
        expect(removal.restored).toEqual(["log-opts"]);
    });

    test("keys we never managed are untouched, and an empty file stays empty", () => {
        expect(planDaemonConfigRemoval({ current: { debug: false }, applied: {}, previous: {} }).config).toEqual({
            debug: false,
        });
        expect(
            planDaemonConfigRemoval({ current: { icc: false }, applied: { icc: false }, previous: {} }).config,
        ).toEqual({});
    });
});

describe("canonicalJson and sha256Hex", () => {
    test("keys sorted at every depth, arrays in order, 2-space indent, trailing newline", () => {
        expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe(
            '{\n  "a": {\n    "c": null,\n    "d": [\n      3,\n      1\n    ]\n  },\n  "b": 1\n}\n',
        );
        expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
    });

    test("SHA-256 known vectors", () => {
        expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    });
});

describe("checkDataRootMove", () => {
    const empty = { apiRefused: false, containers: 0, images: 0 };
    const before = { icc: false };
    const remapped = { icc: false, "userns-remap": "dockremap" };

    test("a change that keeps the data root, or an empty Docker, passes", () => {
        expect(() => checkDataRootMove("h1", { ...empty, images: 3 }, before, { icc: true }, false)).not.toThrow();
        expect(() => checkDataRootMove("h1", empty, before, remapped, false)).not.toThrow();
        expect(() => checkDataRootMove("h1", { ...empty, containers: 2 }, before, remapped, true)).not.toThrow();
    });

    test.each([
        [
            { ...empty, containers: 1, images: 2 },
            before,
            /^host h1: userns: changing userns-remap would hide 1 container\(s\) and 2 image\(s\).*Fix: remove them/,
        ],
        [{ ...empty, apiRefused: true }, before, /^host h1: userns: Docker refuses our requests, so the containers/],
        [
            empty,
            { ...before, "authorization-plugins": ["hdh-authz"] },
            /^host h1: userns: changing userns-remap or data-root while an authorization plugin is enforced/,
        ],
    ])("%j moving from %j is refused in one line", (facts, current, message) => {
        expect(() => checkDataRootMove("h1", facts, current, remapped, false)).toThrow(message);
    });

    test("a data-root change counts as a move too", () => {
        expect(() =>
            checkDataRootMove("h1", { ...empty, images: 1 }, before, { ...before, "data-root": "/srv/docker" }, false),
        ).toThrow(/would hide 0 container\(s\) and 1 image\(s\)/);
    });
});

describe("planDaemonConfigApply", () => {
    test("a first run remembers what our keys were (null: absent) and the file as it was", () => {
        const current = { icc: true, debug: true };
        const plan = planDaemonConfigApply({
            current,
            currentText: '{"icc": true, "debug": true}\n',
            settings: { icc: false, "userns-remap": "dockremap" },
        });
        expect(plan.desired).toEqual({ icc: false, debug: true, "userns-remap": "dockremap" });
        expect(plan.previous).toEqual({ icc: true, "userns-remap": null });
        expect(plan.original).toBe('{"icc": true, "debug": true}\n');
    });

    test("a key we no longer own goes back to what it was before us; what was before us is kept", () => {
        const last = {
            settings: { icc: false, "log-level": "warn" },
            previous: { icc: true, "log-level": null },
            original: null,
        };
        const plan = planDaemonConfigApply({
            current: { icc: false, "log-level": "warn" },
            settings: { icc: false },
            last,
        });
        expect(plan.desired).toEqual({ icc: false });
        expect(plan.previous).toEqual({ icc: true });
        expect(plan.original).toBeNull();
    });

    test("after a run that failed half way, our record on the host tells what was there before us", () => {
        const plan = planDaemonConfigApply({
            current: { icc: false },
            currentText: '{"icc": false}',
            settings: { icc: false },
            record: { previous: { icc: true }, original: '{"icc": true}' },
        });
        expect(plan.previous).toEqual({ icc: true });
        expect(plan.original).toBe('{"icc": true}');
    });
});

describe("daemonJsonToRestore", () => {
    test("the operator's own file comes back byte for byte when the restored keys make exactly it", () => {
        expect(daemonJsonToRestore("h1", '{ "debug": true }\n', { debug: true })).toBe('{ "debug": true }\n');
        expect(daemonJsonToRestore("h1", '{ "debug": true }\n', { debug: false })).toBe(
            canonicalJson({ debug: false }),
        );
    });

    test("no file before us: none after, unless keys of others are left", () => {
        expect(daemonJsonToRestore("h1", null, {})).toBeNull();
        expect(daemonJsonToRestore("h1", null, { debug: true })).toBe(canonicalJson({ debug: true }));
    });
});

describe("dockerActionWording and parseDaemonJson", () => {
    test("what a change does to Docker, in the preview's words", () => {
        expect(dockerActionWording({ icc: false }, { icc: false })).toBeUndefined();
        expect(dockerActionWording({}, { "userns-remap": "dockremap" })).toBe("restart dockerd");
        expect(dockerActionWording({}, { debug: true })).toBe("reload dockerd (SIGHUP)");
    });

    test("a daemon.json that is not a JSON object is refused in one line; none or empty is {}", () => {
        expect(parseDaemonJson("h1", undefined)).toEqual({});
        expect(parseDaemonJson("h1", " \n")).toEqual({});
        expect(parseDaemonJson("h1", '{"icc": false}')).toEqual({ icc: false });
        expect(() => parseDaemonJson("h1", "[1]")).toThrow(
            /^host h1: \/etc\/docker\/daemon\.json: the existing file is not/,
        );
    });
});

describe("checkOwnedKeys", () => {
    test("authorization-plugins is the component's: setting it is refused in one line", () => {
        expect(() => checkOwnedKeys("h1", { icc: false })).not.toThrow();
        expect(() => checkOwnedKeys("h1", { "authorization-plugins": ["x"] })).toThrow(
            /^host h1: daemonConfig\.authorization-plugins: this key is managed by the component .*Fix: /,
        );
    });
});
