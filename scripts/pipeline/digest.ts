/**
 * The Node.js side of the pipeline stages (scripts/pipeline/*.sh run it with the project's node and ts-node):
 * turns `pulumi preview --json` into the review's artifacts, compares a fresh preview with a reviewed
 * fingerprint, writes the drift stage's fleet report, and scrubs secrets from whatever the stages print.
 *
 *   digest.ts review PREVIEW OUTDIR             OUTDIR/preview.json (scrubbed), digest.md, fingerprint, plan.json
 *   digest.ts compare FINGERPRINT PREVIEW [OUTDIR]
 *                                               exit 0 when PREVIEW has the reviewed fingerprint, else 3 and what
 *                                               changed since the review (from plan.json beside FINGERPRINT)
 *   digest.ts drift PREVIEW OUTDIR STACK        OUTDIR/fleet-report.{json,md,xml}, digest.md; exit 4 when a host
 *                                               drifted, is unreachable or is not converged to the stack config
 *   digest.ts failure PREVIEW                   the error diagnostics of a failed preview
 *   digest.ts keyfiles CONFIG_JSON PROJECT_DIR  the SSH private key files the stack config names, one per line
 *   digest.ts scrub [FILE...]                   stdin to stdout (or FILEs in place) with every secret replaced
 *
 * Secrets come from the environment (see secretsFromEnvironment in components/plan/secrets.ts): the stack
 * passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE), HDH_SECRET_FILES (the SSH keys),
 * HDH_SECRETS_TO_SCRUB, the backend URL's password. Exit codes: 0 ok, 1 error, 2 usage, 3 plan changed since the
 * review, 4 fleet not converged.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fleetDigest } from "../../components/plan/digest";
import { explainFingerprintChange } from "../../components/plan/fingerprint";
import { buildFleetReport, renderTable } from "../../components/plan/fleetReport";
import { fleetReportFiles } from "../../components/plan/fleetReportFiles";
import { hostReportsFromPreview } from "../../components/plan/fleetStatus";
import type { FleetChanges } from "../../components/plan/previewChanges";
import type { PreviewJson } from "../../components/plan/previewJson";
import { asRecord, isRecord } from "../../components/plan/record";
import { scrubJson, scrubText, secretVariants, secretsFromEnvironment } from "../../components/plan/secrets";

/** Where the CLI reads its environment and writes what it says (so tests can run it in-process). */
export interface CliIo {
    env: NodeJS.ProcessEnv;
    stdout(text: string): void;
    stderr(text: string): void;
    stdin?: NodeJS.ReadableStream;
    now?: () => Date;
}

/** Exit codes of {@link main}. */
export const EXIT = { ok: 0, error: 1, usage: 2, planChanged: 3, notConverged: 4 } as const;

class UsageError extends Error {}

function secretsOf(io: CliIo): string[] {
    const { secrets, unreadable, tooShort } = secretsFromEnvironment(io.env, (p) => fs.readFileSync(p, "utf8"));
    for (const p of unreadable) io.stderr(`pipeline: warning: cannot read ${p} to scrub it from the output\n`);
    for (const source of tooShort) {
        io.stderr(
            `pipeline: warning: a secret from ${source} is too short to be scrubbed from the output;` +
                " use a longer one\n",
        );
    }
    return secrets;
}

function readPreview(file: string): PreviewJson {
    const raw = fs.readFileSync(file, "utf8");
    try {
        return JSON.parse(raw) as PreviewJson;
    } catch {
        throw new Error(`${file} is not the JSON of pulumi preview --json (${raw.length} bytes)`);
    }
}

/** Provider internals are large and not for people: the artifact keeps a placeholder. */
function withoutProviders(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutProviders);
    if (isRecord(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            const kept = k === "__provider" ? "[dynamic provider]" : withoutProviders(v);
            Object.defineProperty(out, k, { value: kept, enumerable: true, writable: true, configurable: true });
        }
        return out;
    }
    return value;
}

