import { createHash } from "node:crypto";
import { Client, ConnectConfig } from "ssh2";
import { normalizeConnection } from "../plan/connection";
import { HostInputError } from "../plan/errors";
import { SshTarget, needsSudo, targetKey, targetLabel } from "./target";

/** What one remote script returned. */
export interface RemoteResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * A failure to reach or use a host (refused, timeout, host key, login, sudo), in the one-line form of every input
 * error: host, connection field, problem, fix. Its own name lets a fleet skip the host instead of failing.
 */
export class SshError extends HostInputError {
    constructor(host: string, field: string, problem: string, fix: string) {
        super(host, field, problem, fix);
        this.name = "SshError";
    }
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

/** Dial attempts when `dialErrorLimit` is not set: enough for a restarting sshd, not minutes on a dead host. */
export const DEFAULT_DIAL_ATTEMPTS = 3;
/** Seconds per dial attempt when `perDialTimeout` is not set (as `@pulumi/command`). */
export const DEFAULT_PER_DIAL_TIMEOUT_S = 15;

/** ssh2's channel-open failure reason when the forwarding host could not connect (refused, timed out). */
const CONNECT_FAILED = 2;

/** A failed dial attempt; `retry` when the error is about the connection, not about identity or credentials. */
class DialFailure extends Error {
    constructor(
        readonly error: SshError,
        readonly retry: boolean,
    ) {
        super(error.message);
    }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function plural(n: number): string {
    return n === 1 ? "1 attempt" : `${n} attempts`;
}

/** One open SSH connection; runs shell scripts (as root through sudo where needed). */
export class SshSession {
    private constructor(
        readonly target: SshTarget,
        private readonly client: Client,
        private readonly via?: SshSession,
    ) {}

    /**
     * Opens a connection, verifying the pinned host key before any credential is sent. The target is checked
     * and its aliases resolved first (`normalizeConnection`: connections kept in older state use today's
     * aliases). A jump host is opened first (errors name it `connection.proxy.*`), and the target is reached
     * through a channel it forwards. Connection-level failures (refused, timed out) are retried up to
     * `dialErrorLimit` attempts (default {@link DEFAULT_DIAL_ATTEMPTS}) with a backoff of 200 ms doubling up to
     * 2 s, each attempt bounded by `perDialTimeout` (default {@link DEFAULT_PER_DIAL_TIMEOUT_S} s); a host-key
     * mismatch or a refused login is never retried.
     */
    static async open(target: SshTarget): Promise<SshSession> {
        const label = targetLabel(target);
        return SshSession.openHop(normalizeConnection(label, target), "connection", label);
    }

    /** Opens one hop (its jump hosts first); `target` is normalized, so it has a host key or skips the check. */
    private static async openHop(target: SshTarget, field: string, label: string): Promise<SshSession> {
        // As @pulumi/command: the agent of the environment unless one is named.
        const agent = target.agentSocketPath ?? (process.env.SSH_AUTH_SOCK || undefined);
        if (!target.privateKey && !target.password && !agent) {
            throw new SshError(
                label,
                `${field}.privateKey`,
                "no private key, no password and no ssh-agent",
                `set ${field}.privateKey (as a secret), ${field}.password or ${field}.agentSocketPath`,
            );
        }
        const via = target.proxy ? await SshSession.openHop(target.proxy, `${field}.proxy`, label) : undefined;
        const limit = target.dialErrorLimit ?? DEFAULT_DIAL_ATTEMPTS;
        for (let attempt = 1; ; attempt++) {
            try {
                const client = await SshSession.dial(target, agent, field, label, via);
                // The jump host's connection lives as long as the one it carries.
                client.once("close", () => via?.close());
                return new SshSession(target, client, via);
            } catch (err) {
                const retry = err instanceof DialFailure && err.retry;
                if (!retry || (limit !== -1 && attempt >= limit)) {
                    via?.close();
                    if (!(err instanceof DialFailure)) throw err;
                    const e = err.error;
                    throw retry ? new SshError(e.host, e.field, `${e.problem} after ${plural(attempt)}`, e.fix) : e;
                }
                await sleep(Math.min(200 * 2 ** (attempt - 1), 2_000));
            }
        }
    }

