import { describeDaemonConfigChanges, describePolicyChange, inlineJson } from "../../components/plan/diffText";
import { countLineChanges, splitLines } from "../../components/plan/lineDiff";

describe("describeDaemonConfigChanges", () => {
    test("one line per changed key, sorted: added, changed, removed", () => {
        const before = { debug: true, "log-opts": { "max-size": "1g" }, "userns-remap": "dockremap" };
        const after = { icc: false, "log-opts": { "max-file": "3", "max-size": "10m" }, "userns-remap": "dockremap" };
        expect(describeDaemonConfigChanges(before, after)).toEqual([
            '- "debug": true',
            '+ "icc": false',
            '~ "log-opts": {"max-size": "1g"} → {"max-file": "3", "max-size": "10m"}',
        ]);
    });

    test("nothing when only key order differs", () => {
        expect(describeDaemonConfigChanges({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toEqual([]);
    });

    test("inlineJson renders arrays, nested objects and strings readably", () => {
        expect(inlineJson({ b: [1, "two"], a: { c: null } })).toBe('{"a": {"c": null}, "b": [1, "two"]}');
    });
});

describe("describePolicyChange", () => {
    test("added, removed and changed files with short hashes and line counts; unchanged files omitted", () => {
        const before = { "authz.rego": "package a\nallow := false\n", "old.rego": "abc", "same.json": "{}" };
        const after = { "authz.rego": "package a\nallow := true\ndefault x := 1\n", "new.rego": "", "same.json": "{}" };
        expect(describePolicyChange(before, after)).toEqual([
            expect.stringMatching(/^~ authz\.rego: sha256 [0-9a-f]{12} → [0-9a-f]{12}, \+2 -1 lines$/),
            "+ new.rego: added, 0 lines, sha256 e3b0c44298fc",
            "- old.rego: removed, 1 line, sha256 ba7816bf8f01",
        ]);
    });

    test("nothing when the file sets are equal", () => {
        expect(describePolicyChange({ a: "x\n" }, { a: "x\n" })).toEqual([]);
    });
});

describe("countLineChanges", () => {
    test("an inserted line, a changed line, a moved line", () => {
        expect(countLineChanges("a\nb\nc\n", "a\nb\nx\nc\n")).toEqual({ added: 1, removed: 0 });
        expect(countLineChanges("a\nb\nc\n", "a\nB\nc\n")).toEqual({ added: 1, removed: 1 });
        expect(countLineChanges("a\nb\nc\nd\n", "b\nc\nd\na\n")).toEqual({ added: 1, removed: 1 });
    });

    test("line endings and a missing final newline do not count as changes", () => {
        expect(countLineChanges("a\r\nb\r\n", "a\nb")).toEqual({ added: 0, removed: 0 });
        expect(splitLines("")).toEqual([]);
        expect(splitLines("a\n\nb\n")).toEqual(["a", "", "b"]);
    });

    test("from and to nothing", () => {
        expect(countLineChanges("", "a\nb\n")).toEqual({ added: 2, removed: 0 });
        expect(countLineChanges("a\n", "")).toEqual({ added: 0, removed: 1 });
    });

    test("large inputs are still counted (multiset fallback)", () => {
        const before = Array.from({ length: 3000 }, (_, i) => `old ${i}`).join("\n");
        const after = Array.from({ length: 3000 }, (_, i) => `new ${i}`).join("\n");
        expect(countLineChanges(before, after)).toEqual({ added: 3000, removed: 3000 });
    });
});
