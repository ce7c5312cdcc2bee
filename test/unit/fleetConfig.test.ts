import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fleetFromConfig, fleetHostArgs } from "../../components/fleetConfig";

// The stack config's fleet: an inventory file or listed hosts. Whatever is wrong with them is one line naming
// the host and the key, never a stack trace from JSON.parse or readFileSync.

let dir: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-fleet-config-"));
    fs.writeFileSync(path.join(dir, "key"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const inventory = (text: string) => {
    fs.writeFileSync(path.join(dir, "inventory.json"), text);
    return { inventory: "inventory.json", projectDir: dir };
};
const host = { name: "h1", address: "127.0.0.1", port: 2221, hostKey: "ssh-ed25519 AAAAC3" };

describe("fleetFromConfig", () => {
    test("an inventory gives each host its address, port, host key and the inventory's key file", () => {
        const sources = inventory(JSON.stringify({ keyPath: path.join(dir, "key"), hosts: [host] }));
        expect(fleetFromConfig({ ...sources, users: { h1: "deploy" } })).toEqual([
            {
                name: "h1",
                host: "127.0.0.1",
                port: 2221,
                hostKey: host.hostKey,
                privateKeyPath: path.join(dir, "key"),
                user: "deploy",
            },
        ]);
    });

    test.each([
        ["{ half written", /^host fleet: inventory: .*inventory\.json cannot be read as JSON \(.*\)\. Fix: run npm/],
        ["[]", /^host fleet: inventory: .*inventory\.json has no "hosts" list of objects\. Fix: /],
        ['{"hosts": [1]}', /^host fleet: inventory: .*has no "hosts" list of objects/],
    ])("an inventory file %j is refused in one line", (text, message) => {
        expect(() => fleetFromConfig(inventory(text))).toThrow(message);
    });

    test("a missing inventory says how to make one", () => {
        expect(() => fleetFromConfig({ inventory: "nowhere.json", projectDir: dir })).toThrow(
            /^host fleet: inventory: .*nowhere\.json does not exist\. Fix: run npm run fleet:up/,
        );
    });
});

describe("fleetHostArgs", () => {
    const listed = (privateKeyPath: string, jumpKey?: string) =>
        fleetFromConfig({
            hosts: [
                {
                    name: "h1",
                    host: "10.0.0.1",
                    hostKey: "ssh-ed25519 AAAAC3",
                    privateKeyPath,
                    ...(jumpKey
                        ? { jumpHost: { host: "10.0.0.9", hostKey: "ssh-ed25519 AAAAC3", privateKeyPath: jumpKey } }
                        : {}),
                },
            ],
            projectDir: dir,
        });

    test("a key file that cannot be read is refused naming the host and the key", () => {
        const missing = path.join(dir, "missing");
        expect(() => fleetHostArgs(listed(missing))).toThrow(
            new RegExp(`^host h1: privateKeyPath: cannot read ${missing} \\(ENOENT\\)\\. Fix: `),
        );
        expect(() => fleetHostArgs(listed(path.join(dir, "key"), missing))).toThrow(
            /^host h1: jumpHost\.privateKeyPath: cannot read .*missing \(ENOENT\)/,
        );
    });

    test("readable keys give the connection and its jump host", () => {
        const [h1] = fleetHostArgs(listed(path.join(dir, "key"), path.join(dir, "key")));
        expect(h1.name).toBe("h1");
        expect(h1.fleetIdRange).toBe(true);
        expect(h1.connection).toMatchObject({ host: "10.0.0.1", label: "h1", proxy: { host: "10.0.0.9" } });
    });
});
