/**
 * `npm run fleet:report -- --stack S [--out DIR] [--fail-on-inconsistent]`: the fleet consistency report.
 * Runs one `pulumi preview --json --show-sames` (refreshing first, nothing is changed), prints a table and
 * writes report.json, report.md and report.xml (JUnit) into DIR (default `.fleet-report/<stack>`).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildFleetReport, renderJUnit, renderMarkdown, renderTable } from "../plan/fleetReport";
import { PreviewDocument, hostReportsFromPreview } from "../plan/fleetStatus";

function arg(args: string[], name: string): string | undefined {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): number {
    const stack = arg(args, "--stack");
    if (!stack) {
        console.error("fleet:report: --stack is missing. Fix: npm run fleet:report -- --stack NAME");
        return 2;
    }
    const out = path.resolve(arg(args, "--out") ?? path.join(".fleet-report", stack));
    const preview = spawnSync("pulumi", ["preview", "--json", "--show-sames", "--refresh", "--stack", stack], {
        encoding: "utf8", maxBuffer: 1024 * 1024 * 1024,
    });
    let doc: PreviewDocument;
    try {
        doc = JSON.parse(preview.stdout) as PreviewDocument;
    } catch {
        const why = (preview.stderr || preview.stdout).trim().split("\n").slice(-3).join(" ");
        console.error(`fleet:report: pulumi preview of stack ${stack} failed: ${why}`);
        return 1;
    }
    const report = buildFleetReport(stack, hostReportsFromPreview(doc), new Date());
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "report.json"), JSON.stringify(report, null, 2) + "\n");
    fs.writeFileSync(path.join(out, "report.md"), renderMarkdown(report));
    fs.writeFileSync(path.join(out, "report.xml"), renderJUnit(report));
    process.stdout.write(renderTable(report) + "\n");
    console.log(`fleet:report: wrote ${path.relative(process.cwd(), out) || "."}/report.{json,md,xml}`);
    return args.includes("--fail-on-inconsistent") && !report.summary.consistent ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
