import { DAEMON_CONFIG_SCHEMA, validateDaemonConfig } from "../../components/plan/daemonConfigSchema";
import { HostInputError } from "../../components/plan/errors";
import { JsonValue } from "../../components/plan/json";
import { hardenedDefaults } from "../../components/plan/daemonConfig";

function refusal(config: JsonValue, field?: string): HostInputError {
    try {
        validateDaemonConfig("h1", config, field);
    } catch (error) {
        if (error instanceof HostInputError) return error;
        throw error;
    }
    throw new Error("expected the config to be refused");
}

describe("validateDaemonConfig", () => {
    test("accepts the hardened defaults and the documented shapes", () => {
        expect(() =>
            validateDaemonConfig("h1", {
                ...hardenedDefaults({ remapUser: "dockremap", authorizationPlugin: "hdh-authz" }),
                "default-address-pools": [{ base: "172.30.0.0/16", size: 24 }],
                "default-ulimits": { nofile: { Name: "nofile", Hard: 64000, Soft: 64000 } },
                runtimes: { custom: { path: "/usr/local/bin/runc", runtimeArgs: ["--debug"] } },
                features: { buildkit: true },
                "default-shm-size": "64M",
                "max-concurrent-downloads": 3,
                "oom-score-adjust": -500,
                builder: { gc: { enabled: true } },
            }),
        ).not.toThrow();
        expect(() => validateDaemonConfig("h1", { "default-shm-size": 67108864 })).not.toThrow();
        expect(() => validateDaemonConfig("h1", { "default-shm-size": "1.5 GiB" })).not.toThrow();
    });

    test("null marks a key or an entry as unmanaged and is accepted", () => {
        expect(() => validateDaemonConfig("h1", { icc: null, "log-opts": { "max-file": null } })).not.toThrow();
    });

    test("an unknown key is refused with the closest known key", () => {
        const error = refusal({ lables: ["a=b"] });
        expect(error.host).toBe("h1");
        expect(error.field).toBe("daemonConfig.lables");
        expect(error.message).toBe(
            "host h1: daemonConfig.lables: unknown daemon.json key (dockerd 20.10 would refuse to start). " +
                'Fix: did you mean "labels"?',
        );
    });

    test("flag names, snake_case and camelCase point at the daemon.json key", () => {
        expect(refusal({ "insecure-registry": [] }).fix).toBe('did you mean "insecure-registries"?');
        expect(refusal({ "log-opt": {} }).fix).toBe('did you mean "log-opts"?');
        expect(refusal({ "add-runtime": {} }).fix).toBe('did you mean "runtimes"?');
        expect(refusal({ userns_remap: "x" }).fix).toBe('did you mean "userns-remap"?');
        expect(refusal({ noNewPrivileges: true }).fix).toBe('did you mean "no-new-privileges"?');
        expect(refusal({ graph: "/srv/docker" }).fix).toBe('did you mean "data-root"?');
    });

    test("keys of later Docker releases say so; nonsense gets no guess", () => {
        expect(refusal({ proxies: {} }).problem).toMatch(/later Docker release/);
        expect(refusal({ "completely-made-up-setting": 1 }).fix).toMatch(/^remove it/);
    });

    test("a wrong type names the key and the type expected", () => {
        expect(refusal({ icc: "false" }).message).toBe(
            'host h1: daemonConfig.icc: expected true or false, got a string ("false"). Fix: give "icc" true or false',
        );
        expect(refusal({ dns: "8.8.8.8" }).problem).toBe('expected an array of strings, got a string ("8.8.8.8")');
        expect(refusal({ mtu: 1500.5 }).problem).toBe("expected a whole number, got the number 1500.5 (1500.5)");
        expect(refusal({ "default-shm-size": "lots" }).field).toBe("daemonConfig.default-shm-size");
        expect(refusal({ "userns-remap": ["dockremap"] }).problem).toMatch(/^expected a string, got an array/);
    });

    test("a wrong entry inside an array or object is named with its path", () => {
        const logOpts = refusal({ "log-opts": { "max-size": 10 } });
        expect(logOpts.field).toBe("daemonConfig.log-opts.max-size");
        expect(logOpts.problem).toBe("expected a string, got the number 10 (10)");
        expect(refusal({ "authorization-plugins": ["ok", 3] }).field).toBe("daemonConfig.authorization-plugins.1");
        expect(refusal({ features: { buildkit: "yes" } }).problem).toBe('expected true or false, got a string ("yes")');
        expect(refusal({ runtimes: { custom: "/usr/bin/runc" } }).field).toBe("daemonConfig.runtimes.custom");
    });

    test("the field name is configurable, and a non-object is refused", () => {
        expect(refusal({ icc: 1 }, "hosts.h1.daemonConfig").field).toBe("hosts.h1.daemonConfig.icc");
        expect(refusal(["icc"]).problem).toBe("expected an object of daemon.json keys, got an array");
    });

    test("inherited names are not keys", () => {
        expect(refusal({ constructor: "x" }).field).toBe("daemonConfig.constructor");
        expect(refusal(JSON.parse('{"__proto__": {}}') as JsonValue).field).toBe("daemonConfig.__proto__");
    });

    test("the schema holds the documented 20.10 keys with their types", () => {
        expect(Object.keys(DAEMON_CONFIG_SCHEMA).length).toBe(82);
        expect(DAEMON_CONFIG_SCHEMA["authorization-plugins"]).toBe("string[]");
        expect(DAEMON_CONFIG_SCHEMA["log-opts"]).toBe("string-map");
        expect(DAEMON_CONFIG_SCHEMA["default-address-pools"]).toBe("object[]");
        expect(DAEMON_CONFIG_SCHEMA["log-format"]).toBeUndefined();
    });
});
