/**
 * Secrets the pipeline must never print (the stack passphrase, SSH private keys, backend credentials): where
 * they come from, the forms they take in output, and scrubbing them from text and JSON.
 */
import { isRecord } from "./record";

/** How the scrubber replaces a secret. */
export const SCRUBBED = "[scrubbed]";

/** Shorter secrets are not scrubbed (they would mangle ordinary text); {@link secretsFromEnvironment} says so. */
export const MIN_SECRET_LENGTH = 4;

/**
 * The forms a secret may take in output: as is, JSON-escaped, each line of a multi-line secret (a private key's
 * base64 body, which is how it would leak through a wrapped log) and the body joined, and base64.
 */
export function secretVariants(secret: string): string[] {
    const trimmed = secret.replace(/\r?\n$/, "");
    const variants = new Set<string>([secret, trimmed, trimmed.trim()]);
    variants.add(JSON.stringify(trimmed).slice(1, -1));
    const lines = trimmed
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "" && !/^-----(BEGIN|END) /.test(l));
    if (lines.length > 1) {
        variants.add(lines.join(""));
        for (const line of lines) if (line.length >= 16) variants.add(line);
    }
    if (trimmed.trim().length >= 8) {
        variants.add(Buffer.from(trimmed.trim(), "utf8").toString("base64").replace(/=+$/, ""));
    }
    return [...variants].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** Replaces every form of every secret in a text with `[scrubbed]` (longest first). */
export function scrubText(textIn: string, secrets: readonly string[]): string {
    const all = [...new Set(secrets.flatMap(secretVariants))].sort((x, y) => y.length - x.length);
    let out = textIn;
    for (const s of all) if (out.includes(s)) out = out.split(s).join(SCRUBBED);
    return out;
}

/** {@link scrubText} on every string (and object key) of a JSON value. */
export function scrubJson(value: unknown, secrets: readonly string[]): unknown {
    if (secrets.length === 0) return value;
    if (typeof value === "string") return scrubText(value, secrets);
    if (Array.isArray(value)) return value.map((v) => scrubJson(v, secrets));
    if (isRecord(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            Object.defineProperty(out, scrubText(k, secrets), {
                value: scrubJson(v, secrets),
                enumerable: true,
                writable: true,
                configurable: true,
            });
        }
        return out;
    }
    return value;
}

/** The environment variables {@link secretsFromEnvironment} reads. */
export interface SecretEnvironment {
    /** Newline-separated literal secrets. */
    HDH_SECRETS_TO_SCRUB?: string;
    /** Files whose content is secret (`:`-separated; the SSH private keys the stack config names). */
    HDH_SECRET_FILES?: string;
    PULUMI_CONFIG_PASSPHRASE?: string;
    PULUMI_CONFIG_PASSPHRASE_FILE?: string;
    /** Its password, if it has one (`postgres://user:password@...`). */
    PULUMI_BACKEND_URL?: string;
    AWS_SECRET_ACCESS_KEY?: string;
    AWS_SESSION_TOKEN?: string;
    [name: string]: string | undefined;
}

/**
 * The secrets the pipeline must never print, from the environment: the stack passphrase (from
 * PULUMI_CONFIG_PASSPHRASE or the file PULUMI_CONFIG_PASSPHRASE_FILE names, trimmed as the CLI trims it), the
 * content of every file in HDH_SECRET_FILES (SSH private keys), each line of HDH_SECRETS_TO_SCRUB, the password of
 * PULUMI_BACKEND_URL, and S3 backend credentials. Files that cannot be read are listed in `unreadable`; secrets
 * too short to scrub safely in `tooShort` (by source, never by value).
 *
 * @param readFile - Reads a file as UTF-8 (a parameter, so this stays testable without I/O).
 */
export function secretsFromEnvironment(
    env: SecretEnvironment,
    readFile: (path: string) => string,
): {
    secrets: string[];
    unreadable: string[];
    tooShort: string[];
} {
    const found: { source: string; value: string }[] = [];
    const unreadable: string[] = [];
    const read = (source: string, path: string) => {
        try {
            found.push({ source, value: readFile(path) });
        } catch {
            unreadable.push(path);
        }
    };
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
        found.push({ source: "PULUMI_CONFIG_PASSPHRASE", value: env.PULUMI_CONFIG_PASSPHRASE });
    }
    if (env.PULUMI_CONFIG_PASSPHRASE_FILE) read("PULUMI_CONFIG_PASSPHRASE_FILE", env.PULUMI_CONFIG_PASSPHRASE_FILE);
    for (const path of (env.HDH_SECRET_FILES ?? "").split(":").filter((p) => p !== "")) read(path, path);
    for (const line of (env.HDH_SECRETS_TO_SCRUB ?? "").split(/\r?\n/)) {
        if (line !== "") found.push({ source: "HDH_SECRETS_TO_SCRUB", value: line });
    }
    if (env.PULUMI_BACKEND_URL) {
        const m = /^[a-z0-9+.-]+:\/\/[^/:@]*:([^@/]+)@/i.exec(env.PULUMI_BACKEND_URL);
        if (m) {
            found.push({ source: "PULUMI_BACKEND_URL", value: m[1] });
            try {
                found.push({ source: "PULUMI_BACKEND_URL", value: decodeURIComponent(m[1]) });
            } catch {
                // Not percent-encoded: the raw form is enough.
            }
        }
    }
    for (const name of ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        if (env[name]) found.push({ source: name, value: env[name] as string });
    }
    const secrets: string[] = [];
    const tooShort: string[] = [];
    for (const { source, value } of found) {
        const v = source === "PULUMI_CONFIG_PASSPHRASE_FILE" ? value.trim() : value;
        if (v.trim().length === 0) continue;
        if (v.trim().length < MIN_SECRET_LENGTH) tooShort.push(source);
        else secrets.push(v);
    }
    return { secrets: [...new Set(secrets)], unreadable, tooShort: [...new Set(tooShort)] };
}
