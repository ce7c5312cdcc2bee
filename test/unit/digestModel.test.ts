import { buildDigestModel } from "../../components/plan/digestModel";
import { fleetChangesOf } from "../../components/plan/previewChanges";
import { analysePreview } from "../../components/plan/previewResources";
import { preview } from "./previewFixtures";

describe("buildDigestModel", () => {
    test("the largest set of hosts sharing a change is the group; the others are deviations", () => {
        const a = analysePreview(
            preview({
                a1: { read: {}, planned: { x: 1 }, action: "reload dockerd (SIGHUP)" },
                a2: { read: {}, planned: { x: 1 }, action: "reload dockerd (SIGHUP)" },
                a3: { read: {}, planned: { x: 1 }, action: "restart dockerd" },
                a4: { read: {}, planned: { x: 2 }, action: "reload dockerd (SIGHUP)" },
            }),
        );
        const m = buildDigestModel(a, fleetChangesOf(a), "f");
        expect(m.groups.map((g) => [g.subject, g.hosts, g.action])).toEqual([
            ["daemon.json", ["a1", "a2", "a3"], "reload"],
        ]);
        expect(m.deviations.map((d) => [d.hosts, d.fragments])).toEqual([
            [["a3"], ["restarts Docker (the group: reload (SIGHUP), no restart)"]],
            [["a4"], ["daemon.json: `x`: added `2` (instead of the group's change)"]],
        ]);
        expect([...m.changedHosts]).toEqual(["a1", "a2", "a3", "a4"]);
    });
});
