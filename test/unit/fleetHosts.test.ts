import { keepsFleetPolicy, mergeNestedOverrides, validateFleetHosts } from "../../components/plan/fleetHosts";
import { commonSubordinateStart } from "../../components/plan/subordinateIds";

const ok = { name: "h1", host: "10.0.0.1", hostKey: "ssh-ed25519 AAAAC3", privateKeyPath: "/k" };

describe("validateFleetHosts", () => {
    test("a valid host passes, numbers and booleans set as strings are read back", () => {
        expect(validateFleetHosts([{ ...ok, port: "2222", sudo: "true" }])).toEqual([
            { ...ok, port: 2222, sudo: true },
        ]);
    });

    test.each([
        [{ ...ok, hostKey: undefined }, /^host h1: hostKey: no pinned host key\. Fix: /],
        [{ ...ok, port: 70000 }, /^host h1: port: 70000 is not a TCP port/],
        [{ ...ok, prot: 22 }, /^host h1: prot: unknown key\. Fix: did you mean port\?/],
        [{ ...ok, privateKeyPath: undefined }, /^host h1: privateKeyPath: no private key file and no ssh-agent/],
        [{ ...ok, jumpHost: { host: "b", privateKeyPath: "/k" } }, /^host h1: jumpHost\.hostKey: no pinned host key/],
        [{ ...ok, name: "" }, /^host hosts\[0\]: hosts\[0\]\.name: missing/],
    ])("%j is refused in one line naming host and key", (entry, message) => {
        expect(() => validateFleetHosts([entry])).toThrow(message);
    });

    test("insecureSkipHostKeyCheck: true stands in for a host key", () => {
        expect(() => validateFleetHosts([{ ...ok, hostKey: undefined, insecureSkipHostKeyCheck: true }])).not.toThrow();
    });

    test("a name given twice is refused naming it", () => {
        expect(() => validateFleetHosts([ok, { ...ok, host: "10.0.0.2" }])).toThrow(/^host h1: name: appears twice/);
    });

    test("an empty fleet is refused", () => {
        expect(() => validateFleetHosts([])).toThrow(/hosts: no hosts/);
    });
});

describe("commonSubordinateStart", () => {
    const files = (subuid: string, subgid = subuid) => ({ subuid, subgid, loginDefs: "" });

    test("the lowest range free on every host, in both files", () => {
        const hosts = [files(""), files("alice:100000:65536\n"), files("", "bob:165536:65536\n")];
        expect(commonSubordinateStart("fleet", hosts, "dockremap", 65536)).toBe(231072);
    });

    test("the owner's own lines are not obstacles", () => {
        expect(commonSubordinateStart("fleet", [files("dockremap:100000:65536\n")], "dockremap", 65536)).toBe(100000);
    });

    test("the range chosen before is kept while it stays free everywhere (a host added later gets it)", () => {
        expect(commonSubordinateStart("fleet", [files("")], "dockremap", 65536, 296608)).toBe(296608);
        expect(commonSubordinateStart("fleet", [files("alice:296608:10\n")], "dockremap", 65536, 296608)).toBe(100000);
    });

    test("every host's SUB_UID_MIN and SUB_GID_MIN bound the range", () => {
        const hosts = [files(""), { subuid: "", subgid: "", loginDefs: "SUB_GID_MIN 200000\n" }];
        expect(commonSubordinateStart("fleet", hosts, "dockremap", 65536)).toBe(200000);
    });

    test("no free range anywhere is an error naming userns.count", () => {
        const hosts = [{ subuid: "", subgid: "", loginDefs: "SUB_UID_MIN 100000\nSUB_UID_MAX 100010\n" }];
        expect(() => commonSubordinateStart("fleet", hosts, "dockremap", 65536)).toThrow(
            /fleet: userns\.count: no range of 65536 IDs/,
        );
    });
});

describe("mergeNestedOverrides / keepsFleetPolicy", () => {
    type Shared = Record<"userns" | "plugin" | "policy", Record<string, unknown> | undefined>;
    const shared: Shared = {
        userns: { user: "dockremap", count: 65536 },
        plugin: { registry: "registry.example:5000", alias: "hdh-authz" },
        policy: { directory: "/srv/policy", data: { trusted_users: ["ops"] } },
    };

    test("a host's fields replace the fleet's one by one, the others stay the fleet's", () => {
        expect(
            mergeNestedOverrides(shared, { plugin: { alias: "hdh-authz-2" }, policy: { hostDirectory: "/etc/p" } }),
        ).toEqual({
            userns: shared.userns,
            plugin: { registry: "registry.example:5000", alias: "hdh-authz-2" },
            policy: { directory: "/srv/policy", data: { trusted_users: ["ops"] }, hostDirectory: "/etc/p" },
        });
    });

    test("nothing set anywhere stays unset", () => {
        expect(mergeNestedOverrides<Partial<Shared>>({}, {})).toEqual({
            userns: undefined,
            plugin: undefined,
            policy: undefined,
        });
    });

    test("the fleet's compiled policy is kept unless the host changes its folder, data or check", () => {
        expect(keepsFleetPolicy({})).toBe(true);
        expect(keepsFleetPolicy({ policy: { hostDirectory: "/etc/p" } as Record<string, unknown> })).toBe(true);
        expect(keepsFleetPolicy({ policy: { data: {} } })).toBe(false);
        expect(keepsFleetPolicy({ policy: { directory: "/other" } })).toBe(false);
        expect(keepsFleetPolicy({ policy: { opaPath: "/opt/opa" } })).toBe(false);
    });
});
