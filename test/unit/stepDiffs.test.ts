import {
    diffAuthorization,
    diffDaemonConfig,
    diffDockerPlugin,
    diffRemoteFiles,
    diffSubordinateIds,
} from "../../components/plan/stepDiffs";

describe("diffSubordinateIds", () => {
    const olds = { owner: "dockremap", count: 65536, start: 165536, gidStart: 165536 };
    const news = { owner: "dockremap", count: 65536 };

    test("nothing new: no change; a new size, another requested start or a range gone from the host: update", () => {
        expect(diffSubordinateIds(olds, news).changes).toBe(false);
        expect(diffSubordinateIds(olds, { ...news, requestedStart: 165536 }).changes).toBe(false);
        expect(diffSubordinateIds(olds, { ...news, requestedStart: 300000 }).changes).toBe(true);
        expect(diffSubordinateIds(olds, { ...news, count: 131072 }).changes).toBe(true);
        expect(diffSubordinateIds({ ...olds, gidStart: 0 }, news).changes).toBe(true);
        expect(diffSubordinateIds(olds, { ...news, allowDataRootMove: true }).changes).toBe(true);
    });

    test("a new owner replaces it, the new range reserved before the old one goes", () => {
        expect(diffSubordinateIds(olds, { ...news, owner: "remap2" })).toEqual({
            changes: true,
            replaces: ["owner"],
            deleteBeforeReplace: false,
        });
    });
});

describe("diffDaemonConfig and diffRemoteFiles", () => {
    test("daemon.json keys compare as JSON, whatever their order; allowDataRootMove reaches the state", () => {
        const olds = { settings: { icc: false, "log-opts": { "max-size": "10m", "max-file": "3" } } };
        const reordered = { settings: { "log-opts": { "max-file": "3", "max-size": "10m" }, icc: false } };
        expect(diffDaemonConfig(olds, reordered).changes).toBe(false);
        expect(diffDaemonConfig(olds, { settings: { icc: true } }).changes).toBe(true);
        expect(diffDaemonConfig(olds, { ...olds, restartCommand: "systemctl restart docker" }).changes).toBe(true);
        expect(diffDaemonConfig(olds, { ...olds, allowDataRootMove: true }).changes).toBe(true);
    });

    test("another folder replaces the files, the old folder emptied first", () => {
        const olds = { directory: "/a", sha256: "x", mode: "0644" };
        expect(diffRemoteFiles(olds, { ...olds }).changes).toBe(false);
        expect(diffRemoteFiles(olds, { ...olds, sha256: "y" }).changes).toBe(true);
        expect(diffRemoteFiles(olds, { ...olds, directory: "/b" })).toEqual({
            changes: true,
            replaces: ["directory"],
            deleteBeforeReplace: true,
        });
    });
});

describe("diffDockerPlugin", () => {
    const ref = "localhost:5000/hdh/opa-authz:0.1.1";
    const olds = {
        alias: "hdh-authz",
        dataRootKey: "userns-remap=dockremap data-root=",
        reference: ref,
        installedReference: ref,
        enabled: true,
        settings: { "policies.source": "/etc/docker/policies" },
    };
    const news = { alias: olds.alias, dataRootKey: olds.dataRootKey, reference: ref, settings: olds.settings };

    test("the plugin as recorded: no change; found disabled or at another build on the host: update", () => {
        expect(diffDockerPlugin(olds, news).changes).toBe(false);
        expect(diffDockerPlugin({ ...olds, enabled: false }, news).changes).toBe(true);
        expect(
            diffDockerPlugin({ ...olds, installedReference: "localhost:5000/hdh/opa-authz:0.1.0" }, news).changes,
        ).toBe(true);
        expect(diffDockerPlugin(olds, { ...news, settings: { ...news.settings, args: "-quiet" } }).changes).toBe(true);
    });

    test("a new alias is installed beside the old one; a new data root removes the old plugin first", () => {
        expect(diffDockerPlugin(olds, { ...news, alias: "hdh-authz-2" })).toEqual({
            changes: true,
            replaces: ["alias"],
            deleteBeforeReplace: false,
        });
        expect(diffDockerPlugin(olds, { ...news, dataRootKey: "userns-remap= data-root=" })).toEqual({
            changes: true,
            replaces: ["dataRootKey"],
            deleteBeforeReplace: true,
        });
    });
});

describe("diffAuthorization", () => {
    const olds = {
        active: true,
        alias: "hdh-authz",
        pluginReference: "r:0.1.1",
        canaryImage: "busybox:1",
        liveSha256: "p1",
        policyDirectory: "/etc/docker/policies",
        stagedDirectory: "/var/lib/hardened-docker-host/policy-staged",
    };
    const news = { ...olds, policySha256: "p1" };

    test("enforcing what was checked: no change; a new policy, a live policy drifted, or not enforcing: update", () => {
        expect(diffAuthorization(olds, news).changes).toBe(false);
        expect(diffAuthorization(olds, { ...news, policySha256: "p2" }).changes).toBe(true);
        expect(diffAuthorization({ ...olds, liveSha256: "edited" }, news).changes).toBe(true);
        expect(diffAuthorization({ ...olds, active: false }, news).changes).toBe(true);
        expect(diffAuthorization(olds, { ...news, pluginReference: "r:0.1.2" }).changes).toBe(true);
    });

    test("a new alias is enabled before the old one is taken out", () => {
        expect(diffAuthorization(olds, { ...news, alias: "hdh-authz-2" })).toEqual({
            changes: true,
            replaces: ["alias"],
            deleteBeforeReplace: false,
        });
    });
});
