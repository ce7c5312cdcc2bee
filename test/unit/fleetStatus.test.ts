import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { PreviewDocument, driftedKeys, hostReportsFromPreview } from "../../components/plan/fleetStatus";

// A real `pulumi preview --json --diff` of 6 fleet hosts: h3 drifted by hand (icc), h5 unreachable.
const fixture = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(__dirname, "../fixtures/preview-6-hosts.json.gz"))).toString("utf8")) as PreviewDocument;

describe("hostReportsFromPreview", () => {
    const reports = hostReportsFromPreview(fixture);
    const byName = Object.fromEntries(reports.map((r) => [r.name, r]));

    test("every host of the fleet, in natural order", () => {
        expect(reports.map((r) => r.name)).toEqual(["h1", "h2", "h3", "h4", "h5", "h6"]);
    });

    test("a hand edit on h3 makes it drifted, naming the key", () => {
        expect(byName.h3).toMatchObject({ status: "drifted", cause: "changed on the host: daemon.json icc" });
    });

    test("the host that could not be reached is unreachable, with the cause", () => {
        expect(byName.h5.status).toBe("unreachable");
        expect(byName.h5.cause).toMatch(/connection\.host: cannot connect to 127\.0\.0\.1:2225/);
    });

    test("the other hosts are converged and carry the compared values", () => {
        for (const h of ["h1", "h2", "h4", "h6"]) {
            expect(byName[h].status).toBe("converged");
            expect(byName[h].idRange).toBe("dockremap:296608:65536");
            expect(byName[h].pluginReference).toBe("localhost:5000/hdh/opa-authz:0.1.0");
            expect(byName[h].dockerVersion).toMatch(/^\d+\.\d+/);
        }
    });

    test("a host whose steps are not in the state (never converged) is failed", () => {
        const doc = { ...fixture, steps: fixture.steps.filter((s) => !(s.op === "refresh" && s.urn.endsWith("::h2-authz"))) };
        expect(hostReportsFromPreview(doc).find((r) => r.name === "h2")).toMatchObject({ status: "failed", cause: expect.stringMatching(/h2-authz/) });
    });
});

describe("driftedKeys", () => {
    test("daemon.json keys and policy files by name, other inputs by key; volatile and secret inputs ignored", () => {
        expect(driftedKeys(
            { settings: { icc: false, a: 1 }, files: { "x.rego": "1" }, alias: "a", connection: "[secret]", dockerAction: "x" },
            { settings: { icc: true, a: 1 }, files: { "x.rego": "2" }, alias: "b", connection: "other", dockerAction: "y" },
        )).toEqual(["alias", "policy x.rego", "daemon.json icc"]);
    });
});
