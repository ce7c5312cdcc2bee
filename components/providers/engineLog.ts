/**
 * Warnings from inside the dynamic-provider process. `pulumi.log` only reaches the engine from the program's
 * process; a provider process is started with the engine's address as its first argument, so we send the
 * engine's own `Log` call there. The CLI then prints one plain `warning:` line (no stack trace).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { WARNED_PREFIX, runKey, staleWarnedFiles, warnedFolder } from "../plan/warnedRuns";

type EngineClient = { log(req: unknown, cb: (err: Error | null) => void): void };
let client: EngineClient | null | undefined;

function engine(): EngineClient | null {
    if (client !== undefined) return client;
    client = null;
    const address = process.argv[2];
    if (!/dynamic-provider/.test(process.argv[1] ?? "") || !address) return client;
    try {
        // Resolved through @pulumi/pulumi, so the generated stubs and gRPC are the SDK's own.
        const sdk = require.resolve("@pulumi/pulumi");
        const load = (id: string) => require(require.resolve(id, { paths: [sdk] }));
        const grpc = load("@grpc/grpc-js");
        const rpc = load("@pulumi/pulumi/proto/engine_grpc_pb");
        client = new rpc.EngineClient(address, grpc.credentials.createInsecure()) as EngineClient;
    } catch {
        client = null;
    }
    return client;
}

const said = new Set<string>();
let runFile: string | undefined;

/**
 * The folder of these files: one per user and private (0700), so that no other user can plant one of ours or a
 * link in its place. Throws when it is not that (the memory is then this process's only).
 */
function warnedDir(): string {
    const uid = process.getuid?.();
    const dir = warnedFolder(os.tmpdir(), uid);
    try {
        fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
        throw new Error(`${dir} is not a private folder of this user`);
    }
    return dir;
}

/** This run's file (named after the CLI's PID and start time); the files of runs that are over are removed. */
function warnedFile(): string {
    if (runFile) return runFile;
    const dir = warnedDir();
    const key = runKey(process.ppid, (pid) => {
        try {
            return fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        } catch {
            return undefined; // gone, or no /proc (macOS)
        }
    });
    const isRunning = (pid: number) => {
        try {
            process.kill(pid, 0);
            return true;
        } catch (err) {
            return (err as NodeJS.ErrnoException).code === "EPERM";
        }
    };
    for (const name of staleWarnedFiles(fs.readdirSync(dir), key, isRunning)) {
        fs.rm(path.join(dir, name), { force: true }, () => undefined);
    }
    return (runFile = path.join(dir, WARNED_PREFIX + key));
}

/**
 * Whether this message was already shown in this run. A run's refresh and update phases use separate provider
 * processes of the same CLI process (our parent or, under a launcher script, grandparent), so messages are also
 * remembered in a file named after it (its PID alone would not do: a later run reusing the PID would stay silent).
 */
function alreadySaid(message: string): boolean {
    if (said.has(message)) return true;
    said.add(message);
    try {
        const file = warnedFile();
        if (fs.existsSync(file) && fs.readFileSync(file, "utf8").split("\n").includes(message)) return true;
        fs.appendFileSync(file, `${message}\n`, { mode: 0o600 });
    } catch {
        // best effort: at worst a warning shows twice
    }
    return false;
}

/** Logs a warning once per run (a message repeated by several steps of a host is shown once). */
export function warnOnce(message: string): Promise<void> {
    if (alreadySaid(message)) return Promise.resolve();
    const e = engine();
    if (!e) return pulumi.log.warn(message);
    const proto = require(
        require.resolve("@pulumi/pulumi/proto/engine_pb", { paths: [require.resolve("@pulumi/pulumi")] }),
    );
    const req = new proto.LogRequest();
    req.setSeverity(proto.LogSeverity.WARNING);
    req.setMessage(message);
    return new Promise((resolve) => e.log(req, () => resolve()));
}