    /** One attempt: the channel through the jump host (if any), TCP and the SSH handshake, within perDialTimeout. */
    private static async dial(
        target: SshTarget,
        agent: string | undefined,
        field: string,
        label: string,
        via: SshSession | undefined,
    ): Promise<Client> {
        const { host, port = 22, user: username = "root", privateKey, password } = target;
        const limitMs = (target.perDialTimeout ?? DEFAULT_PER_DIAL_TIMEOUT_S) * 1000;
        const started = Date.now();
        const fail = (at: string, problem: string, fix: string, retry: boolean) =>
            new DialFailure(new SshError(label, `${field}.${at}`, problem, fix), retry);
        let sock: ConnectConfig["sock"];
        if (via) {
            sock = await via.forward(host, port, limitMs).catch((err: Error & { reason?: number; level?: string }) => {
                throw fail(
                    "host",
                    `the jump host cannot reach ${host}:${port} (${err.message})`,
                    `check ${field}.host and ${field}.port as the jump host sees them, and that its sshd allows ` +
                        "TCP forwarding",
                    err.reason === CONNECT_FAILED || err.level === "client-timeout",
                );
            });
        }
        // The handshake gets what is left of the attempt's time (0: no limit).
        const readyTimeout = limitMs === 0 ? 0 : Math.max(1, limitMs - (Date.now() - started));
        const client = new Client();
        let hostKeyRejected = false;
        // As @pulumi/command: the key first, then the password (also keyboard-interactive), then the agent.
        const methods = [
            ...(privateKey ? ["publickey"] : []),
            ...(password ? ["password", "keyboard-interactive"] : []),
            ...(agent ? ["agent"] : []),
        ];
        const credential = privateKey ? "privateKey" : password ? "password" : "agentSocketPath";
        const config: ConnectConfig = {
            host,
            port,
            username,
            sock,
            readyTimeout,
            privateKey,
            password,
            agent,
            passphrase: target.privateKeyPassword,
            tryKeyboard: Boolean(password),
            authHandler: methods as ConnectConfig["authHandler"],
            keepaliveInterval: 10_000,
            hostVerifier: (key: Buffer) => {
                if (target.insecureSkipHostKeyCheck) return true;
                hostKeyRejected = !pinnedKeyMatches(target.hostKey ?? "", key);
                return !hostKeyRejected;
            },
        };
        if (password) {
            client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) =>
                finish(prompts.map(() => password)),
            );
        }
        return new Promise<Client>((resolve, reject) => {
            let settled = false;
            client.once("ready", () => {
                settled = true;
                resolve(client);
            });
            // Stays attached: later errors of a failed attempt must not go unhandled (that would crash).
            client.on("error", (err: Error & { level?: string }) => {
                if (settled) return;
                settled = true;
                client.end();
                if (hostKeyRejected) {
                    reject(
                        fail(
                            "hostKey",
                            "the host presented a different host key than the pinned one",
                            "check that this is the right host; " +
                                `if its key was rotated on purpose, update ${field}.hostKey`,
                            false,
                        ),
                    );
                } else if (err.level === "client-authentication") {
                    reject(
                        fail(
                            credential,
                            `user ${username} was refused (${err.message})`,
                            `check ${field}.user and its credentials (its public key in the host's authorized_keys)`,
                            false,
                        ),
                    );
                } else {
                    // Only the connection itself is worth another attempt: refused, reset, timed out.
                    const transient = err.level === "client-socket" || err.level === "client-timeout";
                    reject(
                        fail(
                            "host",
                            `cannot connect to ${host}:${port} (${err.message})`,
                            `check ${field}.host, ${field}.port and that sshd is running`,
                            transient,
                        ),
                    );
                }
            });
            try {
                client.connect(config);
            } catch (err) {
                // ssh2 reads the key before dialing: a malformed key or a wrong passphrase throws here.
                settled = true;
                reject(
                    fail(
                        "privateKey",
                        `cannot be read (${(err as Error).message})`,
                        `set ${field}.privateKey to an OpenSSH or PEM key, ` +
                            `${field}.privateKeyPassword to its passphrase`,
                        false,
                    ),
                );
            }
        });
    }

    /** A channel to host:port forwarded by this connection, within `limitMs` (0: no limit). */
    private forward(host: string, port: number, limitMs: number): Promise<NonNullable<ConnectConfig["sock"]>> {
        return new Promise((resolve, reject) => {
            let settled = false;
            const timer =
                limitMs > 0
                    ? setTimeout(() => {
                          settled = true;
                          reject(
                              Object.assign(new Error(`no answer within ${limitMs} ms`), { level: "client-timeout" }),
                          );
                      }, limitMs)
                    : undefined;
            this.client.forwardOut("127.0.0.1", 0, host, port, (err, stream) => {
                clearTimeout(timer);
                // A channel that opens after the attempt gave up is closed at once.
                if (settled) return void stream?.close();
                settled = true;
                if (err) reject(err);
                else resolve(stream);
            });
        });
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
        return new Promise((resolve, reject) => {
            this.client.exec(command, (err, stream) => {
                if (err) {
                    return reject(
                        new SshError(
                            label,
                            "connection",
                            `cannot run a command (${err.message})`,
                            "check the host's sshd logs",
                        ),
                    );
                }
                const out: Buffer[] = [];
                const errOut: Buffer[] = [];
                const timer = setTimeout(() => {
                    stream.close();
                    reject(
                        new SshError(
                            label,
                            "connection.commandTimeoutMs",
                            `a remote step ran longer than ${limit} ms`,
                            "raise connection.commandTimeoutMs or check the host (is dockerd hanging?)",
                        ),
                    );
                }, limit);
                stream.on("data", (d: Buffer) => out.push(d));
                stream.stderr.on("data", (d: Buffer) => errOut.push(d));
                stream.on("close", (code: number | null) => {
                    clearTimeout(timer);
                    const stderr = Buffer.concat(errOut).toString("utf8");
                    const noSudo = /sudo: (a password is required|a terminal is required)/.test(stderr);
                    if (needsSudo(this.target) && noSudo) {
                        return reject(
                            new SshError(
                                label,
                                "connection.sudo",
                                `user ${this.target.user} cannot run sudo without a password`,
                                "give the user passwordless sudo (NOPASSWD) for this, or connect as root",
                            ),
                        );
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
    let normal: SshTarget;
    try {
        // Keyed by the resolved target: a connection from older state may still say jumpHost.
        normal = normalizeConnection(targetLabel(target), target);
    } catch (err) {
        return Promise.reject(err);
    }
    const key = targetKey(normal);
    let s = pool.get(key);
    if (!s) {
        s = SshSession.open(normal);
        s.then(
            (opened) => opened.onGone(() => pool.delete(key)),
            () => pool.delete(key),
        );
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
