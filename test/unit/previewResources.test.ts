import { analysePreview, compareNatural } from "../../components/plan/previewResources";
import type { PreviewStep } from "../../components/plan/previewJson";
import { fixture, name, preview } from "./previewFixtures";

describe("analysePreview", () => {
    test("the fixture: hosts in rollout order, batches and budget from the gates, h5 unreachable", () => {
        const a = analysePreview(fixture());
        expect(a.stack).toBe("digest-fixture");
        expect(a.hosts).toEqual(["h1", "h2", "h3", "h4", "h5", "h6"]);
        expect(a.batches).toEqual([["h1"], ["h2", "h3"], ["h4", "h5"], ["h6"]]);
        expect(a.maxFailures).toBe(0);
        expect(a.unreachable.map((u) => u.host)).toEqual(["h5"]);
        expect(a.refreshed).toBe(true);
    });

    test("each resource: its host, the state before refresh, what refresh read, what the program plans", () => {
        const a = analysePreview(
            preview({
                c1: { stored: { icc: false }, read: { icc: true }, planned: { icc: false } },
            }),
        );
        const daemon = a.resources.find((r) => r.name === "c1-daemon");
        expect(daemon).toMatchObject({ kind: "daemon", host: "c1", op: "update", typeName: "DaemonConfig" });
        expect(daemon?.stored?.inputs?.settings).toEqual({ icc: false });
        expect(daemon?.current?.inputs?.settings).toEqual({ icc: true });
        expect(daemon?.planned?.inputs?.settings).toEqual({ icc: false });
    });

    test("a refresh step the engine rewrote into an update still belongs to the refresh", () => {
        const p = preview({ c1: { stored: { icc: false } } });
        const steps = p.steps as PreviewStep[];
        const i = steps.findIndex((s) => name(s) === "c1-daemon");
        steps[i] = { ...steps[i], op: "update" };
        expect(analysePreview(p).resources.find((r) => r.name === "c1-daemon")?.op).toBeUndefined();
    });

    test("hosts in no batch come last, in natural order; a preview without refresh says so", () => {
        const hosts = { n10: { read: {} }, n2: { read: {} }, n1: { read: {} } };
        const a = analysePreview(preview(hosts, { batches: [["n2"]] }));
        expect(a.hosts).toEqual(["n2", "n1", "n10"]);
        expect(analysePreview({ steps: [] }).refreshed).toBe(false);
    });
});

describe("compareNatural", () => {
    test("h2 before h10", () => {
        expect(["h10", "h2", "h1"].sort(compareNatural)).toEqual(["h1", "h2", "h10"]);
    });
});
