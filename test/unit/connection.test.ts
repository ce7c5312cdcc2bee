import * as net from "node:net";
import type { remote, types } from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import { Server, utils } from "ssh2";
import { normalizeConnection, unverifiedHops } from "../../components/plan/connection";
import { HostInputError } from "../../components/plan/errors";
import { SshSession } from "../../components/ssh/session";
import { ConnectionArgs, SshTarget, targetKey } from "../../components/ssh/target";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDc+YUXex/Bpco7jx5cKDoSIH6WHUA6iulF42DFleMBm";
const FINGERPRINT = "SHA256:" + "A".repeat(43);

/** The refusal normalizeConnection throws for `c` (fails the test when there is none). */
function refusal(c: unknown): HostInputError {
    try {
        normalizeConnection("h1", c);
    } catch (err) {
        expect(err).toBeInstanceOf(HostInputError);
        expect((err as Error).message).not.toContain("\n");
        return err as HostInputError;
    }
    throw new Error("expected a refusal");
}

describe("ConnectionArgs (types, checked by tsc)", () => {
    const output = undefined as unknown as pulumi.Output<string>;
    test("takes @pulumi/command's remote.ConnectionArgs as is, and ours passes back to a remote.Command", () => {
        const command: types.input.remote.ConnectionArgs = {
            host: output,
            port: 22,
            user: "deploy",
            password: "pw",
            privateKey: output,
            privateKeyPassword: "pp",
            agentSocketPath: "/run/agent",
            hostKey: KEY,
            dialErrorLimit: 3,
            perDialTimeout: 5,
            proxy: { host: "bastion", user: "deploy", hostKey: KEY, agentSocketPath: "/run/agent", perDialTimeout: 5 },
        };
        const same: ConnectionArgs = command;
        const withOurs: ConnectionArgs = {
            ...command,
            sudo: true,
            insecureSkipHostKeyCheck: false,
            label: "build-01",
            commandTimeoutMs: 60_000,
            connectTimeoutMs: 5_000,
            agent: "/run/agent",
            privateKeyPassphrase: "pp",
            jumpHost: {
                host: "bastion",
                hostKey: KEY,
                insecureSkipHostKeyCheck: false,
                proxy: { host: "b0", hostKey: KEY },
            },
        };
        const toCommand: remote.CommandArgs["connection"] = withOurs;
        // @ts-expect-error a port is a number, not a string
        const wrongPort: ConnectionArgs = { host: "h", port: "22" };
        // @ts-expect-error sudo is ours on the target only, not on a jump host
        const sudoOnProxy: ConnectionArgs = { host: "h", proxy: { host: "b", sudo: true } };
        expect([same, withOurs, toCommand, wrongPort, sudoOnProxy]).toHaveLength(5);
    });
});

