/** The fleet report's files, as `npm run fleet:report` and the drift stage write them. */
import { FleetReport, renderJUnit, renderMarkdown } from "./fleetReport";

/** One file to write: its name and content. */
export interface ReportFile {
    name: string;
    content: string;
}

/** `BASE.json` (the report), `BASE.md` (Markdown) and `BASE.xml` (JUnit for CI). */
export function fleetReportFiles(report: FleetReport, base: string): ReportFile[] {
    return [
        { name: `${base}.json`, content: `${JSON.stringify(report, null, 2)}\n` },
        { name: `${base}.md`, content: renderMarkdown(report) },
        { name: `${base}.xml`, content: renderJUnit(report) },
    ];
}