/** The preview as an artifact: provider internals out, secrets scrubbed from every string and from the text. */
export function previewArtifact(preview: PreviewJson, secrets: string[]): string {
    return scrubText(`${JSON.stringify(scrubJson(withoutProviders(preview), secrets), null, 2)}\n`, secrets);
}

function write(dir: string, name: string, content: string): string {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
}

function writeReview(dir: string, preview: PreviewJson, secrets: string[]): ReturnType<typeof fleetDigest> {
    const digest = fleetDigest(preview, { secrets });
    write(dir, "preview.json", previewArtifact(preview, secrets));
    write(dir, "digest.md", digest.markdown);
    write(dir, "fingerprint", `${digest.fingerprint}\n`);
    write(dir, "plan.json", `${JSON.stringify(digest.changes, null, 2)}\n`);
    return digest;
}

function summaryLine(changes: FleetChanges): string {
    const hosts = new Set(changes.planned.flatMap((p) => (p.host && p.kind !== "gate" ? [p.host] : [])));
    const drifted = [...new Set(changes.drifted.map((d) => d.host))];
    const unreachable = changes.unreachable.map((u) => u.host);
    return (
        `${changes.planned.length} resource(s) change on ${hosts.size} of ${changes.hosts.length} host(s); ` +
        `drifted: ${drifted.length > 0 ? drifted.join(", ") : "none"}; ` +
        `unreachable: ${unreachable.length > 0 ? unreachable.join(", ") : "none"}`
    );
}

function review(args: string[], io: CliIo): number {
    const [previewFile, outDir] = args;
    if (!previewFile || !outDir) throw new UsageError("review PREVIEW OUTDIR");
    const secrets = secretsOf(io);
    const digest = writeReview(outDir, readPreview(previewFile), secrets);
    io.stdout(
        scrubText(
            `review: fingerprint ${digest.fingerprint}\nreview: ${summaryLine(digest.changes)}\n` +
                `review: digest ${path.join(outDir, "digest.md")} (${digest.markdown.length} characters)\n`,
            secrets,
        ),
    );
    return EXIT.ok;
}

function compare(args: string[], io: CliIo): number {
    const [fingerprintFile, previewFile, outDir] = args;
    if (!fingerprintFile || !previewFile) throw new UsageError("compare FINGERPRINT PREVIEW [OUTDIR]");
    const secrets = secretsOf(io);
    const reviewed = /\b[0-9a-f]{64}\b/.exec(fs.readFileSync(fingerprintFile, "utf8"))?.[0];
    if (!reviewed) throw new Error(`${fingerprintFile} holds no fingerprint (64 hex digits)`);
    const preview = readPreview(previewFile);
    const fresh = outDir ? writeReview(outDir, preview, secrets) : fleetDigest(preview, { secrets });
    if (fresh.fingerprint === reviewed) {
        io.stdout(`apply: the fresh preview plans what was reviewed (fingerprint ${reviewed})\n`);
        return EXIT.ok;
    }
    const planFile = path.join(path.dirname(fingerprintFile), "plan.json");
    let lines: string[];
    if (fs.existsSync(planFile)) {
        const reviewedPlan = JSON.parse(fs.readFileSync(planFile, "utf8")) as FleetChanges;
        lines = explainFingerprintChange(reviewedPlan, fresh.changes);
    } else {
        const empty: FleetChanges = { ...fresh.changes, planned: [], drifted: [], unreachable: [] };
        lines = [
            `(no plan.json beside ${fingerprintFile}: only the fresh plan can be described)`,
            ...explainFingerprintChange(empty, fresh.changes),
        ];
    }
    io.stderr(
        scrubText(
            [
                `apply: refused: the plan changed since the review (reviewed ${reviewed.slice(0, 12)}…,` +
                    ` now ${fresh.fingerprint.slice(0, 12)}…).`,
                "apply: what changed since the review:",
                ...lines.map((l) => `  - ${l}`),
                "apply: nothing was applied. " +
                    "Review again (run the review stage, read the new digest) and apply that review.",
                "",
            ].join("\n"),
            secrets,
        ),
    );
    return EXIT.planChanged;
}

