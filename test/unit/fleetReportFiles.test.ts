import { buildFleetReport } from "../../components/plan/fleetReport";
import { fleetReportFiles } from "../../components/plan/fleetReportFiles";

describe("fleetReportFiles", () => {
    test("the report as JSON, Markdown and JUnit, named from a base", () => {
        const report = buildFleetReport("s", [{ name: "h1", status: "converged", cis: [] }], new Date(0));
        const files = fleetReportFiles(report, "fleet-report");
        expect(files.map((f) => f.name)).toEqual(["fleet-report.json", "fleet-report.md", "fleet-report.xml"]);
        expect(JSON.parse(files[0].content)).toEqual(report);
        expect(files[0].content.endsWith("}\n")).toBe(true);
        expect(files[1].content).toMatch(/^# Fleet report: s/);
        expect(files[2].content).toMatch(/^<\?xml/);
    });
});
