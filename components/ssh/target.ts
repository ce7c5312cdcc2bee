import type { types } from "@pulumi/command";
import type { Input } from "@pulumi/pulumi";

/** `remote.ConnectionArgs` of `@pulumi/command` (types only: nothing of that package runs here). */
type CommandConnectionArgs = types.input.remote.ConnectionArgs;
/** `remote.ProxyConnectionArgs` of `@pulumi/command`. */
type CommandProxyConnectionArgs = types.input.remote.ProxyConnectionArgs;

/** The fields a target and each of its jump hosts share: `@pulumi/command`'s, for `hostKey` stricter, plus ours. */
interface HopArgs {
    /** Host name or address. */
    host: Input<string>;
    /** SSH port. Default: 22. */
    port?: Input<number>;
    /** Login user. Default: `root`. */
    user?: Input<string>;
    /** Password of `user` (password and keyboard-interactive authentication); make it a secret. Default: none. */
    password?: Input<string>;
    /** Private key (OpenSSH or PEM text); make it a secret. Tried before `password`. Default: none. */
    privateKey?: Input<string>;
    /** Passphrase of an encrypted `privateKey`. Default: none. */
    privateKeyPassword?: Input<string>;
    /** Path of an ssh-agent socket. Default: `$SSH_AUTH_SOCK` when set (as `@pulumi/command`). */
    agentSocketPath?: Input<string>;
    /**
     * The public key as in known_hosts (`ssh-ed25519 AAAA...`) or its SHA-256 fingerprint (`SHA256:...`).
     * Unlike `@pulumi/command` (which then ignores the key), required unless `insecureSkipHostKeyCheck` is true.
     */
    hostKey?: Input<string>;
    /** A jump host to connect through (like `ssh -J`; a chain as `ssh -J a,b`); errors name `connection.proxy.*`. */
    proxy?: Input<ProxyConnectionArgs>;
    /**
     * Dial attempts on connection-level errors (refused, timed out), with a backoff of 200 ms doubling up to 2 s;
     * -1: no limit. Host-key and authentication failures are never retried. Default: 3 (`@pulumi/command`'s 10
     * would make an unreachable host take minutes).
     */
    dialErrorLimit?: Input<number>;
    /** Seconds for each dial attempt (TCP connect and SSH handshake); 0: no limit. Default: 15. */
    perDialTimeout?: Input<number>;
    /** Ours: accept any host key (logs a warning). Must be set explicitly to go without `hostKey`. Default: false. */
    insecureSkipHostKeyCheck?: Input<boolean>;
    /** Ours, alias of `perDialTimeout` in milliseconds. */
    connectTimeoutMs?: Input<number>;
    /** Alias of `agentSocketPath` (deprecated). */
    agent?: Input<string>;
    /** Alias of `privateKeyPassword` (deprecated). */
    privateKeyPassphrase?: Input<string>;
    /** Alias of `proxy` (deprecated). */
    jumpHost?: Input<ProxyConnectionArgs>;
}

/**
 * How to reach a jump host (bastion): `remote.ProxyConnectionArgs` of `@pulumi/command`, with the same names
 * and meaning but for `hostKey`, plus our per-hop fields and aliases. `sudo`, `label` and `commandTimeoutMs`
 * apply to the target only.
 */
export interface ProxyConnectionArgs extends Omit<CommandProxyConnectionArgs, "proxy">, HopArgs {
    host: Input<string>;
}

/**
 * How to reach one host over SSH: `remote.ConnectionArgs` of `@pulumi/command` (the same object can be given
 * to a `remote.Command`), with the same names and meaning but for `hostKey`, plus our fields and aliases.
 * `normalizeConnection` (components/plan/connection.ts) checks it and resolves it to an {@link SshTarget}.
 */
export interface ConnectionArgs extends Omit<CommandConnectionArgs, "proxy">, HopArgs {
    host: Input<string>;
    /** Ours: run host commands through `sudo -n` (needed when `user` is not root). Default: user is not root. */
    sudo?: Input<boolean>;
    /** Ours: the host's name in errors and logs. Default: the resource name. */
    label?: Input<string>;
    /** Ours: timeout of one remote script in milliseconds. Default: 300000. */
    commandTimeoutMs?: Input<number>;
}

/**
 * How to reach one host over SSH, in the plain (resolved, checked) form the SSH layer and the dynamic providers
 * use: {@link ConnectionArgs} after `normalizeConnection`, with the canonical names of `@pulumi/command` only.
 */
export interface SshTarget {
    /** Host name or address. */
    host: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** Login user. Default: `root`. */
    user?: string;
    /** Password of `user`. */
    password?: string;
    /** Private key (OpenSSH or PEM text). */
    privateKey?: string;
    /** Passphrase of `privateKey`, if it has one. */
    privateKeyPassword?: string;
    /** Path of an ssh-agent socket. Default: `$SSH_AUTH_SOCK` when set. */
    agentSocketPath?: string;
    /** The pinned public key (known_hosts form) or `SHA256:` fingerprint. Required unless insecureSkipHostKeyCheck. */
    hostKey?: string;
    /** Accept any host key. Default: false. */
    insecureSkipHostKeyCheck?: boolean;
    /** Run host commands through `sudo -n`. Default: true when user is not root. */
    sudo?: boolean;
    /** A jump host to connect through (like `ssh -J`). Default: none. */
    proxy?: SshTarget;
    /** Dial attempts on connection-level errors; -1: no limit. Default: 3. */
    dialErrorLimit?: number;
    /** Seconds for each dial attempt; 0: no limit. Default: 15. */
    perDialTimeout?: number;
    /** Timeout of one remote script in milliseconds. Default: 300000. */
    commandTimeoutMs?: number;
    /** A name for messages (e.g. the fleet's host name). Default: `host:port`. */
    label?: string;
}

/** The name errors and logs use for a target. */
export function targetLabel(t: SshTarget): string {
    return t.label ?? `${t.host}:${t.port ?? 22}`;
}

/** The key the connection pool uses: one connection per address and user (and path through jump hosts). */
export function targetKey(t: SshTarget): string {
    const via = t.proxy ? `${targetKey(t.proxy)}>` : "";
    return `${via}${t.user ?? "root"}@${t.host}:${t.port ?? 22}`;
}

/** Whether commands need sudo on this target. */
export function needsSudo(t: SshTarget): boolean {
    return t.sudo ?? (t.user ?? "root") !== "root";
}