function drift(args: string[], io: CliIo): number {
    const [previewFile, outDir, stack] = args;
    if (!previewFile || !outDir || !stack) throw new UsageError("drift PREVIEW OUTDIR STACK");
    const secrets = secretsOf(io);
    const preview = readPreview(previewFile);
    // Not converged to the stack config counts too: the next apply would change the host.
    const hosts = hostReportsFromPreview(preview, { secrets, plannedChanges: "drifted", driftValues: true });
    const report = buildFleetReport(stack, hosts, (io.now ?? (() => new Date()))());
    for (const file of fleetReportFiles(report, "fleet-report")) {
        write(outDir, file.name, scrubText(file.content, secrets));
    }
    write(outDir, "digest.md", fleetDigest(preview, { secrets }).markdown);
    write(outDir, "preview.json", previewArtifact(preview, secrets));
    io.stdout(scrubText(renderTable(report), secrets));
    const bad = hosts.filter((h) => h.status !== "converged");
    for (const h of bad) {
        io.stderr(scrubText(`drift: ${h.name} ${h.status}: ${h.cause ?? "no cause given"}\n`, secrets));
    }
    if (bad.length === 0) {
        io.stdout(`drift: all ${hosts.length} host(s) converged; report in ${outDir}\n`);
        return EXIT.ok;
    }
    io.stderr(`drift: not converged: ${bad.map((h) => `${h.name} (${h.status})`).join(", ")}; report in ${outDir}\n`);
    return EXIT.notConverged;
}

function failure(args: string[], io: CliIo): number {
    const [previewFile] = args;
    if (!previewFile) throw new UsageError("failure PREVIEW");
    const secrets = secretsOf(io);
    let preview: PreviewJson;
    try {
        preview = readPreview(previewFile);
    } catch {
        return EXIT.ok; // Nothing in JSON to add to what the CLI printed.
    }
    for (const d of preview.diagnostics ?? []) {
        if (d?.severity === "error" && typeof d.message === "string") {
            io.stderr(scrubText(`preview: ${d.message.trim()}\n`, secrets));
        }
    }
    return EXIT.ok;
}

interface ConfigEntry {
    value?: string;
    objectValue?: unknown;
    secret?: boolean;
}

function configValue(config: Record<string, ConfigEntry>, key: string): unknown {
    const entry = Object.entries(config).find(([k]) => k === key || k.endsWith(`:${key}`))?.[1];
    if (!entry || entry.secret) return undefined;
    if (entry.objectValue !== undefined) return entry.objectValue;
    if (typeof entry.value !== "string") return undefined;
    try {
        return JSON.parse(entry.value);
    } catch {
        return entry.value;
    }
}

/**
 * The SSH private key files a stack's config names (`pulumi config --json`): `hostDefaults.privateKeyPath`,
 * every `hosts[].privateKeyPath` and `jumpHost.privateKeyPath`, and the inventory file's `keyPath`; relative
 * paths are from the project folder, as the program reads them.
 */
export function keyFiles(config: Record<string, ConfigEntry>, projectDir: string): string[] {
    const found: string[] = [];
    const add = (p: unknown) => {
        if (typeof p === "string" && p !== "") found.push(path.resolve(projectDir, p));
    };
    const defaults = asRecord(configValue(config, "hostDefaults"));
    add(defaults.privateKeyPath);
    add(asRecord(defaults.jumpHost).privateKeyPath);
    const hosts = configValue(config, "hosts");
    for (const h of Array.isArray(hosts) ? hosts : []) {
        add(asRecord(h).privateKeyPath);
        add(asRecord(asRecord(h).jumpHost).privateKeyPath);
    }
    const inventory = configValue(config, "inventory");
    if (typeof inventory === "string" && inventory !== "") {
        try {
            add(asRecord(JSON.parse(fs.readFileSync(path.resolve(projectDir, inventory), "utf8"))).keyPath);
        } catch {
            // No inventory yet: the preview says so, naming the config key.
        }
    }
    return [...new Set(found)];
}

