import { fleetChangesOf } from "../../components/plan/previewChanges";
import { analysePreview } from "../../components/plan/previewResources";
import { preview } from "./previewFixtures";

const changesOf = (p: ReturnType<typeof preview>) => fleetChangesOf(analysePreview(p));

describe("fleetChangesOf", () => {
    test("planned changes: per resource, the inputs that change, connections and internals left out", () => {
        const c = changesOf(preview({ c1: { read: { a: 1 }, planned: { a: 2 }, action: "reload dockerd (SIGHUP)" } }));
        expect(c.planned).toEqual([
            expect.objectContaining({
                name: "c1-daemon",
                op: "update",
                host: "c1",
                kind: "daemon",
                inputs: [
                    { path: "dockerAction", to: "reload dockerd (SIGHUP)" },
                    { path: "settings.a", from: 1, to: 2 },
                ],
            }),
        ]);
    });

    test("long strings as their SHA-256", () => {
        const c = changesOf(preview({ c1: { read: {}, planned: { big: "x".repeat(300) } } }));
        expect(c.planned[0].inputs.find((i) => i.path === "settings.big")?.to).toMatch(
            /^sha256:[0-9a-f]{64} \(300 chars\)$/,
        );
    });

    test("drift: what the state says against what refresh read, never of an unreachable host", () => {
        const drifted = preview({ c1: { stored: { icc: false }, read: { icc: true } } });
        expect(changesOf(drifted).drifted).toEqual([
            { host: "c1", urn: expect.any(String), kind: "daemon", path: "settings.icc", state: false, found: true },
        ]);
        const skipped = preview(
            { c1: { stored: { icc: false }, read: { icc: true } } },
            { diagnostics: [{ severity: "warning", message: "warning: host c1: connection.host: refused. Fix: x" }] },
        );
        expect(changesOf(skipped).drifted).toEqual([]);
    });

    test(
        "inputs that are not host state never drift: " + "planning hints, a range planned at preview, onUnreachable",
        () => {
            const p = preview({ c1: { stored: { icc: false }, read: { icc: false } } });
            for (const step of p.steps ?? []) {
                const inputs = step.op === "same" ? step.oldState?.inputs : undefined;
                if (inputs && "settings" in inputs) Object.assign(inputs, { range: "x:1:2", onUnreachable: "skip" });
            }
            expect(changesOf(p).drifted).toEqual([]);
        },
    );
});
