import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { Client, ConnectConfig } from "ssh2";
import { SshTarget, needsSudo, targetKey, targetLabel } from "./target";

/** What one remote script returned. */
export interface RemoteResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** A failure to reach or use a host, with the host's name and what to do about it. */
export class SshError extends Error {
    constructor(readonly host: string, readonly field: string, problem: string, readonly fix: string) {
        super(`host ${host}: ${field}: ${problem}. Fix: ${fix}`);
        this.name = "SshError";
    }
}

/** Connections and commands per host in this process (reported by the component). */
export const sshCounters = new Map<string, { connections: number; commands: number }>();

function count(label: string, what: "connections" | "commands"): void {
    const c = sshCounters.get(label) ?? { connections: 0, commands: 0 };
    c[what] += 1;
    sshCounters.set(label, c);
    // Providers live in the engine's processes; the benchmark reads their counts from this file.
    const file = process.env.HDH_SSH_STATS_FILE;
    if (file) appendFileSync(file, `${label} ${what}\n`);
}

/** The base64 key blob of a known_hosts line, or the fingerprint as given. */
function pinnedKeyMatches(pinned: string, key: Buffer): boolean {
    const p = pinned.trim();
    if (p.startsWith("SHA256:")) {
        const fp = createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
        return p.slice("SHA256:".length) === fp;
    }
    const blob = p.split(/\s+/).find((part) => part.startsWith("AAAA"));
    return blob !== undefined && Buffer.from(blob, "base64").equals(key);
}

/** One open SSH connection; runs shell scripts (as root through sudo where needed). */
export class SshSession {
    private constructor(readonly target: SshTarget, private readonly client: Client, private readonly via?: SshSession) {}

    /**
     * Opens a connection, verifying the pinned host key before any credential is sent. A jump host is opened
     * first (errors name it `connection.jumpHost.*`), and the target is reached through a channel it forwards.
     */
    static async open(target: SshTarget, field = "connection", label = targetLabel(target)): Promise<SshSession> {
        if (!target.hostKey && !target.insecureSkipHostKeyCheck) {
            throw new SshError(label, `${field}.hostKey`, "no pinned host key",
                "set connection.hostKey to the host's public key (ssh-keyscan) or, knowingly, insecureSkipHostKeyCheck: true");
        }
        if (!target.privateKey && !target.agent) {
            throw new SshError(label, `${field}.privateKey`, "no private key and no ssh-agent",
                `set ${field}.privateKey (as a secret) or ${field}.agent to an ssh-agent socket`);
        }
        const via = target.jumpHost ? await SshSession.open(target.jumpHost, `${field}.jumpHost`, label) : undefined;
        const sock = via ? await via.forward(target.host, target.port ?? 22).catch((err: Error) => {
            via.close();
            throw new SshError(label, `${field}.host`, `the jump host cannot reach ${target.host}:${target.port ?? 22} (${err.message})`,
                `check ${field}.host and ${field}.port as the jump host sees them, and that its sshd allows TCP forwarding`);
        }) : undefined;
        const client = new Client();
        let hostKeyRejected = false;
        const config: ConnectConfig = {
            host: target.host,
            port: target.port ?? 22,
            username: target.user ?? "root",
            privateKey: target.privateKey,
            passphrase: target.privateKeyPassphrase,
            agent: target.privateKey ? undefined : target.agent,
            readyTimeout: target.connectTimeoutMs ?? 15_000,
            keepaliveInterval: 10_000,
            sock,
            hostVerifier: (key: Buffer) => {
                if (target.insecureSkipHostKeyCheck) return true;
                hostKeyRejected = !pinnedKeyMatches(target.hostKey ?? "", key);
                return !hostKeyRejected;
            },
        };
        await new Promise<void>((resolve, reject) => {
            client.once("ready", () => resolve());
            client.once("error", (err: Error) => {
                via?.close();
                if (hostKeyRejected) {
                    reject(new SshError(label, `${field}.hostKey`, "the host presented a different host key than the pinned one",
                        `check that this is the right host; if its key was rotated on purpose, update ${field}.hostKey`));
                } else if (/authentication methods failed/i.test(err.message)) {
                    reject(new SshError(label, `${field}.privateKey`, `user ${config.username} was refused (${err.message})`,
                        `check ${field}.user and that its public key is in the host's authorized_keys`));
                } else {
                    reject(new SshError(label, `${field}.host`, `cannot connect to ${target.host}:${config.port} (${err.message})`,
                        `check ${field}.host, ${field}.port and that sshd is running`));
                }
            });
            client.connect(config);
        });
        count(label, "connections");
        return new SshSession(target, client, via);
    }