describe("normalizeConnection", () => {
    test("keeps @pulumi/command's names, in a fixed order, and drops unset fields", () => {
        expect(
            normalizeConnection("h1", {
                label: "h1",
                sudo: false,
                perDialTimeout: 0,
                dialErrorLimit: -1,
                hostKey: KEY,
                privateKey: "k",
                user: "u",
                port: 2222,
                host: "10.0.0.1",
                password: undefined,
                agentSocketPath: null,
                privateKeyPassword: "",
            }),
        ).toEqual({
            host: "10.0.0.1",
            port: 2222,
            user: "u",
            privateKey: "k",
            hostKey: KEY,
            dialErrorLimit: -1,
            perDialTimeout: 0,
            sudo: false,
            label: "h1",
        });
    });

    test("maps the aliases to the canonical names, in the jump host too", () => {
        const t = normalizeConnection("h1", {
            host: "h",
            hostKey: KEY,
            agent: "/run/a",
            privateKeyPassphrase: "pp",
            connectTimeoutMs: 2_500,
            jumpHost: { host: "b", hostKey: FINGERPRINT, agent: "/run/b", connectTimeoutMs: 500 },
        });
        expect(t).toEqual({
            host: "h",
            privateKeyPassword: "pp",
            agentSocketPath: "/run/a",
            hostKey: KEY,
            perDialTimeout: 2.5,
            proxy: { host: "b", agentSocketPath: "/run/b", hostKey: FINGERPRINT, perDialTimeout: 0.5 },
        });
        expect(targetKey(t)).toBe("root@b:22>root@h:22");
    });

    test("accepts an alias beside its canonical name when both say the same", () => {
        const proxy = { host: "b", hostKey: KEY };
        expect(
            normalizeConnection("h1", {
                host: "h",
                hostKey: KEY,
                agent: "/a",
                agentSocketPath: "/a",
                connectTimeoutMs: 3_000,
                perDialTimeout: 3,
                proxy,
                jumpHost: { ...proxy, agent: "" },
            }),
        ).toEqual({ host: "h", agentSocketPath: "/a", hostKey: KEY, proxy, perDialTimeout: 3 });
    });

    test.each([
        ["agent", { agent: "/a", agentSocketPath: "/b" }, "agentSocketPath"],
        ["privateKeyPassphrase", { privateKeyPassphrase: "x", privateKeyPassword: "y" }, "privateKeyPassword"],
        ["connectTimeoutMs", { connectTimeoutMs: 1_000, perDialTimeout: 15 }, "perDialTimeout"],
        ["jumpHost", { jumpHost: { host: "a", hostKey: KEY }, proxy: { host: "b", hostKey: KEY } }, "proxy"],
    ])("refuses %s and its canonical name set to different values", (alias, fields, canonical) => {
        expect(refusal({ host: "h", hostKey: KEY, ...fields }).message).toBe(
            `host h1: connection.${alias}: is an ` +
                `alias of ${canonical}, and both are set to different values. Fix: set only connection.${canonical}`,
        );
    });

    test("refuses unknown fields, suggesting the nearest name", () => {
        expect(refusal({ host: "h", hostkey: KEY }).message).toBe(
            "host h1: connection.hostkey: unknown field. Fix: did you mean connection.hostKey?",
        );
        expect(refusal({ host: "h", hostKey: KEY, proxy: { host: "b", hostKey: KEY, prot: 22 } }).field).toBe(
            "connection.proxy.prot",
        );
        expect(refusal({ host: "h", hostKey: KEY, bananas: 1 }).fix).toMatch(/^remove it/);
        expect(refusal({ host: "h", hostKey: KEY, constructor: 1 }).field).toBe("connection.constructor");
    });

    test.each(["sudo", "label", "commandTimeoutMs"])("refuses %s on a jump host (it applies to the target)", (key) => {
        const e = refusal({ host: "h", hostKey: KEY, proxy: { host: "b", hostKey: KEY, [key]: key === "sudo" || 1 } });
        expect(e.message).toBe(
            `host h1: connection.proxy.${key}: applies to the target host only, not to a jump host. ` +
                `Fix: move it to connection.${key}, or remove it`,
        );
    });

    test.each([0, 65536, 22.5, -22, Number.NaN, "22"])("refuses port %p", (port) => {
        expect(refusal({ host: "h", hostKey: KEY, port }).field).toBe("connection.port");
    });

    test.each([1, 65535])("accepts port %p", (port) => {
        expect(normalizeConnection("h1", { host: "h", hostKey: KEY, port }).port).toBe(port);
    });

    test.each([-2, 1.5, Number.POSITIVE_INFINITY, "3"])("refuses dialErrorLimit %p", (dialErrorLimit) => {
        expect(refusal({ host: "h", hostKey: KEY, dialErrorLimit }).field).toBe("connection.dialErrorLimit");
    });

    test.each([-1, 0, 1, 10])("accepts dialErrorLimit %p", (dialErrorLimit) => {
        expect(normalizeConnection("h1", { host: "h", hostKey: KEY, dialErrorLimit }).dialErrorLimit).toBe(
            dialErrorLimit,
        );
    });

    test("refuses negative timeouts, and a command timeout of 0", () => {
        expect(refusal({ host: "h", hostKey: KEY, perDialTimeout: -1 }).message).toBe(
            "host h1: connection.perDialTimeout: must be 0 (no limit) or more, not -1. " +
                "Fix: set connection.perDialTimeout to a timeout, or 0 for none",
        );
        expect(refusal({ host: "h", hostKey: KEY, connectTimeoutMs: -5 }).field).toBe("connection.connectTimeoutMs");
        expect(
            refusal({ host: "h", hostKey: KEY, proxy: { host: "b", hostKey: KEY, perDialTimeout: -0.5 } }).field,
        ).toBe("connection.proxy.perDialTimeout");
        expect(refusal({ host: "h", hostKey: KEY, commandTimeoutMs: 0 }).field).toBe("connection.commandTimeoutMs");
    });

    test("requires a pinned host key unless insecureSkipHostKeyCheck is explicitly true, on every hop", () => {
        expect(refusal({ host: "h" }).message).toBe(
            "host h1: connection.hostKey: no pinned host key. Fix: set " +
                "connection.hostKey to the host's public key (ssh-keyscan) or, knowingly, " +
                "connection.insecureSkipHostKeyCheck: true",
        );
        expect(refusal({ host: "h", hostKey: "" }).field).toBe("connection.hostKey");
        expect(refusal({ host: "h", insecureSkipHostKeyCheck: false }).field).toBe("connection.hostKey");
        expect(refusal({ host: "h", insecureSkipHostKeyCheck: "true" }).field).toBe(
            "connection.insecureSkipHostKeyCheck",
        );
        expect(refusal({ host: "h", hostKey: KEY, jumpHost: { host: "b" } }).field).toBe("connection.jumpHost.hostKey");
        expect(refusal({ host: "h", hostKey: KEY, proxy: { host: "b" } }).field).toBe("connection.proxy.hostKey");
        expect(normalizeConnection("h1", { host: "h", insecureSkipHostKeyCheck: true })).toEqual({
            host: "h",
            insecureSkipHostKeyCheck: true,
        });
    });

    test("refuses a malformed host key without quoting it", () => {
        const e = refusal({ host: "h", hostKey: "not-a-key-secret" });
        expect(e.field).toBe("connection.hostKey");
        expect(e.message).not.toContain("not-a-key-secret");
        expect(refusal({ host: "h", hostKey: "SHA256:short" }).field).toBe("connection.hostKey");
    });

    test("refuses wrong types without quoting secrets, and a connection that is not an object", () => {
        const e = refusal({ host: "h", hostKey: KEY, password: ["hunter2"] });
        expect(e.message).toBe(
            "host h1: connection.password: must be a string, not a list. " + "Fix: set connection.password to a string",
        );
        expect(refusal({ hostKey: KEY }).field).toBe("connection.host");
        expect(refusal({ host: "", hostKey: KEY }).field).toBe("connection.host");
        expect(refusal("h").field).toBe("connection");
        expect(refusal({ host: "h", hostKey: KEY, proxy: "b" }).field).toBe("connection.proxy");
    });

    test("is idempotent (the SSH layer normalizes what it is given again)", () => {
        const once = normalizeConnection("h1", {
            host: "h",
            hostKey: KEY,
            agent: "/a",
            sudo: true,
            label: "x",
            connectTimeoutMs: 1_000,
            jumpHost: { host: "b", insecureSkipHostKeyCheck: true, privateKeyPassphrase: "p" },
        });
        expect(normalizeConnection("h1", once)).toEqual(once);
    });
});

