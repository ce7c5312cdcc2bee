import type { Input } from "@pulumi/pulumi";

/**
 * How to reach one host over SSH, in the plain (already resolved) form the SSH layer and the dynamic
 * providers use. The component's `connection` input resolves to this.
 */
export interface SshTarget {
    /** Host name or address. */
    host: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** Login user. Default: `root`. */
    user?: string;
    /** Private key (OpenSSH or PEM text). Either this or `agent`. */
    privateKey?: string;
    /** Passphrase of `privateKey`, if it has one. */
    privateKeyPassphrase?: string;
    /** Path of an ssh-agent socket (e.g. `$SSH_AUTH_SOCK`), used when `privateKey` is not given. */
    agent?: string;
    /**
     * The host's public key as in known_hosts (`ssh-ed25519 AAAA...`) or its SHA-256 fingerprint
     * (`SHA256:...`). Required unless `insecureSkipHostKeyCheck` is set.
     */
    hostKey?: string;
    /** Accept any host key. Default: false; logs a warning when used. */
    insecureSkipHostKeyCheck?: boolean;
    /** Run host commands through `sudo -n` (needed when `user` is not root). Default: true when user is not root. */
    sudo?: boolean;
    /** A jump host to connect through (like `ssh -J`). Default: none. */
    jumpHost?: SshTarget;
    /** Connection (handshake) timeout in milliseconds. Default: 15000. */
    connectTimeoutMs?: number;
    /** Timeout of one remote script in milliseconds. Default: 300000. */
    commandTimeoutMs?: number;
    /** A name for messages (e.g. the fleet's host name). Default: `host:port`. */
    label?: string;
}

/** The name errors and logs use for a target. */
export function targetLabel(t: SshTarget): string {
    return t.label ?? `${t.host}:${t.port ?? 22}`;
}

/** The key the connection pool uses: one connection per address and user. */
export function targetKey(t: SshTarget): string {
    const via = t.jumpHost ? `${targetKey(t.jumpHost)}>` : "";
    return `${via}${t.user ?? "root"}@${t.host}:${t.port ?? 22}`;
}

/** Whether commands need sudo on this target. */
export function needsSudo(t: SshTarget): boolean {
    return t.sudo ?? (t.user ?? "root") !== "root";
}

/** {@link SshTarget} with every field a Pulumi input (e.g. `privateKey: pulumi.secret(...)`). */
export type SshConnectionArgs = {
    [K in keyof SshTarget]?: K extends "jumpHost" ? Input<SshConnectionArgs> : Input<NonNullable<SshTarget[K]>>;
};
