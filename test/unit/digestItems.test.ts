import { digestItemsOf, dockerActionOf } from "../../components/plan/digestItems";
import { PreviewResource, analysePreview } from "../../components/plan/previewResources";
import { preview } from "./previewFixtures";

function resource(p: ReturnType<typeof preview>, name: string): PreviewResource {
    const found = analysePreview(p).resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name} in the preview`);
    return found;
}

describe("digestItemsOf", () => {
    test("daemon.json keys as items keyed by the change, so equal changes on two hosts group", () => {
        const p = preview({ a1: { read: {}, planned: { x: 1 } }, a2: { read: {}, planned: { x: 1 } } });
        const [one] = digestItemsOf(resource(p, "a1-daemon"));
        const [two] = digestItemsOf(resource(p, "a2-daemon"));
        expect(one).toMatchObject({ subject: "daemon.json", label: "x", text: "`x`: added `1`" });
        expect(one.key).toBe(two.key);
    });

    test("policy files: JSON by path, other files as a unified diff", () => {
        const p = preview({
            d1: {
                files: [
                    { "a.rego": "x\ny\n", "d.json": '{"k":1}' },
                    { "a.rego": "x\nY\n", "d.json": '{"k":2}' },
                ],
            },
        });
        const items = digestItemsOf(resource(p, "d1-policy"));
        expect(items.map((i) => [i.subject, i.text])).toEqual([
            ["policy a.rego", "1 line changed"],
            ["policy d.json", "`k`: `1` → `2`"],
        ]);
        expect(items[0].block).toEqual(["@@ -1,2 +1,2 @@", " x", "-y", "+Y"]);
    });
});

describe("dockerActionOf", () => {
    test("restart, reload (SIGHUP) or none, from the daemon step's hint", () => {
        const p = preview({
            r: { read: {}, planned: { a: 1 }, action: "restart dockerd" },
            s: { read: {}, planned: { a: 1 }, action: "reload dockerd (SIGHUP)" },
            n: { read: {} },
        });
        expect(["r", "s", "n"].map((h) => dockerActionOf(resource(p, `${h}-daemon`)))).toEqual([
            "restart",
            "reload",
            "none",
        ]);
    });
});