describe("SshSession.open against local servers (no fleet)", () => {
    const LOCAL = "127.0.0.1";
    const hostKey = utils.generateKeyPairSync("ed25519");
    const wrongKey = utils.generateKeyPairSync("ed25519").public;
    const servers: Array<{ close(): void }> = [];
    const agentSocket = process.env.SSH_AUTH_SOCK;

    // No ambient agent: each test says which credentials it gives.
    beforeAll(() => delete process.env.SSH_AUTH_SOCK);
    afterAll(() => {
        if (agentSocket !== undefined) process.env.SSH_AUTH_SOCK = agentSocket;
    });
    afterEach(() => servers.splice(0).forEach((s) => s.close()));

    /** A target on the local port, pinned to our sshd's key, as user u with password pw. */
    const at = (port: number, more: Partial<SshTarget> = {}): SshTarget => ({
        host: LOCAL,
        port,
        hostKey: hostKey.public,
        user: "u",
        password: "pw",
        ...more,
    });

    function listen(server: net.Server | Server, keep = true): Promise<number> {
        if (keep) servers.push(server);
        return new Promise((resolve) =>
            server.listen(0, LOCAL, () => resolve((server.address() as net.AddressInfo).port)),
        );
    }

    async function closedPort(): Promise<number> {
        const s = net.createServer();
        const port = await listen(s, false);
        await new Promise((resolve) => s.close(resolve));
        return port;
    }

    /** An sshd that takes user u with password pw and forwards TCP; counts the connections it got. */
    async function sshd(): Promise<{ port: number; connections: () => number }> {
        let connections = 0;
        const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
            connections += 1;
            client.on("authentication", (ctx) => {
                const ok = ctx.method === "password" && ctx.username === "u" && ctx.password === "pw";
                return ok ? ctx.accept() : ctx.reject(["password"]);
            });
            client.on("tcpip", (accept, reject, info) => {
                const out = net.connect(info.destPort, info.destIP);
                out.once("error", () => reject());
                out.once("connect", () => {
                    const channel = accept();
                    channel.pipe(out).pipe(channel);
                });
            });
            client.on("error", () => undefined);
        });
        return { port: await listen(server), connections: () => connections };
    }

    test("opens with a password and a pinned key, through a jump host too", async () => {
        const { port, connections } = await sshd();
        (await SshSession.open(at(port))).close();
        (await SshSession.open(at(port, { proxy: at(port) }))).close();
        expect(connections()).toBe(3);
    });

    test("retries a refused connection up to dialErrorLimit, with a backoff, and says how many attempts", async () => {
        const port = await closedPort();
        const started = Date.now();
        await expect(SshSession.open(at(port, { dialErrorLimit: 3 }))).rejects.toThrow(
            new RegExp(
                `^host 127\\.0\\.0\\.1:${port}: connection\\.host: cannot connect to 127\\.0\\.0\\.1:${port} ` +
                    "\\(.*ECONNREFUSED.*\\) after 3 attempts\\. Fix:",
            ),
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(550); // 200 + 400 ms between the attempts
        await expect(SshSession.open(at(port, { dialErrorLimit: 0 }))).rejects.toThrow(/after 1 attempt\. Fix:/);
    });

    test("bounds each attempt by perDialTimeout (connectTimeoutMs its alias) and retries a timeout", async () => {
        let accepted = 0;
        const silent = net.createServer((socket) => {
            accepted += 1;
            socket.on("error", () => undefined);
            servers.push({ close: () => socket.destroy() });
        });
        const port = await listen(silent);
        await expect(SshSession.open(at(port, { dialErrorLimit: 2, perDialTimeout: 0.2 }))).rejects.toThrow(
            /Timed out.*after 2 attempts/,
        );
        expect(accepted).toBe(2);
        const alias = { ...at(port, { dialErrorLimit: 2 }), connectTimeoutMs: 200 };
        await expect(SshSession.open(alias as SshTarget)).rejects.toThrow(/after 2 attempts/);
    });

    test("never retries a host key mismatch (the jump host's is named connection.proxy.hostKey)", async () => {
        const { port, connections } = await sshd();
        await expect(SshSession.open(at(port, { hostKey: wrongKey, dialErrorLimit: 5 }))).rejects.toThrow(
            /connection\.hostKey: the host presented a different host key than the pinned one\. Fix:/,
        );
        expect(connections()).toBe(1);
        await expect(SshSession.open(at(port, { proxy: at(port, { hostKey: wrongKey }) }))).rejects.toThrow(
            /connection\.proxy\.hostKey: the host presented a different host key/,
        );
    });

    test("never retries a refused login", async () => {
        const { port, connections } = await sshd();
        const err: Error = await SshSession.open(at(port, { password: "no", dialErrorLimit: 5 })).catch((e) => e);
        expect(err.message).toMatch(/connection\.password: user u was refused \(.*\)\. Fix:/);
        expect(err.message).not.toMatch(/attempt/);
        expect(connections()).toBe(1);
    });

    test("retries when the jump host cannot reach the target, naming the target's fields", async () => {
        const { port } = await sshd();
        const closed = await closedPort();
        await expect(SshSession.open(at(closed, { dialErrorLimit: 2, proxy: at(port) }))).rejects.toThrow(
            new RegExp(`connection\\.host: the jump host cannot reach 127\\.0\\.0\\.1:${closed} .* after 2 attempts`),
        );
    });

    test("refuses a target without credentials; connections from older state (aliases) still work", async () => {
        const { port } = await sshd();
        await expect(SshSession.open(at(port, { password: undefined }))).rejects.toThrow(
            /connection\.privateKey: no private key, no password and no ssh-agent/,
        );
        // Older state says jumpHost: the SSH layer still goes through it (and names it connection.proxy).
        const old = { ...at(port), jumpHost: at(1) };
        await expect(SshSession.open(old as SshTarget)).rejects.toThrow(
            /connection\.proxy\.host: cannot connect to 127\.0\.0\.1:1 /,
        );
    });
});

describe("unverifiedHops", () => {
    test("names every hop that skips the host key check, the target and its jump hosts", () => {
        expect(unverifiedHops({ host: "h", hostKey: KEY })).toEqual([]);
        expect(
            unverifiedHops({
                host: "h",
                insecureSkipHostKeyCheck: true,
                proxy: { host: "b1", hostKey: KEY, proxy: { host: "b0", insecureSkipHostKeyCheck: true } },
            }),
        ).toEqual(["connection", "connection.proxy.proxy"]);
        expect(
            unverifiedHops({ host: "h", hostKey: KEY, jumpHost: { host: "b", insecureSkipHostKeyCheck: true } }),
        ).toEqual(["connection.proxy"]);
    });
});