function keyfiles(args: string[], io: CliIo): number {
    const [configFile, projectDir] = args;
    if (!configFile || !projectDir) throw new UsageError("keyfiles CONFIG_JSON PROJECT_DIR");
    const text = fs.readFileSync(configFile, "utf8").trim();
    const config = (text === "" ? {} : JSON.parse(text)) as Record<string, ConfigEntry>;
    for (const file of keyFiles(config, projectDir)) io.stdout(`${file}\n`);
    return EXIT.ok;
}

/**
 * Copies a stream with every secret replaced. Text is passed on line by line (a secret never straddles what is
 * written), and a very long line is passed on in pieces, holding back what could be the start of a secret.
 */
export async function scrubStream(
    input: NodeJS.ReadableStream,
    write: (text: string) => void,
    secrets: string[],
): Promise<void> {
    const holdBack = Math.max(0, ...secrets.flatMap(secretVariants).map((s) => s.length)) - 1;
    const decoder = new StringDecoder("utf8");
    let pending = "";
    const flush = (final: boolean) => {
        const nl = pending.lastIndexOf("\n");
        if (nl >= 0) {
            write(scrubText(pending.slice(0, nl + 1), secrets));
            pending = pending.slice(nl + 1);
        }
        if (final) {
            if (pending !== "") write(scrubText(pending, secrets));
            pending = "";
        } else if (pending.length > 65_536) {
            const scrubbed = scrubText(pending, secrets);
            const cut = Math.max(0, scrubbed.length - holdBack);
            write(scrubbed.slice(0, cut));
            pending = scrubbed.slice(cut);
        }
    };
    for await (const chunk of input) {
        pending += typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer);
        flush(false);
    }
    pending += decoder.end();
    flush(true);
}

async function scrub(args: string[], io: CliIo): Promise<number> {
    const secrets = secretsOf(io);
    if (args.length > 0) {
        for (const file of args) {
            const content = fs.readFileSync(file, "utf8");
            const clean = scrubText(content, secrets);
            if (clean !== content) fs.writeFileSync(file, clean);
        }
        return EXIT.ok;
    }
    await scrubStream(io.stdin ?? process.stdin, io.stdout, secrets);
    return EXIT.ok;
}

const USAGE = "review|compare|drift|failure|keyfiles|scrub ...";

/** Runs one command; resolves to its exit code (errors are printed, scrubbed, never thrown). */
export async function main(argv: string[], io: CliIo): Promise<number> {
    const [command, ...args] = argv;
    try {
        switch (command) {
            case "review":
                return review(args, io);
            case "compare":
                return compare(args, io);
            case "drift":
                return drift(args, io);
            case "failure":
                return failure(args, io);
            case "keyfiles":
                return keyfiles(args, io);
            case "scrub":
                return await scrub(args, io);
            default:
                throw new UsageError(USAGE);
        }
    } catch (e) {
        if (e instanceof UsageError) {
            io.stderr(`usage: digest.ts ${e.message}\n`);
            return EXIT.usage;
        }
        let secrets: string[] = [];
        try {
            secrets = secretsFromEnvironment(io.env, (p) => fs.readFileSync(p, "utf8")).secrets;
        } catch {
            // Scrub with what we have.
        }
        io.stderr(scrubText(`pipeline: ${command ?? ""}: ${(e as Error).message}\n`, secrets));
        return EXIT.error;
    }
}

if (require.main === module) {
    main(process.argv.slice(2), {
        env: process.env,
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
    }).then((code) => {
        process.exitCode = code;
    });
}
