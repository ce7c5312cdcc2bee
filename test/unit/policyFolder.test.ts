import { dedicatedDirectory } from "../../components/plan/policyFolder";
import { mergePolicyData } from "../../components/policy/localPolicy";

describe("dedicatedDirectory", () => {
    test("an absolute folder of its own passes, without its trailing slash", () => {
        expect(dedicatedDirectory("/etc/docker/policies", "h1")).toBe("/etc/docker/policies");
        expect(dedicatedDirectory("/srv/hdh/policy/", "h1")).toBe("/srv/hdh/policy");
    });

    test.each(["policies", "/etc/docker", "/", "/var/lib/docker/", "/etc/docker/../policies", "/etc//docker/p"])(
        "%s is refused in one line (relative, shared or not normalized)",
        (dir) => {
            expect(() => dedicatedDirectory(dir, "h1")).toThrow(
                /^host h1: policy\.hostDirectory: ".*" must be an absolute, normalized folder of its own .*\. Fix: /,
            );
        },
    );
});

describe("mergePolicyData", () => {
    test("objects merge key by key, lists and scalars are replaced, undefined keeps the base", () => {
        const base = { bind_mounts: ["/srv/shared"], sysctls: ["net.ipv4.ping_group_range"], min_api_version: "1.24" };
        expect(mergePolicyData(base, { bind_mounts: ["/data"], trusted_users: ["ops"] })).toEqual({
            bind_mounts: ["/data"],
            sysctls: ["net.ipv4.ping_group_range"],
            min_api_version: "1.24",
            trusted_users: ["ops"],
        });
        expect(mergePolicyData({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
        expect(mergePolicyData(base, undefined)).toBe(base);
    });
});
