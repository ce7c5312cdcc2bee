import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inventory, onHost } from "./support";

/** A Docker API answer: HTTP status and parsed body (`message` carries the daemon's error text). */
export interface ApiAnswer {
    status: number;
    body: unknown;
    message: string;
}

/**
 * Sends one raw Docker API request to a fleet host's socket (the way any local user of the socket could),
 * so tests see exactly what the daemon and its authorization plugin answer. A body `{ file }` is sent from a file.
 */
export function dockerApi(
    host: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
): ApiAnswer {
    const sock = inventory().hosts.find((h) => h.name === host)?.dockerSocket;
    if (!sock) throw new Error(`no fleet host ${host}`);
    const args = ["-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", sock, "-X", method];
    for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
    if (body !== undefined) {
        if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type"))
            args.push("-H", "Content-Type: application/json");
        const file =
            typeof body === "object" && body !== null && "file" in body
                ? String((body as { file: string }).file)
                : undefined;
        args.push("--data-binary", file ? `@${file}` : typeof body === "string" ? body : JSON.stringify(body));
    }
    args.push(`http://localhost${path}`);
    const out = execFileSync("curl", args, { encoding: "utf8", timeout: 120_000 });
    const i = out.lastIndexOf("\n");
    const text = out.slice(0, i);
    let parsed: unknown = text;
    try {
        parsed = JSON.parse(text);
    } catch {
        // plain text answer
    }
    const message =
        typeof parsed === "object" && parsed !== null && "message" in parsed
            ? String((parsed as { message: unknown }).message)
            : text;
    return { status: Number(out.slice(i + 1)), body: parsed, message };
}

/** The PID of a host's dockerd (changes when Docker restarts). */
export function dockerdPid(host: string): string {
    return onHost(host, "cat /var/run/docker.pid").trim();
}

/** A throw-away CA with a server certificate for 127.0.0.1 and client certificates named by their CN. */
export function certificates(clients: string[]): Record<string, string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-tls-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    ssl("req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=hdh-test-ca");
    const sign = (name: string, cn: string, ext: string) => {
        ssl("req", ...key, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
        ssl(
            "x509",
            "-req",
            "-in",
            `${name}.csr`,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            `${name}.pem`,
            "-extfile",
            `${name}.ext`,
        );
    };
    sign("server", "h1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    for (const c of clients) sign(c, c, "extendedKeyUsage=clientAuth\n");
    const files: Record<string, string> = {};
    for (const f of fs.readdirSync(dir))
        if (/\.(pem|key)$/.test(f) && f !== "ca.key") files[f] = fs.readFileSync(path.join(dir, f), "utf8");
    fs.rmSync(dir, { recursive: true });
    return files;
}
