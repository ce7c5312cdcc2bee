import { daemonConfigChangeEffect, restartNeeded } from "../../components/plan/daemonReload";

describe("restartNeeded and daemonConfigChangeEffect", () => {
    test("no change: nothing to do, whatever the key order", () => {
        const before = { "log-opts": { "max-size": "10m", "max-file": "3" }, icc: false };
        expect(
            daemonConfigChangeEffect(before, { icc: false, "log-opts": { "max-file": "3", "max-size": "10m" } }),
        ).toEqual({ action: "none", changedKeys: [], restartKeys: [] });
        expect(restartNeeded(before, before)).toBe(false);
    });

    test("keys a SIGHUP applies need only a reload", () => {
        expect(
            daemonConfigChangeEffect(
                { debug: false },
                { debug: true, "authorization-plugins": ["hdh-authz"], "insecure-registries": ["r:5000"] },
            ),
        ).toEqual({
            action: "reload",
            changedKeys: ["authorization-plugins", "debug", "insecure-registries"],
            restartKeys: [],
        });
        expect(
            restartNeeded(
                {},
                {
                    "live-restore": true,
                    "shutdown-timeout": 30,
                    "max-download-attempts": 2,
                    features: { buildkit: true },
                },
            ),
        ).toBe(false);
    });

    test("keys a SIGHUP does not apply need a restart, and are named", () => {
        expect(
            daemonConfigChangeEffect({ debug: false }, { debug: true, "userns-remap": "dockremap", icc: false }),
        ).toEqual({
            action: "restart",
            changedKeys: ["debug", "icc", "userns-remap"],
            restartKeys: ["icc", "userns-remap"],
        });
        expect(restartNeeded({ "log-opts": { "max-size": "10m" } }, { "log-opts": { "max-size": "20m" } })).toBe(true);
        expect(restartNeeded({}, { "log-level": "debug" })).toBe(true);
    });

    test("removing a key a reload only sets when present needs a restart", () => {
        expect(restartNeeded({ debug: true }, {})).toBe(true);
        expect(restartNeeded({ "live-restore": true }, {})).toBe(true);
        expect(restartNeeded({ "default-runtime": "runc" }, { "default-runtime": "" })).toBe(true);
    });

    test("removing a key a reload resets to its default is a reload", () => {
        expect(restartNeeded({ "authorization-plugins": ["hdh-authz"] }, {})).toBe(false);
        expect(restartNeeded({ "max-concurrent-downloads": 10 }, {})).toBe(false);
        expect(restartNeeded({ features: { buildkit: true } }, {})).toBe(false);
    });
});
