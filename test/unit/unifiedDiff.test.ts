import { unifiedDiff } from "../../components/plan/unifiedDiff";

describe("unifiedDiff", () => {
    test("hunks with context, far-apart changes in separate hunks, a new file", () => {
        const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join("\n");
        const after = before.replace("l2\n", "L2\n").replace("l18\n", "");
        expect(unifiedDiff(before, after)).toEqual([
            "@@ -1,5 +1,5 @@",
            " l1",
            "-l2",
            "+L2",
            " l3",
            " l4",
            " l5",
            "@@ -15,6 +15,5 @@",
            " l15",
            " l16",
            " l17",
            "-l18",
            " l19",
            " l20",
        ]);
        expect(unifiedDiff("", "a\nb\n")).toEqual(["@@ -0,0 +1,2 @@", "+a", "+b"]);
        expect(unifiedDiff("same\n", "same\n")).toEqual([]);
    });
});
