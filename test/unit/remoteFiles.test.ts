import { checkRemoteFiles } from "../../components/plan/remoteFiles";

const ok = { directory: "/var/lib/hardened-docker-host/policy-staged", files: { "authz.rego": "x" }, mode: "0644" };

describe("checkRemoteFiles", () => {
    test("plain names, an octal mode and a name pattern pass", () => {
        expect(() => checkRemoteFiles("h1", { ...ok, exclusivePattern: "*" })).not.toThrow();
        expect(() => checkRemoteFiles("h1", { ...ok, mode: "640", exclusivePattern: "*.rego" })).not.toThrow();
    });

    test.each([
        [{ ...ok, directory: "policies" }, /^host h1: directory: "policies" is not an absolute path\. Fix: /],
        [{ ...ok, files: { "my policy.rego": "x" } }, /^host h1: files\.my policy\.rego: a file name may hold only/],
        [{ ...ok, files: { ".hidden": "x" } }, /^host h1: files\.\.hidden: /],
        [{ ...ok, mode: "0644; reboot" }, /^host h1: mode: "0644; reboot" is not an octal file mode\. Fix: /],
        [{ ...ok, mode: "u+rw" }, /^host h1: mode: "u\+rw" is not an octal file mode/],
        [{ ...ok, exclusivePattern: "../*" }, /^host h1: exclusivePattern: "\.\.\/\*" is not a pattern of names/],
        [{ ...ok, exclusivePattern: "*; rm -rf /" }, /^host h1: exclusivePattern: /],
    ])("%j is refused in one line naming the field", (request, message) => {
        expect(() => checkRemoteFiles("h1", request)).toThrow(message);
    });
});
