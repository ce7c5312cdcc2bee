/**
 * `npm run fleet:report -- --stack S [--out DIR] [--fail-on-inconsistent]`: the fleet consistency report.
 * Runs one `pulumi preview --json --show-sames` (refreshing first, nothing is changed), prints a table and
 * writes report.json, report.md and report.xml (JUnit) into DIR (default `.fleet-report/<stack>`).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildFleetReport, renderTable } from "../plan/fleetReport";
import { fleetReportFiles } from "../plan/fleetReportFiles";
import { hostReportsFromPreview } from "../plan/fleetStatus";
import { PreviewJson, parsePreview } from "../plan/previewJson";

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
        encoding: "utf8",
        maxBuffer: 1024 * 1024 * 1024,
    });
    let doc: PreviewJson;
    try {
        doc = parsePreview(preview.stdout);
    } catch {
        const why = (preview.stderr || preview.stdout).trim().split("\n").slice(-3).join(" ");
        console.error(`fleet:report: pulumi preview of stack ${stack} failed: ${why}`);
        return 1;
    }
    // The consistency report: hosts against the state (drift by key); planned changes are the review's business.
    const report = buildFleetReport(stack, hostReportsFromPreview(doc), new Date());
    fs.mkdirSync(out, { recursive: true });
    for (const file of fleetReportFiles(report, "report")) fs.writeFileSync(path.join(out, file.name), file.content);
    process.stdout.write(renderTable(report) + "\n");
    console.log(`fleet:report: wrote ${path.relative(process.cwd(), out) || "."}/report.{json,md,xml}`);
    return args.includes("--fail-on-inconsistent") && !report.summary.consistent ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