    private forward(host: string, port: number): Promise<NonNullable<ConnectConfig["sock"]>> {
        return new Promise((resolve, reject) =>
            this.client.forwardOut("127.0.0.1", 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream))));
    }

    /**
     * Runs a POSIX shell script on the host (as root: through `sudo -n` when the login user is not root).
     * The script travels on stdin, so no size limit of command lines applies and nothing leaks into `ps`.
     */
    run(script: string, timeoutMs?: number): Promise<RemoteResult> {
        const label = targetLabel(this.target);
        const shell = "sh -c 'eval \"$(cat)\"'";
        const command = needsSudo(this.target) ? `sudo -n ${shell}` : shell;
        const limit = timeoutMs ?? this.target.commandTimeoutMs ?? 300_000;
        count(label, "commands");
        return new Promise((resolve, reject) => {
            this.client.exec(command, (err, stream) => {
                if (err) return reject(new SshError(label, "connection", `cannot run a command (${err.message})`, "check the host's sshd logs"));
                const out: Buffer[] = [];
                const errOut: Buffer[] = [];
                const timer = setTimeout(() => {
                    stream.close();
                    reject(new SshError(label, "connection.commandTimeoutMs", `a remote step ran longer than ${limit} ms`,
                        "raise connection.commandTimeoutMs or check the host (is dockerd hanging?)"));
                }, limit);
                stream.on("data", (d: Buffer) => out.push(d));
                stream.stderr.on("data", (d: Buffer) => errOut.push(d));
                stream.on("close", (code: number | null) => {
                    clearTimeout(timer);
                    const stderr = Buffer.concat(errOut).toString("utf8");
                    if (needsSudo(this.target) && /sudo: (a password is required|a terminal is required)/.test(stderr)) {
                        return reject(new SshError(label, "connection.sudo", `user ${this.target.user} cannot run sudo without a password`,
                            "give the user passwordless sudo (NOPASSWD) for this, or connect as root"));
                    }
                    resolve({ code: code ?? 255, stdout: Buffer.concat(out).toString("utf8"), stderr });
                });
                stream.end(script);
            });
        });
    }

    /** Calls `onGone` when the connection ends or fails after it was set up (errors then are not fatal). */
    onGone(onGone: () => void): void {
        this.client.on("close", onGone);
        this.client.on("error", onGone);
    }

    /** Closes the connection (and the jump host's). */
    close(): void {
        this.client.end();
        this.via?.close();
    }
}

// One connection per host and user for the life of the process: the dynamic provider serves every resource of a
// run from one process, so a run opens one connection per host however many steps it does.
const pool = new Map<string, Promise<SshSession>>();

/** The pooled session for a target (opened on first use, dropped on error). */
export function session(target: SshTarget): Promise<SshSession> {
    const key = targetKey(target);
    let s = pool.get(key);
    if (!s) {
        s = SshSession.open(target);
        s.then((opened) => opened.onGone(() => pool.delete(key)), () => pool.delete(key));
        pool.set(key, s);
    }
    return s;
}

/** Runs a script on the target through the pooled session; throws with the host's stderr on a non-zero exit. */
export async function runScript(target: SshTarget, script: string, what: string): Promise<string> {
    const s = await session(target);
    const r = await s.run(script);
    if (r.code !== 0) {
        const detail = (r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n");
        throw new Error(`host ${targetLabel(target)}: ${what} failed (exit ${r.code}): ${detail}`);
    }
    return r.stdout;
}

/** Closes every pooled connection (tests, and the end of a provider's life). */
export async function closeAll(): Promise<void> {
    const all = [...pool.values()];
    pool.clear();
    for (const s of all) (await s.catch(() => undefined))?.close();
}
